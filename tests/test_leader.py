"""Several daemons on one database: exactly one schedules, a standby takes over when it dies,
and nothing is sent twice or lost on the way (issue 18).

The PostgreSQL tests need RADAR_TEST_POSTGRES_URL and use a fresh database of their own. A
deliverer killed between its claim and the send is also covered, on both backends, by
test_outbox.py (the claim) and test_daemon.py (a sender killed mid-send); here it is killed
while handing over to the standby.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from conftest import POSTGRES, Radar, _new_postgres_database, free_port
from scheduler import jobs, outbox
from scheduler.daemon import timetable
from scheduler.leader import Election
from storage.db import ensure_schema, transaction
from storage.models import OutboxMessage
from test_daemon import NOON, Endpoint, endpoint, settings  # noqa: F401 - endpoint is a fixture

POLL = 1.0  # the real daemons' RADAR_LEADER_POLL_SECONDS
HANDOVER_SLACK = 10.0  # seconds allowed beyond one poll: process start-up on a loaded 2-core box


@pytest.fixture
def postgres_url() -> Iterator[str]:
    if not POSTGRES:
        pytest.skip("no PostgreSQL server (set RADAR_TEST_POSTGRES_URL)")
    with _new_postgres_database() as url:
        yield url


@pytest.fixture
def radar_pg(base_env: dict[str, str], postgres_url: str, tmp_path: Path) -> Radar:
    return Radar(env=base_env | {"RADAR_DATABASE_URL": postgres_url, "RADAR_LEADER_POLL_SECONDS": str(POLL)}, cwd=tmp_path)


def kill_connection(election: Election) -> None:
    """What a leader's death looks like to PostgreSQL: its lock connection's backend ends."""
    backend = election.lock.conn.execute(text("SELECT pg_backend_pid()")).scalar()  # type: ignore[attr-defined]
    with transaction(election.database_url) as session:
        session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})


def test_two_daemons_over_two_simulated_days_send_each_digest_once_and_the_standby_takes_over(radar_pg: Radar, postgres_url: str, endpoint: str) -> None:
    # Long because the story is one timeline: day 1 under A; on day 2 A dies mid-send and B sends.
    config = settings(radar_pg, notify=endpoint, digest_when_empty=True)
    ensure_schema(postgres_url)
    now = [NOON]
    daemons = [Election(postgres_url, lambda: now[0], poll_seconds=POLL) for _ in range(2)]
    table = [job for job in timetable(config, []) if job.id in ("digest:daily", "outbox")]
    due = {job.id: job.trigger.get_next_fire_time(None, NOON) for job in table}
    ran: list[tuple[str, int]] = []  # (job, which daemon ran it)
    killed_at, first_poll_after_kill = None, None
    while True:
        job_id, when = min(due.items(), key=lambda pair: pair[1])
        if when >= NOON + timedelta(days=2):
            break
        now[0] = when
        leaders = [index for index, daemon in enumerate(daemons) if daemon.step()]
        assert len(leaders) <= 1, f"two leaders at {when}"
        if killed_at is not None and first_poll_after_kill is None:
            first_poll_after_kill = leaders
        if killed_at is None and job_id == "digest:daily" and any(kind == "digest:daily" for kind, _ in ran):
            # Day 2: the leader queues the digest and claims it, then dies before sending.
            jobs.queue_digest(config, when)
            with transaction(postgres_url) as session:
                row = session.scalar(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None)))
                assert outbox._claim(session, row, when)
            kill_connection(daemons[leaders[0]])
            killed_at = (when, leaders[0])
            ran.append(("killed", leaders[0]))
        elif leaders:
            jobs.daily_digest(config, when) if job_id == "digest:daily" else jobs.deliver(config, when)
            ran.append((job_id, leaders[0]))
        due[job_id] = next(j for j in table if j.id == job_id).trigger.get_next_fire_time(when, when + timedelta(seconds=1))
    assert killed_at is not None
    when_killed, first = killed_at
    assert first_poll_after_kill == [1 - first]  # the standby leads from its first poll after the kill
    after = ran[ran.index(("killed", first)) + 1:]
    assert after and {who for _, who in after} == {1 - first}  # and the old leader runs nothing more
    sent = [row for row in _outbox(postgres_url) if row.kind == "digest"]
    assert len(sent) == 2 == len(Endpoint.posts) and all(row.sent_at is not None for row in sent)  # each day's once, none lost
    assert len({row.dedupe_key for row in sent}) == 2
    day2 = next(row for row in sent if row.created_at == when_killed)
    assert day2.attempts == 1 and day2.sent_at >= when_killed + outbox.CLAIM  # retried by the new leader once the claim ran out


def _outbox(database_url: str) -> list[OutboxMessage]:
    with transaction(database_url) as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def healthz(port: int) -> dict:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return json.loads(error.read())
    except OSError:
        return {}


def wait_for(port: int, role: str, daemon: subprocess.Popen, timeout: float = 120) -> dict:
    """The daemon's /healthz once it says it is healthy in ``role``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        facts = healthz(port)
        if facts.get("role") == role and facts.get("status") == "ok":
            return facts
        if daemon.poll() is not None:
            pytest.fail(f"daemon exited {daemon.returncode}:\n{daemon.communicate()[0]}")
        time.sleep(0.1)
    pytest.fail(f"no {role} on port {port} within {timeout:.0f} s; last answer {healthz(port)}")


def start_daemon(radar: Radar, port: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "radar", "daemon"], env=radar.env | {"RADAR_STATUS_ADDR": f"127.0.0.1:{port}"},
                            cwd=radar.cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_of_two_daemon_processes_one_leads_and_the_standby_takes_over_when_it_is_killed(radar_pg: Radar) -> None:
    ports = [free_port(), free_port()]
    first = start_daemon(radar_pg, ports[0])
    daemons = [first]
    try:
        led = wait_for(ports[0], "leader", first)
        assert led["status"] == "ok" and led["leader"]["pid"] == first.pid
        second = start_daemon(radar_pg, ports[1])
        daemons.append(second)
        standing = wait_for(ports[1], "standby", second)
        assert standing["status"] == "ok" and standing["leader"]["pid"] == first.pid  # a healthy standby, not a restart loop
        assert f"Leader: pid {first.pid} on " in radar_pg("status").stdout
        first.send_signal(signal.SIGKILL)  # no clean stop: PostgreSQL drops its connection, and the lock with it
        killed = time.monotonic()
        took_over = wait_for(ports[1], "leader", second)
        handover = time.monotonic() - killed
        print(f"standby took over {handover:.2f} s after the leader was killed (poll {POLL:g} s)")
        assert handover < POLL + HANDOVER_SLACK
        assert took_over["leader"]["pid"] == second.pid and took_over["status"] == "ok"
        status = radar_pg("status").stdout
        assert f"Leader: pid {second.pid} on " in status and f"pid {second.pid})" in status  # its heartbeat too
    finally:
        for daemon in daemons:
            if daemon.poll() is None:
                daemon.send_signal(signal.SIGTERM)
                daemon.communicate(timeout=60)


def test_on_sqlite_a_second_daemon_refuses_in_one_line_and_a_dead_ones_lock_does_not_block(base_env: dict[str, str], tmp_path: Path) -> None:
    radar = Radar(env=base_env | {"RADAR_DATABASE_URL": f"sqlite:///{tmp_path / 'radar.sqlite'}"}, cwd=tmp_path)
    port = free_port()
    first = start_daemon(radar, port)
    try:
        wait_for(port, "leader", first)
        second = radar("daemon", check=False)
        lines = second.stderr.strip().splitlines()
        assert second.returncode != 0 and len(lines) == 1, second.stderr
        assert f"pid {first.pid} on " in lines[0] and "already runs" in lines[0]
    finally:
        first.send_signal(signal.SIGKILL)  # leaves its lock file (and pid) behind
        first.communicate()
    third = start_daemon(radar, port)
    wait_for(port, "leader", third)
    third.send_signal(signal.SIGTERM)
    assert third.communicate(timeout=60)[0]
