"""Proposing a watchlist from one URL: `crawl sources add`.

Given a column page (or an article, whose column is derived as the coverage report does),
detection finds its entries; from their URLs an ``article_url`` pattern is inferred; a list
selector is kept only when it reproduces what detection found (else the source stays
selector-less and is read by detection on every run). Pure functions over fetched pages, so
the proposal is tested from saved HTML.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from parsel import Selector

from crawler import autolist, listings
from crawler.coverage import column_url
from crawler.kinds.base import ListEntryRules
from crawler.kinds.html_list import HtmlListSource, html_entries

HEX32 = re.compile(r"^[0-9a-f]{32}$")
DATE_RUN = re.compile(r"^(?:19|20)\d{2}(?:0[1-9]|1[0-2])?(?:[0-3]\d)?$")  # 2024, 202406, 20240613


@dataclass
class Proposal:
    name: str
    list_url: str
    article_url: str | None
    entries: list[listings.Entry]
    list_rules: dict[str, str] = field(default_factory=dict)  # empty: selector-less
    notes: list[str] = field(default_factory=list)

    def watchlist(self, today: dt.date) -> dict[str, Any]:
        """The YAML document, as data."""
        host = urlsplit(self.list_url).hostname or ""
        data: dict[str, Any] = {
            "name": self.name,
            "label": f"{host} (proposed)",
            "homepage": f"https://{host}/",
            "kind": "html_list",
            "schedule": "2h",
            "lists": [self.list_url],
            "list": {**self.list_rules, **({"article_url": self.article_url} if self.article_url else {})},
        }
        data["provenance"] = {
            "checked": today.isoformat(),
            "list_url": f"given to `crawl sources add` on {today.isoformat()}",
            "selectors": ("list.entry chosen because it reproduces what detection found" if self.list_rules
                          else "none: entries are found by detection on every run"),
            "article": "generic extraction (no article rules)",
            "evidence": [{"kind": "inference", "where": f"detection on {self.list_url}", "date": today.isoformat(),
                          "shows": "; ".join(self.notes)}],
            "inferred": ["article_url, inferred from the detected links", "proposed automatically: check with `crawl doctor`"],
        }
        return data


def provisional_source(name: str, list_url: str, article_url: str | None = None) -> HtmlListSource:
    """A selector-less source for ``list_url``: what the doctor's fetch needs (its hosts, its
    politeness) before any watchlist exists."""
    host = urlsplit(list_url).hostname or ""
    rules = {"article_url": article_url} if article_url else {}
    return HtmlListSource.model_validate(
        {"name": name, "label": host, "homepage": f"https://{host}/", "kind": "html_list", "lists": [list_url], "list": rules}
    )


def name_for(list_url: str) -> str:
    """A watchlist name from a URL: ``www.most.gov.cn/dfkj/nmg/zxdt/`` → ``most_dfkj_nmg_zxdt``."""
    parts = urlsplit(list_url)
    host = (parts.hostname or "source").removeprefix("www.").split(".")[0]
    folders = [re.sub(r"[^a-z0-9]+", "_", f.lower()) for f in parts.path.split("/") if f and "." not in f]
    return "_".join([host, *folders])[:60].strip("_") or "source"


def is_article(url: str) -> bool:
    """Whether a URL has the shape of a CMS article (so its column is what to watch)."""
    return autolist.looks_like_article(url)


def list_url_for(url: str) -> str:
    """The column page to watch for ``url``: itself, or the column of an article."""
    return column_url(url) if is_article(url) else url


def propose(name: str, list_url: str, page: str) -> Proposal:
    """A watchlist for the column at ``list_url`` whose HTML is ``page``."""
    detection = autolist.detect_entries(page, list_url)
    urls = [e.url for e in detection.entries]
    pattern = infer_article_url(urls)
    notes = [detection.reason]
    rules = stable_selector(page, list_url, [u for u in urls if pattern and re.match(pattern, u)], pattern)
    if not rules:
        notes.append("no list selector reproduces the detected entries: the source is read by detection")
    return Proposal(name, list_url, pattern, detection.entries, rules, notes)


def infer_article_url(urls: list[str]) -> str | None:
    """A regex every URL matches: literal where they agree, digit or hex runs where they
    vary. URLs of the commonest shape only — host, depth and file type — so one odd link
    (a PDF notice among the articles) does not widen the pattern."""
    shapes: dict[tuple[str, int, str], list[list[str]]] = {}
    for url in urls:
        parts = urlsplit(url)
        segments = parts.path.strip("/").split("/")
        file_type = PurePosixPath(segments[-1]).suffix.lower()
        shapes.setdefault((parts.hostname or "", len(segments), file_type), []).append(segments)
    if not shapes:
        return None
    (host, _, _), paths = max(shapes.items(), key=lambda pair: len(pair[1]))
    pieces = [_generalise([path[i] for path in paths]) for i in range(len(paths[0]))]
    return f"^https?://{re.escape(host)}/" + "/".join(pieces) + "$"


def _generalise(values: list[str]) -> str:
    if len(set(values)) == 1 and not re.search(r"\d", values[0]):
        return re.escape(values[0])
    if all(HEX32.match(v) for v in values):
        return "[0-9a-f]{32}"
    # Same letters and punctuation, digits varying: t20230526_186326.html → t\d{8}_\d+\.html
    skeletons = {re.sub(r"\d+", "#", v) for v in values}
    if len(skeletons) == 1:
        return _digits_pattern(skeletons.pop(), values)
    names = sorted(set(values))
    if len(names) <= 4 and not any(re.search(r"\d", n) for n in names):
        return "(?:" + "|".join(map(re.escape, names)) + ")"  # a few sibling columns, named
    return r"[^/]+"


def _digits_pattern(skeleton: str, values: list[str]) -> str:
    """The skeleton's ``#`` as digit runs: a fixed width where every value is a date of one
    width (``2024``, ``202406``, ``20240613``), else one-or-more digits (ids grow a digit)."""
    runs = [[re.findall(r"\d+", v)[i] for v in values] for i in range(skeleton.count("#"))]
    pattern, index = "", 0
    for chunk in re.split(r"(#)", skeleton):
        if chunk == "#":
            widths = {len(run) for run in runs[index]}
            dated = len(widths) == 1 and all(DATE_RUN.match(run) for run in runs[index])
            pattern += rf"\d{{{widths.pop()}}}" if dated else r"\d+"
            index += 1
        else:
            pattern += re.escape(chunk)
    return pattern


def stable_selector(page: str, list_url: str, urls: list[str], pattern: str | None) -> dict[str, str]:
    """CSS rules (entry, link) that reproduce at least 90 % of ``urls`` and little else."""
    if not urls:
        return {}
    selector = Selector(text=page)
    for entry in _entry_candidates(selector, urls):
        spec = ListEntryRules(entry=entry)
        found = [e.url for e in html_entries(selector, list_url, spec) if listings.is_article_url(e.url, pattern)]
        hits = len(set(found) & set(urls))
        if hits >= 0.9 * len(urls) and len(found) <= 1.1 * len(urls):
            return {"entry": entry, "link": "a::attr(href)"}
    return {}


def _entry_candidates(selector: Selector, urls: list[str]) -> list[str]:
    """`container.class > entry` selectors around the first detected link, most specific first."""
    first = urlsplit(urls[0]).path.rsplit("/", 1)[-1]
    anchors = selector.xpath(f"//a[contains(@href, {_xpath_literal(first)})]")
    if not anchors:
        return []
    candidates = []
    for entry in anchors[0].xpath("ancestor::li|ancestor::tr|ancestor::div|ancestor::dd")[::-1][:3]:
        parent, grandparent = entry.xpath(".."), entry.xpath("../..")
        if not parent:
            continue
        outer = f"{_css_of(grandparent[0])} " if grandparent else ""
        for container in (outer + _css_of(parent[0]), _css_of(parent[0]), parent[0].root.tag):
            candidates.append(f"{container} > {entry.root.tag}")
    return list(dict.fromkeys(candidates))


def _css_of(node: Selector) -> str:
    element = node.root
    classes = [c for c in (element.get("class") or "").split() if re.match(r"^[A-Za-z][\w-]*$", c)]
    if element.get("id") and re.match(r"^[A-Za-z][\w-]*$", element.get("id")):
        return f"{element.tag}#{element.get('id')}"
    return element.tag + "".join(f".{c}" for c in classes[:2])


def _xpath_literal(text: str) -> str:
    return f"'{text}'" if "'" not in text else f'"{text}"'
