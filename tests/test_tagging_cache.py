"""One cache for what is computed per database (the learned model, the editors' pick signal):
recomputed when its fingerprint changes, one value per database, safe across threads; and a
crawl run reads the model and the signal once, not once per item."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from pathlib import Path

from conftest import sql_sent
from scrapy.utils.test import get_crawler
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from crawler.extract.page import Article
from crawler.items import ArticleItem
from crawler.pipelines import StorePipeline
from desk import issues
from desk.tagging.cache import PerDatabase
from storage.db import ensure_schema, transaction
from storage.models import Item, Source

ROOT = Path(__file__).resolve().parent.parent
TOPICS = ROOT / "watchlists" / "topics.yml"
REPORTS = ROOT / "tests" / "fixtures" / "reports"


def _session(tmp_path: Path, name: str) -> Session:
    return Session(create_engine(f"sqlite:///{tmp_path / name}"))


def test_a_value_is_recomputed_only_when_its_fingerprint_changes(tmp_path: Path) -> None:
    cache: PerDatabase[str] = PerDatabase()
    computed: list[str] = []

    def compute(value: str):  # type: ignore[no-untyped-def]
        return lambda: computed.append(value) or value

    session = _session(tmp_path, "a.sqlite")
    assert cache.get(session, 1, compute("first")) == "first"
    assert cache.get(session, 1, compute("again")) == "first"
    assert cache.get(session, 2, compute("second")) == "second"
    assert cache.get(session, 1, compute("third")) == "third"  # one value per database: the newest fingerprint's
    assert computed == ["first", "second", "third"]


def test_each_database_has_its_own_value(tmp_path: Path) -> None:
    cache: PerDatabase[str] = PerDatabase()
    one, other = _session(tmp_path, "one.sqlite"), _session(tmp_path, "other.sqlite")
    cache.put(one, 1, "one's")
    assert cache.get(other, 1, lambda: "other's") == "other's"
    assert cache.get(one, 1, lambda: "recomputed") == "one's"
    cache.clear()
    assert cache.get(one, 1, lambda: "after a clear") == "after a clear"


def test_threads_asking_at_once_all_get_the_fingerprints_value(tmp_path: Path) -> None:
    cache: PerDatabase[tuple[int, int]] = PerDatabase()
    session = _session(tmp_path, "shared.sqlite")
    seen: list[tuple[int, int]] = []
    start = threading.Barrier(8)

    def ask(thread: int) -> None:
        start.wait()
        for fingerprint in range(50):
            seen.append(cache.get(session, fingerprint, lambda f=fingerprint: (f, thread)))

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8 * 50
    assert sorted({f for f, _ in seen}) == list(range(50))


def _article_item(n: int) -> ArticleItem:
    url = f"https://www.most.gov.cn/kjbgz/202406/t2024062{n}_1.html"
    article = Article(url=url, title=f"科技部发布关于加快人工智能产业发展的通知（第{n}号）", published_at=datetime(2024, 6, 26, tzinfo=timezone.utc),
                      origin=None, body="为贯彻落实国家科技创新战略，推动人工智能与实体经济深度融合。")
    return ArticleItem(source="most", url=url, article=article, raw_body=b"", canonical_url=url, content_hash=str(n).rjust(64, "0"))


def test_a_crawl_run_reads_the_model_and_the_pick_signal_once(database_url: str) -> None:
    ensure_schema(database_url)
    with transaction(database_url) as session:
        issues.store(session, issues.parse_report((REPORTS / "2023-06-21.txt").read_text(encoding="utf-8"), "2023-06-21.txt"))
        session.add(Source(name="most"))
    pipeline = StorePipeline(get_crawler(settings_dict={"RADAR_DATABASE_URL": database_url, "RADAR_TOPICS": str(TOPICS)}))
    statements: dict[int, list[str]] = {}
    for n in range(4):
        with sql_sent(database_url) as sent, transaction(database_url) as session:
            item = _article_item(n)
            row = Item(source_id=session.query(Source.id).filter_by(name="most").scalar(), url=item.url,
                       canonical_url=item.canonical_url, content_hash=item.content_hash, title=item.article.title)
            session.add(row)
            session.flush()
            pipeline._tag(session, row, item)
            assert row.topics and "picks" in row.topics["score_parts"] and row.topics["model"]
        statements[n] = [statement.lower().replace('"', "") for statement in sent]

    def habits(sql: list[str]) -> list[str]:  # what the model and the signal are read from
        return [s for s in sql if s.startswith("select") and any(f"from {t}" in s for t in ("triage", "tagging_models", "report_stories"))]

    assert habits(statements[0])  # the first new article reads (here: fits) them
    assert [habits(statements[n]) for n in (1, 2, 3)] == [[], [], []]  # the others reuse them
