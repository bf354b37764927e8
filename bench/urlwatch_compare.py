"""An unchanged check of every list page: cnst-radar next to urlwatch, through the same proxy.

Usage::

    python bench/urlwatch_compare.py [--urlwatch PATH] [--repeat 3]

urlwatch is the reference for "check a list of pages for changes": one process, requests,
conditional GETs. Both tools get the same list URLs (every enabled source with a recording in
crawler/sites) from the same fake internet (crawler/replay.py). Each does one warm-up run (which
fills its cache: urlwatch's snapshots, our items and list-page validators), then `--repeat` runs
with nothing changed; the figures are the medians of those, for the whole process tree (wait4):
CPU seconds, wall seconds, peak RSS, and the requests the fake internet answered. Both run
with their Python bytecode cached, as installed (PYTHONDONTWRITEBYTECODE is dropped).

urlwatch is not a dependency of the project: install it anywhere (`python3 -m venv /tmp/uw &&
/tmp/uw/bin/pip install urlwatch`) and pass `--urlwatch /tmp/uw/bin/urlwatch`, or put it on PATH.
Without it only cnst-radar's side is printed.

Last figures, what was cut and what cnst-radar's CPU is still spent on (imports ~2 s, then one
Scrapy crawler for all sources): bench/NOTES.md, "An unchanged check next to urlwatch".
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
from collections import Counter
from pathlib import Path

import yaml

# bench/ goes last on the path: bench/incremental.py must not shadow Twisted's `incremental` package.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]

from harness import SITES, WATCHLISTS, Measured, cleanup, crawl_command, radar_env, run_measured, table, temp_dir  # noqa: E402


def _list_urls(sources: list) -> list[str]:
    return [entry.url for source in sources for entry in source.lists]


def _urlwatch_files(tmp: Path, urls: list[str], proxy: str) -> list[str]:
    """A urls.yaml with one job per list URL, sent through the fake internet (whose CA is
    throwaway, hence no verification), and a config that reports nothing anywhere."""
    jobs = [{"url": url, "http_proxy": proxy, "https_proxy": proxy, "ssl_no_verify": True} for url in urls]
    (tmp / "urls.yaml").write_text(yaml.safe_dump_all(jobs), encoding="utf-8")
    config = {"display": {"new": True, "error": True, "unchanged": False},
              "report": {"stdout": {"enabled": False}, "text": {}, "html": {}, "markdown": {}}}
    (tmp / "urlwatch.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return ["--urls", str(tmp / "urls.yaml"), "--config", str(tmp / "urlwatch.yaml"), "--cache", str(tmp / "cache.db")]


def _measure(command: list[str], env: dict[str, str], cwd: Path, internet, repeat: int) -> tuple[list[Measured], list[int]]:
    warm = run_measured(command, env, cwd)
    if warm.returncode not in (0, 1):
        raise RuntimeError(f"{command[:3]} exited {warm.returncode}: {warm.stderr[-2000:]}")
    runs, requests = [], []
    for _ in range(repeat):
        internet.hits.clear()
        runs.append(run_measured(command, env, cwd))
        requests.append(sum(n for url, n in Counter(internet.hits).items() if not url.endswith("/robots.txt")))
    return runs, requests


def _summary(runs: list[Measured], requests: list[int]) -> dict:
    return {
        "cpu_seconds": round(statistics.median(r.cpu for r in runs), 2),
        "wall_seconds": round(statistics.median(r.seconds for r in runs), 2),
        "peak_rss_mb": round(statistics.median(r.max_rss_mb for r in runs), 1),
        "requests": int(statistics.median(requests)),
    }


def run(urlwatch: str | None, repeat: int) -> dict:
    from crawler.replay import FakeInternet
    from crawler.watchlist import load_sources

    tmp = temp_dir("urlwatch-compare")
    try:
        shutil.copytree(SITES, tmp / "sites")
        with FakeInternet(tmp / "sites") as internet:
            recorded = set(internet.hosts())
            sources = [s for s in load_sources(WATCHLISTS / "sources") if s.enabled and s.hosts <= recorded]
            env = radar_env(tmp, f"sqlite:///{tmp / 'radar.sqlite'}", WATCHLISTS, internet.address)
            # Both tools as installed: urlwatch's bytecode was compiled by pip, ours is written by
            # the warm-up run. With PYTHONDONTWRITEBYTECODE (set on some build machines) each of
            # our runs would compile the project's ~60 modules from source again (~0.1 s of CPU).
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            args = [a for s in sources for a in ("--source", s.name)]
            result = {"sources": len(sources), "list_urls": len(_list_urls(sources)),
                      "cnst_radar": _summary(*_measure(crawl_command("run", *args), env, tmp, internet, repeat))}
            if urlwatch:
                files = _urlwatch_files(tmp, _list_urls(sources), internet.address)
                plain = {k: v for k, v in env.items() if not k.startswith("RADAR_")} | {"HOME": str(tmp / "uw-home")}
                result["urlwatch"] = _summary(*_measure([urlwatch, *files], plain, tmp, internet, repeat))
        return result
    finally:
        cleanup(tmp)


def _ratios(result: dict) -> dict:
    ours, theirs = result["cnst_radar"], result.get("urlwatch")
    if not theirs:
        return {}
    return {key: round(ours[key] / theirs[key], 2) for key in ("cpu_seconds", "wall_seconds", "peak_rss_mb") if theirs[key]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--urlwatch", default=os.environ.get("URLWATCH") or shutil.which("urlwatch"),
                        help="the urlwatch executable (default: $URLWATCH, else urlwatch on PATH)")
    parser.add_argument("--repeat", type=int, default=3, help="unchanged runs per tool; medians are printed")
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    result = run(options.urlwatch, options.repeat)
    result["ratio_radar_to_urlwatch"] = _ratios(result)
    if options.json:
        print(json.dumps(result, indent=1))
        return
    print(f"{result['sources']} sources, {result['list_urls']} list URLs, unchanged; medians of {options.repeat} runs\n")
    rows = [[tool, *result[key].values()] for tool, key in (("cnst-radar", "cnst_radar"), ("urlwatch", "urlwatch")) if key in result]
    print(table(rows, ["tool", "CPU s", "wall s", "peak RSS MB", "requests"]))
    if result["ratio_radar_to_urlwatch"]:
        print("\ncnst-radar / urlwatch:", ", ".join(f"{k} {v}×" for k, v in result["ratio_radar_to_urlwatch"].items()))
    else:
        print("\n(urlwatch not found: pass --urlwatch PATH to measure it side by side)")


if __name__ == "__main__":
    main()
