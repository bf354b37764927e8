"""Crawl throughput on Scrapyd nodes (issue 18): the daemon's dispatch path (jobs.crawl_source
with RADAR_SCRAPYD_URLS) sends every recorded source to 1, then 2 real `scrapyd` processes on
loopback, which crawl the fake internet and store to one PostgreSQL database.

Prints sources/min, items/s and wall seconds per node count, as JSON. All crawls are started
at once, as the daemon's crawl pool would when they fall due together. On one machine the nodes
share its cores, so this measures the dispatch path's overhead and how far two nodes overlap,
not what two machines would give.

Needs a PostgreSQL server we may create databases on: RADAR_BENCH_POSTGRES_URL, or the tests'
RADAR_TEST_POSTGRES_URL. --quick crawls 4 sources instead of every recorded one.
tests/test_scrapyd.py starts its nodes with :func:`scrapyd_nodes` from here.
"""

from __future__ import annotations

import configparser
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# bench/ goes last on the path: bench/incremental.py must not shadow Twisted's `incremental` package.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "deploy" / "scrapyd.conf"
SCRAPYD = Path(sys.executable).with_name("scrapyd")
QUICK_SOURCES = ["ndrc", "most", "sciencenet", "cas"]
NODE_POLL_SECONDS = "0.2"  # how often a node starts queued jobs (deploy/scrapyd.conf says 1.0)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _node_conf(directory: Path, port: int) -> None:
    """deploy/scrapyd.conf as shipped, but on loopback, on ``port``, polling faster."""
    conf = configparser.ConfigParser()
    conf.read(CONF, encoding="utf-8")
    conf["scrapyd"].update({"bind_address": "127.0.0.1", "http_port": str(port), "poll_interval": NODE_POLL_SECONDS})
    with (directory / "scrapyd.conf").open("w", encoding="utf-8") as out:
        conf.write(out)


def _wait_ready(url: str, process: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    from scheduler.scrapyd import NodeError, call

    deadline = time.monotonic() + timeout
    while True:
        try:
            call(url, "daemonstatus.json")
            return
        except NodeError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"scrapyd at {url} did not start:\n{log.read_text(errors='replace')[-2000:]}") from None
            time.sleep(0.2)


@contextmanager
def scrapyd_nodes(count: int, env: dict[str, str], workdir: Path) -> Iterator[list[str]]:
    """``count`` real `scrapyd` processes on loopback, each in a directory of its own with the
    shipped configuration on a free port; yields their base URLs. On exit each is killed with
    its process group — the crawls it started too — even when the body failed."""
    from scheduler.scrapyd import SETTINGS_MODULE

    processes: list[subprocess.Popen] = []
    try:
        urls = []
        for number in range(count):
            directory = workdir / f"scrapyd-{number + 1}"
            directory.mkdir(parents=True)
            port = _free_port()
            _node_conf(directory, port)
            log = directory / "scrapyd.out"
            with log.open("wb") as out:
                processes.append(subprocess.Popen(
                    [str(SCRAPYD)], cwd=directory, env=env | {"SCRAPY_SETTINGS_MODULE": SETTINGS_MODULE},
                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                ))
            urls.append(f"http://127.0.0.1:{port}")
            _wait_ready(urls[-1], processes[-1], log)
        yield urls
    finally:
        for process in processes:
            _kill_group(process)


def _kill_group(process: subprocess.Popen) -> None:
    """SIGTERM the node, then SIGKILL what is left of its process group (the crawls it started)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def crawl_all(settings: object, names: list[str]) -> dict[str, str]:
    """Every source through jobs.crawl_source at once (the daemon's path); their statuses."""
    from scheduler import jobs

    statuses: dict[str, str] = {}
    threads = [threading.Thread(target=lambda name=name: statuses.__setitem__(name, jobs.crawl_source(settings, name))) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def _database(server: str) -> tuple[str, object, str]:
    from sqlalchemy import create_engine, text

    name = f"radar_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return server.rsplit("/", 1)[0] + f"/{name}", admin, name


def _measure(server: str, nodes: int, names: list[str], proxy: str) -> dict:
    """One round: a fresh database, ``nodes`` Scrapyd nodes, every source crawled once."""
    from sqlalchemy import func, select, text

    from common.settings import get_settings
    from harness import WATCHLISTS, cleanup, radar_env, temp_dir
    from storage.db import ensure_schema, get_engine, transaction
    from storage.models import Item

    url, admin, name = _database(server)
    tmp = temp_dir(f"scrapyd{nodes}")
    try:
        ensure_schema(url)
        env = radar_env(tmp, url, WATCHLISTS, proxy)
        with scrapyd_nodes(nodes, env, tmp) as urls:
            settings = get_settings(database_url=url, watchlists=WATCHLISTS, scrapyd_urls=",".join(urls), scrapyd_poll_seconds=0.2, notify=None)
            started = time.perf_counter()
            statuses = crawl_all(settings, names)
            wall = time.perf_counter() - started
        with transaction(url) as session:
            items = session.scalar(select(func.count(Item.id))) or 0
    finally:
        get_engine(url).dispose()
        cleanup(tmp)
        with admin.connect() as conn:  # type: ignore[attr-defined]
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return {"nodes": nodes, "sources": len(names), "statuses": statuses, "items": items, "wall_s": round(wall, 2),
            "sources_per_min": round(len(names) / wall * 60, 1), "items_per_s": round(items / wall, 2)}


def run(quick: bool) -> dict:
    from crawler.replay import SITES, FakeInternet
    from crawler.watchlist import load_sources
    from harness import WATCHLISTS, machine

    server = os.environ.get("RADAR_BENCH_POSTGRES_URL") or os.environ.get("RADAR_TEST_POSTGRES_URL")
    if not server:
        return {"error": "set RADAR_BENCH_POSTGRES_URL (a PostgreSQL server we may create databases on)"}
    with FakeInternet(SITES) as internet:
        recorded = set(internet.hosts())
        names = sorted(s.name for s in load_sources(WATCHLISTS / "sources") if s.enabled and s.hosts <= recorded)
        if quick:
            names = [name for name in QUICK_SOURCES if name in names]
        rounds = [_measure(server, nodes, names, internet.address) for nodes in (1, 2)]
    return {"machine": machine(), "mode": "quick" if quick else "full", "rounds": rounds,
            "speedup_2_nodes": round(rounds[0]["wall_s"] / rounds[1]["wall_s"], 2)}


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), ensure_ascii=False, indent=1))
