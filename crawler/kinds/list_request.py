"""A list read by POST: what a watchlist's `method`, `form` and `body` turn into on the wire.

Some lists are served only to a POST — Hanweb's `dataproxy.jsp` (CNIPA and many provincial
sites) wants a form naming the column, 科技日报's e-paper API a JSON object naming the date.
The request goes to the list URL the watchlist names, nowhere else; a form's values and a JSON
body's strings may name the edition date as a list URL does (`{edition:%Y-%m-%d}`), filled in
from the run's time that the caller passes.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

# A dated list names the edition date as `{edition:FORMAT}`, FORMAT made of strftime's
# %Y %y %m %d %j and literal characters.
EDITION = re.compile(r"\{edition:([^{}]+)\}")
EDITION_FORMAT = re.compile(r"^(?:%[Yymdj]|[^%{}])+$")
EDITION_HELP = "write an edition date as `{edition:%Y%m/%d}` (strftime codes %Y %y %m %d %j only)"

FORM_TYPE = "application/x-www-form-urlencoded; charset=UTF-8"
JSON_TYPE = "application/json; charset=UTF-8"


def check_placeholders(text: str) -> None:
    """Refuse a malformed edition placeholder or a stray brace in ``text``."""
    for found in EDITION.finditer(text):
        if not EDITION_FORMAT.match(found.group(1)):
            raise ValueError(f"`{found.group(0)}`: {EDITION_HELP}")
    if "{" in EDITION.sub("", text) or "}" in EDITION.sub("", text):
        raise ValueError(f"a brace outside an edition placeholder; {EDITION_HELP}")


def fill_edition(text: str, day: datetime.date) -> str:
    """``text`` with each edition placeholder replaced by ``day`` in its format."""
    return EDITION.sub(lambda found: day.strftime(found.group(1)), text)


def form_values(value: Any) -> Any:
    """A form as YAML gives it (`columnid: 75`) with its scalar values as the strings sent."""
    if isinstance(value, dict):
        return {key: _form_text(item) for key, item in value.items()}
    return value


def _form_text(item: Any) -> Any:
    if isinstance(item, bool):
        return "true" if item else "false"
    return str(item) if isinstance(item, (int, float)) else item  # anything else: the schema says what is wrong


def json_strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value, keys aside."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from json_strings(item)


def map_strings(value: Any, change: Callable[[str], str]) -> Any:
    """A copy of a JSON value with ``change`` applied to each string in it (keys aside)."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {key: map_strings(item, change) for key, item in value.items()}
    if isinstance(value, list):
        return [map_strings(item, change) for item in value]
    return value


@dataclass(frozen=True)
class ListRequest:
    """One list page to fetch: its URL and, for a POST, the form or JSON object sent; with
    ``via``, the page at the URL is a landing page whose first match of that selector names
    the list page to read instead."""

    url: str
    method: str = "GET"
    form: dict[str, str] | None = None
    body: Any = None
    via: str | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What tells two list requests apart: a POST's payload and a landing page's selector
        as well as the URL."""
        return (self.method, self.url, self.payload()[0].decode("utf-8"), self.via or "")

    def scrapy_fields(self) -> dict[str, Any]:
        """The method, body and Content-Type header of a Scrapy request for this list page
        (the crawl's spider and the doctor build it alike)."""
        payload, content_type = self.payload()
        return {"method": self.method, "body": payload or None, "headers": {"Content-Type": content_type} if content_type else {}}

    def payload(self) -> tuple[bytes, str | None]:
        """The bytes sent and their Content-Type (nothing for a GET)."""
        if self.form is not None:
            return urlencode(self.form).encode("utf-8"), FORM_TYPE
        if self.body is not None:
            return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), JSON_TYPE
        return b"", None
