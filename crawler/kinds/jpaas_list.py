"""``kind: jpaas_list`` — sites on the "jpaas" publishing platform (MIIT and many city
governments).

The column page is a JavaScript shell whose ``<script parseType="buildstatic" url=…
querydata=…>`` names a JSON API; the API's ``data.html`` is an HTML fragment read with the
same ``list`` rules as an HTML list.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar, Literal
from urllib.parse import urlencode, urljoin

from parsel import Selector

from common.markup import safe
from crawler.kinds.base import CompiledSelector, Explanation, FetchForDoctor, ListEntryRules, Listing, FetchedPage, SourceBase, explain_title_and_date
from crawler.kinds.html_list import explain_html, html_entries, with_detection
from crawler.kinds.json_list import json_path
from crawler.listings import Entry, RuleTally, tally_entries


class JpaasListSource(SourceBase):
    """A jpaas column: the shell page names the API, the API answers with the list as HTML."""

    kind: Literal["jpaas_list"]
    list: ListEntryRules
    script: CompiledSelector = "script[parsetype=buildstatic], script[parseType=buildstatic], script[parsetype=bulidstatic]"

    # The shell never changes when items are added; the API pages through paramJson, and
    # its first page is what is new.
    list_is_shell: ClassVar[bool] = True
    follows_pagination: ClassVar[bool] = False

    @property
    def article_pattern(self) -> str | None:
        return self.list.article_url

    def api_url(self, page: FetchedPage) -> str | None:
        return jpaas_api_url(page.selector, page.url, self.script)

    def read_shell(self, page: FetchedPage, tally: RuleTally) -> str | None:
        api = self.api_url(page)
        if api is None:
            tally.record("list.script", False)
        return api

    def shell_failure(self) -> str:
        return f"names no jpaas API (script `{self.script}` not found)"

    def read_list(self, page: FetchedPage, list_url: str, tally: RuleTally) -> Listing:
        fragment = jpaas_fragment(page.text)
        tally.record("list.script", fragment is not None)
        if fragment is None:
            return Listing([])
        found = html_entries(fragment, list_url, self.list, tally)
        return with_detection(self, found, fragment.get(), list_url)

    def tally_kept(self, entries: list[Entry], tally: RuleTally) -> None:
        tally_entries(entries, self.list, tally)

    def explain_list(self, page: FetchedPage, fetch: FetchForDoctor) -> Explanation:
        api = self.api_url(page)
        lines = [f"   script `{safe(self.script)}` → API {safe(api) if api else '[red]not found[/red]'}"]
        if api is None:
            return Explanation(lines, None)
        answer, summary = fetch(api, page.url)
        lines.append(summary)
        fragment = jpaas_fragment(answer.text) or Selector(text="")
        explained = explain_html(self, fragment, fragment.get(), page.url)
        return Explanation(lines + explained.lines, explained.found)

    def explain_kept(self, kept: list[Entry]) -> list[str]:
        return explain_title_and_date(self.list, kept)


def jpaas_api_url(selector: Selector, page_url: str, script_css: str) -> str | None:
    """The JSON API a jpaas column page names in its buildstatic script tag."""
    for script in selector.css(script_css):
        url, query = script.attrib.get("url"), script.attrib.get("querydata")
        if not url:
            continue
        params = _loose_json(query) if query else {}
        params.setdefault("parseType", "buildstatic")
        return urljoin(page_url, url) + "?" + urlencode({k: _plain(v) for k, v in params.items()})
    return None


def jpaas_fragment(text: str) -> Selector | None:
    """The HTML fragment inside a jpaas API answer (``{"success":true,"data":{"html":…}}``)."""
    try:
        data = json.loads(text.lstrip("\ufeff"))
    except ValueError:
        return None
    html = json_path(data, "data.html")
    return Selector(text=html) if isinstance(html, str) else None


def _loose_json(text: str) -> dict[str, Any]:
    # The attribute is JavaScript-ish: single quotes, sometimes unquoted keys.
    normalised = re.sub(r"([{,]\s*)([A-Za-z_]\w*)\s*:", r'\1"\2":', text.replace("'", '"'))
    try:
        value = json.loads(normalised)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _plain(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) if isinstance(value, (dict, list)) else str(value)
