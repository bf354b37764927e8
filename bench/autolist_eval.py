"""List-entry detection (crawler/autolist.py) against each fixture list page, per page.

Usage::

    python bench/autolist_eval.py

The labels are what each html_list source's own list rules and `article_url` keep on its
fixture list page (crawler/sites). Detection runs twice: given the source's `article_url`
(the fallback when a list rule fails) and without it (a source that names nothing but its
list URL, where links are recognised by their CMS shape). "Extra" entries are often genuine
articles the labels leave out on purpose (another column's notice listed in this one, an
archive block of the same column), so precision is a floor, recall is what matters most.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlsplit

from parsel import Selector

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler import autolist, listings  # noqa: E402
from crawler.kinds.html_list import html_entries  # noqa: E402
from crawler.replay import SITES, FakeInternet  # noqa: E402
from crawler.watchlist import load_sources  # noqa: E402


def main() -> None:
    internet = FakeInternet(SITES)
    totals = {"article_url": [0, 0, 0], "shape": [0, 0, 0]}  # true positives, found, labelled
    print(f"{'source':15} {'mode':11} {'labels':>6} {'found':>6} {'precision':>9} {'recall':>7}  list page")
    for source in load_sources(ROOT / "watchlists" / "sources"):
        if source.kind != "html_list":
            continue
        for entry in source.lists:
            parts = urlsplit(entry.url)
            located = internet.locate(parts.hostname or "", parts.path, parts.query)
            if located is None:
                continue
            text = located[0].read_bytes().decode(source.encoding or "utf-8", "replace")
            labels = {e.url for e in html_entries(Selector(text=text), entry.url, source.list)
                      if listings.is_article_url(e.url, source.article_pattern)}
            for mode, pattern in (("article_url", source.article_pattern), ("shape", None)):
                found = {e.url for e in autolist.detect_entries(text, entry.url, pattern).entries}
                hits = len(found & labels)
                for i, n in enumerate((hits, len(found), len(labels))):
                    totals[mode][i] += n
                precision = hits / len(found) if found else 0.0
                recall = hits / len(labels) if labels else 1.0
                print(f"{source.name:15} {mode:11} {len(labels):6} {len(found):6} {precision:9.2f} {recall:7.2f}  {entry.url}")
    for mode, (hits, found, labelled) in totals.items():
        print(f"all pages, {mode:11}: precision {hits / max(found, 1):.3f}, recall {hits / max(labelled, 1):.3f} ({labelled} labelled entries)")


if __name__ == "__main__":
    main()
