"""Daemon footprint: `python -m radar daemon` with every source scheduled, sampled while idle;
then the CPU one unchanged crawl costs the daemon, with crawl children forked from the warm
server (RADAR_CRAWL_START=fork) and spawned afresh (spawn), measured alternately.

    python bench/daemon_idle.py [--quick]     (quick: 10 s idle window, 8 sources, one round)
"""

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


def _tree_cpu(daemon) -> dict[str, float]:  # noqa: ANN001 - a psutil.Process
    """CPU seconds of the daemon, of the crawl children it has reaped (spawn), of the fork
    server itself and of the crawl children the server has reaped (fork); the daemon's and the
    server's resident memory."""
    def own(times) -> float:  # noqa: ANN001
        return times.user + times.system

    def reaped(times) -> float:  # noqa: ANN001
        return times.children_user + times.children_system

    cpu = {"daemon": own(daemon.cpu_times()), "spawned_children": reaped(daemon.cpu_times()), "server": 0.0, "forked_children": 0.0,
           "server_rss_mb": 0.0, "daemon_rss_mb": daemon.memory_info().rss / 2**20}
    for child in daemon.children():
        if "multiprocessing.forkserver" in " ".join(child.cmdline()):
            cpu["server"], cpu["forked_children"] = own(child.cpu_times()), reaped(child.cpu_times())
            cpu["server_rss_mb"] = child.memory_info().rss / 2**20
    return cpu


def _crawls_in_flight(daemon) -> int:  # noqa: ANN001
    """Crawl children still alive (the fork server and multiprocessing's resource tracker are not crawls)."""
    helpers = ("multiprocessing.forkserver", "multiprocessing.resource_tracker")
    return sum(1 for p in daemon.children(recursive=True) if not any(h in " ".join(p.cmdline()) for h in helpers))


def _finished_runs(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("select count(*) from crawl_runs where finished_at is not null").fetchone()[0]
    except sqlite3.Error:
        return 0


def _fixture_watchlists(tmp: Path, hosts: set[str], limit: int | None) -> list[str]:
    """A copy of the watchlists keeping (the first ``limit`` of) the sources the fake internet serves; their names."""
    from crawler.watchlist import load_sources

    watchlists = tmp / "watchlists"
    shutil.copytree(WATCHLISTS, watchlists)
    served = [s for s in load_sources(watchlists / "sources") if s.enabled and s.hosts <= hosts][:limit]
    kept = {Path(s.file).name for s in served}
    for path in (watchlists / "sources").glob("*.y*ml"):
        if path.name not in kept:
            path.unlink()
    return [s.name for s in served]


def unchanged_crawls(mode: str, quick: bool) -> dict:
    """One round of unchanged crawls started by the daemon (RADAR_CRAWL_ON_START) after a first
    `crawl run` stored everything; the CPU they cost, per crawl."""
    import psutil

    from crawler.replay import FakeInternet

    tmp = temp_dir(f"daemon-{mode}")
    try:
        with FakeInternet() as internet:
            sources = _fixture_watchlists(tmp, set(internet.hosts()), 8 if quick else None)
            db = tmp / "radar.sqlite"
            env = radar_env(tmp, f"sqlite:///{db}", tmp / "watchlists", internet.address, RADAR_STATUS_ADDR="",
                            RADAR_CRAWL_ON_START="true", RADAR_CRAWL_START=mode)
            subprocess.run(crawl_command("run", *[a for name in sources for a in ("--source", name)]), env=env, cwd=tmp,
                           capture_output=True, check=False, timeout=1800)
            first = _finished_runs(db)
            with open(tmp / "daemon.log", "w") as out:
                started = time.perf_counter()
                child = subprocess.Popen(crawl_command("daemon"), env=env, cwd=tmp, stdout=out, stderr=subprocess.STDOUT)
                daemon = psutil.Process(child.pid)
                while child.poll() is None and time.perf_counter() - started < 900 and (
                        _finished_runs(db) < first + len(sources) or _crawls_in_flight(daemon)):
                    time.sleep(0.5)
                wall = time.perf_counter() - started
                cpu = _tree_cpu(daemon) if child.poll() is None else None
                child.send_signal(signal.SIGTERM)
                child.wait(timeout=120)
            if cpu is None:
                raise RuntimeError(f"daemon exited {child.returncode}: {(tmp / 'daemon.log').read_text()[-2000:]}")
    finally:
        cleanup(tmp)
    crawls = cpu["spawned_children"] + cpu["forked_children"]
    return {
        "mode": mode,
        "crawls": len(sources),
        "cpu_per_unchanged_crawl_s": round(crawls / len(sources), 3),
        "fork_server_startup_cpu_s": round(cpu["server"], 2),
        "daemon_own_cpu_s": round(cpu["daemon"], 2),
        "daemon_rss_mb": round(cpu["daemon_rss_mb"], 1),
        "fork_server_rss_mb": round(cpu["server_rss_mb"], 1),
        "wall_until_all_crawled_s": round(wall, 1),
    }


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    report = {"idle": run(quick), "unchanged_crawls": []}
    for _ in range(1 if quick else 3):
        for mode in ("spawn", "fork"):  # alternately, so both see the same load on a shared machine
            report["unchanged_crawls"].append(unchanged_crawls(mode, quick))
    print(json.dumps(report, ensure_ascii=False, indent=1))
