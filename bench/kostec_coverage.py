"""How much of what KOSTEC's 정책동향 cites falls in a column an enabled source watches.

Usage: python bench/kostec_coverage.py [CITATIONS.yml]   (default: tests/fixtures/kostec/citations.yml)

Reads the citations (facts extracted from KOSTEC's public pages, see the file's header), judges
every cited URL by the crawler's own rule (crawler.coverage.judge_urls: host + ``article_url`` of
an enabled source), and prints the covered share without WeChat, WeChat apart, and the columns
no source watches, most cited first. A print-out, not a test: tests/test_coverage.py pins the share.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
# The project root replaces bench/ on the path: bench/incremental.py would shadow the
# `incremental` package Twisted (under Scrapy) imports.
sys.path[0] = str(ROOT)

from crawler import coverage  # noqa: E402
from crawler.watchlist import load_sources  # noqa: E402

CITATIONS = ROOT / "tests" / "fixtures" / "kostec" / "citations.yml"
WATCHLISTS = ROOT / "watchlists"


def cited_urls(path: Path) -> list[str]:
    """Every reference URL the file records (references shown without a URL are skipped)."""
    items = yaml.safe_load(path.read_text(encoding="utf-8"))["items"]
    return [ref["url"] for item in items for ref in item["references"] if ref.get("url")]


def main(path: Path) -> None:
    sources = load_sources(WATCHLISTS / "sources")
    report = coverage.judge_urls(cited_urls(path), sources)
    print(f"citations: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    print(f"watched (non-WeChat): {report.watched}/{report.cited} ({report.share:.0%})")
    print(f"WeChat: {report.wechat['watched']}/{report.wechat['cited']} watched")
    print("columns no source watches, most cited first:")
    for column in coverage.missed_columns([report], sources):
        print(f"  {column.citations:3d}  {column.column}    ({column.try_with})")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else CITATIONS)
