"""Pipeline cost per article: `crawl run` over a synthetic site of realistic pages, against
trafilatura.extract alone on the same bytes (the floor a generic extractor sets).

The crawl runs as tests run it (`python -m radar run`, RADAR_POLITE=false, through the fake
internet); its CPU and peak RSS come from wait4, so they are the crawl process's own. The
trafilatura loop and a breakdown of our per-article stages run in a child process of their own
on the same files. A crawl that finds no entries (--since in the future) gives the fixed cost
(start-up, schema creation, list pages), so a marginal per-article figure is reported too.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

# bench/ goes last on the path: bench/incremental.py must not shadow Twisted's `incremental` package.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]

from harness import cleanup, crawl_command, radar_env, run_measured, temp_dir  # noqa: E402

SOURCES = ("ndrc", "sciencenet")


def run(quick: bool) -> dict:
    from crawler.replay import FakeInternet
    from fixture import PER_PAGE, generate

    n = 200 if quick else 2000
    tmp = temp_dir("pipeline")
    try:
        started = time.perf_counter()
        fixture = generate(tmp, n)
        generated_in = time.perf_counter() - started
        sources = [arg for s in SOURCES for arg in ("--source", s)]
        with FakeInternet(fixture.sites) as internet:
            def crawl(name: str, *extra: str, profile: Path | None = None):  # type: ignore[no-untyped-def]
                db = tmp / f"{name}.sqlite"
                env = radar_env(tmp, f"sqlite:///{db}", fixture.watchlists, internet.address)
                command = crawl_command("run", *sources, *extra)
                if profile is not None:
                    command = [sys.executable, str(Path(__file__).parent / "_profile_crawl.py"), str(profile), "run", *sources, *extra]
                result = run_measured(command, env, tmp)
                if result.returncode != 0:
                    raise RuntimeError(f"crawl {name} exited {result.returncode}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
                return result, db

            fixed, _ = crawl("fixed", "--since", "2099-01-01")
            internet.hits.clear()
            main, db = crawl("main")
            requests = sum(internet.hits.values())
            stored = _stored(db)
            profiles = {}
            if not quick:  # profiling is for finding hotspots, not for the figures
                crawl("fixed-profiled", "--since", "2099-01-01", profile=tmp / "fixed-profile.json")
                _, profiled_db = crawl("profiled", "--max-pages", "4", profile=tmp / "profile.json")
                profiles["profile"] = json.loads((tmp / "profile.json").read_text())
                profiles["profile"]["articles"] = _stored(profiled_db)["items"]
                profiles["fixed_profile"] = json.loads((tmp / "fixed-profile.json").read_text())
        listing = tmp / "articles.txt"
        listing.write_text("\n".join(f"{url}\t{path}" for url, path in zip(fixture.urls, fixture.articles)))
        components_out = tmp / "components.json"
        comp = run_measured([sys.executable, __file__, "--components", str(listing), str(fixture.watchlists), str(components_out)], radar_env(tmp, "sqlite://", fixture.watchlists), tmp)
        if comp.returncode != 0:
            raise RuntimeError(f"components child failed:\n{comp.stderr[-3000:]}")
        components = json.loads(components_out.read_text())
    finally:
        cleanup(tmp)

    articles = stored["items"]
    cpu_ms = main.cpu * 1000 / max(articles, 1)
    marginal_ms = (main.cpu - fixed.cpu) * 1000 / max(articles, 1)
    traf_ms = components["trafilatura_ms"]
    return {
        "articles_generated": n,
        "articles_stored": articles,
        "statuses": stored["statuses"],
        "mean_page_kb": round(fixture.mean_kb, 1),
        "total_mb": round(fixture.total_bytes / 2**20, 1),
        "list_pages": fixture.list_pages,
        "per_list_page": PER_PAGE,
        "generation_seconds": round(generated_in, 1),
        "requests": requests,
        "crawl_seconds": round(main.seconds, 2),
        "articles_per_second": round(articles / main.seconds, 2),
        "crawl_cpu_seconds": round(main.cpu, 2),
        "crawl_cpu_user_seconds": round(main.cpu_user, 2),
        "crawl_cpu_system_seconds": round(main.cpu_system, 2),
        "cpu_ms_per_article": round(cpu_ms, 2),
        "fixed_cpu_seconds": round(fixed.cpu, 2),
        "fixed_seconds": round(fixed.seconds, 2),
        "marginal_cpu_ms_per_article": round(marginal_ms, 2),
        "peak_rss_mb": round(main.max_rss_mb, 1),
        "fixed_peak_rss_mb": round(fixed.max_rss_mb, 1),
        "trafilatura_cpu_ms_per_article": round(traf_ms, 2),
        "pipeline_floor_ratio": round(cpu_ms / traf_ms, 3),
        "marginal_floor_ratio": round(marginal_ms / traf_ms, 3),
        "components_ms_per_article": components["stages_ms"],
        "components_note": components["note"],
        **profiles,
    }


def _stored(db: Path) -> dict:
    import sqlite3

    with sqlite3.connect(db) as conn:
        items = conn.execute("select count(*) from items").fetchone()[0]
        statuses = dict(conn.execute("select status, count(*) from items group by status").fetchall())
    return {"items": items, "statuses": statuses}


def components(listing: Path, watchlists: Path, out: Path) -> None:
    """In a clean process: CPU per article of trafilatura.extract and of each of our stages."""
    import hashlib
    import zlib

    import trafilatura

    from desk import similarity as diff
    from crawler.extract import extract_article
    from desk.tagging import Tagger, load_taxonomy
    from crawler.watchlist import load_sources

    rows = [line.split("\t") for line in listing.read_text().splitlines()]
    pages = [(url, Path(path).read_bytes()) for url, path in rows]
    sources = {s.name: s for s in load_sources(watchlists / "sources")}
    source_of = lambda url: sources["ndrc" if "ndrc" in url else "sciencenet"]  # noqa: E731
    tagger = Tagger(load_taxonomy(watchlists / "topics.yml"))
    # Warm-up outside the clock: imports, trafilatura's first call, jieba, OpenCC dictionaries.
    trafilatura.extract(pages[0][1])
    warm = extract_article(pages[0][0], pages[0][1], {"Content-Type": "text/html; charset=utf-8"}, source_of(pages[0][0]))
    tagger.tag(warm.title or "", warm.body, source="ndrc", url=pages[0][0])
    from desk.tagging import tokenizer as _tokenizer

    _tokenizer()  # jieba's dictionary (loaded on the first ambiguous hit, once per process)
    diff.signature(warm.title or "", warm.body)

    def clock(fn) -> float:  # type: ignore[no-untyped-def]
        start = time.process_time()
        for url, body in pages:
            fn(url, body)
        return (time.process_time() - start) * 1000 / len(pages)

    traf = clock(lambda url, body: trafilatura.extract(body))
    articles = {}

    def ours(url: str, body: bytes) -> None:
        articles[url] = extract_article(url, body, {"Content-Type": "text/html; charset=utf-8"}, source_of(url))

    stages = {
        "extract_article (source rules)": clock(ours),
        "Tagger.tag": clock(lambda url, body: tagger.tag(articles[url].title or "", articles[url].body, source="ndrc", url=url, published_at=articles[url].published_at)),
        "diff.signature (MinHash)": clock(lambda url, body: diff.signature(articles[url].title or "", articles[url].body)),
        "zlib.compress(raw, 6)": clock(lambda url, body: zlib.compress(body, 6)),
        "sha256 content hash": clock(lambda url, body: hashlib.sha256(((articles[url].title or "") + "\n" + articles[url].body).encode()).hexdigest()),
    }
    body_chars = sum(len(a.body) for a in articles.values()) / len(articles)
    out.write_text(json.dumps({
        "trafilatura_ms": traf,
        "stages_ms": {k: round(v, 2) for k, v in stages.items()},
        "note": f"single process, warm, {len(pages)} pages; mean extracted body {body_chars:.0f} chars",
    }))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--components":
        components(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
    else:
        print(json.dumps(run("--quick" in sys.argv), ensure_ascii=False, indent=1))
