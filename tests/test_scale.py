"""A years-long archive stays workable (issue 19): an issue import reads only what the issue
can cover and never holds the write lock long, raw pages expire, and `crawl db stats` shows
where the bytes are."""

from __future__ import annotations

import logging
import random
import threading
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import FIXTURES, Radar, expected_articles
from desk import issues, similarity, verdicts
from storage.db import ensure_schema, get_engine, transaction
from storage.models import NEWS, Item, ListPageState, RawPage, Source

REPORTS = sorted((FIXTURES / "reports").glob("*.txt"))
NOW = datetime(2026, 11, 20, 4, 17, tzinfo=timezone.utc)
STATUSES = ("new", "follow_up", "duplicate", "covered", "new")


def _reports() -> list[issues.Report]:
    return [issues.parse_report(issues.read_report_text(path), str(path)) for path in REPORTS]


def _cited(report: issues.Report) -> list[issues.Reference]:
    return [ref for story in report.stories for ref in story.references] + [ref for brief in report.briefs for ref in brief.references]


def _t2s_reverse(text: str) -> str:
    import opencc

    return opencc.OpenCC("s2t").convert(text)


def mixed_archive(reports: list[issues.Report], seed: int = 7) -> list[dict]:
    """Items an issue may or may not cover: the crawled fixtures' real articles, and for each
    cited reference its URL, its title behind an outlet's prefix, in traditional characters,
    one character short, as the body's first line — and near misses — in every status."""
    rng, rows = random.Random(seed), []
    for name in ("ndrc", "cas", "sciencenet", "govcn", "most", "miit"):
        for article in expected_articles(name):
            rows.append({"url": article["url"], "title": article["title"], "body": article.get("body_first") or article["title"]})
    for n, ref in enumerate(ref for report in reports for ref in _cited(report)):
        base = f"https://mirror.example/{n}/"
        if ref.url.startswith("http"):
            rows.append({"url": ref.url, "title": "无关标题", "body": "正文"})
        if ref.title:
            cut = rng.randrange(len(ref.title))
            rows += [
                {"url": base + "prefix", "title": "【科技日报】" + ref.title, "body": "正文"},
                {"url": base + "traditional", "title": _t2s_reverse(ref.title), "body": "正文"},
                {"url": base + "short", "title": ref.title[:cut] + ref.title[cut + 1:], "body": "正文"},
                {"url": base + "spaced", "title": ref.title[:cut] + " " + ref.title[cut:], "body": "正文"},
                {"url": base + "lead", "title": "转载", "body": "   \n" + ref.title + "\n正文"},
                {"url": base + "half", "title": ref.title[: len(ref.title) // 2], "body": "正文"},
                {"url": base + "reversed", "title": ref.title[::-1], "body": "正文"},
            ]
    from common.urls import canonical_url

    seen: set[str] = set()
    unique = [row for row in rows if not (canonical_url(row["url"]) in seen or seen.add(canonical_url(row["url"])))]
    for n, row in enumerate(unique):
        row["status"] = STATUSES[n % len(STATUSES)]
    return unique


def store_archive(url: str, rows: list[dict]) -> None:
    from common.urls import canonical_url

    ensure_schema(url)
    with transaction(url) as session:
        source = Source(name="archive")
        session.add(source)
        session.flush()
        session.add_all(
            Item(source_id=source.id, url=row["url"], canonical_url=canonical_url(row["url"]), title=row["title"], body=row["body"],
                 content_hash=str(n), status=row["status"], first_seen_at=NOW - timedelta(days=n % 90))
            for n, row in enumerate(rows)
        )


def import_as_before(url: str, report: issues.Report) -> None:
    """The import this change replaced: every judged item re-judged in one transaction."""
    with transaction(url) as session:
        issues.store(session, report)
        session.flush()
        for item in session.scalars(select(Item).where(Item.status.in_((*NEWS, "duplicate")))):
            verdict = verdicts.covered(session, item)
            if verdict is not None:
                item.status, item.verdict_reason, item.covered_story_id = verdict.status, verdict.reason, verdict.story_id


def import_now(url: str, report: issues.Report, batch: int = 7) -> int:
    with transaction(url) as session:
        issue, _ = issues.store(session, report)
    return issues.mark_covered(url, issue.id, batch=batch)


def verdicts_of(url: str) -> dict[str, tuple]:
    with transaction(url) as session:
        return {i.canonical_url: (i.status, i.verdict_reason, i.covered_story_id) for i in session.scalars(select(Item))}


def test_the_import_covers_exactly_what_rejudging_the_whole_archive_covered(database_url: str, tmp_path: Path,
                                                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="desk.issues.store")
    reports = _reports()
    rows = mixed_archive(reports)
    before = f"sqlite:///{tmp_path / 'before.sqlite'}"
    store_archive(before, rows)
    store_archive(database_url, rows)
    for report in reports:  # issue after issue, and one re-imported
        import_as_before(before, report)
        import_now(database_url, report)
        expected = verdicts_of(before)
        assert verdicts_of(database_url) == expected
    import_as_before(before, reports[0])
    import_now(database_url, reports[0])
    assert verdicts_of(database_url) == verdicts_of(before)
    already = {row["url"] for row in rows if row["status"] == "covered"}
    covered = [url for url, (status, *_) in verdicts_of(before).items() if status == "covered" and url not in already]
    kinds = {url.rsplit("/", 1)[-1] for url in covered if "mirror.example" in url}
    assert {"prefix", "traditional", "short", "spaced", "lead"} <= kinds  # the archive tests every way in
    assert not {"half", "reversed"} & kinds
    assert "reading every judged item" not in caplog.text  # the search index named the candidates


def test_title_keys_skip_opencc_only_where_it_would_change_nothing() -> None:
    import unicodedata

    import opencc

    t2s = opencc.OpenCC("t2s")
    texts = [text for row in mixed_archive(_reports()) for text in (row["title"], row["body"])]
    texts += [_t2s_reverse(text) for text in texts] + ["乾隆年間的著作", "瞭解一目瞭然", "ＡＢＣ１２３科技"]
    for text in texts:
        assert similarity.title_key(text) == similarity._PUNCT.sub("", t2s.convert(unicodedata.normalize("NFKC", text))).lower(), text


def big_archive(url: str, size: int) -> None:
    """``size`` judged items, written in bulk: enough for an import to take a while."""
    ensure_schema(url)
    titles = [article["title"] for name in ("ndrc", "cas", "sciencenet") for article in expected_articles(name)]
    with get_engine(url).begin() as conn:
        source_id = conn.execute(Source.__table__.insert().values(name="big")).inserted_primary_key[0]
        conn.execute(Item.__table__.insert(), [
            {"source_id": source_id, "url": f"https://big.example/{n}", "canonical_url": f"https://big.example/{n}",
             "title": f"{titles[n % len(titles)]}{n}", "body": "正文" * 200, "content_hash": str(n), "status": "new",
             "first_seen_at": NOW, "updated_at": NOW, "language": "zh"}
            for n in range(size)
        ])


def test_a_crawl_stores_while_an_issue_is_being_imported(radar: Radar, database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the write lock in question is SQLite's")
    big_archive(database_url, 20_000)
    reports, imports, failures, crawl_done = _reports(), [], [], threading.Event()

    def import_until_the_crawl_ends() -> None:
        try:
            while not crawl_done.is_set() or not imports:
                imports.append(import_now(database_url, reports[len(imports) % len(reports)], batch=500))
        except Exception as error:  # noqa: BLE001 — reported by the assertion below
            failures.append(error)

    importer = threading.Thread(target=import_until_the_crawl_ends)
    importer.start()
    try:
        crawl = radar("run", "--source", "ndrc", check=False)
    finally:
        crawl_done.set()
        importer.join()
    assert "database is locked" not in crawl.stdout + crawl.stderr
    assert crawl.returncode == 0, crawl.stderr
    assert not failures and imports
    with transaction(database_url) as session:
        assert session.scalar(select(Item.id).join(Source).where(Source.name == "ndrc").limit(1)) is not None


def test_the_clean_up_drops_old_raw_pages_and_keeps_their_items(database_url: str) -> None:
    from common.settings import get_settings
    from scheduler import jobs

    ensure_schema(database_url)
    with transaction(database_url) as session:
        source = Source(name="ndrc")
        session.add(source)
        session.flush()
        for age in range(0, 1200, 2):  # more than a batch of each
            item = Item(source_id=source.id, url=f"https://a.example/{age}", canonical_url=f"https://a.example/{age}", title="标题",
                        body="正文", content_hash=str(age), first_seen_at=NOW - timedelta(days=age / 10))
            item.raw = RawPage(fetched_at=NOW - timedelta(days=age / 10), body_zlib=zlib.compress(b"<html>"))
            session.add(item)
    jobs.cleanup(get_settings(database_url=database_url, raw_retention_days=30), NOW)
    with transaction(database_url) as session:
        kept = session.scalars(select(RawPage.fetched_at)).all()
        assert len(kept) == 151 and min(kept) == NOW - timedelta(days=30)  # ages 0, 0.2 … 30 days stay
        assert session.query(Item).count() == 600  # the extraction results stay


def test_the_clean_up_drops_list_states_no_run_refreshed(database_url: str) -> None:
    from common.settings import get_settings
    from scheduler import jobs

    ensure_schema(database_url)
    with transaction(database_url) as session:
        source = Source(name="people_paper")
        session.add(source)
        session.flush()
        for day in range(40):  # a dated e-paper page per edition, saved on its day
            session.add(ListPageState(source_id=source.id, url=f"https://paper.example/{day:02d}/node_01.html",
                                      fetched_at=NOW - timedelta(days=day)))
    jobs.cleanup(get_settings(database_url=database_url, raw_retention_days=30), NOW)
    with transaction(database_url) as session:
        assert min(session.scalars(select(ListPageState.fetched_at))) == NOW - timedelta(days=30)
        assert session.query(ListPageState).count() == 31


def test_the_clean_up_indexes_the_search_slices_new_items_reach(database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """PostgreSQL's search reads a slice of ids through its own index (storage.slices): the
    daily clean-up builds those the items reached since, and one beyond; SQLite needs none."""
    from sqlalchemy import text

    from common.settings import get_settings
    from scheduler import jobs
    from storage import slices

    ensure_schema(database_url)
    with transaction(database_url) as session:
        source = Source(name="ndrc")
        session.add(source)
        session.flush()
        session.add(Item(id=3 * slices.SLICE_IDS + 1, source_id=source.id, url="https://a.example/1", canonical_url="https://a.example/1",
                         title="标题", body="正文", content_hash="1", first_seen_at=NOW))
    with caplog.at_level(logging.INFO, logger="scheduler.jobs"):
        jobs.cleanup(get_settings(database_url=database_url), NOW)
    built = [f"{slices.SLICE_INDEX_PREFIX}{n}" for n in (2, 3, 4)]  # 0 and 1 by the migration
    if database_url.startswith("sqlite"):
        assert "search slice" not in caplog.text
        return
    assert f"indexed the search slice(s) of ids the newest items reach: {', '.join(built)}" in caplog.text
    with transaction(database_url) as session:
        names = session.scalars(text("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'ix_items_search_%' ORDER BY indexname"))
        assert list(names) == [f"{slices.SLICE_INDEX_PREFIX}{n}" for n in range(5)]
        # Every trigram index merges its pending entries at the same small size, those built here
        # as those migrations 0010–0017 built (a scan reads the whole list: bench/NOTES.md).
        limits = dict(session.execute(text(
            "SELECT c.relname, c.reloptions FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
            "WHERE a.amname = 'gin' AND i.indrelid IN ('items'::regclass, 'item_leads'::regclass)")).all())
        assert {"ix_items_title_trgm", "ix_items_body_trgm", "ix_item_leads_trgm", *built} <= set(limits)
        assert all(options == [f"gin_pending_list_limit={slices.PENDING_LIST_KB}"] for options in limits.values()), limits


def test_db_stats_shows_rows_and_size_per_table(radar: Radar, database_url: str) -> None:
    from storage.stats import table_sizes

    radar("run", "--source", "ndrc")
    stats = radar.json("db", "stats")
    tables = {table["name"]: table for table in stats["tables"]}
    with transaction(database_url) as session:
        items = session.query(Item).count()
        assert [size.name for size in table_sizes(session)] == [table["name"] for table in stats["tables"]]
    assert items and tables["items"]["rows"] == items and tables["raw_pages"]["rows"] == items
    assert stats["database_bytes"] > 0
    if tables["items"]["bytes"] is not None:  # SQLite without dbstat cannot tell
        assert tables["items"]["bytes"] > 0 and tables["items"]["bytes"] <= stats["database_bytes"]
    shown = radar("db", "stats").stdout
    assert "raw_pages" in shown and "items" in shown


def test_statistics_are_gathered_after_migrations(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    ensure_schema(url)
    with get_engine(url).connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").scalar() == 1
