"""Soak: the daemon's jobs for hundreds of scheduling cycles under injected faults, then invariants.

    python bench/soak.py [--cycles 300] [--seed 1] [--fault-rate 0.06] [--max-minutes 11]

Not part of the test suite. Everything runs on loopback: the fake internet serves copies of the
recorded sites, a loopback HTTP endpoint receives Apprise ``json://`` posts (failing some), and
time is a fake clock advancing 20 minutes per cycle (a scheduler wake-up). Each cycle runs what
the daemon would: a source's crawl (``scheduler.jobs.crawl_source``, a real `crawl run` child)
in about half the cycles, outbox delivery, and the daily digest when the clock passes its time.
Meanwhile:

- a share of requests gets a fault — 5xx, a delay beyond the download timeout, a reset, a
  truncated body, a wrong charset header, a redirect loop, a 50 MB body; half of the faults are
  transient (per request, a retry may succeed), half sticky for the whole cycle;
- one site's list markup changes a third of the way in and is restored at two thirds;
- crawl children are SIGKILLed at random moments, and now and then the "daemon" itself (a
  worker process running the job) is killed with its whole process group and "restarted";

then faults stop, every source is crawled once more, the outbox is drained, and the invariants
are checked and printed as a table. The fault mix is reproducible from --seed (decisions are a
hash of seed, URL and request number or cycle, not of thread timing). Exit status 1 if an
invariant fails.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

# bench/ goes last on the path: bench/incremental.py must not shadow Twisted's `incremental` package.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]

from harness import EXPECTED, ROOT, SITES, WATCHLISTS, cleanup, temp_dir  # noqa: E402

STEP = timedelta(minutes=20)
FAULTS = [  # (kind, value, weight)
    ("status", 500, 10), ("status", 503, 8), ("status", 502, 5),
    ("delay", 3.0, 12),  # the download timeout is 2 s
    ("reset", None, 15), ("truncate", 0.5, 15), ("charset", "iso-8859-1", 6), ("charset", "gbk", 4),
    ("redirect_loop", None, 10), ("huge", 50, 5),
]
REDESIGNED = "sciencenet"  # its list markup changes midway


# -- the fault schedule -----------------------------------------------------------------
def _unit(*parts: object) -> float:
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class FaultSchedule(dict):
    """Stands in for ``FakeInternet.faults``: ``get(key)`` decides per request."""

    def __init__(self, seed: int, rate: float):
        super().__init__()
        self.seed, self.rate, self.cycle = seed, rate, 0
        self.requests: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.total_weight = sum(w for *_, w in FAULTS)

    def _pick(self, u: float):  # type: ignore[no-untyped-def]
        from crawler.replay import fault

        x = u * self.total_weight
        for kind, value, weight in FAULTS:
            if x < weight:
                return fault(kind, value)
            x -= weight
        return None

    def get(self, key, default=None):  # type: ignore[no-untyped-def, override]
        if self.rate <= 0:
            return default
        with self.lock:
            self.requests[key] += 1
            nth = self.requests[key]
        sticky = _unit(self.seed, "sticky", key, self.cycle)
        transient = _unit(self.seed, "transient", key, nth)
        chosen = None
        if sticky < self.rate / 2:
            chosen = self._pick(_unit(self.seed, "kind", key, self.cycle))
        elif transient < self.rate / 2:
            chosen = self._pick(_unit(self.seed, "kind", key, "n", nth))
        if chosen is None:
            return default
        with self.lock:
            self.injected[f"{chosen.kind}:{chosen.value}"] += 1
        return chosen


# -- the notification endpoint ------------------------------------------------------------
class Endpoint(BaseHTTPRequestHandler):
    posts: list[dict] = []
    failed = 0
    lock = threading.Lock()
    rng = random.Random(0)
    fail_rate = 0.1

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(0.2)  # a slow channel: widens the window a kill can fall into
        with Endpoint.lock:
            fail = Endpoint.rng.random() < Endpoint.fail_rate
            if fail:
                Endpoint.failed += 1
            else:
                Endpoint.posts.append(json.loads(body) | {"path": self.path})
        self.send_response(500 if fail else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


# -- worker mode: one job in a process of its own (the "daemon" that gets killed) ----------
def worker(kind: str, arg: str, now: str) -> None:
    from common.settings import get_settings
    from scheduler import jobs

    config = get_settings()
    when = datetime.fromisoformat(now)
    if kind == "crawl":
        jobs.crawl_source(config, arg, when)
    else:
        jobs.daily_digest(config, when)


# -- memory watch ---------------------------------------------------------------------------
class MemoryWatch(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        import psutil

        self.me = psutil.Process()
        self.stop = threading.Event()
        self.max_child_mb = 0.0
        self.max_child_cmd = ""
        self.self_mb: list[float] = []

    def run(self) -> None:
        while not self.stop.wait(0.2):
            try:
                self.self_mb.append(self.me.memory_info().rss / 2**20)
                for child in self.me.children(recursive=True):
                    try:
                        rss = child.memory_info().rss / 2**20
                        if rss > self.max_child_mb:
                            self.max_child_mb, self.max_child_cmd = rss, " ".join(child.cmdline()[-3:])
                    except Exception:  # noqa: BLE001 - the child ended meanwhile
                        pass
            except Exception:  # noqa: BLE001
                pass


# -- the soak --------------------------------------------------------------------------------
def soak(cycles: int, seed: int, rate: float, max_minutes: float) -> int:
    rng = random.Random(seed)
    tmp = temp_dir("soak")
    started = time.perf_counter()
    try:
        sites, watchlists = tmp / "sites", tmp / "watchlists"
        shutil.copytree(SITES, sites)
        shutil.copytree(WATCHLISTS, watchlists)
        db = tmp / "radar.sqlite"
        server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
        Endpoint.rng = random.Random(seed)
        threading.Thread(target=server.serve_forever, daemon=True).start()

        from crawler.replay import FakeInternet

        internet = FakeInternet(sites).start()
        schedule = FaultSchedule(seed, rate)
        internet.faults = schedule  # type: ignore[assignment]
        os.environ.update({
            "HOME": str(tmp / "home"), "XDG_DATA_HOME": str(tmp / "home" / "data"),
            "RADAR_DATABASE_URL": f"sqlite:///{db}", "RADAR_WATCHLISTS": str(watchlists), "RADAR_PROXY": internet.address,
            "RADAR_POLITE": "false", "RADAR_DOWNLOAD_TIMEOUT": "2", "RADAR_CONFIG": str(tmp / "no-radar.toml"),
            "RADAR_NOTIFY": f"json://127.0.0.1:{server.server_address[1]}/notify", "PYTHONWARNINGS": "ignore",
        })
        for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
            os.environ.pop(name, None)

        from common.settings import get_settings
        from crawler.watchlist import load_sources
        from scheduler import jobs
        from storage.db import ensure_schema

        config = get_settings()
        ensure_schema(config.effective_database_url)
        recorded = set(internet.hosts())
        sources = [s for s in load_sources(watchlists / "sources") if s.enabled and s.hosts <= recorded and (EXPECTED / f"{s.name}.yml").exists()]
        names = [s.name for s in sources]
        redesign = _redesign(sites)
        tz = ZoneInfo(config.timezone)
        clock = datetime.now(timezone.utc).replace(second=0, microsecond=0)
        memory = MemoryWatch()
        memory.start()
        events: Counter[str] = Counter()
        broken_seen: dict[str, int] = {}
        last_digest_day = None
        done = 0
        for cycle in range(cycles):
            if time.perf_counter() - started > max_minutes * 60:
                break
            schedule.cycle = cycle
            if cycle == cycles // 3:
                redesign(True)
                events["markup changed"] += 1
            if cycle == 2 * cycles // 3:
                redesign(False)
                events["markup restored"] += 1
            # A scheduler wake-up: the redesigned source every sixth cycle (so its breakage is
            # seen), otherwise a random source half of the time; then delivery and the digest.
            name = REDESIGNED if cycle % 6 == 0 else (rng.choice(names) if rng.random() < 0.5 else None)
            roll = rng.random()
            if name is None:
                pass
            elif roll < 0.06:
                _killed_worker(["crawl", name, clock.isoformat()], rng.uniform(0.5, 5.0))
                events["daemon killed during a crawl"] += 1
            else:
                timer = _kill_crawl_later(jobs, rng.uniform(0.3, 4.0), events) if roll < 0.18 else None
                status = jobs.crawl_source(config, name, clock)
                if timer is not None:
                    timer.cancel()  # a kill meant for this crawl must not hit the next one
                events[f"crawl {status}"] += 1
            if name is not None:
                for row in _health(db):
                    if row[1] == "broken":
                        broken_seen.setdefault(row[0], cycle)
            jobs.deliver(config, clock)
            local = clock.astimezone(tz)
            if local.hour * 60 + local.minute >= 8 * 60 + 30 and local.date() != last_digest_day:
                last_digest_day = local.date()
                if rng.random() < 0.5:
                    _killed_worker(["digest", "-", clock.isoformat()], rng.uniform(0.5, 4.0))
                    events["daemon killed during a digest"] += 1
                jobs.daily_digest(config, clock)  # the (restarted) daemon's job runs
                events["digest job"] += 1
            clock += STEP
            done += 1
            if done % 25 == 0:
                print(f"  cycle {done}: {(time.perf_counter() - started) / 60:.1f} min, {sum(v for k, v in events.items() if k.startswith('crawl '))} crawls, "
                      f"{sum(schedule.injected.values())} faults injected, broken so far {sorted(broken_seen)}", flush=True)

        # Faults stop; every source is crawled once more; the outbox drains.
        schedule.rate = 0
        redesign(False)
        soak_seconds = time.perf_counter() - started
        for name in names:
            jobs.crawl_source(config, name, clock)
            clock += timedelta(minutes=1)
        jobs.daily_digest(config, clock + timedelta(days=1))  # a final digest (a new local day)
        Endpoint.fail_rate = 0
        for _ in range(8):
            clock += timedelta(hours=7)  # past every backoff step
            jobs.deliver(config, clock)
        memory.stop.set()
        internet.stop()
        server.shutdown()
        rows = invariants(db, sources, broken_seen, memory)
        print_report(seed, rate, done, cycles, soak_seconds, time.perf_counter() - started, schedule, events, rows)
        return 0 if all(ok for _, ok, _ in rows) else 1
    finally:
        cleanup(tmp)


def _redesign(sites: Path):  # type: ignore[no-untyped-def]
    page = sites / "news.sciencenet.cn" / "indexyaowen-1.aspx"
    original = page.read_bytes()

    def apply(on: bool) -> None:
        page.write_bytes(original.replace(b'id="mleft3"', b'class="news-list-v2"') if on else original)
        os.utime(page, (time.time() + 1, time.time() + 1))  # a new Last-Modified either way
    return apply


def _kill_crawl_later(jobs, delay: float, events: Counter) -> threading.Timer:  # type: ignore[no-untyped-def]
    def kill() -> None:
        for child in list(jobs._children):
            try:
                child.send_signal(signal.SIGKILL)
                events["crawl child SIGKILLed"] += 1
            except ProcessLookupError:
                pass
    timer = threading.Timer(delay, kill)
    timer.daemon = True
    timer.start()
    return timer


def _killed_worker(args: list[str], delay: float) -> None:
    """Run one job in a worker ("the daemon") and SIGKILL its whole process group after ``delay``."""
    child = subprocess.Popen([sys.executable, __file__, "--worker", *args], start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        child.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()


def _health(db: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute("select name, health from sources").fetchall()
    finally:
        conn.close()


# -- invariants -------------------------------------------------------------------------------
def invariants(db: Path, sources, broken_seen: dict[str, int], memory: MemoryWatch) -> list[tuple[str, bool, str]]:  # type: ignore[no-untyped-def]
    import yaml

    from common.text import clean_inline

    rows: list[tuple[str, bool, str]] = []
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    # 1. every fixture article stored exactly once, with correct fields
    missing, wrong, extra, expected_total = [], [], [], 0
    stored_by_source = defaultdict(set)
    for row in conn.execute("select s.name, i.canonical_url from items i join sources s on s.id = i.source_id"):
        stored_by_source[row[0]].add(row[1])
    for source in sources:
        expected = yaml.safe_load((EXPECTED / f"{source.name}.yml").read_text(encoding="utf-8"))
        expected_total += len(expected)
        urls = {e["url"] for e in expected}
        extra += sorted(stored_by_source[source.name] - urls)
        for entry in expected:
            item = conn.execute("select * from items where canonical_url = ?", (entry["url"],)).fetchone()
            if item is None:
                missing.append(entry["url"])
                continue
            problems = []
            if item["title"] != entry["title"]:
                problems.append("title")
            published = datetime.fromisoformat(entry["published"]).astimezone(timezone.utc).replace(tzinfo=None)
            if item["published_at"] is None or datetime.fromisoformat(item["published_at"]).replace(tzinfo=None) != published:
                problems.append("published")
            if entry.get("origin") and item["origin"] != entry["origin"]:
                problems.append("origin")
            body = clean_inline(item["body"].replace("\n", " "))
            if clean_inline(entry["body_first"]) not in body[:300] or clean_inline(entry["body_last"]) not in body[-300:]:
                problems.append("body")
            if problems:
                wrong.append(f"{entry['url']} ({', '.join(problems)})")
    dupes = conn.execute("select count(*) from (select canonical_url from items group by canonical_url having count(*) > 1)").fetchone()[0]
    ok = not missing and not wrong and not extra and not dupes
    detail = f"{expected_total - len(missing) - len(wrong)}/{expected_total} correct"
    for label, found in (("missing", missing), ("wrong fields", wrong), ("unexpected rows", extra)):
        if found:
            detail += f"; {label} {len(found)}: " + ", ".join(found[:4]) + (" …" if len(found) > 4 else "")
    rows.append(("fixture articles stored exactly once, fields correct", ok, detail + (f"; {dupes} duplicated URLs" if dupes else "")))

    # 2. digests and alerts: every outbox message sent, each received exactly once
    outbox = conn.execute("select id, kind, title, sent_at, attempts from outbox order by id").fetchall()
    unsent = [f"#{r['id']} {r['kind']}" for r in outbox if r["sent_at"] is None]
    received: Counter[str] = Counter()
    parts: Counter[str] = Counter()
    for post in Endpoint.posts:
        title = post.get("title") or ""
        counter = re.search(r" \[(\d+)/(\d+)\]$", title)
        base = title[: counter.start()] if counter else title
        if base:
            parts[base] += 1
        if base and (counter is None or int(counter.group(1)) == 1):
            received[base] += 1
    sent_titles = Counter(r["title"] for r in outbox if r["sent_at"] is not None)
    lost = [t for t, n in sent_titles.items() if received[t] < n]
    twice = [f"{t[:50]}… ×{received[t]}" for t, n in sent_titles.items() if received[t] > n]
    rows.append(("every digest/alert queued is delivered (outbox drained)", not unsent and not lost,
                 f"{len(outbox)} messages ({dict(Counter(r['kind'] for r in outbox))}); unsent {len(unsent)}; sent but never received {len(lost)}; "
                 f"{Endpoint.failed} posts refused by the endpoint and retried"))
    rows.append(("no digest/alert received twice", not twice,
                 f"{sum(received.values())} messages received in {len(Endpoint.posts)} posts" + (f"; twice: {'; '.join(twice[:4])}" if twice else "")))
    new_items = conn.execute("select count(*) from items where status = 'new'").fetchone()[0]
    undelivered = conn.execute("select count(*) from items i where i.status = 'new' and not exists (select 1 from deliveries d where d.item_id = i.id and d.kind = 'digest')").fetchone()[0]
    multi = conn.execute("select count(*) from (select item_id from deliveries group by item_id, kind, tag having count(*) > 1)").fetchone()[0]
    rows.append(("every new item in exactly one digest", undelivered == 0 and multi == 0, f"{new_items} new items; {undelivered} in no digest; {multi} in more than one"))
    watch = [r for r in conn.execute("select id, topics from items") if (json.loads(r[1] or "{}") or {}).get("watch_hits")]
    alerted = {r[0] for r in conn.execute("select item_id from deliveries where kind = 'alert'")}
    rows.append(("every watch-term item alerted once", all(r[0] in alerted for r in watch), f"{len(watch)} items with watch hits, {len(alerted & {r[0] for r in watch})} alerted"))

    # 3. database integrity
    integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    fk = conn.execute("PRAGMA foreign_key_check").fetchall()
    raw_missing = conn.execute("select count(*) from items i where not exists (select 1 from raw_pages r where r.item_id = i.id)").fetchone()[0]
    sig_missing = conn.execute("select count(*) from items i where not exists (select 1 from item_signatures s where s.item_id = i.id)").fetchone()[0]
    rows.append(("database integrity (PRAGMA integrity_check, foreign keys, whole items)", integrity == "ok" and not fk and raw_missing == 0 and sig_missing == 0,
                 f"integrity_check {integrity}; {len(fk)} foreign-key violations; items without raw page {raw_missing}, without signature {sig_missing}"))
    stuck = conn.execute("select count(*) from crawl_runs where status = 'running'").fetchone()[0]
    runs = conn.execute("select count(*) from crawl_runs").fetchone()[0]
    rows.append(("no crawl run left 'running' after its process died", stuck == 0, f"{stuck} of {runs} crawl_runs rows still 'running' (killed children never close them)"))

    # 4. memory
    growth = (max(memory.self_mb[-20:]) - min(memory.self_mb[:20])) if memory.self_mb else 0.0
    rows.append(("memory bounded", memory.max_child_mb < 800 and growth < 200,
                 f"largest child {memory.max_child_mb:.0f} MB ({memory.max_child_cmd}); soak process {min(memory.self_mb or [0]):.0f} → {max(memory.self_mb or [0]):.0f} MB"))

    # 5. every broken source reported, and its recovery
    ops_titles = [p.get("title") or "" for p in Endpoint.posts if p.get("path", "").endswith("/notify")]
    labels = {r[0]: r[1] for r in conn.execute("select name, label from sources")}
    unreported = [name for name in broken_seen if not any(t.startswith("[cnst-radar] 소스 고장") and (labels.get(name) or name) in t for t in ops_titles)]
    final = dict(conn.execute("select name, health from sources").fetchall())
    unrecovered = [name for name in broken_seen if final.get(name) != "broken" and not any(t.startswith("[cnst-radar] 소스 복구") and (labels.get(name) or name) in t for t in ops_titles)]
    rows.append(("every broken source reported (and its recovery)", not unreported and not unrecovered and REDESIGNED in broken_seen,
                 f"broken at some point: {', '.join(sorted(broken_seen)) or 'none'}; the redesigned {REDESIGNED} {'was' if REDESIGNED in broken_seen else 'was NOT'} seen broken; "
                 f"unreported {unreported}; recovery not reported {unrecovered}; still broken at the end: {[n for n, h in final.items() if h == 'broken']}"))
    conn.close()
    return rows


def print_report(seed, rate, done, cycles, soak_s, total_s, schedule, events, rows) -> None:  # type: ignore[no-untyped-def]
    print(f"\nsoak: seed {seed}, fault rate {rate}, {done}/{cycles} cycles in {soak_s / 60:.1f} min (total {total_s / 60:.1f} min incl. final pass)")
    print(f"requests {sum(schedule.requests.values())}, faults injected {sum(schedule.injected.values())}: "
          + ", ".join(f"{k} {v}" for k, v in sorted(schedule.injected.items())))
    print("events: " + ", ".join(f"{k} {v}" for k, v in sorted(events.items())))
    width = max(len(name) for name, _, _ in rows)
    print(f"\n{'invariant':<{width}}  result  detail")
    print(f"{'-' * width}  ------  {'-' * 60}")
    for name, ok, detail in rows:
        print(f"{name:<{width}}  {'PASS' if ok else 'FAIL':<6}  {detail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cycles", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fault-rate", type=float, default=0.06, help="share of requests given a fault")
    parser.add_argument("--max-minutes", type=float, default=11.0, help="stop cycling after this long (the final pass follows)")
    parser.add_argument("--worker", nargs=3, metavar=("KIND", "ARG", "NOW"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    os.chdir(ROOT)
    # The jobs log every crash and refused post as a warning; the invariant table says what matters.
    logging.basicConfig(level=logging.ERROR, format="  log: %(message).200s")
    sys.exit(soak(args.cycles, args.seed, args.fault_rate, args.max_minutes))


if __name__ == "__main__":
    main()
