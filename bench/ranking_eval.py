"""Where each sample issue's cited stories rank among that week's stored candidates, by
relevance score, with and without the editors' past choices (desk/tagging/picks.py) in the
score — leave-one-issue-out: the signal and the model never see the issue being ranked.

Usage::

    python bench/ranking_eval.py [--json]

It has one mode, already quick: one crawl of the fake internet and a few hundred taggings.

The candidates, and why they are thin
-------------------------------------
No stored week of real candidates exists here, so the candidates are built from what does:

* every item ``crawl demo`` stores from the fake internet (crawler/sites/: reconstructions of
  the watched sites, a few recorded pages), in a fresh SQLite database;
* plus the articles the sample issue cites whose pages are recorded in crawler/sites/,
  extracted with the crawler's own extractor, where the crawl did not store them already.

Each candidate is scored as the crawl stores its score and the inbox sorts by it: tagged when
it arrives, so as of its publication (freshness is that of a prompt crawl). Three pools per
issue:

* **week**: the candidates published in the 7 days up to the issue's date — "that week's
  candidates", what the issue asks for;
* **month**: those of the 31 days up to it — the report is weekly, but the stories the sample
  issues cite were published 8 to 30 days before the issue (none within its week);
* **by its date**: every candidate published on or before the issue's date, and those with
  no date — the largest pool, to see a direction where the others hold too little.

The fixture sites carry pages of many dates, so a week holds a handful of candidates where a
real archive holds hundreds; the output says, per issue and pool, when it is too thin to say
anything (fewer than ``MIN_POOL`` candidates or ``MIN_RANKED`` ranked stories). Only the
cited stories with a page in the pool can be ranked; a story's rank is the best rank of its
cited articles. Beside each pool is a random order's median rank ((n + 1) / 2, for a story
with one cited page): a score that does not beat it orders nothing.

The pick signal of an issue is learned from the OTHER sample issues only (imported into a
copy of the crawl's database: their cited hosts and CONTENTS categories); there is no
editors' triage here, so the workspace half of the signal is not exercised. Both variants
use the same tagger and the same learned model (fitted on the other issues too: its share of
the confidence part is the editors' past choices as well), so the difference is the pick
signal alone. The keyword rules were tuned on these three issues: both variants share that
in-sample advantage. Three issues and a few ranked stories each: a direction at best.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# bench/ last: its incremental.py would shadow the package Twisted imports (watchlists then fail to load)
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.append(str(ROOT / "bench"))

from harness import SITES, WATCHLISTS, cleanup, crawl_command, radar_env, run_measured, table, temp_dir  # noqa: E402

REPORTS = ROOT / "tests" / "fixtures" / "reports"
TOPICS = WATCHLISTS / "topics.yml"
WINDOWS = {"week": 7, "month": 31}  # days up to the issue's date: the report is weekly, yet cites stories 8–30 days old
MIN_POOL = 30  # candidates below which a pool's ranks say nothing (a real week holds hundreds)
MIN_RANKED = 3  # ranked stories below which an issue's ranks say nothing
VARIANTS = ("without picks", "with picks")


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
    issue_day_end = datetime.combine(report.published, time(23, 59), CHINA)
    clock = [issue_day_end]  # set per candidate by _scores
    tagger = Tagger(load_taxonomy(TOPICS), now=lambda: clock[0])
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
    candidates = crawled + recorded_articles(cited - known, hosts)
    pools = {pool: [c["url"] for c in candidates if _in_days(c["published_at"], report.published, days)] for pool, days in WINDOWS.items()}
    pools["by its date"] = [c["url"] for c in candidates if _by_date(c["published_at"], report.published)]
    scores = {variant: _scores(tagger, clock, issue_day_end, candidates, model, signal if variant == "with picks" else None) for variant in VARIANTS}
    ranked = {pool: {"size": len(urls), "cited_pages": len(cited.intersection(urls)),
                     "ranks": {variant: _ranks(scores[variant], urls, stories) for variant in VARIANTS}}
              for pool, urls in pools.items()}
    return {"issue": name, "stories": len(stories), "pools": ranked, "signal_hosts": len(signal.hosts), "signal_categories": len(signal.categories)}


def _china_day(published: datetime) -> Any:
    from common.dates import CHINA

    return (published if published.tzinfo else published.replace(tzinfo=CHINA)).astimezone(CHINA).date()


def _in_days(published: datetime | None, day: Any, days: int) -> bool:
    return published is not None and day - timedelta(days=days) < _china_day(published) <= day


def _by_date(published: datetime | None, day: Any) -> bool:
    return published is None or _china_day(published) <= day


def _scores(tagger: Any, clock: list[datetime], issue_day_end: datetime, candidates: list[dict[str, Any]], model: Any, signal: Any) -> dict[str, float]:
    """URL → relevance score as the crawl stores it and the inbox sorts by it: tagged when the
    item arrives, so as of its publication (an undated one, whose freshness is "unknown"
    whenever it is scored, as of the issue's day)."""
    scores = {}
    for c in candidates:
        clock[0] = c["published_at"] or issue_day_end
        scores[c["url"]] = tagger.tag(c["title"], c["body"], source=c["source"], url=c["url"], published_at=c["published_at"],
                                      cluster_size=c["cluster"], model=model, picks=signal).score
    return scores


def _ranks(scores: dict[str, float], pool: list[str], stories: list[tuple[str, set[str]]]) -> dict[str, int]:
    """Story label → best rank (1 = top) of its cited pages in the pool, for stories that have one there."""
    position = {url: rank for rank, url in enumerate(sorted(pool, key=lambda url: -scores[url]), 1)}
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
    print(", ".join(f"'{pool}' = published in the {days} days up to the issue's date" for pool, days in WINDOWS.items())
          + ", 'by its date' = everything published by then or undated;")
    print("scores as stored when each item arrives; leave-one-issue-out: the pick signal and the model learned from the other issues only\n")
    rows = []
    for r in results:
        for pool, p in r["pools"].items():
            s0, s1 = (summary(p["ranks"][v]) for v in VARIANTS)
            rows.append([r["issue"], pool, p["size"], f"{len(p['ranks']['with picks'])}/{r['stories']}", (p["size"] + 1) / 2 if p["size"] else None,
                         s0["median"], s0["mrr"], s1["median"], s1["mrr"], _verdict(p)])
    print(table(rows, ["issue", "pool", "candidates", "stories ranked", "a random order's median", "median rank without", "MRR without",
                       "median rank with picks", "MRR with picks", "enough to say anything?"]))
    for r in results:
        print(f"\n{r['issue']} (signal from the other issues: {r['signal_hosts']} hosts, {r['signal_categories']} categories):")
        for pool, p in r["pools"].items():
            without, with_ = (p["ranks"][v] for v in VARIANTS)
            print(f"  {pool}: {p['size']} candidates, {p['cited_pages']} of them cited pages")
            for label in without:
                print(f"    {label:<40} rank {without[label]:>3} → {with_[label]:>3} of {p['size']}")
    for pool in results[0]["pools"] if results else ():
        merged = [{f"{r['issue']} {k}": v for r in results for k, v in r["pools"][pool]["ranks"][variant].items()} for variant in VARIANTS]
        before, after = summary(merged[0]), summary(merged[1])
        thin = sum(_verdict(r["pools"][pool]).startswith("no") for r in results)
        print(f"\nall issues, {pool}: {len(merged[0])} ranked stories, median rank {before['median']} → {after['median']}, "
              f"MRR {before['mrr']} → {after['mrr']} (without → with picks); too thin to say anything: {thin} of {len(results)} issues")


def _verdict(pool: dict[str, Any]) -> str:
    """Whether a pool's ranks can say anything: enough candidates and enough ranked stories."""
    ranked = len(pool["ranks"]["with picks"])
    if pool["size"] < MIN_POOL or ranked < MIN_RANKED:
        return f"no: too thin ({pool['size']} candidates, {ranked} stories ranked; needs {MIN_POOL} and {MIN_RANKED})"
    return "a direction only"


if __name__ == "__main__":
    raise SystemExit(main())
