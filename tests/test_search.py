"""Search served by an index (storage.search, migration 0010), and editor pages that read only
what they show: the inbox by pages, the draft from the week's decisions, the sources board's
last successes by index. On SQLite and PostgreSQL; items are written directly, as the store
pipeline leaves them (the crawl itself is covered by test_web.py)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select, text

from common.settings import get_settings
from conftest import module_at
from scheduler import status
from scheduler.web import create_app, data
from scheduler.web.auth import add_user
from storage import search, slices
from storage.db import ensure_schema, get_engine, transaction
from storage.models import CrawlRun, Item, Source, Triage

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 1, 14, 3, 0, tzinfo=timezone.utc)  # a Wednesday
HOSTILE = '<script>alert("人工智能")</script> 人工智能 & <b>算力</b>'


def add_items(database_url: str, *rows: dict) -> list[int]:
    """Items of one source, each from keyword arguments of Item; returns their ids."""
    ensure_schema(database_url)
    with transaction(database_url) as session:
        source = session.scalar(select(Source).where(Source.name == "ndrc")) or Source(name="ndrc", label="国家发展改革委")
        items = []
        for n, row in enumerate(rows):
            url = row.pop("url", f"https://www.ndrc.gov.cn/{row.get('title', '')}-{n}-{id(row)}.html")
            items.append(Item(source=source, url=url, canonical_url=url, content_hash="x",
                              first_seen_at=row.pop("first_seen_at", NOW - timedelta(hours=1)), **row))
        session.add_all(items)
        session.flush()
        return [item.id for item in items]


def found(database_url: str, q: str, **filters: str) -> list[str]:
    """The titles the inbox shows for ``q`` over the whole archive, in order."""
    with transaction(database_url) as session:
        inbox = data.inbox(session, data.Filters(period="all", status="all", q=q, **filters), NOW, SEOUL, [])
    return [e.item.title for _, _, entries in inbox.groups for e in entries]


def test_search_finds_chinese_and_korean_substrings_of_three_characters_or_more(database_url: str) -> None:
    add_items(database_url,
              dict(title="关于推动人工智能产业发展的指导意见", body="加快建设算力基础设施。"),
              dict(title="중국 과학기술부, 인공지능 윤리 지침 발표", body="생성형 인공지능 서비스 관리"),
              dict(title="国家统计局发布数据", body="Semiconductor output rose", origin="新华社"))
    assert found(database_url, "人工智能") == ["关于推动人工智能产业发展的指导意见"]
    assert found(database_url, "算力基础") == ["关于推动人工智能产业发展的指导意见"]  # in the body only
    assert found(database_url, "인공지능") == ["중국 과학기술부, 인공지능 윤리 지침 발표"]
    assert found(database_url, "semiconductor") == ["国家统计局发布数据"]  # case-insensitive
    assert found(database_url, "新华社") == ["国家统计局发布数据"]  # the origin is searched too
    assert found(database_url, "人工智能 윤리") == []  # every term must occur
    assert found(database_url, "AI") == []  # two characters: served by ILIKE, and nothing holds it


def test_short_terms_and_operators_are_searched_as_plain_text(database_url: str) -> None:
    add_items(database_url, dict(title="科技部 AI 政策", body="5G 网络"), dict(title='He said "NOT" OR maybe', body="x"))
    assert found(database_url, "5G") == ["科技部 AI 政策"]  # shorter than a trigram: ILIKE
    assert found(database_url, "5G 网络") == ["科技部 AI 政策"]
    assert found(database_url, '"NOT" OR') == ['He said "NOT" OR maybe']  # quotes and operators are text
    assert found(database_url, "100%") == []  # LIKE wildcards are text as well


def test_quotes_and_backslashes_in_a_term_are_text(database_url: str) -> None:
    """PostgreSQL's search writes its patterns into the statement (storage.slices)."""
    add_items(database_url, dict(title="It's 50\\50 科技", body="x"), dict(title="其他", body="x"))
    assert found(database_url, "It's") == ["It's 50\\50 科技"]
    assert found(database_url, "50\\50") == ["It's 50\\50 科技"]
    assert found(database_url, "x'); DROP TABLE items; --") == []
    assert found(database_url, "其他") == ["其他"]  # the table is still there


def test_the_index_is_used_and_follows_inserts_updates_and_deletes(database_url: str) -> None:
    [first] = add_items(database_url, dict(title="量子计算", body=""))
    with transaction(database_url) as session:
        assert search.backend(session) == ("fts5" if session.get_bind().dialect.name == "sqlite" else "pg_trgm")
    assert found(database_url, "量子计算") == ["量子计算"]
    with transaction(database_url) as session:
        session.get(Item, first).title = "集成电路"
    assert found(database_url, "量子计算") == [] and found(database_url, "集成电路") == ["集成电路"]
    with transaction(database_url) as session:
        session.get(Item, first).status = "covered"  # a change of anything else leaves the index alone
    assert found(database_url, "集成电路") == ["集成电路"]
    with transaction(database_url) as session:
        session.delete(session.get(Item, first))
    assert found(database_url, "集成电路") == []
    if database_url.startswith("sqlite"):
        with get_engine(database_url).connect() as conn:  # the index agrees with its content table
            conn.execute(text("INSERT INTO items_fts(items_fts, rank) VALUES ('integrity-check', 1)"))


def test_results_are_ranked_best_match_first(database_url: str) -> None:
    add_items(database_url,
              dict(title="一般新闻", body="其中提到人工智能一次。" + "无关内容。" * 40, score=9.0),
              dict(title="人工智能 人工智能 专题", body="人工智能发展报告", score=1.0))
    # The title hit wins although the inbox's own score ranks the other first.
    assert found(database_url, "人工智能") == ["人工智能 人工智能 专题", "一般新闻"]


def test_hits_are_counted_whatever_the_case_of_a_latin_term(database_url: str) -> None:
    add_items(database_url, dict(title="芯片新闻", body="Chiplet 技术。", score=9.0),
              dict(title="CHIPLET 与 chiplet 专题", body="Chiplet", score=1.0))
    assert found(database_url, "chiplet") == ["CHIPLET 与 chiplet 专题", "芯片新闻"]


def test_snippets_mark_the_hit_after_escaping_hostile_text(database_url: str) -> None:
    [hostile] = add_items(database_url, dict(title=HOSTILE, body="<img src=x onerror=alert(1)> 人工智能的算力 <i>"))
    with transaction(database_url) as session:
        inbox = data.inbox(session, data.Filters(period="all", q="人工智能"), NOW, SEOUL, [], page=1)
        short = data.inbox(session, data.Filters(period="all", q="AI 算力"), NOW, SEOUL, [], page=1)
    snippet = str(inbox.snippets[hostile])
    assert "<mark>人工智能</mark>" in snippet
    assert "<img" not in snippet and "<i>" not in snippet and "<script>" not in snippet and "&lt;" in snippet
    assert re.sub(r"</?mark>", "", snippet).count("<") == 0
    assert short.groups == []  # "AI" occurs nowhere
    with transaction(database_url) as session:
        body = session.get(Item, hostile).body
    python_snippet = str(search.passage_around(body, ["的算", "<i>"]))
    assert "<mark>的算</mark>" in python_snippet and "<mark>&lt;i&gt;</mark>" in python_snippet
    assert re.sub(r"</?mark>", "", python_snippet).count("<") == 0


def test_the_inbox_shows_one_page_at_a_time_and_keeps_the_filters(database_url: str, tmp_path: Path) -> None:
    total = data.PAGE_SIZE + 7
    add_items(database_url, *(dict(title=f"政策 {n:03d}", body="科技创新", score=float(total - n)) for n in range(total)))
    with transaction(database_url) as session:
        first = data.inbox(session, data.Filters(), NOW, SEOUL, [], page=1)
        second = data.inbox(session, data.Filters(), NOW, SEOUL, [], page=2)
        beyond = data.inbox(session, data.Filters(), NOW, SEOUL, [], page=99)
    shown = [[e.item.title for _, _, entries in page.groups for e in entries] for page in (first, second, beyond)]
    assert (first.total, first.pages, len(shown[0]), len(shown[1])) == (total, 2, data.PAGE_SIZE, 7)
    assert shown[0][0] == "政策 000" and shown[1][0] == f"政策 {data.PAGE_SIZE:03d}"  # best first, continued
    assert shown[2] == shown[1] and beyond.page == 2  # past the last page is the last
    client = _client(database_url, tmp_path)
    page = client.get("/?q=科技创新&period=all&status=new").text
    assert page.count('class="entry') == data.PAGE_SIZE
    link = re.search(r'id="next-page" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert "page=2" in link and "status=new" in link and "period=all" in link and "q=" in link
    second_page = client.get(link).text
    assert second_page.count('class="entry') == 7 and 'id="prev-page"' in second_page and 'id="next-page"' not in second_page
    assert client.get("/?page=x&_external=1").status_code == 200  # not a page number: the first


def _client(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    app = create_app(get_settings(database_url=database_url, data_dir=str(tmp_path / "data")), SECRET_KEY="test-secret")
    with transaction(database_url) as session:
        add_user(session, "kim", "correct horse battery")
    client = app.test_client()
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").text).group(1)
    assert client.post("/login", data={"username": "kim", "password": "correct horse battery", "csrf_token": token}).status_code == 302
    return client


def test_the_draft_reads_only_the_weeks_decisions(database_url: str) -> None:
    this_week, last_week, changed, moved = add_items(
        database_url, *(dict(title=title, body="") for title in ("本周", "上周", "改为跳过", "下周再改")))
    monday = datetime(2026, 1, 12, tzinfo=SEOUL)
    with transaction(database_url) as session:
        user = add_user(session, "kim", "correct horse battery")
        decisions = [(this_week, "pick", 1), (last_week, "pick", -3), (changed, "pick", 1), (changed, "skip", 2),
                     (moved, "pick", 1), (moved, "pick", 9)]  # re-picked the next week: that week's story
        for hour, (item_id, decision, day) in enumerate(decisions):
            session.add(Triage(item_id=item_id, decision=decision, user_id=user.id, at=monday + timedelta(days=day, hours=hour)))
    with transaction(database_url) as session:
        loaded: list[object] = []
        event.listen(session, "loaded_as_persistent", lambda _session, instance: loaded.append(instance))
        built = data.draft(session, "2026-W03", monday.date(), SEOUL, [])
    assert [s.headline for s in built.stories + built.briefs] == ["本周"]
    # The one decision kept is the only one read: no decision of another week, none superseded.
    assert [row.item_id for row in loaded if isinstance(row, Triage)] == [this_week]


def test_the_sources_board_finds_each_sources_last_success(database_url: str) -> None:
    ensure_schema(database_url)
    with transaction(database_url) as session:
        source = Source(name="ndrc")
        other = Source(name="most")
        session.add_all([source, other])
        session.flush()
        start = NOW - timedelta(days=3)
        session.add_all([
            CrawlRun(source_id=source.id, started_at=start, finished_at=start + timedelta(minutes=1), status="ok"),
            CrawlRun(source_id=source.id, started_at=start + timedelta(days=1), finished_at=start + timedelta(days=1, minutes=1), status="partial"),
            CrawlRun(source_id=source.id, started_at=start + timedelta(days=2), finished_at=start + timedelta(days=2, minutes=1), status="ok", health="broken"),
            CrawlRun(source_id=source.id, started_at=NOW, status="running"),
            CrawlRun(source_id=other.id, started_at=start, finished_at=start + timedelta(minutes=1), status="failed"),
        ])
    with transaction(database_url) as session:
        found_at = data.last_successes(session)
        ids = dict(session.execute(select(Source.name, Source.id)).all())
    assert found_at == {ids["ndrc"]: start + timedelta(days=1, minutes=1)}


def test_metrics_count_from_tallies_the_database_keeps(database_url: str) -> None:
    first, second, _ = add_items(database_url, *(dict(title=f"t{n}", body="") for n in range(3)))
    with transaction(database_url) as session:
        source_id = session.get(Item, first).source_id
        run = CrawlRun(source_id=source_id, started_at=NOW, status="running")
        session.add(run)
        session.flush()
        run.status, run.new, run.errors, run.finished_at = "partial", 3, 2, NOW + timedelta(minutes=1)
        session.add(CrawlRun(source_id=source_id, started_at=NOW, finished_at=NOW, status="ok", new=1))
    with transaction(database_url) as session:
        session.delete(session.get(Item, second))
        session.delete(session.get(CrawlRun, run.id))  # a deleted run stays counted: the totals are counters
    exposition = status.metrics(database_url)
    assert 'radar_items{source="ndrc"} 2.0' in exposition
    assert 'radar_runs_total{source="ndrc",status="partial"} 1.0' in exposition
    assert 'radar_runs_total{source="ndrc",status="ok"} 1.0' in exposition and 'status="running"' not in exposition
    assert 'radar_new_items_total{source="ndrc"} 4.0' in exposition and 'radar_errors_total{source="ndrc"} 2.0' in exposition
    stamp = re.search(r'radar_source_last_success_timestamp_seconds\{source="ndrc"\} (\S+)', exposition).group(1)
    assert float(stamp) == NOW.timestamp()


def test_the_digest_loads_only_the_entries_it_shows_and_counts_the_rest(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from scheduler import digest
    from storage.models import Delivery, OutboxMessage

    monkeypatch.setattr(digest, "MAX_ENTRIES", 3)
    ids = add_items(database_url, *(dict(title=f"候选 {n}", body="", score=float(10 - n)) for n in range(6)),
                    dict(title="已收录", body="", status="covered"), dict(title="旧闻", body="", first_seen_at=NOW - timedelta(days=8)))
    with transaction(database_url) as session:
        sent = OutboxMessage(kind="digest", dedupe_key="digest:x", title="", body_text="", body_markdown="", body_html="",
                             next_attempt_at=NOW, sent_at=NOW)
        session.add(sent)
        session.flush()
        session.add(Delivery(item_id=ids[0], kind="digest", tag="", outbox_id=sent.id))  # the best one went out already
    with transaction(database_url) as session:
        loaded: list[object] = []
        event.listen(session, "loaded_as_persistent", lambda _session, instance: loaded.append(instance))
        built = digest.build(session, NOW, SEOUL)
    assert [e.item.title for e in built.entries] == ["候选 1", "候选 2", "候选 3"]
    assert (built.more, built.covered) == (2, 1)  # 候选 4 and 5 wait; the old one is history
    assert sorted(row.title for row in loaded if isinstance(row, Item)) == ["候选 1", "候选 2", "候选 3"]


def test_the_source_overview_counts_from_tallies_and_finds_each_sources_newest_run_and_item(database_url: str) -> None:
    from storage import queries

    add_items(database_url, dict(title="早", body="", first_seen_at=NOW - timedelta(days=2)), dict(title="晚", body="", first_seen_at=NOW))
    with transaction(database_url) as session:
        ndrc = session.scalar(select(Source).where(Source.name == "ndrc"))
        session.add(Source(name="most"))
        session.add_all([CrawlRun(source_id=ndrc.id, started_at=NOW - timedelta(hours=h), status="ok") for h in (3, 1, 2)])
    with transaction(database_url) as session:
        overview = queries.source_overview(session)
        newest_run = session.scalar(select(func.max(CrawlRun.id)))
        assert overview["ndrc"]["last_run"].id == newest_run
        assert (overview["ndrc"]["items"], overview["ndrc"]["last_new"]) == (2, NOW)
        assert overview["most"] == {"source": overview["most"]["source"], "last_run": None}


def test_terms_without_case_are_matched_with_like_and_the_others_with_ilike() -> None:
    from sqlalchemy.dialects import postgresql

    def sql(term: str) -> str:
        return str(search.like_clause(term).compile(dialect=postgresql.dialect()))

    assert "ILIKE" not in sql("人工智能") and "ILIKE" not in sql("인공지능") and "ILIKE" not in sql("2023")
    assert "ILIKE" in sql("5G") and "ILIKE" in sql("Semiconductor") and "ILIKE" in sql("ß")


def test_items_per_day_counts_local_days_in_the_database(database_url: str) -> None:
    seoul_midnight = datetime(2026, 1, 14, tzinfo=SEOUL)  # NOW is 12:00 in Seoul on the 14th
    add_items(database_url, *(dict(title=f"t{n}", body="", first_seen_at=seen) for n, seen in enumerate([
        seoul_midnight, seoul_midnight - timedelta(seconds=1), seoul_midnight - timedelta(days=29),
        seoul_midnight - timedelta(days=29, seconds=1), NOW + timedelta(days=1)])))  # too old, and tomorrow: not shown
    with transaction(database_url) as session:
        (counts,) = data.items_per_day(session, NOW, SEOUL).values()
    assert (counts[-1], counts[-2], counts[0], sum(counts)) == (1, 1, 1, 3)


def test_a_search_ranks_only_the_newest_matches_and_says_so(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data, "SEARCH_CANDIDATES", 3)
    add_items(database_url, *(dict(title=f"人工智能 {n}", body="", first_seen_at=NOW - timedelta(hours=9 - n)) for n in range(5)))
    with transaction(database_url) as session:
        inbox = data.inbox(session, data.Filters(period="all", q="人工智能"), NOW, SEOUL, [], page=1)
    assert (inbox.total, inbox.truncated) == (3, True)
    assert sorted(e.item.title for _, _, entries in inbox.groups for e in entries) == ["人工智能 2", "人工智能 3", "人工智能 4"]


def test_a_search_reads_the_newest_items_then_slices_then_the_rest(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL (storage.slices.newest_matches): the newest items one by one, where a common
    term fills the page; then slices of ids, newest first, each through its own index
    (migration 0016), the oldest not read when the newer ones hold enough; then, when few
    matches are expected there, all older items at once. Slice 2 is past the slices the
    migration indexed: it is searched all the same, and the clean-up's add_slice_indexes
    indexes it. SQLite's FTS5 hands matches over newest first whatever the ids."""
    slice_ids = slices.SLICE_IDS
    newest = 2 * slice_ids
    fillers = (dict(id=newest + n, title=f"集成电路 {n}", body="") for n in range(1, 1001))  # so an index beats reading the slice
    add_items(database_url, *(dict(id=item_id, title=f"人工智能 {n}", body="") for n, item_id in enumerate([7, slice_ids + 3, newest])),
              *fillers)
    monkeypatch.setattr(slices, "FIRST_SLICES", 1)
    statements = _statements(database_url)
    assert found(database_url, "人工智能") == ["人工智能 2", "人工智能 1", "人工智能 0"]  # equal titles: newer first
    if database_url.startswith("postgresql"):
        # the newest 2,000 ids one by one, slice 1 below them, then everything under slice 1 at once
        walked, in_slice, older = f"items.id >= {newest - 999} AND", f"items.id >= {slice_ids} AND", f"WHERE items.id < {slice_ids} AND"
        order = [next(n for n, sql in enumerate(statements) if part in sql) for part in (walked, in_slice, older)]
        assert order == sorted(order) and not any("items.id >= 0 AND" in sql for sql in statements)
    statements.clear()
    monkeypatch.setattr(data, "SEARCH_CANDIDATES", 1)  # the query's LIMIT is one more
    assert found(database_url, "集成电路") in (["集成电路 1000"], ["集成电路 999"])  # the better title of the newest two
    assert not any(f"items.id >= {slice_ids} AND" in s for s in statements)  # read one by one: no slice asked
    assert found(database_url, "人工智能") == ["人工智能 2"]
    if database_url.startswith("sqlite"):
        assert slices.add_slice_indexes(database_url) == []
        return
    prefix = slices.SLICE_INDEX_PREFIX
    assert slices.add_slice_indexes(database_url) == [f"{prefix}2", f"{prefix}3"]  # 0 and 1 by the migration
    assert slices.add_slice_indexes(database_url) == []
    with transaction(database_url) as session:
        session.execute(text("ANALYZE items"))
        query = slices._in_slices(select(Item.id), ["人工智能"], [2, 1, 0], limit=2, below=3 * slice_ids)
        compiled = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
        plan = "\n".join(session.scalars(text(f"EXPLAIN (ANALYZE, COSTS OFF) {compiled}")))
    branches = plan.split("->  Limit")[1:]  # one per slice, after the union's own
    assert len(branches) == 3 and f"Bitmap Index Scan on {prefix}2 " in branches[0], plan
    assert "never executed" not in branches[1] and "never executed" in branches[2], plan


def _statements(database_url: str) -> list[str]:
    """The SQL sent to ``database_url`` from now on (a list that grows)."""
    sent: list[str] = []
    event.listen(get_engine(database_url), "before_cursor_execute", lambda conn, cursor, statement, *rest: sent.append(statement))
    return sent


def test_the_search_slices_are_the_ones_migrations_0016_and_0017_indexed() -> None:
    from storage.db import MIGRATIONS

    migration = module_at(MIGRATIONS / "versions" / "0016_search_slices.py")
    assert (migration.SLICE_IDS, migration.SLICE_INDEX_PREFIX, migration.SEARCH_TEXT_SQL) == (
        slices.SLICE_IDS, slices.SLICE_INDEX_PREFIX, slices.SEARCH_TEXT_SQL)
    # Migration 0017 gave the slices a pending-list limit, which later slices are created with.
    limits = module_at(MIGRATIONS / "versions" / "0017_gin_pending_lists.py")
    assert limits.PENDING_LIST_KB == slices.PENDING_LIST_KB
    with_limit = f"WITH (gin_pending_list_limit = {slices.PENDING_LIST_KB}) WHERE"
    assert [migration.slice_index_sql(n).replace("WHERE", with_limit) for n in (0, 5)] == [slices.slice_index_sql(n) for n in (0, 5)]


def test_a_term_copied_out_of_a_pdf_searches_for_what_it_shows() -> None:
    assert search.terms("⼈⼯智能 人工智能 ﬁnance") == ["人工智能", "finance"]
