"""Incremental crawling: a full crawl, then a second run with nothing changed. Requests are
counted at the fake internet.

Two scenarios, side by side:

* **recorded** — every configured source with a recording in crawler/sites. Shows that an
  unchanged run costs one request per list URL, but its ratio is capped by the recordings,
  which hold only 2–10 articles per list URL.
* **volume** — NDRC and ScienceNet generated at the size of the real lists (20 entries a
  page, as on the live sites) and read with the sources' own limits (`max_pages`,
  `max_entries`), i.e. what a full re-crawl of a real list costs. Its ratio is the headline
  `incremental_request_ratio`.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

# bench/ goes last on the path: bench/incremental.py must not shadow Twisted's `incremental` package.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]

from harness import SITES, WATCHLISTS, cleanup, crawl_command, radar_env, run_measured, temp_dir  # noqa: E402

REAL_PER_PAGE = 20  # entries on a first list page of the live NDRC / ScienceNet sites


def _split(hits: Counter) -> tuple[int, int, Counter]:
    robots = sum(n for key, n in hits.items() if key.endswith("/robots.txt"))
    per_host: Counter = Counter()
    for key, n in hits.items():
        if not key.endswith("/robots.txt"):
            per_host[urlsplit("//" + key).hostname] += n
    return sum(hits.values()) - robots, robots, per_host


def _full_then_unchanged(tmp: Path, sites: Path, watchlists: Path) -> dict:
    """Crawl every source with a recording twice; count requests and read the run records."""
    from crawler.replay import FakeInternet
    from crawler.watchlist import load_sources

    db = tmp / "radar.sqlite"
    with FakeInternet(sites) as internet:
        recorded = set(internet.hosts())
        enabled = [s for s in load_sources(watchlists / "sources") if s.enabled]
        sources = [s for s in enabled if s.hosts <= recorded]
        args = [a for s in sources for a in ("--source", s.name)]
        env = radar_env(tmp, f"sqlite:///{db}", watchlists, internet.address)
        runs = []
        for label in ("full", "incremental"):
            internet.hits.clear()
            result = run_measured(crawl_command("run", *args), env, tmp)
            if result.returncode not in (0, 1):
                raise RuntimeError(f"{label} crawl exited {result.returncode}: {result.stderr[-2000:]}")
            runs.append((result, Counter(internet.hits)))
    with sqlite3.connect(db) as conn:
        per_run = conn.execute(
            "select r.id, s.name, r.status, r.list_pages, r.not_modified, r.articles_found, r.new, r.skipped, r.errors, r.requests "
            "from crawl_runs r join sources s on s.id = r.source_id order by r.id").fetchall()
        items = conn.execute("select count(*) from items").fetchone()[0]
    (full, full_hits), (inc, inc_hits) = runs
    full_n, full_robots, full_hosts = _split(full_hits)
    inc_n, inc_robots, inc_hosts = _split(inc_hits)
    second = {row[1]: row for row in per_run[len(per_run) // 2:]}
    list_urls = sum(len(s.lists) for s in sources)
    return {
        "sources": len(sources),
        "sources_without_recording": [s.name for s in enabled if s not in sources],
        "list_urls": list_urls,
        "items_stored": items,
        "full_requests": full_n,
        "full_robots_requests": full_robots,
        "full_seconds": round(full.seconds, 2),
        "full_cpu_seconds": round(full.cpu, 2),
        "incremental_requests": inc_n,
        "incremental_robots_requests": inc_robots,
        "incremental_seconds": round(inc.seconds, 2),
        "incremental_cpu_seconds": round(inc.cpu, 2),
        "requests_per_list_url": round(inc_n / max(list_urls, 1), 2),
        "ratio": round(full_n / max(inc_n, 1), 2),
        "incremental_statuses": dict(Counter(row[2] for row in second.values())),
        "per_host": {h: [full_hosts.get(h, 0), inc_hosts.get(h, 0)] for h in sorted(set(full_hosts) | set(inc_hosts))},
        "incremental_not_304": sorted(
            f"{name}: {row[3]} list pages, {row[4]} unchanged, {row[9]} requests"
            for name, row in second.items() if row[3] > row[4]
        ),
        "incremental_urls": sorted(k for k in inc_hits if not k.endswith("/robots.txt")),
    }


def recorded() -> dict:
    tmp = temp_dir("incremental")
    try:
        shutil.copytree(SITES, tmp / "sites")
        shutil.copytree(WATCHLISTS, tmp / "watchlists")
        return _full_then_unchanged(tmp, tmp / "sites", tmp / "watchlists")
    finally:
        cleanup(tmp)


def volume(pages: int = 3) -> dict:
    from fixture import generate

    tmp = temp_dir("incremental-volume")
    try:
        fixture = generate(tmp, 2 * pages * REAL_PER_PAGE, per_page=REAL_PER_PAGE, own_limits=True)
        result = _full_then_unchanged(tmp, fixture.sites, fixture.watchlists)
        return result | {"per_page": REAL_PER_PAGE, "list_pages_generated": fixture.list_pages, "mean_kb": round(fixture.mean_kb, 1)}
    finally:
        cleanup(tmp)


def run(quick: bool) -> dict:
    real, big = recorded(), volume()
    return {
        "incremental_request_ratio": big["ratio"],
        "incremental_request_ratio_recorded": real["ratio"],
        "requests_per_list_url": real["requests_per_list_url"],
        "recorded": real,
        "volume": big,
    }


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), ensure_ascii=False, indent=1))
