"""Standby takeover: two `crawl daemon` processes on one PostgreSQL; the leader is SIGKILLed
and we time how long until the standby's /healthz says it leads (issue 18).

Needs a PostgreSQL server we may create a database on: RADAR_BENCH_POSTGRES_URL, or the
tests' RADAR_TEST_POSTGRES_URL. Prints JSON; --quick does 2 hand-overs instead of 5.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

# bench/ goes last on the path: bench/incremental.py must not shadow Twisted's `incremental` package.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]

from harness import WATCHLISTS, cleanup, crawl_command, machine, radar_env, temp_dir  # noqa: E402

POLL = 1.0  # RADAR_LEADER_POLL_SECONDS: the bound is one poll after PostgreSQL frees the lock


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _role(port: int) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            facts = json.loads(answer.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None
    return facts.get("role") if facts.get("status") == "ok" else None


def _wait(port: int, role: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while _role(port) != role:
        if time.monotonic() > deadline:
            raise RuntimeError(f"no healthy {role} on port {port} within {timeout:.0f} s")
        time.sleep(0.05)


def _database(server: str) -> tuple[str, object]:
    from sqlalchemy import create_engine, text

    name = f"radar_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return server.rsplit("/", 1)[0] + f"/{name}", (admin, name)


def run(quick: bool) -> dict:
    from sqlalchemy import text

    server = os.environ.get("RADAR_BENCH_POSTGRES_URL") or os.environ.get("RADAR_TEST_POSTGRES_URL")
    if not server:
        return {"error": "set RADAR_BENCH_POSTGRES_URL (a PostgreSQL server we may create a database on)"}
    url, (admin, name) = _database(server)
    tmp = temp_dir("takeover")
    daemons: list[subprocess.Popen] = []

    def start() -> tuple[subprocess.Popen, int]:
        port = _free_port()
        env = radar_env(tmp, url, WATCHLISTS, RADAR_STATUS_ADDR=f"127.0.0.1:{port}", RADAR_LEADER_POLL_SECONDS=str(POLL))
        daemons.append(subprocess.Popen(crawl_command("daemon"), env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        return daemons[-1], port

    takeovers = []
    try:
        leader, leader_port = start()
        _wait(leader_port, "leader")
        for _ in range(2 if quick else 5):
            standby, standby_port = start()
            _wait(standby_port, "standby")
            leader.send_signal(signal.SIGKILL)
            killed = time.perf_counter()
            _wait(standby_port, "leader")
            takeovers.append(time.perf_counter() - killed)
            leader.wait()
            leader, leader_port = standby, standby_port
    finally:
        for daemon in daemons:
            if daemon.poll() is None:
                daemon.kill()
                daemon.wait()
        cleanup(tmp)
        with admin.connect() as conn:  # type: ignore[attr-defined]
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return {
        "machine": machine(),
        "poll_s": POLL,
        "handovers": len(takeovers),
        "takeover_s": [round(t, 3) for t in takeovers],
        "takeover_median_s": round(statistics.median(takeovers), 3),
        "takeover_max_s": round(max(takeovers), 3),
    }


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), ensure_ascii=False, indent=1))
