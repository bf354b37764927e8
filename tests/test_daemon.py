"""The daemon's promises: digests and alerts through real channels on loopback, exactly once,
with time controlled by the test rather than slept through."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from conftest import Radar, expected_articles, free_port
from crawler.replay import FakeInternet, fault
from common.settings import get_settings
from scheduler import jobs
from scheduler.daemon import timetable
from crawler.watchlist import load_sources
from storage.db import ensure_schema, transaction
from storage.models import Delivery, Item, OutboxMessage, Source

# The tests' clock: noon in Seoul on the day after the real today. Crawls stamp items with the
# real clock (they run in child processes), so the pinned clock must lie after them, on
# whatever date the suite runs; tests/test_clock.py runs these tests under shifted clocks.
NOON = (datetime.now(timezone.utc) + timedelta(days=1)).replace(hour=3, minute=0, second=0, microsecond=0)


class Mailbox:
    """A real SMTP server on loopback (aiosmtpd); ``delay`` holds DATA to let a test kill the sender."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.delay = 0.0

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201 - aiosmtpd's hook
        import asyncio

        await asyncio.sleep(self.delay)
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, str]]:
    box = Mailbox()
    port = free_port()  # aiosmtpd needs a concrete port to check it started
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, f"mailto://127.0.0.1:{port}?from=radar@example.org&to=editor@example.org&mode=insecure"
    controller.stop()


class Endpoint(BaseHTTPRequestHandler):
    """A loopback HTTP endpoint receiving Apprise `json://` posts (path → who it was for)."""

    posts: list[dict] = []
    failures_left = 0

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if Endpoint.failures_left > 0:
            Endpoint.failures_left -= 1
            self.send_response(500)
        else:
            Endpoint.posts.append(json.loads(body) | {"path": self.path})
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[str]:
    Endpoint.posts, Endpoint.failures_left = [], 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"json://127.0.0.1:{server.server_address[1]}/notify"
    server.shutdown()


@pytest.fixture
def crawled(radar: Radar, database_url: str) -> str:
    radar("run", "--source", "ndrc", "--source", "cas")
    return database_url


def settings(radar: Radar, **overrides: object):  # noqa: ANN201
    env = {k.removeprefix("RADAR_").lower(): v for k, v in radar.env.items() if k.startswith("RADAR_") and k != "RADAR_CONFIG"}
    return get_settings(**(env | overrides))


def stop(daemon: subprocess.Popen, timeout: float = 60) -> str:
    """SIGTERM a daemon and return its log; a daemon that hangs is killed and its log shown."""
    daemon.send_signal(signal.SIGTERM)
    try:
        return daemon.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        daemon.kill()
        pytest.fail(f"daemon still running {timeout:.0f} s after SIGTERM; its log:\n{daemon.communicate()[0]}")


def outbox(database_url: str) -> list[OutboxMessage]:
    with transaction(database_url) as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_the_daily_digest_arrives_by_email_grouped_with_links(radar: Radar, crawled: str, mailbox) -> None:
    box, url = mailbox
    config = settings(radar, notify=url)
    jobs.daily_digest(config, NOON)
    assert len(box.messages) == 1
    mail = message_from_bytes(box.messages[0])
    parts = {part.get_content_type(): part.get_payload(decode=True).decode() for part in mail.walk() if not part.is_multipart()}
    assert set(parts) == {"text/plain", "text/html"}
    html = parts["text/html"]
    assert f"중국 과학기술 정책 동향 후보 {NOON:%Y-%m-%d}" in mail["Subject"] or "=?utf-8?" in mail["Subject"]
    assert 'href="https://www.ndrc.gov.cn/xxgk/zcfb/tz/' in html and 'href="https://www.cas.cn/' in html
    assert "<h2" in html and "科学网" not in html  # grouped; only the crawled sources
    assert "国家发展改革委" in parts["text/plain"]
    # Sent once: running the job again the same day sends nothing more.
    jobs.daily_digest(config, NOON + timedelta(hours=1))
    jobs.deliver(config, NOON + timedelta(hours=2))
    assert len(box.messages) == 1


def test_items_reach_a_recipient_once_across_digests(radar: Radar, crawled: str, endpoint: str) -> None:
    config = settings(radar, notify=endpoint)
    jobs.daily_digest(config, NOON)
    jobs.daily_digest(config, NOON + timedelta(days=1))  # nothing new the next day: skipped
    assert len(Endpoint.posts) == 1
    with transaction(crawled) as session:
        items = session.scalar(select(func.count(Item.id)))
        delivered = session.scalar(select(func.count(Delivery.id)).where(Delivery.kind == "digest"))
    assert delivered == items


def test_an_empty_digest_is_skipped_unless_configured(radar: Radar, database_url: str, endpoint: str) -> None:
    ensure_schema(database_url)
    assert jobs.daily_digest(settings(radar, notify=endpoint), NOON) is None
    assert Endpoint.posts == []
    jobs.daily_digest(settings(radar, notify=endpoint, digest_when_empty=True), NOON)
    assert len(Endpoint.posts) == 1 and "새 후보가 없습니다" in Endpoint.posts[0]["message"]


def test_a_channel_down_three_times_gets_the_digest_once_with_retries_visible(radar: Radar, crawled: str, endpoint: str) -> None:
    config = settings(radar, notify=endpoint)
    Endpoint.failures_left = 3
    now = NOON
    jobs.daily_digest(config, now)
    for _ in range(6):
        now += timedelta(hours=1)  # past every backoff step used so far
        jobs.deliver(config, now)
    assert len(Endpoint.posts) == 1
    (row,) = outbox(crawled)
    assert row.sent_at is not None and row.attempts == 4
    status = radar("status").stdout
    assert "Outbox: 0 message(s) waiting" in status


def test_failed_delivery_is_shown_in_status_without_secrets(radar: Radar, crawled: str) -> None:
    secret = "json://admin:hunter2@127.0.0.1:9/notify"  # nothing listens on port 9
    config = settings(radar, notify=secret)
    jobs.daily_digest(config, NOON)
    status = radar("status").stdout
    assert "Outbox: 1 message(s) waiting" in status and "1 attempt(s)" in status
    assert "hunter2" not in status


def test_a_sender_killed_between_outbox_and_send_delivers_exactly_once(radar: Radar, crawled: str, mailbox) -> None:
    box, url = mailbox
    box.delay = 30  # the SMTP server holds the message; the sender is killed while it waits
    env = radar.env | {"RADAR_NOTIFY": url}
    sender = subprocess.Popen([sys.executable, "-m", "radar", "digest", "--send"], env=env, cwd=radar.cwd,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and not outbox(crawled):
        time.sleep(0.2)
    time.sleep(1.5)
    sender.send_signal(signal.SIGKILL)
    sender.wait()
    (row,) = outbox(crawled)
    assert row.sent_at is None  # written, not sent
    box.delay = 0
    box.messages.clear()
    config = settings(radar, notify=url)
    now = datetime.now(timezone.utc)  # the killed command queued by the real clock: so does its restart
    jobs.deliver(config, now)  # the restarted daemon's first delivery round
    jobs.deliver(config, now + timedelta(minutes=5))
    jobs.daily_digest(config, now)  # and today's digest job runs again: still one
    assert len(box.messages) == 1


def _with(radar: Radar, **env: str) -> Radar:
    return Radar(env=radar.env | env, cwd=radar.cwd)


def test_digest_send_delivers_one_digest_grouped_by_sections_and_a_second_send_nothing(radar: Radar, crawled: str, mailbox) -> None:
    box, url = mailbox
    editor = _with(radar, RADAR_NOTIFY=url)
    sections = re.findall(r"(?m)^## (.+)$", editor("digest", "--dry-run").stdout)
    first = editor("digest", "--send")
    assert "sent to 1 recipient(s)" in first.stdout and "mailto://…@127.0.0.1: accepted" in first.stdout
    assert len(box.messages) == 1
    mail = message_from_bytes(box.messages[0])
    html = next(part.get_payload(decode=True).decode() for part in mail.walk() if part.get_content_type() == "text/html")
    assert sections and re.findall(r"<h2[^>]*>(.+?)</h2>", html) == sections  # the report's sections, in order
    second = editor("digest", "--send")
    assert "already sent" in second.stdout and "nothing sent" in second.stdout
    assert len(box.messages) == 1
    (row,) = outbox(crawled)
    assert row.sent_at is not None and row.attempts == 1


def test_digest_send_refuses_a_malformed_url_or_no_recipients_and_queues_nothing(radar: Radar, database_url: str) -> None:
    ensure_schema(database_url)
    editor = _with(radar, RADAR_DIGEST_WHEN_EMPTY="true")  # so that a digest would be queued
    malformed = _with(editor, RADAR_NOTIFY="mailto//editor:hunter2@smtp.example.org")("digest", "--send", check=False)
    assert malformed.returncode == 2
    assert "not a valid Apprise URL: …@smtp.example.org" in malformed.stderr and "hunter2" not in malformed.stderr + malformed.stdout
    assert re.search(r"Apprise knows these schemes: .*\bjson\b.*\bmailto\b", malformed.stderr)
    nobody = editor("digest", "--send", check=False)
    assert nobody.returncode == 2 and "No recipients configured" in nobody.stderr and "Nothing queued" in nobody.stderr
    assert outbox(database_url) == []


def test_digest_send_reports_a_refused_channel_without_secrets_and_exits_non_zero(radar: Radar, database_url: str, endpoint: str) -> None:
    ensure_schema(database_url)
    Endpoint.failures_left = 100
    secret = endpoint.replace("json://", "json://admin:hunter2@")
    result = _with(radar, RADAR_NOTIFY=secret, RADAR_DIGEST_WHEN_EMPTY="true")("digest", "--send", check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(r"json://…@127\.0\.0\.1: refused \(.*500", result.stdout), result.stdout
    assert "hunter2" not in result.stdout + result.stderr and "Nothing could be delivered" in result.stderr
    (row,) = outbox(database_url)
    assert row.sent_at is None and row.last_error.startswith("json://…@127.0.0.1: refused")


def test_a_message_refused_by_one_channel_is_retried_to_that_channel_only(radar: Radar, database_url: str, endpoint: str) -> None:
    ensure_schema(database_url)
    config = settings(radar, notify=f"{endpoint}/first {endpoint}/second", digest_when_empty=True)
    Endpoint.failures_left = 1  # the first channel refuses once; the second accepts
    jobs.daily_digest(config, NOON)
    assert [p["path"] for p in Endpoint.posts] == ["/notify/second"]
    (row,) = outbox(database_url)
    assert row.sent_at is None and row.last_error.startswith("json://…@127.0.0.1: refused")
    jobs.deliver(config, NOON + timedelta(hours=1))
    jobs.deliver(config, NOON + timedelta(hours=2))
    assert [p["path"] for p in Endpoint.posts] == ["/notify/second", "/notify/first"]  # nobody twice
    (row,) = outbox(database_url)
    assert row.sent_at is not None and row.attempts == 2


def test_without_recipients_the_outbox_waits_and_claims_no_refusal(radar: Radar, database_url: str) -> None:
    ensure_schema(database_url)
    config = settings(radar, notify="", digest_when_empty=True)
    jobs.daily_digest(config, NOON)
    jobs.deliver(config, NOON + timedelta(hours=1))
    (row,) = outbox(database_url)
    assert row.sent_at is None and row.attempts == 0 and row.last_error is None


def test_redact_hides_passwords_holding_at_signs_and_slashes() -> None:
    from scheduler.notify import redact

    shown = redact("could not send to mailto://user:p@ss/word@smtp.example.org?to=a@example.org today")
    assert shown == "could not send to mailto://…@smtp.example.org today"
    assert redact("json://admin:hunter2@127.0.0.1:9/notify") == "json://…@127.0.0.1"


def test_debug_logging_does_not_print_webhook_tokens(radar: Radar, database_url: str, endpoint: str) -> None:
    ensure_schema(database_url)
    hook = f"{endpoint}/T0KEN5ECRET"
    result = _with(radar, RADAR_NOTIFY=hook, RADAR_DIGEST_WHEN_EMPTY="true")("-vv", "digest", "--send")
    assert [p["path"] for p in Endpoint.posts] == ["/notify/T0KEN5ECRET"]  # sent there...
    assert "T0KEN5ECRET" not in result.stdout + result.stderr  # ...without saying where


def test_a_source_turning_broken_alerts_ops_once_and_again_on_recovery(
    radar: Radar, internet, crawled: str, endpoint: str, tmp_path: Path
) -> None:
    from crawler.replay import fault

    recipients = tmp_path / "apprise.yml"
    recipients.write_text(f"urls:\n  - {endpoint}/editors:\n    - tag: editors\n  - {endpoint}/ops:\n    - tag: ops\n")
    config = settings(radar, apprise_config=str(recipients))
    internet.inject("https://www.ndrc.gov.cn/xxgk/zcfb/tz/", fault("status", 503))
    for hour in range(3):  # three failed runs, one alert
        radar("run", "--source", "ndrc", check=False)
        jobs.after_crawl(config, NOON + timedelta(hours=hour))
    assert [(p["path"], p["title"]) for p in Endpoint.posts] == [("/notify/ops", "[cnst-radar] 소스 고장: " + _label(crawled, "ndrc"))]
    internet.clear_faults()
    radar("run", "--source", "ndrc")
    jobs.after_crawl(config, NOON + timedelta(hours=4))
    jobs.after_crawl(config, NOON + timedelta(hours=5))
    assert [p["title"].split(":")[0] for p in Endpoint.posts] == ["[cnst-radar] 소스 고장", "[cnst-radar] 소스 복구"]
    assert all(p["path"] == "/notify/ops" for p in Endpoint.posts)  # editors were not bothered


def _label(database_url: str, name: str) -> str:
    with transaction(database_url) as session:
        return session.scalar(select(Source.label).where(Source.name == name))


NEW_NOTICES = ("关于推进氢能产业示范应用的通知", "关于加快北斗规模化应用的通知", "关于开展低空经济试点工作的通知")


def test_simulated_days_crawl_on_schedule_and_send_one_digest_a_day(
    radar: Radar, watchlists: Path, sites: Path, database_url: str, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_crawl import add_ndrc_article

    for path in (watchlists / "sources").glob("*.yml"):
        if path.stem not in ("ndrc", "cas"):
            path.unlink()
        else:
            text = path.read_text(encoding="utf-8")
            path.write_text(re.sub(r"(?m)^schedule:.*$", "schedule: 12h", text), encoding="utf-8")
    for key, value in radar.env.items():
        monkeypatch.setenv(key, value)
    config = settings(radar, notify=endpoint)
    ensure_schema(database_url)
    table = [j for j in timetable(config, load_sources(config.sources_dir)) if j.id.startswith(("crawl:", "digest:"))]
    start, end = NOON, NOON + timedelta(days=3)
    due = {job.id: job.trigger.get_next_fire_time(None, start) for job in table}
    crawls = digests_run = 0
    while True:
        job_id, when = min(due.items(), key=lambda pair: pair[1])
        if when >= end:
            break
        job = next(j for j in table if j.id == job_id)
        if job_id.startswith("crawl:"):
            jobs.crawl_source(config, job.args[0], when)
            crawls += 1
        else:
            jobs.daily_digest(config, when)
            digests_run += 1
            # Tomorrow's news: NDRC publishes one more notice (on a different subject each day).
            add_ndrc_article(sites, f"t2099123{digests_run}_99{digests_run}", NEW_NOTICES[digests_run - 1])
        due[job_id] = job.trigger.get_next_fire_time(when, when + timedelta(seconds=1))
    assert crawls >= 2 * 3 * 2 - 2  # two sources every 12 hours for three days (jitter aside)
    sent = [row for row in outbox(database_url) if row.kind == "digest"]
    assert digests_run == 3 and len(sent) == 3 == len(Endpoint.posts)  # one a day
    assert len({row.dedupe_key for row in sent}) == 3
    with transaction(database_url) as session:
        per_item = session.execute(select(Delivery.item_id, func.count()).where(Delivery.kind == "digest").group_by(Delivery.item_id)).all()
    assert per_item and all(count == 1 for _, count in per_item)  # no item twice
    assert NEW_NOTICES[0] in Endpoint.posts[1]["message"] and NEW_NOTICES[0] not in Endpoint.posts[2]["message"]


def test_the_daemon_process_schedules_reloads_and_stops_cleanly(radar: Radar, database_url: str, watchlists: Path) -> None:
    daemon = subprocess.Popen([sys.executable, "-m", "radar", "-v", "daemon"], env=radar.env, cwd=radar.cwd,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and daemon.poll() is None and radar("status", "--check", check=False).returncode != 0:
            time.sleep(0.5)
        assert daemon.poll() is None, daemon.communicate()[0]
        assert radar("status", "--check", check=False).returncode == 0
        listed = radar("jobs").stdout
        assert "crawl:ndrc" in listed and "digest:daily" in listed and "outbox" in listed
        broken = watchlists / "sources" / "ndrc.yml"
        broken.write_text(broken.read_text(encoding="utf-8").replace("kind: html_list", "kind: nonsense"), encoding="utf-8")
        daemon.send_signal(signal.SIGHUP)
        time.sleep(2)
        assert daemon.poll() is None  # still running on the last good configuration
        assert "crawl:ndrc" in radar("jobs").stdout
    finally:
        output = stop(daemon)
    assert daemon.returncode == 0, output
    assert "watchlist change rejected" in output and "ndrc.yml" in output
    assert "daemon stopped" in output


def test_the_status_endpoint_answers_healthz_and_metrics_and_the_workspace_when_configured(radar: Radar, crawled: str) -> None:
    import urllib.request

    port, web = free_port(), free_port()
    env = radar.env | {"RADAR_STATUS_ADDR": f"127.0.0.1:{port}", "RADAR_WEB_ADDR": f"127.0.0.1:{web}"}
    daemon = subprocess.Popen([sys.executable, "-m", "radar", "daemon"], env=env, cwd=radar.cwd,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, health = time.time() + 60, None
        while time.time() < deadline and daemon.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                    health = json.loads(answer.read())
                    break
            except OSError:
                time.sleep(0.5)
        assert health == health | {"status": "ok", "database": "ok", "scheduler": True}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            metrics = answer.read().decode()
        assert 'radar_runs_total{source="ndrc",status="ok"} 1' in metrics
        assert "radar_outbox_backlog 0" in metrics and 'radar_items{source="cas"}' in metrics
        with urllib.request.urlopen(f"http://127.0.0.1:{web}/login", timeout=5) as answer:
            assert answer.status == 200 and 'name="password"' in answer.read().decode()
    finally:
        output = stop(daemon)
    assert daemon.returncode == 0
    # Not a terminal: one JSON object per log line.
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any(r["message"] == "daemon stopped" for r in records)


def test_the_container_entrypoint_migrates_crawls_serves_status_and_stops(radar: Radar, watchlists: Path, database_url: str) -> None:
    """What the Docker image runs (`crawl db upgrade`, then `crawl daemon`), natively."""
    import urllib.request

    for path in (watchlists / "sources").glob("*.yml"):
        if path.stem not in ("ndrc", "wechat_rsshub"):
            path.unlink()
    port = free_port()
    env = radar.env | {"RADAR_STATUS_ADDR": f"127.0.0.1:{port}", "RADAR_CRAWL_ON_START": "true"}
    subprocess.run([sys.executable, "-m", "radar", "db", "upgrade"], env=env, cwd=radar.cwd, check=True, capture_output=True)
    daemon = subprocess.Popen([sys.executable, "-m", "radar", "daemon"], env=env, cwd=radar.cwd,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, metrics = time.time() + 120, ""
        while time.time() < deadline and daemon.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
                    metrics = answer.read().decode()
                if all(f'radar_runs_total{{source="{name}",status="ok"}} 1' in metrics for name in ("ndrc", "wechat_rsshub")):
                    break
            except OSError:
                pass
            time.sleep(1)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            health = json.loads(answer.read())
    finally:
        output = stop(daemon, timeout=150)  # crawl children get a 30 s grace period
    assert 'radar_runs_total{source="ndrc",status="ok"} 1' in metrics, output
    assert health["status"] == "ok", output
    assert daemon.returncode == 0, output
    with transaction(database_url) as session:
        assert session.scalar(select(func.count(Item.id))) >= 10


def test_a_daemon_stopped_mid_crawl_exits_promptly_without_scheduling_a_retry(
    radar: Radar, internet: FakeInternet, watchlists: Path, database_url: str
) -> None:
    for path in (watchlists / "sources").glob("*.yml"):
        if path.stem != "ndrc":
            path.unlink()
    for entry in expected_articles("ndrc")[1:]:
        internet.inject(entry["url"], fault("delay", 30))
    ensure_schema(database_url)
    daemon = subprocess.Popen([sys.executable, "-m", "radar", "daemon"], env=radar.env | {"RADAR_CRAWL_ON_START": "true"},
                              cwd=radar.cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and daemon.poll() is None and not _count(database_url, Item):
            time.sleep(0.2)
    finally:
        started = time.time()
        output = stop(daemon)
    assert time.time() - started < 45, output  # the 30 s grace period, not the whole crawl
    assert daemon.returncode == 0, output
    assert "stopped with the daemon" in output and "retrying" not in output, output
    assert _count(database_url, Item) >= 1


def _count(database_url: str, model: type) -> int:
    with transaction(database_url) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_daemon_whose_status_port_is_taken_says_so_and_exits(radar: Radar) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        result = subprocess.run([sys.executable, "-m", "radar", "daemon"], env=radar.env | {"RADAR_STATUS_ADDR": address},
                                cwd=radar.cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert f"cannot serve the status endpoint on {address} (RADAR_STATUS_ADDR)" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


# -- the heartbeat, starvation and the per-run log line ----------------------------------
def heartbeat_of(database_url: str) -> dict:
    from storage.models import DaemonState

    with transaction(database_url) as session:
        row = session.get(DaemonState, "heartbeat")
        return dict(row.value) if row else {}


def test_heartbeats_at_the_same_moment_all_succeed_and_name_the_live_pid(radar: Radar, database_url: str) -> None:
    import os

    from storage.models import DaemonState

    ensure_schema(database_url)
    config = settings(radar)
    for _ in range(10):  # an empty table each round: every beat races to insert the first row
        with transaction(database_url) as session:
            session.query(DaemonState).filter(DaemonState.key == "heartbeat").delete()
        start, errors = threading.Barrier(4), []

        def beat() -> None:
            start.wait()
            try:
                jobs.heartbeat(config, sources=3)
            except Exception as error:  # noqa: BLE001 - collected for the assertion below
                errors.append(error)

        threads = [threading.Thread(target=beat) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
    # Another process beat last (an old daemon, say); the next beat is this one's, with its pid.
    subprocess.run([sys.executable, "-c", "from scheduler import jobs; from common.settings import get_settings; jobs.heartbeat(get_settings())"],
                   env=radar.env, cwd=radar.cwd, check=True, timeout=120)
    assert heartbeat_of(database_url)["pid"] != os.getpid()
    jobs.heartbeat(config, sources=3)
    assert heartbeat_of(database_url)["pid"] == os.getpid()
    assert f"pid {os.getpid()}" in radar("status").stdout


def start_daemon(radar: Radar, **env: str) -> tuple[subprocess.Popen, list[str]]:
    """A real `crawl daemon`; its log lines are collected as they come (the list fills in)."""
    daemon = subprocess.Popen([sys.executable, "-m", "radar", "daemon"], env=radar.env | env, cwd=radar.cwd,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(daemon.stdout), daemon=True).start()  # type: ignore[arg-type]
    return daemon, lines


def stop_collected(daemon: subprocess.Popen, lines: list[str], timeout: float = 120) -> str:
    daemon.send_signal(signal.SIGTERM)
    try:
        daemon.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        daemon.kill()
        daemon.wait()
        pytest.fail(f"daemon still running {timeout:.0f} s after SIGTERM; its log:\n{''.join(lines)}")
    time.sleep(0.5)  # the reader thread takes the last lines from the closed pipe
    return "".join(lines)


def wait_for(condition, deadline: float) -> bool:  # noqa: ANN001
    end = time.time() + deadline
    while time.time() < end:
        if condition():
            return True
        time.sleep(0.5)
    return False


def keep_sources(watchlists: Path, names: tuple[str, ...]) -> None:
    for path in (watchlists / "sources").glob("*.yml"):
        if path.stem not in names:
            path.unlink()


def test_a_stopped_daemon_is_shown_as_stopped_not_alive_with_its_old_pid(radar: Radar, watchlists: Path, database_url: str) -> None:
    keep_sources(watchlists, ("ndrc",))
    daemon, lines = start_daemon(radar)
    try:
        assert wait_for(lambda: daemon.poll() is not None or radar("status", "--check", check=False).returncode == 0, 90), "".join(lines)
        pid = heartbeat_of(database_url)["pid"]
        assert pid == daemon.pid
    finally:
        output = stop_collected(daemon, lines)
    assert daemon.returncode == 0, output
    status = radar("status", check=False)
    assert "not running" in status.stdout and f"was pid {pid}" in status.stdout
    assert radar("status", "--check", check=False).returncode == 1


def test_a_burst_of_stalled_crawls_does_not_starve_the_heartbeat(radar: Radar, watchlists: Path, database_url: str) -> None:
    from storage.models import CrawlRun

    keep_sources(watchlists, ("ndrc", "cas", "most", "nsfc", "miit", "safea"))
    ensure_schema(database_url)
    with socket.socket() as blackhole:  # the fake internet at its worst: connections accepted, never answered
        blackhole.bind(("127.0.0.1", 0))
        blackhole.listen(256)
        proxy = f"http://127.0.0.1:{blackhole.getsockname()[1]}"
        daemon, lines = start_daemon(radar, RADAR_CRAWL_ON_START="true", RADAR_PROXY=proxy, RADAR_DOWNLOAD_TIMEOUT="900")
        try:
            def running() -> int:
                with transaction(database_url) as session:
                    return session.scalar(select(func.count()).select_from(CrawlRun).where(CrawlRun.status == "running")) or 0

            assert wait_for(lambda: daemon.poll() is not None or running() >= 3, 120), "".join(lines)
            saturated_at = heartbeat_of(database_url)["at"]
            # Every crawl worker is stuck on a stalled site; the heartbeat (every 30 s) still beats.
            assert wait_for(lambda: heartbeat_of(database_url)["at"] > saturated_at, 150), "".join(lines)
            assert running() >= 3
        finally:
            output = stop_collected(daemon, lines, timeout=180)  # crawl children get a 30 s grace period
    assert daemon.returncode == 0, output


def test_a_daemon_logs_one_counter_line_per_crawl_run(radar: Radar, watchlists: Path, database_url: str) -> None:
    from storage.models import CrawlRun

    keep_sources(watchlists, ("ndrc", "cas"))
    daemon, lines = start_daemon(radar, RADAR_CRAWL_ON_START="true")

    def run_lines() -> list[dict]:
        records = [json.loads(line) for line in list(lines) if line.startswith("{")]
        return [r for r in records if r.get("event") == "crawl_run"]

    try:
        assert wait_for(lambda: daemon.poll() is not None or len(run_lines()) >= 2, 240), "".join(lines)
    finally:
        output = stop_collected(daemon, lines)
    assert daemon.returncode == 0, output
    with transaction(database_url) as session:
        runs = {run.source.name: run for run in session.scalars(select(CrawlRun))}
    logged = {record["source"]: record for record in run_lines()}
    assert len(run_lines()) == len(runs) == 2 and set(logged) == {"ndrc", "cas"}
    for name, record in logged.items():
        run = runs[name]
        assert record["status"] == run.status == "ok"
        assert (record["list_pages"], record["articles_found"], record["new"], record["updated"], record["skipped"], record["errors"]) == (
            run.list_pages, run.articles_found, run.new, run.updated, run.skipped, run.errors)
        assert re.search(r"\d+ list pages, \d+ articles found, \d+ new, \d+ updated, \d+ skipped, \d+ errors", record["message"])
