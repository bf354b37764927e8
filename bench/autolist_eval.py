"""List-entry detection (crawler/autolist.py) against labelled list pages, per page.

Usage::

    python bench/autolist_eval.py

Two sets of pages:

- *real*: saved list pages from public repositories in tests/fixtures/lists/, labelled by hand
  (labels.yml there says where each page came from and how it was labelled);
- *reconstructed*: each fixture site's list pages (crawler/sites, our gov-CMS reconstructions);
  their labels are what the source's own list rules and ``article_url`` keep. "Extra" entries
  there are often genuine articles the rules leave out on purpose (another column's notice
  listed in this one, an archive block of the same column), so precision is a floor.

Detection runs twice on each page: given the ``article_url`` (the fallback when a list rule
fails) and without it (a source that names nothing but its list URL). Prints precision, recall
and F1 per page and in total, and the milliseconds detection took (parsing included).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from parsel import Selector

ROOT = Path(__file__).resolve().parent.parent
LISTS = ROOT / "tests" / "fixtures" / "lists"
# bench/ itself goes last: its incremental.py would shadow the package Twisted imports
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from crawler import autolist, listings  # noqa: E402
from crawler.kinds.html_list import html_entries  # noqa: E402
from crawler.replay import SITES, FakeInternet  # noqa: E402
from crawler.watchlist import load_sources  # noqa: E402


@dataclass
class ListPage:
    kind: str  # "real" or "reconstructed"
    name: str
    url: str  # the page's URL: the base for its relative links
    text: str
    article_url: str | None
    labels: set[str]  # the URLs of its article entries


@dataclass
class Score:
    labelled: int
    found: int
    hits: int

    @property
    def precision(self) -> float:
        return self.hits / self.found if self.found else 0.0

    @property
    def recall(self) -> float:
        return self.hits / self.labelled if self.labelled else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def real_pages() -> list[ListPage]:
    """The saved list pages of tests/fixtures/lists/ with their hand labels."""
    labelled = yaml.safe_load((LISTS / "labels.yml").read_text(encoding="utf-8"))
    return [
        ListPage("real", page["file"].removesuffix(".html"), page["url"], (LISTS / page["file"]).read_text(encoding="utf-8"),
                 page["article_url"], {entry["url"] for entry in page["entries"]})
        for page in labelled
    ]


def reconstructed_pages() -> list[ListPage]:
    """Each enabled html_list fixture source's list pages, labelled by its own list rules."""
    internet, pages = FakeInternet(SITES), []
    for source in load_sources(ROOT / "watchlists" / "sources"):
        if source.kind != "html_list" or not source.enabled:
            continue
        for entry in source.lists:
            parts = urlsplit(entry.url)
            located = internet.locate(parts.hostname or "", parts.path, parts.query)
            if located is None:
                continue
            text = located[0].read_bytes().decode(source.encoding or "utf-8", "replace")
            labels = {e.url for e in html_entries(Selector(text=text), entry.url, source.list)
                      if listings.is_article_url(e.url, source.article_pattern)}
            pages.append(ListPage("reconstructed", source.name, entry.url, text, source.article_pattern, labels))
    return pages


def score(page: ListPage, article_url: str | None) -> Score:
    """Detection on ``page`` given ``article_url`` (or none) against its labels."""
    found = {e.url for e in autolist.detect_entries(page.text, page.url, article_url).entries}
    return Score(len(page.labels), len(found), len(found & page.labels))


def main() -> None:
    totals: dict[tuple[str, str], Score] = {}
    print(f"{'pages':13} {'page':28} {'mode':11} {'labels':>6} {'found':>6} {'precision':>9} {'recall':>7} {'F1':>5} {'ms':>6}")
    for page in real_pages() + reconstructed_pages():
        for mode, pattern in (("article_url", page.article_url), ("none", None)):
            started = time.perf_counter()
            result = score(page, pattern)
            elapsed = (time.perf_counter() - started) * 1000
            total = totals.setdefault((page.kind, mode), Score(0, 0, 0))
            total.labelled, total.found, total.hits = total.labelled + result.labelled, total.found + result.found, total.hits + result.hits
            print(f"{page.kind:13} {page.name[:28]:28} {mode:11} {result.labelled:6} {result.found:6} "
                  f"{result.precision:9.2f} {result.recall:7.2f} {result.f1:5.2f} {elapsed:6.0f}")
    for (kind, mode), total in totals.items():
        print(f"all {kind} pages, {mode:11}: precision {total.precision:.3f}, recall {total.recall:.3f}, "
              f"F1 {total.f1:.3f} ({total.labelled} labelled entries)")


if __name__ == "__main__":
    main()
