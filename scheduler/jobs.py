"""What the daemon's jobs do. Plain functions of (configuration, now), so tests drive them
with a fake clock and the daemon with the real one.

Crawls run in a child process (`python -m radar run --source NAME`): Twisted's reactor
cannot be restarted, so a second CrawlerProcess in the daemon would fail with
ReactorNotRestartable; a child also isolates memory growth and crashes from the daemon,
which only records the outcome. By default the child is forked from a server that has
imported the crawl code once (scheduler/warm_start.py), so an unchanged check does not pay
Python's and Scrapy's start-up each time; RADAR_CRAWL_START=spawn starts a fresh interpreter.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Collection
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, or_, select, update

from common.settings import Settings
from scheduler import digest as digests
from scheduler import scrapyd
from scheduler.notify import Notifier
from scheduler.outbox import deliver_pending, enqueue
from scheduler.status import dialect_insert, seed_sent_totals
from scheduler.warm_start import CrawlChild, ForkedCrawl
from storage import queries, slices
from storage.db import ensure_schema, refresh_statistics, transaction
from storage.models import CrawlRun, DaemonState, Delivery, Item, OutboxMessage, RawPage, RUN_COUNTERS, Source, utcnow

log = logging.getLogger(__name__)
EDITORS, OPS = "editors", "ops"  # Apprise tags: who reads digests, who fixes sources
RETRY_BACKOFF = (timedelta(minutes=10), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=6))
_children: set[CrawlChild] = set()
_children_lock = threading.Lock()
_stopping = threading.Event()  # set once the daemon stops: no new crawls, no retries


# -- crawling ----------------------------------------------------------------------
def crawl_source(config: Settings, name: str, now: datetime | None = None) -> str:
    """Crawl one source in a child process (on a Scrapyd node when RADAR_SCRAPYD_URLS is set);
    return its run status (ok/partial/failed/crashed), or "interrupted" when the daemon stopped it."""
    if config.scrapyd_nodes:  # RADAR_SCRAPYD_URLS: a Scrapyd node crawls, recording its run in the shared database
        status = scrapyd.crawl_on_a_node(config, name, stopping=_stopping)
        after_crawl(config, now or utcnow())
        return status
    before = _last_run_id(config, name)  # so a child that died before recording is not judged by an older run
    with _children_lock:  # so stop_children() sees every child started before it
        if _stopping.is_set():
            return "interrupted"
        log.info("crawl %s: starting", name)
        child = start_crawl_child(config, ["run", "--source", name])
        _children.add(child)
    try:
        _, stderr = child.communicate(timeout=6 * 3600)
    except subprocess.TimeoutExpired:
        child.kill()
        _, stderr = child.communicate()
    finally:
        _children.discard(child)
    if _stopping.is_set():
        # The child recorded its own run; alerts and retries wait for the next start.
        log.info("crawl %s: stopped with the daemon (exit %s)", name, child.returncode)
        return "interrupted"
    run = _run_after(config, name, before) if child.returncode in (0, 1) else None
    status = run.status if run else "crashed"
    _log_run(name, run, child.returncode)
    if child.returncode != 0:
        log.warning("crawl %s (exit %s) said: %s", name, child.returncode, (stderr or "").strip()[-800:])
    after_crawl(config, now or utcnow())
    return status


def start_crawl_child(config: Settings, argv: list[str]) -> CrawlChild:
    """`python -m radar ARGV`, forked warm or spawned afresh as RADAR_CRAWL_START says; its
    stdout discarded, its stderr kept for the warning line of a crawl that went wrong."""
    if config.crawl_start == "fork":
        return ForkedCrawl(argv)
    command = [sys.executable, "-m", "radar", *argv]
    return subprocess.Popen(command, env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _log_run(name: str, run: CrawlRun | None, exit_code: int | None) -> None:
    """The one line per crawl run the README promises, from the run the child recorded (the
    child's own log goes to its discarded stdout/stderr, and only at -v)."""
    if run is None:
        log.info("crawl %s: crashed (exit %s) — no run recorded", name, exit_code,
                 extra={"radar": {"event": "crawl_run", "source": name, "status": "crashed", "exit": exit_code}})
        return
    counters = {counter: getattr(run, counter) or 0 for counter in RUN_COUNTERS}
    log.info(
        "crawl %s: %s (exit %s) — %s list pages, %s articles found, %s new, %s updated, %s skipped, %s errors",
        name, run.status, exit_code, *counters.values(),
        extra={"radar": {"event": "crawl_run", "source": name, "status": run.status, "exit": exit_code,
                         "requests": run.requests or 0, **counters}},
    )


def stop_children(grace: float = 30.0) -> None:
    """SIGTERM the crawls in flight: Scrapy finishes the items in hand and closes cleanly.
    One still running after ``grace`` seconds is killed — abandoned cleanly all the same,
    since every item is stored in its own transaction."""
    with _children_lock:
        _stopping.set()
        children = list(_children)
    for child in children:
        child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace  # one grace period for all, not one each
    for child in children:
        try:
            child.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            log.warning("crawl pid %s did not stop in %.0f s: killed", child.pid, grace)
            child.kill()


def _last_run_id(config: Settings, name: str) -> int:
    with transaction(config.effective_database_url) as session:
        return queries.last_run_id(session, name)


def _run_after(config: Settings, name: str, after_id: int) -> CrawlRun | None:
    """The run a child recorded (the newest one started after ``after_id``), if any."""
    with transaction(config.effective_database_url) as session:
        return queries.run_after(session, name, after_id)


def retry_delay(failures: int) -> timedelta:
    """Back off after consecutive failures; never give up."""
    return RETRY_BACKOFF[min(failures - 1, len(RETRY_BACKOFF) - 1)]


# -- after every crawl, wherever it ran: alerts ------------------------------------------
# Post-crawl work is driven by the crawl_runs rows, so a crawl run by hand, on a Scrapyd node
# or on another machine alerts as surely as one this daemon started. The ledger (daemon_state
# under this key) says which runs were handled: every run numbered up to ``through``, and the
# ``handled`` ones above it (runs finish out of order: a long crawl keeps ``through`` below it).
LEDGER = "after_crawl"
WATCH_WINDOW = timedelta(days=2)  # an item first seen longer ago is the digest's, not an alert's
ABANDONED_AFTER = timedelta(days=1)  # a run "running" this long was killed (crawls time out after 6 h)


def after_crawl(config: Settings, now: datetime) -> int:
    """Queue the health and watch-term alerts of every crawl run that finished since the last
    call, then deliver them; returns how many were queued. Safe to call from any number of
    threads and processes at once: they take turns on the ledger row, so each run is handled
    once — without the turns, two callers would both pass the outbox's dedupe check and one
    would fail on its unique key (tests/test_after_crawl.py)."""
    with transaction(config.effective_database_url) as session:
        ledger = _lock_ledger(session, now)
        runs = queries.finished_runs_after(session, ledger["through"], ledger["handled"])
        queued = 0
        if runs:
            queued += queue_health_alerts(session, now, {run.source_id for run in runs})
            queued += queue_watch_alerts(session, now, first_seen_since(runs))
        _advance_ledger(session, ledger, [run.id for run in runs], now)
    if queued:
        deliver(config, now)
    return queued


def _lock_ledger(session, now: datetime) -> dict:  # type: ignore[no-untyped-def]
    """The ledger, its row locked for this transaction: the upsert that creates or touches it
    is the transaction's first statement, so a second caller waits here for the first to commit
    (PostgreSQL: the row lock; SQLite: the database's one writer) and then reads what it did."""
    insert = dialect_insert(session)
    statement = insert(DaemonState).values(key=LEDGER, value=None, updated_at=now)
    session.execute(statement.on_conflict_do_update(index_elements=[DaemonState.key], set_={"updated_at": statement.excluded.updated_at}))
    value = session.scalar(select(DaemonState.value).where(DaemonState.key == LEDGER))
    if not value:  # the first call ever: runs that started before the watch window alert nothing
        start = queries.last_run_started_before(session, now - WATCH_WINDOW)
        value = {"through": start, "settled": start, "handled": []}
    return value


def _advance_ledger(session, ledger: dict, handled_now: list[int], now: datetime) -> None:  # type: ignore[no-untyped-def]
    """Record the runs just handled and move ``through`` up to where every run has finished —
    to the bound the previous call saw, at most: a run whose row was being inserted during that
    call (its number taken, not yet committed) is visible by now, and not skipped."""
    bound = queries.settled_run_bound(session, ledger["through"], now - ABANDONED_AFTER)
    through = max(ledger["through"], min(bound, ledger["settled"]))
    handled = sorted(run_id for run_id in {*ledger["handled"], *handled_now} if run_id > through)
    session.execute(
        update(DaemonState).where(DaemonState.key == LEDGER)
        .values(value={"through": through, "settled": bound, "handled": handled}, updated_at=now)
    )


def first_seen_since(runs: list[CrawlRun]) -> dict[int, datetime]:
    """Per source of ``runs``: when its earliest run started — its items first seen since then
    are theirs (both times are the crawling machine's clock, so skew between machines is moot)."""
    since: dict[int, datetime] = {}
    for run in runs:
        since[run.source_id] = min(since.get(run.source_id, run.started_at), run.started_at)
    return since


def queue_health_alerts(session, now: datetime, source_ids: Collection[int]) -> int:  # type: ignore[no-untyped-def]
    """One alert when one of these sources turns broken and one when it recovers — never per failed run."""
    queued = 0
    for source in session.scalars(select(Source).where(Source.id.in_(list(source_ids))).order_by(Source.id)):
        key = f"health:{source.name}"
        state = session.get(DaemonState, key)
        alerted = (state.value or {}).get("state") if state else "ok"
        broken_now = source.health == "broken"
        if broken_now == (alerted == "broken"):
            continue
        since = (source.health_since or now).isoformat()
        label = source.label or source.name
        if broken_now:
            message = digests.render_alert("broken", f"[cnst-radar] 소스 고장: {label}", OPS, source=source, since=since)
        else:
            message = digests.render_alert("recovered", f"[cnst-radar] 소스 복구: {label}", OPS, source=source, since=since)
        if enqueue(session, "ops", f"{key}:{'broken' if broken_now else 'recovered'}:{since}", message, now):
            queued += 1
        if state is None:
            state = DaemonState(key=key)
            session.add(state)
        state.value, state.updated_at = {"state": "broken" if broken_now else "ok"}, now
    return queued


def queue_watch_alerts(session, now: datetime, since: dict[int, datetime]) -> int:  # type: ignore[no-untyped-def]
    """An immediate alert for each new item that hits an editor watch term, among the items
    first seen since ``since[source id]`` (see :func:`first_seen_since`) within the watch window."""
    if not since:
        return 0
    alerted = select(Delivery.item_id).where(Delivery.kind == "alert")
    of_runs = or_(*(and_(Item.source_id == source_id, Item.first_seen_at >= start) for source_id, start in since.items()))
    fresh = select(Item).where(of_runs, Item.first_seen_at >= now - WATCH_WINDOW, Item.id.not_in(alerted)).order_by(Item.id)
    queued = 0
    for item in session.scalars(fresh):
        hits = (item.topics or {}).get("watch_hits") or []
        if not hits:
            continue
        terms = ", ".join(hits)
        message = digests.render_alert("watch", f"[cnst-radar] 관심어 {terms}: {item.title}", EDITORS, item=item, terms=terms)
        if enqueue(session, "alert", f"alert:item:{item.id}", message, now, [item.id]):
            queued += 1
    return queued


# -- digests and delivery --------------------------------------------------------------
def daily_digest(config: Settings, now: datetime | None = None, kind: str = "digest") -> int | None:
    """Queue today's digest (once per local day) and send it; returns its outbox id."""
    now = now or utcnow()
    outbox_id = queue_digest(config, now, kind)
    deliver(config, now)
    return outbox_id


def queue_digest(config: Settings, now: datetime, kind: str = "digest") -> int | None:
    """Queue the digest of ``now``'s local day unless it was queued already or there is
    nothing new (and RADAR_DIGEST_WHEN_EMPTY is off); returns the new outbox id."""
    with transaction(config.effective_database_url) as session:
        digest = digests.build(session, now, ZoneInfo(config.timezone), kind, EDITORS)
        if not digest.entries and not config.digest_when_empty:
            log.info("%s: nothing new, skipped (RADAR_DIGEST_WHEN_EMPTY=true sends a short note)", kind)
            return None
        row = enqueue(session, kind, digest_key(config, now, kind), digests.render(digest, tag=EDITORS), now, digest.item_ids)
        return row.id if row else None


def digest_key(config: Settings, now: datetime, kind: str = "digest") -> str:
    """One digest of each kind per local day: the outbox's dedupe key for ``now``'s day."""
    return f"{kind}:{now.astimezone(ZoneInfo(config.timezone)):%Y-%m-%d}"


def deliver(config: Settings, now: datetime | None = None) -> tuple[int, int]:
    """The outbox job: send what is due; returns (sent, not sent)."""
    attempts = deliver_pending(config.effective_database_url, notifier(config), now or utcnow())
    sent = sum(attempt.sent for attempt in attempts)
    return sent, len(attempts) - sent


def notifier(config: Settings) -> Notifier:
    return Notifier(config.notify, config.apprise_config)


# -- housekeeping -----------------------------------------------------------------------
def heartbeat(config: Settings, now: datetime | None = None, **facts: object) -> None:
    """Record that this daemon (this pid) is alive. One atomic upsert: two daemons starting
    at the same moment both succeed (the later beat wins), and the pid is always the live one."""
    now = now or utcnow()
    value = {**facts, "pid": os.getpid(), "at": now.isoformat()}
    with transaction(config.effective_database_url) as session:
        insert = dialect_insert(session)
        statement = insert(DaemonState).values(key="heartbeat", value=value, updated_at=now)
        session.execute(statement.on_conflict_do_update(
            index_elements=[DaemonState.key], set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at}
        ))


def mark_stopped(config: Settings, now: datetime | None = None) -> None:
    """On a clean stop, say so in the heartbeat, so `crawl status` does not show a stopped
    daemon's pid as alive — unless another daemon has beaten since (its pid is the live one)."""
    now = now or utcnow()
    with transaction(config.effective_database_url) as session:
        row = session.get(DaemonState, "heartbeat", with_for_update=True)
        if row is not None and (row.value or {}).get("pid") == os.getpid():
            row.value = {**row.value, "stopped": now.isoformat()}
            row.updated_at = now


RESCORED = "rescored"  # daemon_state key: the pick signal the candidates were last weighed with
RESCORE_WINDOW = timedelta(days=7)  # what the inbox's week and the digest's look-back rank


def rescore(config: Settings, now: datetime) -> int:
    """Weigh the week's candidates again once the editors' choices changed (a pick, a skip, an
    imported issue): an item's score takes the pick signal as it was when the item was stored,
    so without this the inbox and the digest would follow the editors only after `crawl retag`.
    Returns how many scores moved; nothing is read but three numbers when nothing changed."""
    from crawler.pipelines import load_tagger
    from desk.retagging import rescore_recent
    from desk.tagging import picks

    tagger = load_tagger(str(config.topics_file))
    if tagger is None:
        return 0
    with transaction(config.effective_database_url) as session:
        marker = list(picks.fingerprint(session))
        state = session.get(DaemonState, RESCORED, with_for_update=True)
        if state is not None and (state.value or {}).get("signal") == marker:
            return 0
        moved = rescore_recent(session, tagger, picks.current(session, tagger.taxonomy.resolve), now - RESCORE_WINDOW)
        if state is None:
            state = DaemonState(key=RESCORED)
            session.add(state)
        state.value, state.updated_at = {"signal": marker}, now
    log.info("re-ranked the week's candidates by the editors' latest choices: %d score(s) moved", moved)
    return moved


def cleanup(config: Settings, now: datetime | None = None) -> None:
    """The daily clean-up that keeps the database bounded: drop outbox messages sent longer
    ago than RADAR_RETENTION_DAYS and raw pages (the fetched HTML) of items fetched longer ago
    than RADAR_RAW_RETENTION_DAYS — the items and their extraction results stay — and the list
    states no run refreshed for as long (a dated e-paper page per edition, lists no longer
    named), index for search the slice of ids new items will reach
    (storage.slices.add_slice_indexes), then refresh the query planner's statistics. /metrics
    counts sent messages from stored totals, so its counters do not drop."""
    now = now or utcnow()
    cutoff, url = now - timedelta(days=config.retention_days), config.effective_database_url
    with transaction(url) as session:
        seed_sent_totals(session, now)  # messages sent before the totals existed are counted first
        for row in session.scalars(select(OutboxMessage).where(OutboxMessage.sent_at < cutoff)):
            session.delete(row)
    raw_cutoff = now - timedelta(days=config.raw_retention_days)
    dropped = drop_raw_pages(url, raw_cutoff)
    with transaction(url) as session:
        stale_lists = queries.drop_stale_list_states(session, raw_cutoff)
    indexed = slices.add_slice_indexes(url)
    with transaction(url) as session:
        refresh_statistics(session.connection())
    log.info("clean-up: dropped %d raw page(s) fetched before %s and %d list state(s) not refreshed since", dropped, raw_cutoff, stale_lists)
    if indexed:
        log.info("clean-up: indexed the search slice(s) of ids the newest items reach: %s", ", ".join(indexed))


RAW_BATCH = 500  # raw pages deleted per transaction: a crawl storing meanwhile waits milliseconds


def drop_raw_pages(url: str, fetched_before: datetime) -> int:
    """Delete the raw pages fetched before ``fetched_before``, a batch per transaction; return how many."""
    dropped = 0
    while True:
        with transaction(url) as session:
            batch = list(session.scalars(select(RawPage.item_id).where(RawPage.fetched_at < fetched_before).limit(RAW_BATCH)))
            if batch:
                session.execute(delete(RawPage).where(RawPage.item_id.in_(batch)))
        dropped += len(batch)
        if len(batch) < RAW_BATCH:
            return dropped


def prepare(config: Settings) -> None:
    ensure_schema(config.effective_database_url)
