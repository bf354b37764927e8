"""``kind: json_list`` — entries read from a JSON list response by dotted paths."""

from __future__ import annotations

import json
import re
from typing import Any, Literal
from urllib.parse import urljoin

from common.dates import parse_date
from common.markup import safe
from crawler.kinds.base import CompiledRegex, Explanation, FetchForDoctor, Listing, FetchedPage, SourceBase, Strict, explain_title_and_date
from crawler.listings import Entry, RuleTally, tally_entries


class JsonListRules(Strict):
    """How entries are found in a JSON list response: dotted paths (``data.list``; ``.`` when
    the response itself is the array, as gov.cn's list files are)."""

    items: str
    link: str
    title: str | None = None
    date: str | None = None
    article_url: CompiledRegex | None = None


class JsonListSource(SourceBase):
    kind: Literal["json_list"]
    list: JsonListRules

    @property
    def article_pattern(self) -> str | None:
        return self.list.article_url

    def read_list(self, page: FetchedPage, list_url: str, tally: RuleTally) -> Listing:
        found = json_entries(page.text, page.url, self.list)
        tally.record("list.items", bool(found))
        return Listing(found)

    def tally_kept(self, entries: list[Entry], tally: RuleTally) -> None:
        tally_entries(entries, self.list, tally)

    def explain_list(self, page: FetchedPage, fetch: FetchForDoctor) -> Explanation:
        found = json_entries(page.text, page.url, self.list)
        return Explanation([f"   items path `{safe(self.list.items)}`: {len(found)} record(s) with a link"], found)

    def explain_kept(self, kept: list[Entry]) -> list[str]:
        return explain_title_and_date(self.list, kept)


# A JSONP answer: the JSON wrapped in a callback call, `tech({...});` (CCTV's column data).
JSONP = re.compile(r"^\s*[A-Za-z_$][\w$.]*\s*\((.*)\)\s*;?\s*$", re.DOTALL)


def json_entries(text: str, base_url: str, spec: JsonListRules) -> list[Entry]:
    """Entries of a JSON (or JSONP) list; a response that is neither has none."""
    text = text.lstrip("\ufeff")
    wrapped = JSONP.match(text)
    try:
        data = json.loads(wrapped.group(1) if wrapped else text)
    except ValueError:
        return []
    found = []
    for record in json_path(data, spec.items) or []:
        link = json_path(record, spec.link)
        if isinstance(link, str) and link:
            title = json_path(record, spec.title) if spec.title else None
            date = parse_date(json_path(record, spec.date)) if spec.date else None
            found.append(Entry(urljoin(base_url, link), title, date))
    return found


def json_path(data: Any, path: str | None) -> Any:
    """Follow a dotted path (``data.list``; numeric parts index lists; ``.`` is the root)."""
    if not path:
        return None
    if path == ".":
        return data
    for part in path.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data
