"""The queries the crawler, the CLI and (later) the daemon share. Each takes an open session."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, literal_column, select, update
from sqlalchemy.orm import Session

from storage.models import NEWS, CrawlRun, DaemonState, Item, ItemTally, ListPageState, ReportIssue, Source, Triage, User, utcnow


def upsert_source(session: Session, name: str, label: str = "", kind: str = "") -> Source:
    return upsert_sources(session, [(name, label, kind)])[name]


def upsert_sources(session: Session, sources: Iterable[tuple[str, str, str]]) -> dict[str, Source]:
    """Each ``(name, label, kind)``'s row by name, created or updated: one query, however many."""
    wanted = {name: (label, kind) for name, label, kind in sources}
    rows = {row.name: row for row in session.scalars(select(Source).where(Source.name.in_(wanted)))}
    for name, (label, kind) in wanted.items():
        row = rows.get(name)
        if row is None:
            rows[name] = row = Source(name=name, label=label, kind=kind)
            session.add(row)
        else:
            row.label, row.kind = label or row.label, kind or row.kind
    session.flush()
    return rows


def close_abandoned_runs(session: Session, current: Collection[CrawlRun]) -> None:
    """Runs of the same sources still `running` when the ``current`` ones start were killed
    (SIGKILL, a crash): say so."""
    source_ids, current_ids = {run.source_id for run in current}, [run.id for run in current]
    for run in session.scalars(
        select(CrawlRun).where(CrawlRun.source_id.in_(source_ids), CrawlRun.status == "running", CrawlRun.id.not_in(current_ids))
    ):
        run.status, run.finished_at = "crashed", run.finished_at or utcnow()
        run.error_summary = run.error_summary or "the crawl process ended without recording its result"


def last_run_id(session: Session, source_name: str) -> int:
    """The id of the source's newest crawl run, 0 when it has none."""
    return session.scalar(select(func.max(CrawlRun.id)).join(Source).where(Source.name == source_name)) or 0


def run_after(session: Session, source_name: str, after_id: int) -> CrawlRun | None:
    """The source's newest run started after run ``after_id``: the one a crawl elsewhere recorded."""
    return session.scalars(
        select(CrawlRun).join(Source).where(Source.name == source_name, CrawlRun.id > after_id).order_by(CrawlRun.id.desc()).limit(1)
    ).first()


def finished_runs_after(session: Session, after_id: int, except_ids: Collection[int] = ()) -> list[CrawlRun]:
    """The finished runs numbered above ``after_id``, but for ``except_ids``, oldest first."""
    query = select(CrawlRun).where(CrawlRun.id > after_id, CrawlRun.finished_at.is_not(None)).order_by(CrawlRun.id)
    skipped = set(except_ids)
    return [run for run in session.scalars(query) if run.id not in skipped]


def settled_run_bound(session: Session, after_id: int, abandoned_before: datetime) -> int:
    """The highest run number at or below which every run has finished: just below the oldest
    run still running — one started before ``abandoned_before`` counts as abandoned, not running
    (its process was killed; its source's next run marks it crashed) — else the newest run's."""
    running = session.scalar(
        select(func.min(CrawlRun.id)).where(
            CrawlRun.id > after_id, CrawlRun.finished_at.is_(None), CrawlRun.started_at >= abandoned_before
        )
    )
    if running is not None:
        return running - 1
    return max(session.scalar(select(func.max(CrawlRun.id))) or 0, after_id)


def last_run_started_before(session: Session, moment: datetime) -> int:
    """The number of the newest run started before ``moment`` (0 when none)."""
    return session.scalar(select(func.max(CrawlRun.id)).where(CrawlRun.started_at < moment)) or 0


def known_urls(session: Session, canonical_urls: Iterable[str]) -> set[str]:
    """Which of these canonical URLs are already stored — one query, however many."""
    wanted = list(set(canonical_urls))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(session.scalars(select(Item.canonical_url).where(Item.canonical_url.in_(chunk))))
    return found


def last_new_item(session: Session, source_id: int) -> datetime | None:
    return session.scalar(select(func.max(Item.first_seen_at)).where(Item.source_id == source_id))


def last_new_items(session: Session, source_ids: Collection[int]) -> dict[int, datetime | None]:
    """:func:`last_new_item` of each of these sources, in one statement: an index probe each
    (``(source_id, first_seen_at)``), not a GROUP BY over their items."""
    newest = select(func.max(Item.first_seen_at)).where(Item.source_id == Source.id).scalar_subquery()
    found = {source_id: seen for source_id, seen in session.execute(select(Source.id, newest).where(Source.id.in_(source_ids)))}
    return {source_id: found.get(source_id) for source_id in source_ids}


def item_by_url(session: Session, canonical_url: str) -> Item | None:
    return session.scalar(select(Item).where(Item.canonical_url == canonical_url))


def cluster_size(session: Session, cluster_id: int | None) -> int:
    """How many items tell the story of cluster ``cluster_id``; 1 for an item in no cluster."""
    if cluster_id is None:
        return 1
    return session.scalar(select(func.count()).select_from(Item).where(Item.cluster_id == cluster_id)) or 1


def list_states(session: Session, source_ids: Collection[int]) -> dict[int, dict[str, ListPageState]]:
    """The stored list pages of these sources: per source id, by URL (two sources may list one URL)."""
    states: dict[int, dict[str, ListPageState]] = {source_id: {} for source_id in source_ids}
    for row in session.scalars(select(ListPageState).where(ListPageState.source_id.in_(source_ids))):
        states[row.source_id][row.url] = row
    return states


def save_list_state(session: Session, source_id: int, url: str, etag: str | None, last_modified: str | None, entries: list[str]) -> None:
    state = session.scalar(select(ListPageState).where(ListPageState.url == url))
    if state is None:
        state = ListPageState(source_id=source_id, url=url)
        session.add(state)
    state.etag, state.last_modified = etag, last_modified
    state.entry_urls, state.entry_count, state.fetched_at = entries, len(entries), utcnow()


def refresh_list_states(session: Session, urls: Collection[str]) -> None:
    """Mark these lists' stored states as confirmed now (their server answered 304)."""
    if urls:
        session.execute(update(ListPageState).where(ListPageState.url.in_(urls)).values(fetched_at=utcnow()))


def drop_stale_list_states(session: Session, fetched_before: datetime) -> int:
    """Delete the list states no successful run saved since ``fetched_before``: past editions'
    dated pages, lists a watchlist no longer names. A list still crawled is saved by every good
    run, or confirmed when it answered 304 (:func:`refresh_list_states`), so it keeps its
    validators; the pages behind a first page answered 304 are not asked, and age out. Returns
    how many went."""
    result = session.execute(delete(ListPageState).where(ListPageState.fetched_at < fetched_before))
    return result.rowcount or 0


def forget_list_state(session: Session, url: str) -> None:
    """Drop validators so the next run fetches the list in full (used after a partial run)."""
    state = session.scalar(select(ListPageState).where(ListPageState.url == url))
    if state is not None:
        state.etag = state.last_modified = None


def source_overview(session: Session) -> dict[str, dict]:
    """Per source name: last run, last new item, item count — what `crawl sources` shows.

    Each figure is an index probe per source (the newest run by ``(source_id, id)``, the newest
    item by ``(source_id, first_seen_at)``) or a tally the database keeps (items per source):
    nothing here reads every run or item ever stored."""
    last_run = select(CrawlRun.id).where(CrawlRun.source_id == Source.id).order_by(CrawlRun.id.desc()).limit(1).scalar_subquery()
    last_new = select(func.max(Item.first_seen_at)).where(Item.source_id == Source.id).scalar_subquery()
    rows = session.execute(select(Source, last_run, last_new, ItemTally.items).outerjoin(ItemTally, ItemTally.source_id == Source.id)).all()
    # The runs by id afterwards: joined on the subquery, PostgreSQL hashed every run ever made.
    runs = {run.id: run for run in session.scalars(select(CrawlRun).where(CrawlRun.id.in_([row[1] for row in rows if row[1]])))}
    overview: dict[str, dict] = {}
    for source, run_id, newest, count in rows:
        overview[source.name] = {"source": source, "last_run": runs.get(run_id)}
        if count:  # as before: a source with no items has no last_new/items entries
            overview[source.name].update(last_new=newest, items=count)
    return overview


def ranked(bounded_in_time: bool) -> tuple[ColumnElement[Any], ...]:
    """The order candidates are shown in, as ORDER BY terms: best score first, then the newest
    publication, unscored and undated last, then id.

    Over all time the database walks an index in this order (``ix_items_rank``, migration 0015)
    and stops at the LIMIT. A query bounded in time (a week, a range of dates) finds its few
    rows through a time index and sorts them; there ``score + 0`` keeps the order's index out:
    SQLite, not knowing how few rows the week holds, walked that index from the best score
    down, through every item (10⁵: 184 ms against 4)."""
    score = Item.score + 0 if bounded_in_time else Item.score
    return score.desc().nulls_last(), Item.published_at.desc().nulls_last(), Item.id


def find_items(
    session: Session, source: str | None = None, since: datetime | None = None, status: str | None = None, limit: int = 200
) -> list[Item]:
    query = select(Item).order_by(Item.first_seen_at.desc(), Item.id.desc()).limit(limit)
    # Not a join: the source's id, looked up first, lets either database walk that source's
    # (source_id, first_seen_at) index; through a join PostgreSQL walked every item's first_seen_at
    # for a source with none (10⁶: 700 ms), and without a source filter SQLite's sampled statistics
    # (1,001 rows a source) made the join loop over the sources and sort every candidate (429 ms).
    if source:
        query = query.where(Item.source_id == select(Source.id).where(Source.name == source).scalar_subquery())
    if since:
        query = query.where(Item.first_seen_at >= since)
    if status == "news":
        query = query.where(status_in(session, NEWS))
    elif status:
        query = query.where(Item.status == status)
    return list(session.scalars(query))


# The status as no index has it. A literal, not a parameter: PostgreSQL's statistics on this
# expression (migration 0015) are matched by its text.
HIDDEN_STATUS = Item.status.op("||")(literal_column("''"))


def status_in(session: Session, statuses: Collection[str], searching: bool = False) -> ColumnElement[bool]:
    """Items of any of ``statuses``, as each database's planner should see the condition.

    A status holds a large share of the archive (candidates 70 %), and a query that orders or
    bounds its rows otherwise (newest first, best first, the week) needs only a few of them.
    SQLite's sampled statistics (ANALYZE with analysis_limit) count 1,001 rows a status, so it
    read every row of the status through its index and sorted them (`items --new`, 10⁵: 290 ms;
    the inbox over all time, 10⁶: 615 ms); ``status || ''`` keeps the status indexes out of its
    plan. PostgreSQL's statistics know the shares, and the expression, while it had none of its
    own, hid them: it read the whole table (10⁵: 116 ms against 3). A search (``searching``)
    must be led by its text index on both: PostgreSQL, once ANALYZE knew how common a rare
    term's trigrams are, intersected its matches with the status index's 700,000 candidates
    (10⁶: 23 → 77 ms); the expression's own statistics (migration 0015) keep its estimates."""
    hidden = searching or session.get_bind().dialect.name == "sqlite"
    return (HIDDEN_STATUS if hidden else Item.status).in_(list(statuses))


def get_item(session: Session, key: str) -> Item | None:
    """An item by numeric id or by its canonical URL."""
    if key.isdigit():
        return session.get(Item, int(key))
    return item_by_url(session, key)


def issue_structures(session: Session, published: Iterable[date] | None = None) -> list[tuple[date, dict]]:
    """(publication date, parsed structure) of imported issues, oldest first; all when
    ``published`` is None."""
    query = select(ReportIssue.published, ReportIssue.structure).order_by(ReportIssue.published)
    if published is not None:
        query = query.where(ReportIssue.published.in_(list(published)))
    return [(day, structure or {}) for day, structure in session.execute(query)]


def first_seen(session: Session, canonical_urls: Iterable[str]) -> dict[str, datetime]:
    """When each stored item among ``canonical_urls`` was first seen (absent: not stored)."""
    wanted, found = sorted(set(canonical_urls)), {}
    for start in range(0, len(wanted), 500):  # bounded IN lists
        query = select(Item.canonical_url, Item.first_seen_at).where(Item.canonical_url.in_(wanted[start : start + 500]))
        found.update(dict(session.execute(query).all()))
    return found


def items_with_source(session: Session, source: str | None = None) -> list[tuple[Item, str]]:
    """Every stored item with its source's name (only ``source``'s when given)."""
    query = select(Item, Source.name).join(Source)
    if source:
        query = query.where(Source.name == source)
    return [(item, name) for item, name in session.execute(query)]


def candidates_since(session: Session, since: datetime) -> list[Item]:
    """The candidates (new and follow-up items) first seen since ``since``: what the inbox and
    the digest rank, walked through the first-seen index."""
    return list(session.scalars(select(Item).where(Item.first_seen_at >= since, Item.status.in_(NEWS))))


def report_issues(session: Session) -> list[ReportIssue]:
    """Imported issues of the weekly report, newest first."""
    return list(session.scalars(select(ReportIssue).order_by(ReportIssue.published.desc())))


def report_issue(session: Session, published: date | None) -> ReportIssue | None:
    """The imported issue published on that day, if any."""
    return session.scalar(select(ReportIssue).where(ReportIssue.published == published))


def daemon_state(session: Session, key: str) -> DaemonState | None:
    """What the daemon recorded under ``key`` (its "heartbeat", say)."""
    return session.get(DaemonState, key)


def user_count(session: Session) -> int:
    """How many editor accounts exist, removed ones included."""
    return session.scalar(select(func.count(User.id))) or 0


def users_by_name(session: Session) -> list[User]:
    """Editor accounts in order of their login names, removed ones included."""
    return list(session.scalars(select(User).order_by(User.username)))


def triage_counts(session: Session) -> dict[int, int]:
    """How many triage actions each user (by id) has taken."""
    return dict(session.execute(select(Triage.user_id, func.count(Triage.id)).group_by(Triage.user_id)).all())


def current_triage_ids(newest: int | None = None) -> Select:
    """The ids of each triaged item's current decision (rows are never updated: an item's
    latest row is its decision); with ``newest``, of the ``newest`` most recently decided items only.

    Those are found among the newest ``newest`` · ROWS_PER_DECIDED_ITEM rows, not by grouping
    every decision ever made (210,000 rows at 10⁶ items: 0.23 s of each issue import, growing
    with the archive). An item with a row there has its latest row there too, so the window
    undercounts only when editors decided the same items again and again."""
    latest = func.max(Triage.id)
    if newest is None:
        return select(latest).group_by(Triage.item_id)
    window = select(Triage.id).order_by(Triage.id.desc()).limit(newest * ROWS_PER_DECIDED_ITEM)
    return select(latest).where(Triage.id.in_(window)).group_by(Triage.item_id).order_by(latest.desc()).limit(newest)


ROWS_PER_DECIDED_ITEM = 4  # decision rows read per item wanted by current_triage_ids(newest)
