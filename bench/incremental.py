"""Incremental crawling: a full crawl of every configured source with a recording, then a
second run with nothing changed. Requests are counted at the fake internet (robots.txt apart)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import os
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

# bench/ goes last on the path: bench/incremental.py must not shadow Twisted's `incremental` package.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]

from common import SITES, WATCHLISTS, cleanup, crawl_command, radar_env, run_measured, temp_dir  # noqa: E402


def _split(hits: Counter) -> tuple[int, int, Counter]:
    robots = sum(n for key, n in hits.items() if key.endswith("/robots.txt"))
    per_host: Counter = Counter()
    for key, n in hits.items():
        if not key.endswith("/robots.txt"):
            per_host[urlsplit("//" + key).hostname] += n
    return sum(hits.values()) - robots, robots, per_host


def run(quick: bool) -> dict:
    from crawler.replay import FakeInternet
    from crawler.watchlist import load_sources

    tmp = temp_dir("incremental")
    try:
        sites, watchlists = tmp / "sites", tmp / "watchlists"
        shutil.copytree(SITES, sites)
        shutil.copytree(WATCHLISTS, watchlists)
        db = tmp / "radar.sqlite"
        with FakeInternet(sites) as internet:
            recorded = set(internet.hosts())
            sources = [s for s in load_sources(watchlists / "sources") if s.enabled and s.hosts <= recorded]
            skipped = [s.name for s in load_sources(watchlists / "sources") if s.enabled and not s.hosts <= recorded]
            args = [a for s in sources for a in ("--source", s.name)]
            env = radar_env(tmp, f"sqlite:///{db}", watchlists, internet.address)
            runs = []
            for label in ("full", "incremental"):
                internet.hits.clear()
                result = run_measured(crawl_command("run", *args), env, tmp)
                if result.returncode not in (0, 1):
                    raise RuntimeError(f"{label} crawl exited {result.returncode}: {result.stderr[-2000:]}")
                hits = Counter(internet.hits)
                runs.append((label, result, hits))
        with sqlite3.connect(db) as conn:
            per_run = conn.execute(
                "select r.id, s.name, r.status, r.list_pages, r.not_modified, r.articles_found, r.new, r.skipped, r.errors, r.requests "
                "from crawl_runs r join sources s on s.id = r.source_id order by r.id").fetchall()
            items = conn.execute("select count(*) from items").fetchone()[0]
    finally:
        cleanup(tmp)

    (_, full, full_hits), (_, inc, inc_hits) = runs
    full_n, full_robots, full_hosts = _split(full_hits)
    inc_n, inc_robots, inc_hosts = _split(inc_hits)
    half = len(per_run) // 2
    second = {row[1]: row for row in per_run[half:]}
    hosts = sorted(set(full_hosts) | set(inc_hosts))
    return {
        "sources": len(sources),
        "sources_without_recording": skipped,
        "items_stored": items,
        "full_requests": full_n,
        "full_robots_requests": full_robots,
        "full_seconds": round(full.seconds, 2),
        "full_cpu_seconds": round(full.cpu, 2),
        "incremental_requests": inc_n,
        "incremental_robots_requests": inc_robots,
        "incremental_seconds": round(inc.seconds, 2),
        "incremental_cpu_seconds": round(inc.cpu, 2),
        "incremental_request_ratio": round(full_n / max(inc_n, 1), 2),
        "incremental_statuses": dict(Counter(row[2] for row in second.values())),
        "per_host": {h: [full_hosts.get(h, 0), inc_hosts.get(h, 0)] for h in hosts},
        "incremental_not_304": sorted(
            f"{name}: {row[3]} list pages, {row[4]} unchanged, {row[9]} requests"
            for name, row in second.items() if row[3] > row[4]
        ),
        "incremental_urls": sorted(k for k in inc_hits if not k.endswith("/robots.txt")),
    }


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), ensure_ascii=False, indent=1))
