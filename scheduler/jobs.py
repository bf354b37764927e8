"""What the daemon's jobs do. Plain functions of (configuration, now), so tests drive them
with a fake clock and the daemon with the real one.

Crawls run in a child process (`python -m crawler run --source NAME`): Twisted's reactor
cannot be restarted, so a second CrawlerProcess in the daemon would fail with
ReactorNotRestartable; a child also isolates memory growth and crashes from the daemon,
which only records the outcome. The cost — a second of start-up per crawl — is nothing
next to a polite crawl.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from crawler.config import Settings
from scheduler import digest as digests
from scheduler.notify import Message, Notifier
from scheduler.outbox import deliver_pending, enqueue
from storage.db import ensure_schema, transaction
from storage.models import CrawlRun, DaemonState, Delivery, Item, OutboxMessage, Source, utcnow

log = logging.getLogger(__name__)
EDITORS, OPS = "editors", "ops"  # Apprise tags: who reads digests, who fixes sources
RETRY_BACKOFF = (timedelta(minutes=10), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=6))
_children: set[subprocess.Popen] = set()
_children_lock = threading.Lock()
_stopping = threading.Event()  # set once the daemon stops: no new crawls, no retries


# -- crawling ----------------------------------------------------------------------
def crawl_source(config: Settings, name: str, now: datetime | None = None) -> str:
    """Crawl one source in a child process; return its run status (ok/partial/failed/crashed),
    or "interrupted" when the daemon stopped it."""
    command = [sys.executable, "-m", "crawler", "run", "--source", name]
    with _children_lock:  # so stop_children() sees every child started before it
        if _stopping.is_set():
            return "interrupted"
        log.info("crawl %s: starting", name)
        child = subprocess.Popen(command, env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
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
    status = _last_status(config, name) if child.returncode in (0, 1) else "crashed"
    log.info("crawl %s: %s (exit %s)", name, status, child.returncode)
    if child.returncode != 0:
        log.warning("crawl %s (exit %s) said: %s", name, child.returncode, (stderr or "").strip()[-800:])
    after_crawl(config, now or utcnow())
    return status


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


def _last_status(config: Settings, name: str) -> str:
    with transaction(config.effective_database_url) as session:
        run = session.scalars(
            select(CrawlRun).join(Source).where(Source.name == name).order_by(CrawlRun.id.desc()).limit(1)
        ).first()
        return run.status if run else "crashed"


def retry_delay(failures: int) -> timedelta:
    """Back off after consecutive failures; never give up."""
    return RETRY_BACKOFF[min(failures - 1, len(RETRY_BACKOFF) - 1)]


# -- after every crawl: alerts ---------------------------------------------------------
def after_crawl(config: Settings, now: datetime) -> None:
    with transaction(config.effective_database_url) as session:
        queue_health_alerts(session, now)
        queue_watch_alerts(session, now)
    deliver(config, now)


def queue_health_alerts(session, now: datetime) -> int:  # type: ignore[no-untyped-def]
    """One alert when a source turns broken and one when it recovers — never per failed run."""
    queued = 0
    for source in session.scalars(select(Source)):
        key = f"health:{source.name}"
        state = session.get(DaemonState, key)
        alerted = (state.value or {}).get("state") if state else "ok"
        broken_now = source.health == "broken"
        if broken_now == (alerted == "broken"):
            continue
        since = (source.health_since or now).isoformat()
        if broken_now:
            message = Message(
                title=f"[cnst-radar] 소스 고장: {source.label or source.name}",
                text=f"{source.name} is broken since {since}: {source.last_error}",
                markdown=f"**{source.name}** is broken since {since}:\n\n{source.last_error}\n\nRun `crawl doctor --source {source.name}`.",
                html=f"<p><b>{source.name}</b> is broken since {since}:</p><p>{source.last_error}</p><p>Run <code>crawl doctor --source {source.name}</code>.</p>",
                tag=OPS,
            )
        else:
            message = Message(
                title=f"[cnst-radar] 소스 복구: {source.label or source.name}",
                text=f"{source.name} works again ({source.health} since {since}).",
                markdown=f"**{source.name}** works again ({source.health} since {since}).",
                html=f"<p><b>{source.name}</b> works again ({source.health} since {since}).</p>",
                tag=OPS,
            )
        if enqueue(session, "ops", f"{key}:{'broken' if broken_now else 'recovered'}:{since}", message, now):
            queued += 1
        if state is None:
            state = DaemonState(key=key)
            session.add(state)
        state.value, state.updated_at = {"state": "broken" if broken_now else "ok"}, now
    return queued


def queue_watch_alerts(session, now: datetime) -> int:  # type: ignore[no-untyped-def]
    """An immediate alert for each new item that hits an editor watch term."""
    alerted = select(Delivery.item_id).where(Delivery.kind == "alert")
    queued = 0
    for item in session.scalars(select(Item).where(Item.first_seen_at >= now - timedelta(days=2), Item.id.not_in(alerted))):
        hits = (item.topics or {}).get("watch_hits") or []
        if not hits:
            continue
        terms = ", ".join(hits)
        message = Message(
            title=f"[cnst-radar] 관심어 {terms}: {item.title}",
            text=f"{item.title}\n{item.url}\n관심어: {terms}",
            markdown=f"[{item.title}]({item.url})\n\n관심어: {terms}",
            html=f'<p><a href="{item.url}">{item.title}</a></p><p>관심어: {terms}</p>',
            tag=EDITORS,
        )
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
    with transaction(config.effective_database_url) as session:
        row = session.get(DaemonState, "heartbeat") or DaemonState(key="heartbeat")
        row.value = {"pid": os.getpid(), **(row.value or {}), **facts, "at": (now or utcnow()).isoformat()}
        row.updated_at = now or utcnow()
        session.merge(row)


def cleanup(config: Settings, now: datetime | None = None) -> None:
    """Drop sent outbox rows and raw pages older than the retention period."""
    cutoff = (now or utcnow()) - timedelta(days=config.retention_days)
    with transaction(config.effective_database_url) as session:
        for row in session.scalars(select(OutboxMessage).where(OutboxMessage.sent_at < cutoff)):
            session.delete(row)


def prepare(config: Settings) -> None:
    ensure_schema(config.effective_database_url)
