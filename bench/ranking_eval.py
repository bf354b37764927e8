"""Where each sample issue's cited stories rank among the stored candidates, by relevance score,
with and without the editors' past choices (desk/tagging/picks.py) in the score.

Usage::

    python bench/ranking_eval.py [--json]

It has one mode, already quick: one crawl of the fake internet and a few hundred taggings.

The candidates, and why they are thin
-------------------------------------
No stored week of real candidates exists here, so the pool is built from what does:

* every item ``crawl demo`` stores from the fake internet (crawler/sites/: reconstructions of
  the watched sites, a few recorded pages), in a fresh SQLite database;
* plus the articles the sample issue cites whose pages are recorded in crawler/sites/,
  extracted with the crawler's own extractor, where the crawl did not store them already.

Those items are not of one week: the fixture sites carry pages of many dates. The pool of
an issue is every item published on or before the issue's date (and the items without a
date), scored as of the end of that day — a week of a real archive holds hundreds of
candidates, this pool holds what the output says. Only the cited stories with a recorded
page can be ranked (the output says how many of the issue's stories that is); a story's
rank is the best rank of its cited articles.

The pick signal of an issue is learned from the OTHER sample issues only (imported into a
copy of the crawl's database: their cited hosts and CONTENTS categories); there is no
editors' triage here, so the workspace half of the signal is not exercised. Both variants
use the same tagger and the same learned model (fitted on the other issues too), so the
difference is the pick signal alone. Three issues and a few ranked stories each: read the
figures as a direction, not a measurement.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
from datetime import datetime, time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# bench/ last: its incremental.py would shadow the package Twisted imports (watchlists then fail to load)
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.append(str(ROOT / "bench"))

from harness import SITES, WATCHLISTS, cleanup, crawl_command, radar_env, run_measured, table, temp_dir  # noqa: E402

REPORTS = ROOT / "tests" / "fixtures" / "reports"
TOPICS = WATCHLISTS / "topics.yml"


def crawl_fake_internet(tmp: Path) -> Path:
    """The database `crawl demo` fills from the fake internet."""
    db = tmp / "crawl.sqlite"
    result = run_measured(crawl_command("demo"), radar_env(tmp, f"sqlite:///{db}", WATCHLISTS), tmp)
    if result.returncode != 0:
        raise SystemExit(f"crawl demo exited {result.returncode}:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return db


def stored_candidates(db: Path) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from storage import queries
    from storage.db import transaction
    from storage.models import Item, Source

    with transaction(f"sqlite:///{db}") as session:
        rows = session.execute(select(Item, Source.name).join(Source, Source.id == Item.source_id)).all()
        return [{"title": item.title, "body": item.body, "source": name, "url": item.canonical_url, "published_at": item.published_at,
                 "cluster": queries.cluster_size(session, item.cluster_id), "origin": "crawl"} for item, name in rows]


def recorded_articles(urls: set[str], hosts: dict[str, str]) -> list[dict[str, Any]]:
    """The cited articles whose page is recorded in crawler/sites/, extracted as a crawl would."""
    from urllib.parse import urlsplit

    from crawler.extract import extract_article

    found = []
    for url in sorted(urls):
        parts = urlsplit(url)
        path = SITES / (parts.hostname or "") / parts.path.lstrip("/")
        if path.is_file():
            source = hosts.get(parts.hostname or "")
            article = extract_article(url, path.read_bytes(), source=None)
            found.append({"title": article.title or "", "body": article.body, "source": source, "url": url,
                          "published_at": article.published_at, "cluster": 1, "origin": "recorded cited page"})
    return found


def source_hosts() -> dict[str, str]:
    from crawler.watchlist import load_sources

    return {host: s.name for s in load_sources(WATCHLISTS / "sources") for host in s.hosts}


def cited_stories(report: Any) -> list[tuple[str, set[str]]]:
    """(label, canonical URLs) per story and brief of an issue that cites any URL."""
    from common.urls import canonical_url

    stories = [(f"#{s.number or i} {s.headline[:24]}", {canonical_url(r.url) for r in s.references if r.url}) for i, s in enumerate(report.stories, 1)]
    stories += [(f"brief {b.number} {b.headline[:24]}", {canonical_url(r.url) for r in b.references if r.url} | ({canonical_url(b.url)} if b.url else set()))
                for b in report.briefs]
    return [(label, urls) for label, urls in stories if urls]


def rank_issue(name: str, reports: dict[str, Any], crawl_db: Path, crawled: list[dict[str, Any]], hosts: dict[str, str], tmp: Path) -> dict[str, Any]:
    """Import the other issues into a copy of the crawl, learn from them, rank this issue's pool."""
    from common.dates import CHINA
    from desk import issues
    from desk.tagging import Tagger, learned, load_taxonomy, picks
    from storage.db import transaction

    report = reports[name]
    db = tmp / f"without-{name}.sqlite"
    shutil.copy(crawl_db, db)
    tagger = Tagger(load_taxonomy(TOPICS), now=lambda: datetime.combine(report.published, time(23, 59), CHINA))
    with transaction(f"sqlite:///{db}") as session:
        for other, parsed in reports.items():
            if other != name:
                issues.store(session, parsed)
        learned.retrain(session, tagger.taxonomy.resolve)
    with transaction(f"sqlite:///{db}") as session:
        model, signal = learned.current_model(session), picks.current(session, tagger.taxonomy.resolve)
    stories = cited_stories(report)
    cited = set().union(*(urls for _, urls in stories)) if stories else set()
    known = {c["url"] for c in crawled}
    pool = [c for c in crawled + recorded_articles(cited - known, hosts) if _before(c["published_at"], report.published)]
    ranks = {variant: _ranks(tagger, pool, stories, model, signal if variant == "with picks" else None) for variant in ("without picks", "with picks")}
    return {"issue": name, "pool": len(pool), "pool_cited_pages": sum(c["url"] in cited for c in pool),
            "stories": len(stories), "ranks": ranks, "signal_hosts": len(signal.hosts)}


def _before(published: datetime | None, day: Any) -> bool:
    from common.dates import CHINA

    return published is None or (published if published.tzinfo else published.replace(tzinfo=CHINA)).astimezone(CHINA).date() <= day


def _ranks(tagger: Any, pool: list[dict[str, Any]], stories: list[tuple[str, set[str]]], model: Any, signal: Any) -> dict[str, int]:
    """Story label → best rank (1 = top) of its cited pages in the pool, for stories that have one there."""
    scored = sorted(((tagger.tag(c["title"], c["body"], source=c["source"], url=c["url"], published_at=c["published_at"],
                                 cluster_size=c["cluster"], model=model, picks=signal).score, c["url"]) for c in pool), key=lambda s: -s[0])
    position = {url: rank for rank, (_, url) in enumerate(scored, 1)}
    return {label: min(position[u] for u in urls if u in position) for label, urls in stories if urls & position.keys()}


def summary(ranks: dict[str, int]) -> dict[str, float | None]:
    values = list(ranks.values())
    if not values:
        return {"median": None, "mrr": None}
    return {"median": statistics.median(values), "mrr": round(sum(1 / r for r in values) / len(values), 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from desk import issues

    tmp = temp_dir("ranking")
    try:
        crawl_db = crawl_fake_internet(tmp)
        crawled = stored_candidates(crawl_db)
        hosts = source_hosts()
        reports = {p.stem: issues.parse_report(p.read_text(encoding="utf-8"), p.name) for p in sorted(REPORTS.glob("*.txt"))}
        results = [rank_issue(name, reports, crawl_db, crawled, hosts, tmp) for name in reports]
    finally:
        cleanup(tmp)
    if args.json:
        print(json.dumps({"crawled": len(crawled), "issues": results}, ensure_ascii=False, indent=2, default=str))
        return 0
    print_report(len(crawled), results)
    return 0


def print_report(crawled: int, results: list[dict[str, Any]]) -> None:
    print(f"candidates: {crawled} item(s) stored by `crawl demo` from the fake internet, plus each issue's cited pages recorded in crawler/sites/;")
    print("an issue's pool is what was published by its date (THIN: not a real week of candidates; see the docstring)\n")
    rows = []
    for r in results:
        without, with_ = r["ranks"]["without picks"], r["ranks"]["with picks"]
        s0, s1 = summary(without), summary(with_)
        rows.append([r["issue"], r["pool"], f"{len(without)}/{r['stories']}", s0["median"], s0["mrr"], s1["median"], s1["mrr"], r["signal_hosts"]])
    print(table(rows, ["issue", "pool", "stories ranked", "median rank without", "MRR without", "median rank with picks", "MRR with picks", "hosts learned (other issues)"]))
    for r in results:
        print(f"\n{r['issue']} (pool {r['pool']}; its cited pages in the pool: {r['pool_cited_pages']}):")
        without, with_ = r["ranks"]["without picks"], r["ranks"]["with picks"]
        for label in without:
            print(f"  {label:<40} rank {without[label]:>3} → {with_[label]:>3} of {r['pool']}")
    every = [(r["ranks"]["without picks"], r["ranks"]["with picks"]) for r in results]
    pooled = (summary({f"{i}{k}": v for i, (w, _) in enumerate(every) for k, v in w.items()}),
              summary({f"{i}{k}": v for i, (_, p) in enumerate(every) for k, v in p.items()}))
    print(f"\nall issues: median rank {pooled[0]['median']} → {pooled[1]['median']}, MRR {pooled[0]['mrr']} → {pooled[1]['mrr']} (without → with picks)")


if __name__ == "__main__":
    raise SystemExit(main())
