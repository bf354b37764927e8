"""Years of archive (issue 19): what editors wait for as the archive grows.

For each size (10⁴, 10⁵, 10⁶ items; --quick: 10⁴ and 10⁵) and each backend (SQLite; PostgreSQL
when RADAR_BENCH_POSTGRES_URL or RADAR_TEST_POSTGRES_URL names a server we may create
databases on) an archive is written in bulk through the project's schema (bench/bulk_load.py:
triggers and secondary indexes rebuilt once after the load, the schema then checked against
``ensure_schema``'s):

- items: headline-sized pieces of the recorded articles' sentences, numbered apart, bodies
  drawn from the same sentences; a constant ~300 items a day, so a larger archive is
  a longer history (10⁶ ≈ 9 years) while every week holds the same ~2,100 items;
  verdicts 60 % new, 10 % follow-up, 20 % duplicate, 10 % covered;
- signatures and LSH bands by bench/diff_scale.py's family model (real MinHashes cost ~4 ms each);
- 90 days of daily digests (outbox rows, 150 deliveries each), triage on 30 % of candidates;
- the three fixture report issues (tests/fixtures/reports) imported.

Then, per archive, in child processes (peak RSS from /proc VmHWM, see harness.run_measured):
`crawl issues import` of one issue (wall, CPU, peak memory); and, medians of 5 after a
warm-up: workspace search over all time for a common term, a rare one and one found nowhere
(GET /?period=all&q=…, Flask test client), the inbox (GET /: the week; over all time,
/?period=all, and for one source), the draft (GET /draft), the digest --dry-run query
(scheduler.digest.build), the `items --new` query (storage.queries.find_items), the Sources
page (GET /sources), /metrics (scheduler.status.metrics) and store+judge per new item (insert
+ desk.verdicts.judge, as the store pipeline does; deleted afterwards, so that a kept archive
stays as built). Printed as JSON, with growth ratios between consecutive sizes.

`--sizes 1000000` picks the sizes (comma-separated); `--only import` measures the issue import
alone (the build still costs what it costs: 7.7 s CPU per 10⁴ items, 86 s wall at load 15).
`--build URL --sizes N` builds one archive and keeps it; `--existing URL` (repeatable, smallest
first; `--no-import` for the pages alone) measures kept archives, with growth ratios;
`--rounds N` measures them N times in turn and prints medians with their range: a single run's
pages (tens of milliseconds) move between runs by as much as a growth of 1.5× would.
Figures, and what they were measured on: bench/NOTES.md.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]

from harness import ROOT, cleanup, crawl_command, machine, radar_env, run_measured, temp_dir  # noqa: E402

PER_DAY = 300  # items a day: 30–300 sources at a few to tens of items a day
CHUNK = 5_000
FAMILIES, KEEP = 200, 0.45  # diff_scale.py's family model of signatures
DIGEST_DAYS, DELIVERED_PER_DIGEST = 90, 150
TRIAGED = 0.3
NEW_ITEMS = 30  # stored and judged per measurement, then deleted
REPORTS = sorted((ROOT / "tests" / "fixtures" / "reports").glob("*.txt"))
STATUS_MIX = ["new"] * 6 + ["follow_up"] + ["duplicate"] * 2 + ["covered"]
SEARCH = "人工智能"


# -- building ---------------------------------------------------------------------------
def build(url: str, size: int, now: datetime, seed: int = 5) -> dict:
    """An archive of ``size`` items ending at ``now``; returns build figures. Rows go in through
    bench/bulk_load.py (triggers and secondary indexes away during the load, rebuilt once), and
    the schema afterwards must be the one ``ensure_schema`` made, definition for definition."""
    import numpy as np
    from sqlalchemy import insert

    from bulk_load import BulkLoader, schema_objects
    from desk import similarity
    from fixture import sentence_pool
    from storage.db import ensure_schema, get_engine, refresh_statistics
    from storage.models import Item, ItemBand, ItemSignature, Source
    from storage.slices import add_slice_indexes

    started = time.perf_counter()
    ensure_schema(url)
    fresh_schema = schema_objects(url)
    rng, np_rng = random.Random(seed), np.random.default_rng(seed)
    sentences = sentence_pool()
    bases = np.stack([similarity.signature("", " ".join(rng.sample(sentences, 8))) for _ in range(FAMILIES)])
    with get_engine(url).begin() as conn:
        conn.execute(insert(Source), [{"name": f"source{n}", "label": f"Source {n}", "kind": "html_list", "health": "ok"} for n in range(30)])
    tables = [Item.__table__, ItemSignature.__table__, ItemBand.__table__]
    with BulkLoader(url, tables) as load:
        for low in range(0, size, CHUNK):
            high = min(low + CHUNK, size)
            fresh = np_rng.exponential(2**32 / 1500, size=(high - low, similarity.NUM_PERM)).astype(np.uint64)
            keep = np_rng.random((high - low, similarity.NUM_PERM)) < KEEP
            values = np.where(keep, bases[np.arange(low, high) % FAMILIES], fresh)
            load.rows(tables[0], ITEM_COLUMNS, [_item_row(rng, sentences, n, size, now) for n in range(low, high)])
            load.rows(tables[1], ("item_id", "minhash"), [(n + 1, similarity.pack(values[n - low])) for n in range(low, high)])
            load.rows(tables[2], ("band", "item_id"), [(band, n + 1) for n in range(low, high) for band in similarity.band_keys(values[n - low])])
    loaded = time.perf_counter() - started
    _desk_history(url, size, now, rng)
    _fix_sequences(url)
    if schema_objects(url) != fresh_schema:
        raise RuntimeError(f"the bulk load left a schema unlike ensure_schema's: {sorted(set(schema_objects(url).items()) ^ set(fresh_schema.items()))}")
    add_slice_indexes(url)  # what the daily clean-up does for the slices of ids the load reached
    with get_engine(url).begin() as conn:
        refresh_statistics(conn)
    return {"build_seconds": round(time.perf_counter() - started, 1), "bulk_load_seconds": round(loaded, 1)}


ITEM_COLUMNS = ("id", "source_id", "url", "canonical_url", "title", "body", "published_at", "first_seen_at", "updated_at", "content_hash",
                "status", "score", "language")


def _item_row(rng: random.Random, sentences: list[str], n: int, size: int, now: datetime) -> tuple:
    """Item ``n`` (0-based) of ``size``, in ITEM_COLUMNS' order: seen PER_DAY a day up to ``now``."""
    item_id, seen = n + 1, now - timedelta(days=(size - n) / PER_DAY)
    link = f"https://archive.example.cn/{item_id:08d}.html"
    return (item_id, 1 + n % 30, link, link, _title(rng, sentences, n), "".join(rng.sample(sentences, 4)), seen, seen, seen,
            f"{item_id:064x}", STATUS_MIX[n % len(STATUS_MIX)], rng.random(), "zh")


def _title(rng: random.Random, sentences: list[str], n: int) -> str:
    """A headline-like piece of a recorded sentence: the fixtures' own titles would make every
    archived item a reprint of a story the fixture issues cite, and each import cover thousands."""
    sentence = rng.choice(sentences)
    start = rng.randrange(max(len(sentence) - 24, 1))
    return f"{sentence[start:start + rng.randint(14, 30)]}（{n}）"


def _desk_history(url: str, size: int, now: datetime, rng: random.Random) -> None:
    """90 days of digests with their deliveries, triage on 30 % of candidates, the fixture issues."""
    from sqlalchemy import insert, select

    from desk import issues
    from scheduler.web.auth import add_user
    from storage.db import get_engine, transaction
    from storage.models import NEWS, Delivery, Item, OutboxMessage, Triage

    with transaction(url) as session:
        editor = add_user(session, "editor", "bench password").id
        for report in REPORTS:
            issues.store(session, issues.parse_report(issues.read_report_text(report), str(report)))
        candidates = session.execute(select(Item.id, Item.first_seen_at).where(Item.status.in_(NEWS))).all()
    outbox, deliveries = [], []
    for day in range(min(DIGEST_DAYS, int(size / PER_DAY))):
        at = now - timedelta(days=day)
        outbox.append({"id": day + 1, "kind": "digest", "dedupe_key": f"digest:{at:%Y-%m-%d}", "tag": "", "title": "digest", "body_text": "",
                       "body_markdown": "", "body_html": "", "created_at": at, "next_attempt_at": at, "sent_at": at, "attempts": 1})
        first = max(size - int((day + 1) * PER_DAY), 0)
        deliveries += [{"item_id": first + k + 1, "kind": "digest", "tag": "", "outbox_id": day + 1, "created_at": at}
                       for k in range(min(DELIVERED_PER_DIGEST, PER_DAY))]
    triage = [{"item_id": item_id, "decision": rng.choice(("pick", "skip", "skip", "later")), "user_id": editor, "at": min(seen + timedelta(hours=20), now)}
              for item_id, seen in candidates if rng.random() < TRIAGED]
    with get_engine(url).begin() as conn:
        for model, rows in ((OutboxMessage, outbox), (Delivery, deliveries), (Triage, triage)):
            for low in range(0, len(rows), CHUNK):
                conn.execute(insert(model), rows[low:low + CHUNK])


def _fix_sequences(url: str) -> None:
    """Rows were written with explicit ids: PostgreSQL's sequences must move past them."""
    from sqlalchemy import text

    from storage.db import get_engine

    engine = get_engine(url)
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        for table in ("items", "outbox"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))


# -- measuring (child process) ------------------------------------------------------------
def _median_ms(action, runs: int = 5) -> float:  # type: ignore[no-untyped-def]
    """The median of ``runs`` timed calls after one untimed: the first request of a page pays for
    what any archive size pays once (templates compiled, a connection opened, caches filled)."""
    action()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1)


def measure(url: str, data_dir: Path, out: Path) -> None:
    """Editor pages and queries, and store+judge per new item, against the archive at ``url``."""
    import re
    from zoneinfo import ZoneInfo

    from common.settings import get_settings
    from scheduler import digest, status
    from scheduler.web import create_app
    from storage import queries
    from storage.db import transaction

    config = get_settings(database_url=url, data_dir=data_dir)
    app = create_app(config, SECRET_KEY="bench")
    client = app.test_client()
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").text).group(1)
    assert client.post("/login", data={"username": "editor", "password": "bench password", "csrf_token": token}).status_code == 302

    def page(path: str) -> None:
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
        sizes[path] = len(answer.data)

    def query(action) -> None:  # type: ignore[no-untyped-def]
        with transaction(url) as session:
            action(session)

    sizes: dict[str, int] = {}
    now, tz = datetime.now(timezone.utc), ZoneInfo(config.timezone)
    # SEARCH is in a third of the items (the newest 501 matches are ranked); ``rare``, from one
    # sentence of the pool, in 0.8 %; ``nowhere`` is two common words that never meet, so every
    # item must be ruled out.
    rare, nowhere = "产品贸易", "科技创新碳排放"
    result = {
        "search_ms": _median_ms(lambda: page(f"/?period=all&q={SEARCH}")),
        "search_rare_ms": _median_ms(lambda: page(f"/?period=all&q={rare}")),
        "search_nowhere_ms": _median_ms(lambda: page(f"/?period=all&q={nowhere}")),
        "inbox_ms": _median_ms(lambda: page("/")),
        "inbox_all_ms": _median_ms(lambda: page("/?period=all")),
        "inbox_source_ms": _median_ms(lambda: page("/?period=all&source=source1")),
        "draft_ms": _median_ms(lambda: page("/draft")),
        "digest_query_ms": _median_ms(lambda: query(lambda s: digest.build(s, now, tz))),
        "items_new_query_ms": _median_ms(lambda: query(lambda s: queries.find_items(s, status="news", limit=200))),
        "sources_ms": _median_ms(lambda: page("/sources")),
        "metrics_ms": _median_ms(lambda: status.metrics(url)),
        "store_judge_ms": _store_and_judge(url),
    }
    result["page_bytes"] = sizes
    out.write_text(json.dumps(result))


def _store_and_judge(url: str) -> float:
    """Milliseconds per new item: its own transaction, the URL lookup, insert, judge (store pipeline).

    The items are deleted afterwards: each run stored the same 30 again, and after a few dozen
    runs the newest ids of a kept archive were those copies, not the archive built."""
    from sqlalchemy import delete

    from desk import verdicts
    from desk.tagging import load_taxonomy
    from fixture import sentence_pool
    from storage import queries
    from storage.db import transaction
    from storage.models import Item, utcnow

    authority = load_taxonomy(ROOT / "watchlists" / "topics.yml").authority
    rng, sentences = random.Random(9), sentence_pool()
    times, stored = [], []
    for n in range(NEW_ITEMS):
        link = f"https://new.example.cn/{uuid.uuid4().hex}.html"
        start = time.perf_counter()
        with transaction(url) as session:
            assert queries.item_by_url(session, link) is None
            item = Item(source_id=1, url=link, canonical_url=link, title=_title(rng, sentences, -1 - n), body="".join(rng.sample(sentences, 4)),
                        content_hash="0" * 64, first_seen_at=utcnow(), updated_at=utcnow())
            session.add(item)
            session.flush()
            verdicts.judge(session, item, authority)
        times.append((time.perf_counter() - start) * 1000)
        stored.append(item.id)
    with transaction(url) as session:
        session.execute(delete(Item).where(Item.id.in_(stored)))
    return round(statistics.median(times), 2)


# -- orchestration ------------------------------------------------------------------------
def _backends(tmp: Path) -> list[tuple[str, str, object]]:
    """(name, URL, teardown) per backend under test."""
    found: list[tuple[str, str, object]] = [("sqlite", f"sqlite:///{tmp / 'archive.sqlite'}", None)]
    server = os.environ.get("RADAR_BENCH_POSTGRES_URL") or os.environ.get("RADAR_TEST_POSTGRES_URL")
    if server:
        from sqlalchemy import create_engine, text

        name = f"radar_bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(server.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))

        def drop() -> None:
            from storage.db import get_engine

            get_engine(server.rsplit("/", 1)[0] + f"/{name}").dispose()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

        found.append(("postgresql", server.rsplit("/", 1)[0] + f"/{name}", drop))
    return found


def _one(backend: str, url: str, size: int, tmp: Path, import_only: bool = False) -> dict:
    now = datetime.now(timezone.utc)
    figures = {"backend": backend, "items": size} | build(url, size, now)
    return figures | _measured(url, tmp, pages=not import_only)


def _measured(url: str, tmp: Path, issue_import: bool = True, pages: bool = True) -> dict:
    """The database's size, then the issue import and the editor pages (each unless told not)."""
    from storage.db import get_engine, transaction
    from storage.stats import database_bytes

    figures: dict = {}
    with transaction(url) as session:
        figures["database_mb"] = round((database_bytes(session) or 0) / 2**20, 1)
    get_engine(url).dispose()
    env = radar_env(tmp, url, ROOT / "watchlists", RADAR_DATA_DIR=str(tmp / "data"))
    if issue_import:
        imported = run_measured(crawl_command("issues", "import", str(REPORTS[-1])), env, tmp)
        if imported.returncode != 0:
            raise RuntimeError(f"issues import failed:\n{imported.stderr[-3000:]}")
        figures |= {"import_seconds": round(imported.seconds, 2), "import_cpu_seconds": round(imported.cpu, 2), "import_peak_mb": round(imported.max_rss_mb, 1)}
    return figures | _pages(url, tmp, env) if pages else figures


def _pages(url: str, tmp: Path, env: dict[str, str]) -> dict:
    out = tmp / "measured.json"
    child = run_measured([sys.executable, __file__, "--measure", url, str(tmp / "data"), str(out)], env, tmp)
    if child.returncode != 0:
        raise RuntimeError(f"measure failed:\n{child.stderr[-3000:]}")
    return json.loads(out.read_text())


def _reset(backend: str, url: str) -> None:
    """An empty schema for the next size (rebuilding is simpler than growing in place)."""
    from storage.db import get_engine

    engine = get_engine(url)
    if backend == "sqlite":
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        return
    # The benchmark's own database: the schema goes whole, with what the migrations made beside
    # the models (the lead table, tallies, triggers, pg_trgm), which drop_all would trip over.
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


GROWN = ("import_seconds", "import_cpu_seconds", "import_peak_mb", "search_ms", "search_rare_ms", "search_nowhere_ms", "inbox_ms",
         "inbox_all_ms", "inbox_source_ms", "draft_ms", "digest_query_ms", "items_new_query_ms", "sources_ms", "metrics_ms", "store_judge_ms")


def run(sizes: list[int], import_only: bool = False) -> dict:
    tmp = temp_dir("archive")
    results: list[dict] = []
    try:
        for backend, url, drop in _backends(tmp):
            try:
                for size in sizes:
                    results.append(_one(backend, url, size, tmp, import_only))
                    print(json.dumps(results[-1], ensure_ascii=False), file=sys.stderr, flush=True)
                    _reset(backend, url)
            finally:
                if drop:
                    drop()  # type: ignore[operator]
    finally:
        cleanup(tmp)
    return _report(results)


def run_existing(urls: list[str], with_import: bool, rounds: int = 1) -> dict:
    """Measure archives built earlier (``--build``), in the order given, without rebuilding,
    ``rounds`` times: each round takes every archive in turn, so a machine whose speed drifts
    (a neighbour's load, the evening) drifts for all sizes alike, and each figure is the median
    of its rounds, with their range (``spread``) when there are several."""
    from storage.db import transaction
    from storage.models import Item

    tmp, runs = temp_dir("archive"), {url: [] for url in urls}
    try:
        sizes = {}
        for url in urls:
            with transaction(url) as session:
                sizes[url] = session.query(Item).count()
        for round_number in range(1, rounds + 1):
            for url in urls:
                runs[url].append(_measured(url, tmp, issue_import=with_import))
                print(json.dumps({"round": round_number, "items": sizes[url]} | runs[url][-1], ensure_ascii=False), file=sys.stderr, flush=True)
    finally:
        cleanup(tmp)
    return _report([{"backend": url.split(":", 1)[0], "items": sizes[url]} | _medians(runs[url]) for url in urls])


def _medians(runs: list[dict]) -> dict:
    """One archive's figures over its rounds: the median of each timed figure (and its range
    when there are several rounds); sizes as the last round measured them."""
    figures = dict(runs[-1])
    for key in GROWN:
        values = [run[key] for run in runs if key in run]
        if values:
            figures[key] = round(statistics.median(values), 2)
            if len(values) > 1:
                figures.setdefault("spread", {})[key] = [min(values), max(values)]
    return figures


def _report(results: list[dict]) -> dict:
    growth = []
    for before, after in zip(results, results[1:]):
        if before["backend"] == after["backend"]:
            growth.append({"backend": after["backend"], "sizes": f"{before['items']:,} → {after['items']:,}"}
                          | {key: round(after[key] / before[key], 2) if before[key] else None for key in GROWN if key in after})
    return {"machine": machine(), "per_day": PER_DAY, "search": SEARCH, "results": results, "growth": growth}


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--measure":
        measure(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
    else:
        import argparse

        parser = argparse.ArgumentParser(description="Years of archive: editor actions at 10⁴–10⁶ items.")
        parser.add_argument("--quick", action="store_true", help="10⁴ and 10⁵ items only")
        parser.add_argument("--sizes", help="comma-separated archive sizes, e.g. 1000000 (overrides --quick)")
        parser.add_argument("--only", choices=["import"], help="measure only `crawl issues import`, not the editor pages")
        parser.add_argument("--build", metavar="URL", help="build one archive (--sizes, one size) at URL, keep it, measure nothing")
        parser.add_argument("--existing", metavar="URL", action="append", help="measure this archive as it is (repeatable, smallest first)")
        parser.add_argument("--no-import", action="store_true", help="with --existing: the pages only, not `crawl issues import`")
        parser.add_argument("--rounds", type=int, default=1, metavar="N",
                            help="with --existing: measure N times, the archives in turn each round; figures are medians (5 tell growth from drift)")
        options = parser.parse_args()
        sizes = [10_000, 100_000] if options.quick else [10_000, 100_000, 1_000_000]
        if options.sizes:
            sizes = [int(size) for size in options.sizes.split(",")]
        if options.build:
            print(json.dumps(build(options.build, sizes[0], datetime.now(timezone.utc))))
        elif options.existing:
            print(json.dumps(run_existing(options.existing, not options.no_import, options.rounds), ensure_ascii=False, indent=1))
        else:
            print(json.dumps(run(sizes, options.only == "import"), ensure_ascii=False, indent=1))
