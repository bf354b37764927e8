"""Post-crawl alerts driven from the database (issue 18): a crawl recorded anywhere — `crawl run`
by hand, a Scrapyd node writing to the shared database, another machine — has its health and
watch-term alerts queued on the daemon's next post-crawl tick, exactly once however many ticks,
threads and processes look."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from conftest import Radar
from scheduler import jobs
from scheduler.daemon import timetable
from storage.db import ensure_schema, transaction
from storage.models import CrawlRun, Item, OutboxMessage, Source
from test_daemon import Endpoint, endpoint, settings  # noqa: F401 - endpoint is a fixture

NOW = datetime.now(timezone.utc).replace(microsecond=0)  # the crawls below stamp their rows with the real clock
TICK = "from datetime import datetime; from scheduler import jobs; from common.settings import get_settings; " \
       "print(jobs.after_crawl(get_settings(), datetime.fromisoformat({now!r})))"


def tick_in_another_process(radar: Radar, now: datetime) -> int:
    """What a second daemon process's post-crawl job queues at ``now``."""
    done = subprocess.run([sys.executable, "-c", TICK.format(now=now.isoformat())], env=radar.env, cwd=radar.cwd,
                          capture_output=True, text=True, check=True)
    return int(done.stdout.strip().splitlines()[-1])


def outbox(database_url: str, kind: str) -> list[OutboxMessage]:
    with transaction(database_url) as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)))


def test_the_daemon_timetable_looks_for_finished_runs_every_minute(radar: Radar) -> None:
    (job,) = [job for job in timetable(settings(radar), []) if job.func == "scheduler.daemon:run_after_crawl"]
    assert job.trigger.interval == timedelta(minutes=1)


def test_a_source_broken_by_a_crawl_run_by_hand_alerts_ops_once_on_the_next_tick(
    radar: Radar, internet, database_url: str, endpoint: str  # noqa: F811 - the fixture
) -> None:
    from crawler.replay import fault

    ensure_schema(database_url)
    config = settings(radar, notify=f"{endpoint}/ops")
    assert jobs.after_crawl(config, NOW) == 0  # nothing crawled yet
    internet.inject("https://www.ndrc.gov.cn/xxgk/zcfb/tz/", fault("status", 503))
    radar("run", "--source", "ndrc", check=False)  # nothing fetched: broken. No daemon involved.
    later = NOW + timedelta(minutes=10)
    assert jobs.after_crawl(config, later) == 1
    assert jobs.after_crawl(config, later + timedelta(minutes=1)) == 0
    assert tick_in_another_process(radar, later + timedelta(minutes=2)) == 0
    assert [post["title"].split(":")[0] for post in Endpoint.posts] == ["[cnst-radar] 소스 고장"]

    internet.clear_faults()
    radar("run", "--source", "ndrc")
    assert tick_in_another_process(radar, later + timedelta(minutes=3)) == 1  # recovered: the other process saw it first
    assert jobs.after_crawl(config, later + timedelta(minutes=4)) == 0
    assert [m.title.split(":")[0] for m in outbox(database_url, "ops")] == ["[cnst-radar] 소스 고장", "[cnst-radar] 소스 복구"]


def node_run(database_url: str, source: str, started: datetime, finished: datetime | None, titles: dict[str, list[str]]) -> int:
    """Record a run and its items as a Scrapyd node's pipeline would: rows in the shared database,
    ``titles`` mapping each new item's title to the watch terms it hits. Returns the run's number."""
    with transaction(database_url) as session:
        row = session.scalar(select(Source).where(Source.name == source)) or Source(name=source, label=source, kind="html_list")
        session.add(row)
        session.flush()
        run = CrawlRun(source_id=row.id, started_at=started, finished_at=finished, status="ok" if finished else "running")
        session.add(run)
        for offset, (title, hits) in enumerate(titles.items()):
            url = f"https://{source}.example/{started:%H%M%S}/{offset}.html"
            session.add(Item(source_id=row.id, url=url, canonical_url=url, title=title, content_hash=f"{offset:064d}",
                             first_seen_at=started + timedelta(seconds=offset + 1), topics={"watch_hits": hits}))
        session.flush()
        return run.id


def finish(database_url: str, run_id: int, at: datetime) -> None:
    with transaction(database_url) as session:
        run = session.get(CrawlRun, run_id)
        run.finished_at, run.status = at, "ok"


def test_watch_hits_stored_by_a_node_alert_once_across_ticks_and_concurrent_callers(radar: Radar, database_url: str) -> None:
    ensure_schema(database_url)
    config = settings(radar)
    node_run(database_url, "most", NOW, NOW + timedelta(minutes=1), {"关于光刻机的通知": ["光刻机"], "无关的通知": []})
    node_run(database_url, "nsfc", NOW, NOW + timedelta(minutes=2), {"国家实验室建设": ["国家实验室"]})
    queued: list[int] = []
    callers = [threading.Thread(target=lambda: queued.append(jobs.after_crawl(config, NOW + timedelta(minutes=3)))) for _ in range(4)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert sorted(queued) == [0, 0, 0, 2]  # one caller handled both runs; the others found them handled
    assert tick_in_another_process(radar, NOW + timedelta(minutes=4)) == 0
    assert jobs.after_crawl(config, NOW + timedelta(minutes=5)) == 0
    assert sorted(m.title for m in outbox(database_url, "alert")) == [
        "[cnst-radar] 관심어 光刻机: 关于光刻机的通知", "[cnst-radar] 관심어 国家实验室: 国家实验室建设",
    ]


def test_a_long_run_that_finishes_after_later_ones_still_alerts(radar: Radar, database_url: str) -> None:
    ensure_schema(database_url)
    config = settings(radar)
    long_run = node_run(database_url, "cas", NOW, None, {"关于卡脖子技术的报告": ["卡脖子"]})
    node_run(database_url, "most", NOW + timedelta(minutes=1), NOW + timedelta(minutes=2), {"关于光刻机的通知": ["光刻机"]})
    assert jobs.after_crawl(config, NOW + timedelta(minutes=3)) == 1  # the run still going alerts nothing yet
    assert jobs.after_crawl(config, NOW + timedelta(minutes=4)) == 0
    assert jobs.after_crawl(config, NOW + timedelta(minutes=5)) == 0  # ...nor do later ticks pass over it
    finish(database_url, long_run, NOW + timedelta(minutes=30))
    assert jobs.after_crawl(config, NOW + timedelta(minutes=31)) == 1
    assert jobs.after_crawl(config, NOW + timedelta(minutes=32)) == 0
    assert len(outbox(database_url, "alert")) == 2


def test_items_first_seen_before_the_watch_window_are_left_to_the_digest(radar: Radar, database_url: str) -> None:
    ensure_schema(database_url)
    old = NOW - jobs.WATCH_WINDOW - timedelta(hours=1)
    node_run(database_url, "most", old, old + timedelta(minutes=1), {"关于光刻机的通知": ["光刻机"]})
    node_run(database_url, "nsfc", NOW, NOW + timedelta(minutes=1), {"国家实验室建设": ["国家实验室"]})
    assert jobs.after_crawl(settings(radar), NOW + timedelta(minutes=2)) == 1
    assert [m.title for m in outbox(database_url, "alert")] == ["[cnst-radar] 관심어 国家实验室: 国家实验室建设"]
