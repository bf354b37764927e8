"""Issue import at archive scale (issue 19), the title lookup alone: what a cited title costs as
the archive grows, without bench/archive_scale.py's whole build.

An items-only SQLite archive per size (default 10⁵ and 10⁶) under --dir (default /tmp/v2):
titles and bodies as archive_scale.build makes them (its ``_title``, fixture.sentence_pool,
its status mix and items a day), no signatures, digests or triage. The search indexes are
filled in bulk once the items are written — what the migrations' insert triggers would have
written, about four times cheaper than row by row. A built archive is reused
(``archive-N.sqlite`` with a ``.done`` marker); a size whose build exceeds --build-limit
seconds is abandoned and the sizes after it skipped.

Then, per size, in a child process (CPU from wait4, peak RSS from /proc VmHWM: harness.
run_measured): for each fixture issue (tests/fixtures/reports), stored into the archive, each
cited title's lookup — the items the index names (desk.issues.lookup.asked, storage.search.
sharing_trigrams) and the CPU it costs — then the whole ``mark_covered`` (wall and CPU). A
second run re-imports the same issues (each replaces itself); the few items the first covered
stay covered. Printed as JSON with the growth ratios between consecutive sizes. Run it under ``nice -n 10``.
Figures, and what they were measured on: bench/NOTES.md.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import Connection, text

_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]

from archive_scale import PER_DAY, REPORTS, STATUS_MIX, _title  # noqa: E402
from harness import ROOT, machine, radar_env, run_measured  # noqa: E402

CHUNK = 5_000
# SQLite's default 2 MB page cache: once the items' nine indexes outgrow it, every insert reads
# pages back (10⁴ built in 23 s, 10⁵ in 725 s).
CACHE_KB = 512 * 1024
NOW = datetime(2026, 11, 30, tzinfo=timezone.utc)  # the archive ends here; nothing reads the clock


def build(url: str, size: int, limit: float, seed: int = 5) -> float | None:
    """Write ``size`` items; the seconds it took, or None when it passed ``limit``."""
    from sqlalchemy import insert

    from fixture import sentence_pool
    from storage.db import ensure_schema, get_engine, refresh_statistics
    from storage.models import Item, Source

    started = time.perf_counter()
    ensure_schema(url)
    rng, sentences = random.Random(seed), sentence_pool()
    engine = get_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(Source), [{"name": f"source{n}", "label": f"Source {n}", "kind": "html_list", "health": "ok"} for n in range(30)])
        triggers = _drop_index_triggers(conn)
    for low in range(0, size, CHUNK):
        if time.perf_counter() - started > limit:
            return None
        rows = []
        for n in range(low, min(low + CHUNK, size)):
            seen, url_n = NOW - timedelta(days=(size - n) / PER_DAY), f"https://archive.example.cn/{n + 1:08d}.html"
            rows.append({"id": n + 1, "source_id": 1 + n % 30, "url": url_n, "canonical_url": url_n, "title": _title(rng, sentences, n),
                         "body": "".join(rng.sample(sentences, 4)), "published_at": seen, "first_seen_at": seen, "updated_at": seen,
                         "content_hash": f"{n + 1:064x}", "status": STATUS_MIX[n % len(STATUS_MIX)], "language": "zh"})
        with engine.begin() as conn:
            conn.execute(text(f"PRAGMA cache_size = -{CACHE_KB}"))
            conn.execute(insert(Item), rows)
    with engine.begin() as conn:
        conn.execute(text(f"PRAGMA cache_size = -{CACHE_KB}"))
        _index_in_bulk(conn, triggers)
        refresh_statistics(conn)
    engine.dispose()
    return round(time.perf_counter() - started, 1)


INDEX_TRIGGERS = ("items_fts_insert", "items_lead_fts_insert")  # migrations 0010 and 0013


def _drop_index_triggers(conn: Connection) -> list[str]:
    """The search indexes' insert triggers cost ~0.75 ms an item; filled in bulk afterwards
    (``_index_in_bulk``) they cost ~0.2 ms. Returns their SQL, to recreate them."""
    found = [conn.scalar(text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :name"), {"name": name})
             for name in INDEX_TRIGGERS]
    for name in INDEX_TRIGGERS:
        conn.execute(text(f"DROP TRIGGER {name}"))
    return found


def _index_in_bulk(conn: Connection, triggers: list[str]) -> None:
    """What the dropped triggers would have written: every item's title, origin and body, and
    its lead (storage.search.LEAD_SQL, the expression migration 0013 indexes)."""
    from storage.search import FTS_TABLE, LEAD_FTS_TABLE, LEAD_SQL

    conn.execute(text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')"))
    conn.execute(text(f"INSERT INTO {LEAD_FTS_TABLE}(rowid, lead) SELECT id, {LEAD_SQL} FROM items"))
    for sql in triggers:
        conn.execute(text(sql))


def measure(url: str) -> dict:
    """In the child: each issue stored, its cited titles looked up one by one, then mark_covered."""
    from desk import issues, similarity
    from desk.issues import lookup
    from storage import search
    from storage.db import transaction

    figures: dict = {"issues": []}
    for path in REPORTS:
        report = issues.parse_report(issues.read_report_text(path), str(path))
        with transaction(url) as session:
            issue, _ = issues.store(session, report)
        titles = sorted({ref.title for story in report.stories for ref in story.references if ref.title}
                        | {ref.title for brief in report.briefs for ref in brief.references if ref.title})
        per_title, counted = [], search.Counted()  # shared by the issue's lookups, as mark_covered shares it
        for title in titles:
            key_length = len(similarity.title_key(title))
            groups, in_title, in_lead = lookup.asked(title, key_length)
            cpu = time.process_time()
            with transaction(url) as session:
                named = search.sharing_trigrams(session, groups, in_title, in_lead, counted=counted,
                                                lead_letters=lookup.most_lead_letters(key_length)) if groups else None
            per_title.append({"title": title, "groups": len(groups), "in_title": in_title, "in_lead": in_lead,
                              "named": None if named is None else len(named.all()), "cpu_ms": round((time.process_time() - cpu) * 1000, 1)})
        cpu, wall = time.process_time(), time.perf_counter()
        covered = issues.mark_covered(url, issue.id)
        figures["issues"].append({
            "issue": path.stem, "titles": len(titles), "named": sum(t["named"] or 0 for t in per_title),
            "lookup_cpu_s": round(sum(t["cpu_ms"] for t in per_title) / 1000, 2),
            "mark_covered_s": round(time.perf_counter() - wall, 2), "mark_covered_cpu_s": round(time.process_time() - cpu, 2),
            "covered": covered, "per_title": per_title,
        })
    return figures


def _size(size: int, directory: Path, limit: float) -> dict | None:
    database = directory / f"archive-{size}.sqlite"
    url, done = f"sqlite:///{database}", directory / f"archive-{size}.done"
    figures: dict = {"items": size}
    if not done.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        seconds = build(url, size, limit)
        if seconds is None:
            print(f"{size:,} items: build passed {limit:.0f} s, abandoned", file=sys.stderr)
            return None
        done.write_text(str(seconds))
    figures |= {"build_seconds": float(done.read_text()), "database_mb": round(database.stat().st_size / 2**20, 1), "load": os.getloadavg()[0]}
    env = radar_env(directory, url, ROOT / "watchlists")
    child = run_measured([sys.executable, __file__, "--measure", url], env, directory)
    if child.returncode != 0:
        raise RuntimeError(f"measure failed:\n{child.stderr[-3000:]}")
    return figures | {"child_cpu_s": round(child.cpu, 2), "child_wall_s": round(child.seconds, 2), "peak_mb": round(child.max_rss_mb, 1),
                      "load_after": os.getloadavg()[0]} | json.loads(child.stdout)


GROWN = ("named", "lookup_cpu_s", "mark_covered_s", "mark_covered_cpu_s")


def _growth(before: dict, after: dict) -> dict:
    ratios: dict = {"sizes": f"{before['items']:,} → {after['items']:,}", "peak_mb": round(after["peak_mb"] / before["peak_mb"], 2)}
    for old, new in zip(before["issues"], after["issues"]):
        ratios[new["issue"]] = {key: round(new[key] / old[key], 2) if old[key] else None for key in GROWN}
    return ratios


def run(sizes: list[int], directory: Path, limit: float) -> dict:
    directory.mkdir(parents=True, exist_ok=True)
    results = []
    for size in sizes:
        figures = _size(size, directory, limit)
        if figures is None:
            break
        results.append(figures)
        print(json.dumps({k: v for k, v in figures.items() if k != "issues"}), file=sys.stderr, flush=True)
    return {"machine": machine(), "results": results, "growth": [_growth(a, b) for a, b in zip(results, results[1:])]}


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--measure":
        print(json.dumps(measure(sys.argv[2]), ensure_ascii=False))
    else:
        import argparse

        parser = argparse.ArgumentParser(description="Issue import at archive scale: the cited titles' lookup at 10⁵ and 10⁶ items.")
        parser.add_argument("--sizes", default="100000,1000000", help="comma-separated archive sizes")
        parser.add_argument("--dir", default="/tmp/v2", type=Path, help="where the archives are built and kept")
        parser.add_argument("--build-limit", default=900.0, type=float, help="seconds a build may take before it is abandoned")
        options = parser.parse_args()
        print(json.dumps(run([int(s) for s in options.sizes.split(",")], options.dir, options.build_limit), ensure_ascii=False, indent=1))
