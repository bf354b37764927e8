"""Daemon footprint: `python -m radar daemon` with every source scheduled, sampled while idle."""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import os
import sys
import time
from pathlib import Path

# bench/ goes last on the path: bench/incremental.py must not shadow Twisted's `incremental` package.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]

from harness import WATCHLISTS, cleanup, crawl_command, radar_env, temp_dir  # noqa: E402


def _heartbeat(db: Path) -> bool:
    if not db.exists():
        return False
    try:
        conn = sqlite3.connect(db, timeout=1)
        try:
            return conn.execute("select count(*) from daemon_state where key = 'heartbeat'").fetchone()[0] > 0
        finally:
            conn.close()
    except sqlite3.Error:
        return False


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(quick: bool) -> dict:
    import psutil

    from crawler.replay import FakeInternet

    window = 10 if quick else 60
    tmp = temp_dir("daemon")
    try:
        watchlists = tmp / "watchlists"
        shutil.copytree(WATCHLISTS, watchlists)
        db = tmp / "radar.sqlite"
        log = tmp / "daemon.log"
        with FakeInternet() as internet, open(log, "w") as out:
            # The fake internet is there so that a crawl firing by chance stays on loopback.
            env = radar_env(tmp, f"sqlite:///{db}", watchlists, internet.address, RADAR_STATUS_ADDR=f"127.0.0.1:{_free_port()}")
            started = time.perf_counter()
            child = subprocess.Popen(crawl_command("daemon"), env=env, cwd=tmp, stdout=out, stderr=subprocess.STDOUT)
            proc = psutil.Process(child.pid)
            while not _heartbeat(db) and child.poll() is None and time.perf_counter() - started < 120:
                time.sleep(0.1)
            if child.poll() is not None:
                raise RuntimeError(f"daemon exited {child.returncode}: {log.read_text()[-2000:]}")
            time.sleep(1.0)  # let the scheduler settle after resume()
            ready = time.perf_counter() - started
            startup_cpu = sum(proc.cpu_times()[:2])
            startup_rss = proc.memory_info().rss
            samples = []
            children_seen = 0
            cpu0, t0 = sum(proc.cpu_times()[:2]), time.perf_counter()
            while time.perf_counter() - t0 < window:
                time.sleep(1.0)
                kids = proc.children(recursive=True)
                children_seen = max(children_seen, len(kids))
                samples.append((time.perf_counter() - t0, proc.memory_info().rss, sum(proc.cpu_times()[:2]), proc.num_threads()))
            cpu1, t1 = sum(proc.cpu_times()[:2]), time.perf_counter()
            if child.poll() is not None:
                raise RuntimeError(f"daemon exited {child.returncode} while idle: {log.read_text()[-2000:]}")
            child.send_signal(signal.SIGTERM)
            stop_start = time.perf_counter()
            try:
                code = child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                child.kill()
                code = child.wait()
            stopped_in = time.perf_counter() - stop_start
        jobs = sqlite3.connect(db).execute("select count(*) from apscheduler_jobs").fetchone()[0] if db.exists() else None
    finally:
        cleanup(tmp)
    rss = [s[1] / 2**20 for s in samples]
    return {
        "window_s": window,
        "startup_s": round(ready, 2),
        "startup_cpu_s": round(startup_cpu, 2),
        "startup_rss_mb": round(startup_rss / 2**20, 1),
        "idle_rss_mb": round(sorted(rss)[len(rss) // 2], 1),
        "idle_rss_max_mb": round(max(rss), 1),
        "idle_rss_growth_mb": round(rss[-1] - rss[0], 2),
        "idle_cpu_percent": round((cpu1 - cpu0) / (t1 - t0) * 100, 3),
        "idle_cpu_seconds": round(cpu1 - cpu0, 3),
        "threads": samples[-1][3],
        "persisted_jobs": jobs,
        "crawl_children_seen": children_seen,
        "sigterm_exit_code": code,
        "sigterm_stop_s": round(stopped_in, 2),
    }


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), ensure_ascii=False, indent=1))
