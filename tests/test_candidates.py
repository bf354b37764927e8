"""Stored items as editors see them (scheduler/candidates.py): one grouping, one lead, one set
of matched terms, and the other outlets of a story, read from the database — in the digest as
in the inbox (the inbox's part is in test_web.py)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from scheduler import digest as digests
from scheduler.candidates import BRIEF, Category, group_of, lead, matched_terms, report_order
from storage.db import ensure_schema, transaction
from storage.models import Item, Source, StoryCluster

SEOUL = ZoneInfo("Asia/Seoul")
NOTICE = "国家发展改革委关于推动现代煤化工产业健康发展的通知"
HOSTILE_OUTLET = "搜狐 <i>[x](javascript:alert(1))</i>"  # labels are shown as text, like everything crawled


def _item(source: Source, url: str, **fields: object) -> Item:
    return Item(source=source, url=url, canonical_url=url, title=NOTICE, body="各省、自治区：\n为推动现代煤化工产业健康发展。",
                content_hash=hashlib.sha256(url.encode()).hexdigest(), **fields)


def story_in_three_outlets(database_url: str) -> int:
    """The NDRC notice and two reprints in one StoryCluster, as the diff stage leaves them:
    the notice is the candidate, the reprints are duplicates. Returns the notice's id."""
    ensure_schema(database_url)
    with transaction(database_url) as session:
        ndrc, xinhua, sohu = (Source(name=name, label=label) for name, label in
                              (("ndrc", "国家发展改革委"), ("xinhua", "新华网"), ("sohu", HOSTILE_OUTLET)))
        topics = {"section": "정책동향", "category": "strategy", "category_label": "기술전략", "matched": {"strategy": ["煤化工"]}}
        notice = _item(ndrc, "https://www.ndrc.gov.cn/notice.html", topics=topics, score=5.0)
        reprints = [_item(xinhua, "https://www.news.cn/reprint.htm", status="duplicate"),
                    _item(sohu, "https://www.sohu.com/a/1", status="duplicate")]
        session.add_all([notice, *reprints])
        session.flush()
        cluster = StoryCluster(primary_item_id=notice.id)
        session.add(cluster)
        session.flush()
        for member in (notice, *reprints):
            member.cluster_id = cluster.id
        return notice.id


def test_the_digest_names_the_other_outlets_of_a_story_escaped_in_every_format(database_url: str) -> None:
    story_in_three_outlets(database_url)
    with transaction(database_url) as session:
        digest = digests.build(session, datetime.now(timezone.utc), SEOUL)
        message = digests.render(digest)
    assert [e.item.title for e in digest.entries] == [NOTICE]  # the reprints are not candidates themselves
    assert "같은 기사: 新华网, 搜狐 &lt;i&gt;[x](javascript:alert(1))&lt;/i&gt;" in message.html and "<i>" not in message.html
    assert "(같은 기사: 新华网, 搜狐 \\<i\\>\\[x\\](javascript:alert(1))\\</i\\>)" in message.markdown
    assert f"같은 기사: 新华网, {HOSTILE_OUTLET}" in message.text


def test_an_outlet_found_later_shows_in_the_next_digest(database_url: str) -> None:
    notice_id = story_in_three_outlets(database_url)
    with transaction(database_url) as session:
        notice = session.get(Item, notice_id)
        people = Source(name="people", label="人民网")
        session.add(_item(people, "https://www.people.com.cn/late.html", status="duplicate", cluster_id=notice.cluster_id))
    with transaction(database_url) as session:
        (entry,) = digests.build(session, datetime.now(timezone.utc), SEOUL).entries
        assert entry.other_outlets == ["新华网", HOSTILE_OUTLET, "人民网"]


def test_groups_follow_the_editors_override_and_the_reports_order() -> None:
    item = Item(topics={"section": "기술동향", "category_label": "AI"})
    cats = {"strategy": Category("strategy", "기술전략", "정책동향")}
    assert group_of(item) == ("기술동향", "AI")
    assert group_of(item, "strategy", cats) == ("정책동향", "기술전략")
    assert group_of(item, BRIEF, cats) == ("단신동향", "단신")
    assert group_of(Item()) == ("미분류", "분류 전")
    groups = {("미분류", "분류 전"): 1, ("기타", "b"): 2, ("기술동향", "AI"): 3, ("정책동향", "기술전략"): 4, ("기술동향", "6G"): 5}
    assert [value for _, value in report_order(groups)] == [4, 5, 3, 1, 2]


def test_the_lead_skips_the_addressees_and_matched_terms_skip_source_marks() -> None:
    assert lead("各省、自治区：\n为推动现代煤化工产业健康发展。\n第二段。") == "为推动现代煤化工产业健康发展。"
    assert len(lead("很长。" * 100)) <= 141
    topics = {"matched": {"region": ["source:北京", "北京"], "ai": ["大模型", "北京"]}}
    assert matched_terms(topics) == ["北京", "大模型"]
