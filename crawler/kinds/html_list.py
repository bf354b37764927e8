"""``kind: html_list`` — entries found by CSS/XPath selectors on an HTML list page.

With no ``list.entry`` rule the source is selector-less and its entries are found by
detection (:mod:`crawler.autolist`); detection also rescues a rule that found too few.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urljoin

from parsel import Selector

from common.dates import parse_date
from common.markup import safe
from crawler import autolist, netguard, rules
from crawler.kinds.base import CompiledSelector, Explanation, FetchForDoctor, ListEntryRules, Listing, FetchedPage, SourceBase, explain_title_and_date
from crawler.kinds.records import record_fragment
from crawler.listings import Entry, RuleTally, tally_entries


class HtmlListSource(SourceBase):
    kind: Literal["html_list"]
    list: ListEntryRules = ListEntryRules()  # none at all: a selector-less source
    # The script(s) whose `<record><![CDATA[…]]></record>` hold the list (Hanweb column pages,
    # `script[type="text/xml"]`): the list rules then read those records (crawler.kinds.records).
    records: CompiledSelector | None = None

    @property
    def article_pattern(self) -> str | None:
        return self.list.article_url

    def list_document(self, page: FetchedPage) -> tuple[Selector, str, bool]:
        """What the list rules read: the page, or the records in its script when `records` is set
        (an empty document when it holds none, so the rules and detection find nothing there),
        and whether the records were there (always true without `records`)."""
        if self.records is None:
            return page.selector, page.text, True
        fragment = record_fragment(page.selector, self.records, page.text)
        document = fragment or Selector(text="<div></div>")
        return document, document.get(), fragment is not None

    def read_list(self, page: FetchedPage, list_url: str, tally: RuleTally) -> Listing:
        selector, text, held = self.list_document(page)
        if self.records is not None:
            tally.record("list.records", held)
        found = html_entries(selector, page.url, self.list, tally)
        return with_detection(self, found, text, page.url)

    def tally_kept(self, entries: list[Entry], tally: RuleTally) -> None:
        tally_entries(entries, self.list, tally)

    def explain_list(self, page: FetchedPage, fetch: FetchForDoctor) -> Explanation:
        selector, text, _ = self.list_document(page)
        explained = explain_html(self, selector, text, page.url)
        if self.records is None:
            return explained
        held = len(selector.xpath("/html/body/div/*"))
        line = f"   records `{safe(self.records)}` → {held} element(s) in the page's record store"
        return Explanation([line, *explained.lines], explained.found)

    def explain_kept(self, kept: list[Entry]) -> list[str]:
        return explain_title_and_date(self.list, kept)


def html_entries(selector: Selector, base_url: str, spec: ListEntryRules, tally: RuleTally | None = None) -> list[Entry]:
    """The entries the ``list`` rules find on an HTML page (none for a selector-less source)."""
    if spec.entry is None:
        return []  # a selector-less source: the spider finds entries by detection
    nodes = rules.select(selector, spec.entry)
    if tally is not None:
        tally.record("list.entry", bool(nodes))
    found: list[Entry] = []
    seen: set[str] = set()
    for node in nodes:
        href = rules.first_text(node, spec.link)
        if not href or href.startswith(("javascript:", "#", "mailto:")):
            continue
        url = urljoin(base_url, href)
        if url in seen:
            continue
        seen.add(url)
        title = rules.first_text(node, spec.title) if spec.title else None
        date = parse_date(rules.first_text(node, spec.date)) if spec.date else None
        found.append(Entry(url, title, date))
    return found


def with_detection(source: SourceBase, found: list[Entry], page: str, base_url: str) -> Listing:
    """The entries the rules found; where they found too few (a redesign, a wrong
    selector) or the source has none, the entries detection finds on the same page.
    A rescue by detection replacing a written ``list.entry`` rule is reported in the
    listing, so the source turns `degraded`, naming the rule, not silent."""
    wanted = sum(netguard.keeps_entry(e.url, source) for e in found)
    if wanted >= max(source.expect.min_entries, 1):
        return Listing(found)
    detection = autolist.detect_entries(page, base_url, source.article_pattern)
    if len(detection.entries) <= wanted:
        return Listing(found)
    entry_rule = source.list.entry  # type: ignore[attr-defined]  # html kinds only
    if entry_rule is None:
        return Listing(detection.entries)
    why = f"list.entry `{entry_rule.select}` found {wanted}; {len(detection.entries)} entries found by detection"
    return Listing(detection.entries, detected=why, detected_on=base_url)


def explain_html(source: SourceBase, selector: Selector, page: str, base_url: str) -> Explanation:
    """What the spider would read here: the ``list.entry`` rule's matches and, where it has
    none or they are too few, the entries detection finds instead (as the spider does)."""
    spec = source.list  # type: ignore[attr-defined]  # html kinds only
    lines = []
    if spec.entry is not None:
        nodes = len(rules.select(selector, spec.entry))
        lines.append(f"   list.entry `{safe(spec.entry.select)}` matched {nodes} element(s)")
    else:
        lines.append("   list.entry: none written; entries are found by detection")
    listing = with_detection(source, html_entries(selector, base_url, spec), page, base_url)
    if listing.detected:
        lines.append(f"   [yellow]{safe(listing.detected)}[/yellow] (the source turns degraded)")
    elif spec.entry is None:
        lines.append(f"   detection found {len(listing.entries)} entries")
    return Explanation(lines, listing.entries)
