"""`crawl daemon`: an APScheduler timetable with a persistent job store in our database.

Jobs: one crawl per enabled source (its watchlist schedule, with jitter so sources do not
all fire at once), the daily digest, an optional weekly digest, outbox delivery, the
post-crawl alerts of runs recorded since the last look (wherever they ran), a heartbeat,
retention clean-up and a watchlist reload check. ``max_instances=1``, coalescing and a
misfire grace time mean a daemon that was down catches up once, not N times. Watchlist edits are picked up on SIGHUP and when a file changes; an invalid edit is
logged and the last good configuration keeps running. SIGTERM stops gracefully.
"""

from __future__ import annotations

import functools
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from common.settings import Settings, get_settings
from common.dates import parse_duration
from crawler.watchlist import SourceBase, WatchlistError, configured_sources, fingerprint
from scheduler import jobs
from scheduler.leader import Election
from storage.db import get_engine

log = logging.getLogger(__name__)
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
# Crawls get their own bounded pool: a burst of due sources (27 at once after a restart) then
# queues there, while the heartbeat, outbox and digests keep the default pool to themselves.
# Each crawl is a child process: a few at a time is what a 2-core box takes gracefully.
CRAWLS, CRAWL_WORKERS = "crawls", 3


@dataclass(frozen=True)
class Job:
    id: str
    func: str  # textual reference, so the persistent job store can reload it
    trigger: BaseTrigger
    args: tuple = ()
    name: str = ""
    executor: str = "default"


def source_trigger(source: SourceBase, tz: ZoneInfo) -> BaseTrigger:
    every = parse_duration(source.schedule)
    if every is not None:
        jitter = int(min(every.total_seconds() * 0.1, 600))
        return IntervalTrigger(seconds=int(every.total_seconds()), jitter=jitter, timezone=tz)
    trigger = CronTrigger.from_crontab(source.schedule, timezone=tz)
    trigger.jitter = 120  # from_crontab() takes no jitter; the attribute is what fire times use
    return trigger


def timetable(config: Settings, sources: list[SourceBase]) -> list[Job]:
    """Every job the daemon runs, derived from configuration and watchlists."""
    tz = ZoneInfo(config.timezone)
    hour, minute = (int(part) for part in config.digest_time.split(":"))
    table = [
        Job(f"crawl:{s.name}", "scheduler.daemon:run_crawl", source_trigger(s, tz), (s.name,), f"crawl {s.name}", CRAWLS)
        for s in sources
        if s.enabled
    ]
    table += [
        Job("digest:daily", "scheduler.daemon:run_daily_digest", CronTrigger(hour=hour, minute=minute, timezone=tz), name="daily digest"),
        Job("outbox", "scheduler.daemon:run_delivery", IntervalTrigger(minutes=2, timezone=tz), name="deliver outbox"),
        Job("after-crawl", "scheduler.daemon:run_after_crawl", IntervalTrigger(minutes=1, timezone=tz), name="post-crawl alerts"),
        Job("heartbeat", "scheduler.daemon:run_heartbeat", IntervalTrigger(seconds=30, timezone=tz), name="heartbeat"),
        Job("cleanup", "scheduler.daemon:run_cleanup", CronTrigger(hour=4, minute=17, timezone=tz), name="retention clean-up"),
        Job("rescore", "scheduler.daemon:run_rescore", IntervalTrigger(minutes=5, timezone=tz), name="re-rank by the editors' choices"),
    ]
    if config.weekly_digest:
        day, time = config.weekly_digest.split()
        wh, wm = (int(part) for part in time.split(":"))
        table.append(
            Job("digest:weekly", "scheduler.daemon:run_weekly_digest", CronTrigger(day_of_week=day, hour=wh, minute=wm, timezone=tz), name="weekly digest")
        )
    return table


# -- job entry points (looked up by name from the persistent store) ---------------------
def _leader_only(job: Callable[..., None]) -> Callable[..., None]:
    """Run ``job`` only if this process still holds the leader lock: a leader whose lock
    connection broke between two polls starts nothing more."""

    @functools.wraps(job)
    def guarded(*args: object) -> None:
        if _election is not None and not _election.confirm():
            log.warning("%s skipped: this daemon no longer leads", job.__name__)
            return
        job(*args)

    return guarded


@_leader_only
def run_crawl(name: str) -> None:
    config = get_settings()
    status = jobs.crawl_source(config, name)
    if status in ("failed", "crashed"):
        _schedule_retry(name)
    else:
        _failures.pop(name, None)


@_leader_only
def run_daily_digest() -> None:
    jobs.daily_digest(get_settings())


@_leader_only
def run_weekly_digest() -> None:
    jobs.daily_digest(get_settings(), kind="weekly")


@_leader_only
def run_delivery() -> None:
    jobs.deliver(get_settings())


@_leader_only
def run_after_crawl() -> None:
    """Alerts for crawls that ran elsewhere (by hand, on a Scrapyd node, on another machine);
    this daemon's own crawls have theirs at once (jobs.crawl_source)."""
    jobs.after_crawl(get_settings(), _now())


@_leader_only
def run_heartbeat() -> None:
    jobs.heartbeat(get_settings(), **_facts, jobs=len(_scheduler.get_jobs()) if _scheduler else 0)


@_leader_only
def run_cleanup() -> None:
    jobs.cleanup(get_settings())


@_leader_only
def run_rescore() -> None:
    jobs.rescore(get_settings(), _now())


_scheduler: BackgroundScheduler | None = None
_election: Election | None = None
_failures: dict[str, int] = {}
_facts: dict[str, object] = {}  # what every heartbeat repeats: when this daemon started, its sources


def _schedule_retry(name: str) -> None:
    _failures[name] = _failures.get(name, 0) + 1
    delay = jobs.retry_delay(_failures[name])
    log.warning("crawl %s failed %d time(s) in a row; retrying in %s", name, _failures[name], delay)
    if _scheduler is not None:
        from datetime import datetime, timezone

        _scheduler.add_job(
            "scheduler.daemon:run_crawl", "date", run_date=datetime.now(timezone.utc) + delay, args=(name,),
            id=f"retry:{name}", replace_existing=True, jobstore="memory", executor=CRAWLS,
        )


# -- the daemon --------------------------------------------------------------------------
class Daemon:
    def __init__(self, config: Settings):
        self.config = config
        self.sources: list[SourceBase] = []
        self.stamp: tuple = ()  # the watchlists as last loaded (crawler.watchlist.fingerprint)
        self.stopping = threading.Event()
        self.status: Any = None
        self.web: Any = None
        self.election: Election | None = None
        self.scheduling: bool | None = None  # None until the first election step
        self.scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=get_engine(config.effective_database_url)), "memory": MemoryJobStore()},
            job_defaults=JOB_DEFAULTS,
            executors={"default": ThreadPoolExecutor(max_workers=4), CRAWLS: ThreadPoolExecutor(max_workers=CRAWL_WORKERS)},
            timezone=ZoneInfo(config.timezone),
        )

    def start(self) -> None:
        """Run until SIGTERM/SIGINT: scheduling while this process leads, standing by otherwise."""
        global _scheduler, _election
        jobs.prepare(self.config)
        self.election = _election = Election(self.config.effective_database_url, _now, self.config.leader_poll_seconds)
        if not self.election.step() and self.election.lock.exclusive:
            raise SystemExit(self.election.refusal())
        # Paused first: the persisted jobs (with their next run times) must be visible to
        # sync(), so a daemon that was down catches up on what it missed — once. A standby's
        # scheduler stays paused (and leaves the job store alone) until it leads.
        self.scheduler.start(paused=True)
        if not self.reload():
            self.scheduler.shutdown(wait=False)
            self.election.release()
            raise SystemExit("the watchlists are invalid; fix them (`crawl check`) before starting the daemon")
        _scheduler = self.scheduler
        self.scheduler.add_job(self.reload_if_changed, IntervalTrigger(seconds=30), id="reload", jobstore="memory")
        signal.signal(signal.SIGHUP, lambda *_: self.reload())
        signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
        signal.signal(signal.SIGINT, lambda *_: self.stopping.set())
        self._serve()
        _facts.update(started=_now_iso(), sources=len(self.sources))
        self._follow_election()
        while not self.stopping.wait(self.election.poll_seconds):
            self._follow_election()
        self.stop()

    def _follow_election(self) -> None:
        """Schedule while this process leads; pause the moment it stops leading."""
        leading = self.election.step()
        if leading and not self.scheduling:
            self.reload()  # the job store may have been synced by the previous leader's watchlists
            jobs.heartbeat(self.config, **_facts)
            self.scheduler.resume()
            log.info("daemon leads: %d jobs; daily digest at %s %s", len(self.scheduler.get_jobs()), self.config.digest_time, self.config.timezone)
        elif not leading and self.scheduling:
            self.scheduler.pause()
        elif not leading and self.scheduling is None:
            log.info("daemon standing by: another daemon leads; trying to take over every %g s", self.election.poll_seconds)
        self.scheduling = leading

    def _serve(self) -> None:
        """The workspace (when configured) and the status endpoint, or a clear exit."""
        address = ""
        try:
            if self.config.web_addr:
                from scheduler.web.serve import serve_in_background

                address = f"the editor workspace on {self.config.web_addr} (RADAR_WEB_ADDR)"
                self.web = serve_in_background(self.config, self.config.web_addr)
            if self.config.status_addr:
                from scheduler import status

                address = f"the status endpoint on {self.config.status_addr} (RADAR_STATUS_ADDR)"
                self.status = status.serve(self.config.status_addr, self.config.effective_database_url, lambda: self.scheduler.running,
                                           self.election.facts if self.election else None)
        except OSError as error:
            self.scheduler.shutdown(wait=False)
            raise SystemExit(f"cannot serve {address}: {error.strerror or error}; choose a free host:port, or an empty value to turn it off") from None

    def stop(self) -> None:
        log.info("stopping: crawls in flight finish their current item, then the daemon exits")
        self.scheduler.pause()  # nothing new starts while the crawls in flight wind down
        jobs.stop_children()
        self.scheduler.shutdown(wait=True)
        if self.election is not None:
            self.election.release()  # a standby takes over on its next poll
        if self.status is not None:
            self.status.shutdown()
        if self.web is not None:
            self.web.close()
        jobs.mark_stopped(self.config)
        log.info("daemon stopped")

    def reload_if_changed(self) -> None:
        if fingerprint(self.config.sources_dir) != self.stamp:
            self.reload()

    def reload(self) -> bool:
        """Load the watchlists and (re)schedule; on an invalid edit keep the last good ones."""
        try:
            sources = configured_sources(self.config)
        except WatchlistError as error:
            log.error("watchlist change rejected, the last good configuration keeps running:\n%s", error)
            self.stamp = fingerprint(self.config.sources_dir)
            return bool(self.sources)
        self.sources, self.stamp = sources, fingerprint(self.config.sources_dir)
        if self.election is not None and not self.election.leading:
            return True  # the job store is the leader's; this one syncs it when it leads
        sync(self.scheduler, timetable(self.config, sources), first_crawl_now=self.config.crawl_on_start)
        log.info("watchlists loaded: %d sources", len(sources))
        return True


def sync(scheduler: Any, table: list[Job], first_crawl_now: bool = False) -> None:
    """Make the persistent job store hold exactly ``table`` (keeping next run times)."""
    wanted = {job.id: job for job in table}
    for existing in scheduler.get_jobs(jobstore="default"):
        if existing.id not in wanted:
            existing.remove()
    for job in table:
        current = scheduler.get_job(job.id, jobstore="default")
        if current is not None and str(current.trigger) == str(job.trigger) and current.args == job.args and current.executor == job.executor:
            continue
        extra = {"next_run_time": _now()} if first_crawl_now and current is None and job.id.startswith("crawl:") else {}
        scheduler.add_job(job.func, job.trigger, args=job.args, id=job.id, name=job.name, replace_existing=True, jobstore="default",
                          executor=job.executor, **extra)


def _now():  # type: ignore[no-untyped-def]
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)


def _now_iso() -> str:
    return _now().isoformat()


def main() -> None:
    Daemon(get_settings()).start()
