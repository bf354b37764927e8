"""Tags reach stored items, the CLI and the daemon's alerts — all driven by topics.yml."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from conftest import Radar
from storage.db import transaction
from storage.models import Item, OutboxMessage


def test_crawled_items_carry_section_category_and_score(radar: Radar, database_url: str) -> None:
    radar("run", "--source", "guangdong", "--source", "cas")
    with transaction(database_url) as session:
        stored = list(session.scalars(select(Item)))
    assert stored and all(i.topics and i.topics["section"] and i.score is not None for i in stored)
    guangdong = [i for i in stored if "gd.gov.cn" in i.url]
    assert all(i.topics["category_label"] == "지역" and i.topics["region"] == "广东" for i in guangdong)


def test_tag_cli_tags_adhoc_text_and_many_lines(radar: Radar, tmp_path: Path) -> None:
    one = json.loads(radar("tag", "--title", "工业和信息化部关于印发《人形机器人创新发展指导意见》的通知", "--json").stdout)
    assert {"section", "category", "categories", "region", "matched", "score"} <= set(one)
    lines = tmp_path / "items.jsonl"
    lines.write_text(
        json.dumps({"title": "国家自然科学基金委员会2023年度预算报告"}, ensure_ascii=False) + "\n"
        + json.dumps({"title": "广东省人工智能赋能千行百业行动方案", "source": "guangdong"}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    results = [json.loads(line) for line in radar("tag", "--jsonl", str(lines)).stdout.splitlines()]
    assert [r["category_label"] for r in results] == ["통계", "지역"]


def test_editing_topics_yml_and_retagging_changes_stored_items(radar: Radar, watchlists: Path, database_url: str) -> None:
    radar("run", "--source", "nsfc")
    topics = watchlists / "topics.yml"
    text = topics.read_text(encoding="utf-8")
    topics.write_text(text.replace("watch_terms:", "watch_terms:\n  - 国家自然科学基金", 1), encoding="utf-8")
    radar("retag")
    with transaction(database_url) as session:
        hits = [i.topics.get("watch_hits") for i in session.scalars(select(Item))]
    assert hits and all("国家自然科学基金" in (h or []) for h in hits)


def test_a_watch_term_hit_sends_one_immediate_alert(radar: Radar, watchlists: Path, database_url: str) -> None:
    from scheduler import jobs
    from test_daemon import settings

    topics = watchlists / "topics.yml"
    topics.write_text(topics.read_text(encoding="utf-8").replace("watch_terms:", "watch_terms:\n  - 碳足迹", 1), encoding="utf-8")
    radar("run", "--source", "mee")
    config = settings(radar)
    with transaction(database_url) as session:
        now = max(i.first_seen_at for i in session.scalars(select(Item)))
    jobs.after_crawl(config, now)
    jobs.after_crawl(config, now + timedelta(hours=1))
    with transaction(database_url) as session:
        alerts = [m for m in session.scalars(select(OutboxMessage)) if m.kind == "alert" and "碳足迹" in m.title]
        hit = [i for i in session.scalars(select(Item)) if "碳足迹" in (i.topics.get("watch_hits") or [])]
    # MEE's fixture carries the 碳足迹 notice and its 答记者问: one alert each, never a second one
    # (its 解读 column's page hits another watch term, 国务院常务会议, with an alert of its own).
    assert hit and len(alerts) == len(hit)
