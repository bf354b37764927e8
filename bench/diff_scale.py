"""Diff at scale: 1,000 new items judged against archives of growing size.

The archive is written straight into SQLite through the project's schema (Alembic) with bulk
inserts. Its signatures follow a family model, since computing 10⁶ real MinHashes would take
hours (~4 ms each, mostly OpenCC): F "families" (a ministry's notices, which share boilerplate)
each get a real base signature — ``desk.similarity.signature`` of the family's boilerplate — and
every archived member keeps each base value with probability q, else draws a fresh one. Two
members then agree on ~q² of the values (estimated Jaccard ≈ 0.2, what distinct notices of one
ministry share), so band collisions grow with the archive as they would in production. The
first R archive items are real texts with real signatures; 10 % of the new items are reprints
of them (a detection check), the rest are new texts of the same families.

Each new item goes through what StorePipeline does: its own transaction, the URL lookup, an
insert, a flush and ``desk.verdicts.judge`` (signature, ``covered``, ``duplicate``, ``index``,
``apply``). Measurement runs in a child process (peak RSS via wait4).
"""

from __future__ import annotations

import json
import random
import re
import shutil
import sqlite3
import os
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

# bench/ goes last on the path: bench/incremental.py must not shadow Twisted's `incremental` package.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]

from harness import cleanup, radar_env, run_measured, temp_dir  # noqa: E402

FAMILIES, KEEP = 200, 0.45
NEW_ITEMS = 1000
CHUNK = 50_000
ARCHIVE_HOST = "https://www.most.gov.cn/bench/"
NEW_HOST = "https://www.stdaily.com/bench/"


# -- texts ------------------------------------------------------------------------------
class Texts:
    def __init__(self, seed: int):
        from fixture import sentence_pool, title_pool

        self.rng = random.Random(seed)
        self.sentences, self.titles = sentence_pool(), title_pool()
        self.boiler = [self._chunk(500, 900) for _ in range(FAMILIES)]

    def _chunk(self, low: int, high: int) -> str:
        want, parts, size = self.rng.randint(low, high), [], 0
        while size < want:
            parts.append(self.rng.choice(self.sentences))
            size += len(parts[-1])
        return "".join(parts)

    def title(self, tag: str) -> str:
        return f"{self.rng.choice(self.titles)}（{tag}）"

    def body(self, family: int) -> str:
        return self.boiler[family] + "\n" + self._chunk(800, 2000)


# -- generation -------------------------------------------------------------------------
def _processors():  # type: ignore[no-untyped-def]
    from sqlalchemy.dialects import sqlite as dialect

    from storage.models import Item

    return Item.__table__.c.first_seen_at.type.bind_processor(dialect.dialect())


def _index_sql(conn: sqlite3.Connection, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    marks = ",".join("?" * len(tables))
    return conn.execute(f"select name, sql from sqlite_master where type='index' and sql is not null and tbl_name in ({marks})", tables).fetchall()


def extend_archive(db: Path, start: int, stop: int, texts: Texts, bases: list, real: int, np_rng) -> dict:  # type: ignore[no-untyped-def]
    """Append archive items [start, stop) with signatures and bands, indexes rebuilt after."""
    import numpy as np

    from desk import similarity as diff

    stamp = _processors()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1000000")
    indexes = _index_sql(conn, ("items", "item_bands"))
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    originals: list[dict] = []
    when = stamp(datetime(2024, 1, 1, tzinfo=timezone.utc))
    old = stamp(datetime(2020, 1, 1, tzinfo=timezone.utc))
    for lo in range(start, stop, CHUNK):
        hi = min(lo + CHUNK, stop)
        items, sigs, bands = [], [], []
        # Synthetic members: base values kept with probability KEEP, else values distributed
        # like real minima (exponential, mean 2³²/1,500 for ~1,500 shingles).
        count = hi - lo
        family = (np.arange(lo, hi) % FAMILIES)
        base = np.stack([bases[f] for f in family])
        fresh = np_rng.exponential(2**32 / 1500, size=(count, diff.NUM_PERM)).astype(np.uint64)
        keep = np_rng.random((count, diff.NUM_PERM)) < KEEP
        values = np.where(keep, base, fresh)
        for offset, index in enumerate(range(lo, hi)):
            item_id = index + 1
            if index < real:
                title, body = texts.title(f"档案{index}"), texts.body(index % FAMILIES)
                minhash = diff.signature(title, body)
                originals.append({"id": item_id, "title": title, "body": body})
            else:
                title, body = texts.title(f"档案{index}"), ""
                minhash = values[offset]
            url = f"{ARCHIVE_HOST}{item_id:09d}.html"
            items.append((item_id, 1, url, url, title, when, old, old, None, body[:200], "zh", f"{item_id:064x}", "new"))
            sigs.append((item_id, diff.pack(minhash)))
            bands.extend((band, item_id) for band in diff.band_keys(minhash))
        conn.executemany(
            "insert into items (id, source_id, url, canonical_url, title, published_at, first_seen_at, updated_at, origin, body, language, content_hash, status) "
            "values (?,?,?,?,?,?,?,?,?,?,?,?,?)", items)
        conn.executemany("insert into item_signatures (item_id, minhash) values (?, ?)", sigs)
        conn.executemany("insert into item_bands (band, item_id) values (?, ?)", bands)
        conn.commit()
    for _, sql in indexes:
        conn.execute(sql)
    conn.commit()
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("ANALYZE")
    conn.close()
    return {"originals": originals}


def new_items(texts: Texts, originals: list[dict], seed: int, count: int = NEW_ITEMS) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        if i % 10 == 0 and originals:  # a reprint: prefixed headline, an edited body
            source = rng.choice(originals)
            body = source["body"]
            cut = rng.randint(int(len(body) * 0.85), len(body))
            out.append({"title": "【转载】" + source["title"], "body": body[:cut] + texts._chunk(60, 200), "reprint_of": source["id"]})
        else:
            out.append({"title": texts.title(f"新{i}"), "body": texts.body(rng.randrange(FAMILIES)), "reprint_of": None})
        out[-1]["url"] = f"{NEW_HOST}{seed}/{i:06d}.html"
    return out


def add_references(db: Path, count: int, texts: Texts) -> None:
    """Past report issues: ~40 cited references per weekly issue."""
    from desk import similarity as diff

    conn = sqlite3.connect(db)
    issues = max(1, count // 40)
    stamp = _processors()
    now = stamp(datetime(2024, 1, 1, tzinfo=timezone.utc))
    for issue in range(issues):
        day = date(2015, 1, 1) + timedelta(days=7 * issue)
        cur = conn.execute("insert into report_issues (published, title, imported_at) values (?, ?, ?)", (day.isoformat(), f"issue {issue}", now))
        issue_id = cur.lastrowid
        story = conn.execute("insert into report_stories (issue_id, position, is_brief, headline) values (?, 1, 0, ?)", (issue_id, f"story {issue}")).lastrowid
        rows = []
        for r in range(40):
            title = texts.title(f"参考{issue}-{r}")
            url = f"https://ref.example.cn/{issue}/{r}.html"
            rows.append((story, title, diff.title_key(title), url, url, "outlet"))
        conn.executemany("insert into report_references (story_id, title, title_key, url, canonical_url, outlet) values (?,?,?,?,?,?)", rows)
    conn.commit()
    conn.close()


# -- measurement (child process) ----------------------------------------------------------
def measure(db: Path, items_path: Path, out: Path, naive: int) -> None:
    from sqlalchemy import select

    from desk import similarity as diff
    from storage import queries
    from desk import verdicts
    from desk.tagging import load_taxonomy
    from storage.db import transaction
    from storage.models import Item, ItemSignature, utcnow

    url = f"sqlite:///{db}"
    items = json.loads(items_path.read_text())
    authority = load_taxonomy(Path(__file__).resolve().parent.parent / "watchlists" / "topics.yml").authority
    diff.title_key("预热")  # OpenCC's dictionaries load on first use: not per-item cost
    # Time each stage judge() goes through (it looks them up on the modules at call time).
    spent = {"signature": 0.0, "covered": 0.0, "duplicate": 0.0, "index": 0.0, "apply": 0.0}

    def timed(module, name):  # type: ignore[no-untyped-def]
        original = getattr(module, name)

        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - start
        setattr(module, name, wrapper)

    timed(diff, "signature")
    for name in ("covered", "duplicate", "index", "apply"):
        timed(verdicts, name)
    timings, statuses, detected = [], {}, 0
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    for entry in items:
        start = time.perf_counter()
        with transaction(url) as session:
            assert queries.item_by_url(session, entry["url"]) is None
            row = Item(source_id=1, url=entry["url"], canonical_url=entry["url"], title=entry["title"], body=entry["body"],
                       content_hash="0" * 64, first_seen_at=utcnow(), updated_at=utcnow(), published_at=utcnow())
            session.add(row)
            session.flush()
            verdict = verdicts.judge(session, row, authority)
        timings.append(time.perf_counter() - start)
        statuses[verdict.status] = statuses.get(verdict.status, 0) + 1
        if entry["reprint_of"] and verdict.cluster_with == entry["reprint_of"]:
            detected += 1
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    n = len(items)
    stages = {name: seconds * 1000 / n for name, seconds in spent.items()}
    stages["insert, flush, commit, rest"] = wall * 1000 / n - sum(stages.values())
    result = {
        "items": n, "wall_seconds": wall, "cpu_seconds": cpu,
        "per_item_ms": wall * 1000 / n, "cpu_per_item_ms": cpu * 1000 / n, "stages_ms": stages,
        "signature_ms": stages["signature"],
        "p50_ms": sorted(timings)[n // 2] * 1000, "p99_ms": sorted(timings)[int(n * 0.99)] * 1000,
        "statuses": statuses, "reprints": sum(1 for e in items if e["reprint_of"]), "reprints_detected": detected,
    }
    # How many band-sharing rows and distinct candidates the lookup meets (last 50 new items).
    with transaction(url) as session:
        from sqlalchemy import func

        from storage.models import ItemBand

        rows_seen, candidates = [], []
        for item_id in session.scalars(select(Item.id).order_by(Item.id.desc()).limit(50)).all():
            bands = session.scalars(select(ItemBand.band).where(ItemBand.item_id == item_id)).all()
            rows_seen.append(session.scalar(select(func.count()).where(ItemBand.band.in_(bands), ItemBand.item_id != item_id)))
            candidates.append(len(session.scalars(select(ItemBand.item_id).where(ItemBand.band.in_(bands), ItemBand.item_id != item_id).distinct().limit(verdicts.CANDIDATES)).all()))
        # Why a reprint was missed: no band shared, cut off by the candidate limit, or rejected.
        misses: dict[str, int] = {}
        for entry in items:
            if not entry["reprint_of"]:
                continue
            item = queries.item_by_url(session, entry["url"])
            if re.search(rf"\bitem {entry['reprint_of']}\b", item.verdict_reason or ""):
                continue
            bands = session.scalars(select(ItemBand.band).where(ItemBand.item_id == item.id)).all()
            shared = set(session.scalars(select(ItemBand.band).where(ItemBand.item_id == entry["reprint_of"]))) & set(bands)
            found = session.scalars(select(ItemBand.item_id).where(ItemBand.band.in_(bands), ItemBand.item_id != item.id).distinct().limit(verdicts.CANDIDATES)).all()
            why = "no band shared" if not shared else "cut off by the candidate limit" if entry["reprint_of"] not in found else "rejected when confirming"
            misses[why] = misses.get(why, 0) + 1
        result["reprint_misses"] = misses
        result["band_rows_per_item"] = sum(rows_seen) / max(len(rows_seen), 1)
        result["candidates_per_item"] = sum(candidates) / max(len(candidates), 1)
    # covered(): one scan of every cited reference title per item.
    with transaction(url) as session:
        probe = session.scalars(select(Item).order_by(Item.id.desc()).limit(50)).all()
        refs = len(verdicts.reference_keys(session))
        start = time.process_time()
        for item in probe:
            verdicts.covered(session, item)
        result["covered_ms"] = (time.process_time() - start) * 1000 / len(probe) if probe else 0.0
        result["references"] = refs
    if naive:
        with transaction(url) as session:
            sample = items[:naive]
            signatures = [diff.signature(e["title"], e["body"]) for e in sample]
            start = time.process_time()
            for minhash, entry in zip(signatures, sample):
                title = diff.title_key(entry["title"])
                best = 0.0
                for _, packed, other in session.execute(select(ItemSignature.item_id, ItemSignature.minhash, Item.title).join(Item, Item.id == ItemSignature.item_id)):
                    score = diff.similarity(packed, minhash)
                    if score > best and diff.same_headline(title, diff.title_key(other)):
                        best = score
            result["naive_python_ms"] = (time.process_time() - start) * 1000 / len(sample)
            import numpy as np

            start = time.process_time()
            blobs = session.execute(select(ItemSignature.minhash)).scalars().all()
            matrix = np.frombuffer(b"".join(blobs), dtype="<u8").reshape(-1, diff.NUM_PERM)
            load = time.process_time() - start
            start = time.process_time()
            for minhash in signatures:
                (matrix == minhash).sum(axis=1).argmax()
            result["naive_numpy_ms"] = (time.process_time() - start) * 1000 / len(sample)
            result["naive_numpy_load_ms"] = load * 1000
            result["naive_sample"] = len(sample)
    out.write_text(json.dumps(result))


# -- orchestration ------------------------------------------------------------------------
def run(quick: bool) -> dict:
    import numpy as np

    from desk import similarity as diff
    from storage.db import ensure_schema, get_engine

    sizes = [1_000, 10_000] if quick else [10_000, 100_000, 1_000_000]
    naive_at = sizes[-1] if quick else 10_000
    real = 500 if quick else 2_000
    fresh = 200 if quick else NEW_ITEMS
    tmp = temp_dir("diff")
    results, generation = [], []
    try:
        db = tmp / "archive.sqlite"
        url = f"sqlite:///{db}"
        ensure_schema(url)
        get_engine(url).dispose()
        conn = sqlite3.connect(db)
        conn.execute("insert into sources (id, name, label, kind, health, created_at) values (1, 'bench', 'bench', 'html_list', 'ok', '2024-01-01 00:00:00.000000')")
        conn.commit()
        conn.close()
        texts = Texts(seed=5)
        bases = [diff.signature("", boiler) for boiler in texts.boiler]
        np_rng = np.random.default_rng(5)
        originals: list[dict] = []
        have = 0
        for size in sizes:
            started = time.perf_counter()
            originals += extend_archive(db, have, size, texts, bases, real, np_rng)["originals"]
            generation.append({"size": size, "seconds": round(time.perf_counter() - started, 1), "db_mb": round(db.stat().st_size / 2**20)})
            have = size
            target = db if size == sizes[-1] else tmp / f"copy-{size}.sqlite"
            if target != db:
                shutil.copy(db, target)
            items_path = tmp / f"new-{size}.json"
            items_path.write_text(json.dumps(new_items(texts, originals, seed=size, count=fresh)))
            out = tmp / f"result-{size}.json"
            env = radar_env(tmp, f"sqlite:///{target}", tmp)
            child = run_measured([sys.executable, __file__, "--measure", str(target), str(items_path), str(out), str((20 if quick else 50) if size == naive_at else 0)], env, tmp)
            if child.returncode != 0:
                raise RuntimeError(f"measure {size} failed:\n{child.stderr[-3000:]}")
            result = json.loads(out.read_text()) | {"archive": size, "peak_rss_mb": round(child.max_rss_mb, 1)}
            results.append(result)
            if target != db:
                target.unlink()
        # covered() against a realistic number of past report references (one size only).
        refs = 1_000 if quick else 5_000
        add_references(db, refs, texts)
        items_path = tmp / "new-refs.json"
        items_path.write_text(json.dumps(new_items(texts, originals, seed=7, count=20 if quick else 100)))
        out = tmp / "result-refs.json"
        child = run_measured([sys.executable, __file__, "--measure", str(db), str(items_path), str(out), "0"], radar_env(tmp, f"sqlite:///{db}", tmp), tmp)
        if child.returncode != 0:
            raise RuntimeError(f"measure with references failed:\n{child.stderr[-3000:]}")
        with_refs = json.loads(out.read_text()) | {"archive": sizes[-1]}
    finally:
        cleanup(tmp)

    by_size = {r["archive"]: r for r in results}
    basis = 10_000 if 10_000 in by_size and sizes[-1] > 10_000 else sizes[0]
    largest = sizes[-1]
    naive = next(r for r in results if "naive_python_ms" in r)
    return {
        "model": f"{FAMILIES} families, keep q={KEEP}; first {real} archive items real texts; 10% of new items are reprints",
        "generation": generation,
        "sizes": [
            {
                "archive": r["archive"], "items_per_second": round(1000 / r["per_item_ms"], 1), "per_item_ms": round(r["per_item_ms"], 3),
                "cpu_per_item_ms": round(r["cpu_per_item_ms"], 3), "signature_ms": round(r["signature_ms"], 3),
                "stages_ms": {k: round(v, 3) for k, v in r["stages_ms"].items()}, "p50_ms": round(r["p50_ms"], 3), "p99_ms": round(r["p99_ms"], 3),
                "peak_rss_mb": r["peak_rss_mb"], "statuses": r["statuses"],
                "reprints_detected": f"{r['reprints_detected']}/{r['reprints']}", "covered_ms_no_refs": round(r["covered_ms"], 3),
                "reprint_misses": r.get("reprint_misses", {}), "band_rows_per_item": round(r["band_rows_per_item"], 1), "candidates_per_item": round(r["candidates_per_item"], 1),
            }
            for r in results
        ],
        "diff_cost_growth": round(by_size[largest]["per_item_ms"] / by_size[basis]["per_item_ms"], 3),
        "diff_cost_growth_basis": f"{largest:,} vs {basis:,}",
        "duplicate_lookup_growth": round(by_size[largest]["stages_ms"]["duplicate"] / by_size[basis]["stages_ms"]["duplicate"], 3),
        "new_items_per_size": fresh,
        "naive": {
            "archive": naive["archive"], "sample": naive["naive_sample"],
            "python_all_pairs_ms_per_item": round(naive["naive_python_ms"], 2),
            "numpy_all_pairs_ms_per_item": round(naive["naive_numpy_ms"], 3),
            "numpy_load_ms": round(naive["naive_numpy_load_ms"], 1),
            "lsh_duplicate_ms_per_item": round(naive["stages_ms"]["duplicate"], 3),
            "naive_python_over_lsh": round(naive["naive_python_ms"] / naive["stages_ms"]["duplicate"], 1),
            "naive_numpy_over_lsh": round(naive["naive_numpy_ms"] / naive["stages_ms"]["duplicate"], 2),
            "naive_python_extrapolated_ms_at_largest": round(naive["naive_python_ms"] * largest / naive["archive"], 1),
            "naive_numpy_extrapolated_ms_at_largest": round(naive["naive_numpy_ms"] * largest / naive["archive"], 1),
            "numpy_matrix_mb_at_largest": round(largest * diff.NUM_PERM * 8 / 2**20),
        },
        "covered_with_references": {
            "references": with_refs["references"], "covered_ms_per_item": round(with_refs["covered_ms"], 2),
            "per_item_ms": round(with_refs["per_item_ms"], 2), "archive": with_refs["archive"],
        },
    }


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--measure":
        measure(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]), int(sys.argv[5]))
    else:
        print(json.dumps(run("--quick" in sys.argv), ensure_ascii=False, indent=1))
