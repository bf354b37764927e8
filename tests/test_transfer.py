"""Backups and moves: what `crawl export` writes, `crawl import` restores — across databases."""

from __future__ import annotations

import io
import json
import logging
from contextlib import nullcontext
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from conftest import FIXTURES, POSTGRES, Radar, _new_postgres_database, expected_articles
from storage.db import get_engine, transaction
from storage.models import DaemonState, Item, ReportIssue, Triage, User


def snapshot(database_url: str) -> dict[str, tuple]:
    with transaction(database_url) as session:
        return {
            i.canonical_url: (i.title, i.published_at, i.origin, i.body, i.status, i.source.name, i.raw is not None)
            for i in session.scalars(select(Item))
        }


def test_export_then_import_into_another_database_loses_nothing(radar: Radar, database_url: str, tmp_path: Path) -> None:
    radar("issues", "import", *map(str, sorted((FIXTURES / "reports").glob("*.txt"))))
    radar("run", "--source", "ndrc", "--source", "sciencenet")
    dump = tmp_path / "backup.jsonl"
    assert "Exported" in radar("export", str(dump)).stdout
    kinds = [json.loads(line)["type"] for line in dump.read_text(encoding="utf-8").splitlines()]
    assert kinds.count("issue") == 3 and kinds.count("item") == len(snapshot(database_url))
    # Restore into a fresh database (SQLite → PostgreSQL when the suite runs on PostgreSQL).
    target = f"sqlite:///{tmp_path / 'restored.sqlite'}"
    restored = Radar(env=radar.env | {"RADAR_DATABASE_URL": target}, cwd=radar.cwd)
    out = restored("import", str(dump)).stdout
    assert "Imported" in out
    assert snapshot(target) == snapshot(database_url)
    with transaction(target) as session:
        assert len(session.scalars(select(ReportIssue)).all()) == 3
    again = restored("import", str(dump)).stdout  # idempotent
    assert f"{len(snapshot(database_url))} already stored" in again


def test_sqlite_export_imports_into_postgresql(radar: Radar, database_url: str, tmp_path: Path) -> None:
    if not database_url.startswith("sqlite"):
        return  # the reverse direction is covered above
    import pytest

    if not POSTGRES:
        pytest.skip("no PostgreSQL server")
    from conftest import _new_postgres_database  # noqa: PLC0415

    radar("run", "--source", "cas")
    dump = tmp_path / "move.jsonl"
    radar("export", str(dump))
    with _new_postgres_database() as target:
        Radar(env=radar.env | {"RADAR_DATABASE_URL": target}, cwd=radar.cwd)("import", str(dump))
        assert snapshot(target) == snapshot(database_url)


def test_a_corrupt_export_is_refused_and_imports_nothing(radar: Radar, database_url: str, tmp_path: Path) -> None:
    dump = tmp_path / "bad.jsonl"
    dump.write_text('{"type": "item", "canonical_url": "x"\n', encoding="utf-8")
    result = radar("import", str(dump), check=False)
    assert result.returncode == 1 and "line 1: not JSON" in result.stderr and "nothing was imported" in result.stderr


# -- a move keeps every table ------------------------------------------------------------
# Left behind on purpose (see desk/transfer.py): list-page validators are an HTTP cache, and
# the heartbeat describes the exporting process. LSH bands are compared: import rebuilds them.
NOT_MOVED = {"list_page_states", "tagging_models"}  # a fit is refitted from issues and triage
TRANSIENT_STATE = {"heartbeat"}
# Kept by triggers (migration 0010): an import re-counts the moved runs and items.
TALLIES = {"run_tallies": ("runs", "new_items", "errors"), "item_tallies": ("items",)}


def every_table(database_url: str) -> dict[str, list]:
    """Every row of every table, with database ids replaced by the natural keys they stand for
    (ids legitimately differ between databases; what they point at must not)."""
    from storage.models import Base

    engine = get_engine(database_url)
    tables = {t.name: t for t in Base.metadata.sorted_tables}
    with engine.connect() as conn:
        def pairs(table: str, *columns: str) -> list:
            return conn.execute(select(*(tables[table].c[c] for c in columns))).all()

        natural: dict[str, dict] = {table: dict(pairs(table, "id", key)) for table, key in (
            ("sources", "name"), ("items", "canonical_url"), ("users", "username"), ("outbox", "dedupe_key"), ("report_issues", "published"))}
        natural["report_stories"] = {i: (natural["report_issues"][issue], p) for i, issue, p in pairs("report_stories", "id", "issue_id", "position")}
        natural["story_clusters"] = {i: natural["items"][p] for i, p in pairs("story_clusters", "id", "primary_item_id")}
        dump = {}
        for name, table in tables.items():
            if name in NOT_MOVED:
                continue
            rows = []
            for row in conn.execute(table.select()).mappings():
                if name == "daemon_state" and row["key"] in TRANSIENT_STATE:
                    continue
                if name in TALLIES and not any(row[c] for c in TALLIES[name]):
                    continue  # a status a run passed through (running → ok) counts nothing: same as no row
                values = {}
                for column in table.columns:
                    value = row[column.name]
                    if column.primary_key and column.name == "id":
                        continue  # a surrogate id
                    if column.foreign_keys and value is not None:
                        value = natural[next(iter(column.foreign_keys)).column.table.name][value]
                    if (name, column.name) == ("items", "cluster_id") and value is not None:
                        value = natural["story_clusters"][value]
                    values[column.name] = bytes(value) if isinstance(value, memoryview) else value
                rows.append(values)
            dump[name] = sorted(rows, key=repr)
    return dump


def other_backend(database_url: str, tmp_path: Path, name: str):  # noqa: ANN201
    """A fresh database on the other backend (PostgreSQL for SQLite and back)."""
    if database_url.startswith("sqlite"):
        if not POSTGRES:
            pytest.skip("no PostgreSQL server")
        return _new_postgres_database()
    return nullcontext(f"sqlite:///{tmp_path / name}")


def test_a_move_keeps_every_table_and_editors_see_nothing_twice(radar: Radar, database_url: str, tmp_path: Path, sites: Path, watchlists: Path) -> None:
    from scheduler import digest as digests
    from scheduler.jobs import EDITORS
    from scheduler.web.auth import add_user, end_sessions

    radar("issues", "import", *map(str, sorted((FIXTURES / "reports").glob("*.txt"))))
    radar("run", "--source", "ndrc", "--source", "sciencenet")
    radar("users", "add", "kim", "--password", "correct horse battery")
    with transaction(database_url) as session:
        kim = session.scalar(select(User).where(User.username == "kim"))
        end_sessions(kim)
        add_user(session, "lee", "correct horse battery")
        items = session.scalars(select(Item).order_by(Item.id)).all()
        session.add_all([Triage(item_id=items[0].id, user_id=kim.id, decision="pick", note="첫째\n<b>둘째</b>", at=items[0].first_seen_at),
                         Triage(item_id=items[1].id, user_id=kim.id, decision="skip", category_override="strategy", at=items[1].first_seen_at)])
        session.add(DaemonState(key="health:ndrc", value={"state": "ok"}, updated_at=items[0].first_seen_at))
        session.add(DaemonState(key="heartbeat", value={"pid": 1}, updated_at=items[0].first_seen_at))
    # A recipient nothing listens for (port 9): the digest and its ledger are queued, the send fails.
    Radar(env=radar.env | {"RADAR_NOTIFY": "json://127.0.0.1:9/notify"}, cwd=radar.cwd)("digest", "--send", check=False)
    make_reprints(sites, watchlists, database_url)
    radar("run", "--source", "reprints-a")  # a story cluster with a duplicate
    before = every_table(database_url)
    assert all(before[t] for t in ("users", "triage", "deliveries", "outbox", "story_clusters", "item_signatures", "item_bands", "crawl_runs")), \
        {t: len(rows) for t, rows in before.items()}
    assert any(item["covered_story_id"] for item in before["items"])

    there_dump, back_dump = tmp_path / "there.jsonl", tmp_path / "back.jsonl"
    radar("export", str(there_dump))
    kinds = {json.loads(line)["type"] for line in there_dump.open(encoding="utf-8")}
    assert kinds == {"source", "user", "issue", "item", "story_cluster", "triage", "outbox", "delivery", "crawl_run", "daemon_state"}
    with other_backend(database_url, tmp_path, "there.sqlite") as there:
        moved = Radar(env=radar.env | {"RADAR_DATABASE_URL": there}, cwd=radar.cwd)
        assert "Imported" in moved("import", str(there_dump)).stdout
        assert every_table(there) == before
        assert "0 item(s)" in moved("import", str(there_dump)).stdout  # importing again changes nothing
        assert every_table(there) == before
        moved("export", str(back_dump))
        with transaction(there) as session:  # what was delivered is not sent again
            now = max(i["first_seen_at"] for i in before["items"])
            assert digests.build(session, now, ZoneInfo("Asia/Seoul"), "digest", EDITORS).entries == []
        moved("run", "--source", "reprints-b")  # a reprint after the move is still a duplicate
        with transaction(there) as session:
            assert session.scalar(select(Item.status).where(Item.canonical_url == "https://www.sohu.com/a/123456_789")) == "duplicate"
    back = f"sqlite:///{tmp_path / 'back.sqlite'}" if database_url.startswith("sqlite") else None
    with (nullcontext(back) if back else _new_postgres_database()) as back:  # and back to where it came from
        Radar(env=radar.env | {"RADAR_DATABASE_URL": back}, cwd=radar.cwd)("import", str(back_dump))
        assert every_table(back) == before


def make_reprints(sites: Path, watchlists: Path, database_url: str) -> None:
    """Two one-article feeds reprinting the NDRC notice (see tests/test_diff.py)."""
    from test_diff import REPRINT

    notice = expected_articles("ndrc")[0]
    with transaction(database_url) as session:
        body = session.scalar(select(Item.body).where(Item.canonical_url == notice["url"]))
    for suffix, host, outlet, path in (("a", "www.news.cn", "新华网", "/fortune/reprint1.htm"), ("b", "www.sohu.com", "搜狐", "/a/123456_789")):
        page = sites / host / path.lstrip("/")
        page.parent.mkdir(parents=True, exist_ok=True)
        paragraphs = "".join(f"<p>{line}</p>" for line in [f"{outlet}北京电", *body.split("\n")])
        page.write_text(REPRINT.format(title="发改委：" + notice["title"], outlet=outlet, date=notice["published"][:10], paragraphs=paragraphs), encoding="utf-8")
        feed = (f"<rss version='2.0'><channel><title>转载</title><item><title>{notice['title']}</title><link>https://{host}{path}</link>"
                "<pubDate>Tue, 13 Jun 2023 12:00:00 +0800</pubDate></item></channel></rss>")
        (sites / "feeds.example").mkdir(exist_ok=True)
        (sites / "feeds.example" / f"reprints-{suffix}.xml").write_text(feed, encoding="utf-8")
        (watchlists / "sources" / f"reprints-{suffix}.yml").write_text(
            f"name: reprints-{suffix}\nlabel: 转载\nhomepage: https://feeds.example/\nkind: feed\nlists: [https://feeds.example/reprints-{suffix}.xml]\n"
            "allowed_hosts: [www.news.cn, www.sohu.com]\n",  # an aggregator: it names where its articles live
            encoding="utf-8")


def test_nul_in_text_is_stripped_and_logged_on_import_into_postgresql(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    if not POSTGRES:
        pytest.skip("no PostgreSQL server")
    from storage import queries
    from desk import transfer
    from storage.db import ensure_schema

    origin = f"sqlite:///{tmp_path / 'nul.sqlite'}"
    ensure_schema(origin)
    with transaction(origin) as session:
        source = queries.upsert_source(session, "example")
        session.add(Item(source_id=source.id, url="https://example.org/a", canonical_url="https://example.org/a",
                         title="标题\x00一", body="正文\x00", content_hash="0" * 64, topics={"note": "a\x00b"}))
    dump = io.StringIO()
    with transaction(origin) as session:
        transfer.export(session, dump)
    dump.seek(0)
    with _new_postgres_database() as target:
        ensure_schema(target)
        with caplog.at_level(logging.WARNING, logger="desk.transfer"), transaction(target) as session:
            assert transfer.import_(session, dump)["item"] == 1
        with transaction(target) as session:
            item = session.scalar(select(Item))
            assert (item.title, item.body, item.topics) == ("标题一", "正文", {"note": "ab"})
    assert "NUL" in caplog.text


def test_an_archive_without_signatures_is_signed_on_import(tmp_path: Path) -> None:
    """Exports written before signatures travelled: the items are signed as the crawler signs them."""
    from desk import similarity as diff
    from storage import queries
    from desk import transfer
    from desk import verdicts
    from storage.db import ensure_schema

    origin, target = (f"sqlite:///{tmp_path / name}" for name in ("origin.sqlite", "target.sqlite"))
    for url in (origin, target):
        ensure_schema(url)
    with transaction(origin) as session:
        source = queries.upsert_source(session, "example")
        for n, title in enumerate(("国家发展改革委关于印发通知", "科技部发布重点研发计划指南")):
            item = Item(source_id=source.id, url=f"https://example.org/{n}", canonical_url=f"https://example.org/{n}",
                        title=title, body=title * 20, content_hash=str(n) * 64)
            session.add(item)
            session.flush()
            verdicts.index(session, item, diff.signature(item.title, item.body))
    dump = io.StringIO()
    with transaction(origin) as session:
        transfer.export(session, dump)
    old_format = "".join(json.dumps({k: v for k, v in json.loads(line).items() if k != "minhash"}, ensure_ascii=False) + "\n"
                         for line in dump.getvalue().splitlines())
    with transaction(target) as session:
        transfer.import_(session, io.StringIO(old_format))
    assert every_table(target) == every_table(origin)
