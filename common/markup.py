"""Crawled text shown by us, escaped for the place it is shown.

Everything crawled is hostile: a title may carry ``<script>``, ``[x](javascript:…)``, a Rich
tag like ``[/bold]`` or a line break that ends a quote. HTML is escaped by Jinja's autoescape;
this module covers the rest — the console (Rich markup), Markdown, and whether a URL may
become a link at all. The CLI, the digest's Markdown template and the weekly draft's Markdown
export all use it.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from rich.markup import escape


def safe(value: object) -> str:
    """``value`` as text that Rich prints verbatim (None prints as nothing). Selectors like
    ``meta[name=ArticleTitle]`` would otherwise be read as markup, dropped or crash Rich."""
    return escape("" if value is None else str(value))


# Characters that start Markdown (CommonMark and GFM) inline syntax or raw HTML; all are
# ASCII punctuation, so a backslash makes each literal.
_INLINE = re.compile(r"([\\`*_\[\]<>&~|!])")
# What makes a line a heading, list item, quote or rule when it starts the line.
_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+[.)](?=\s|$))")
# Kept as is in a URL; everything else (spaces, parentheses, brackets, <, >, quotes, *, `)
# is percent-encoded, so a URL can neither end its link target nor start markup.
_URL_SAFE = "-._~:/?#@!$&'+,;=%"


def http_url(url: str | None) -> str | None:
    """``url`` when it is an http(s) URL that may go into a link target, else None."""
    url = (url or "").strip()
    return url if re.match(r"^https?://[^\s]", url, re.IGNORECASE) else None


def md_text(text: str | None) -> str:
    """Crawled text as one line of literal Markdown: no markup, links, HTML or line breaks."""
    line = " ".join((text or "").split())
    line = _INLINE.sub(r"\\\1", line)
    # A backslash before the marker's punctuation ("1\." — before a digit it would be literal).
    return _LINE_START.sub(lambda m: m.group(1) + m.group(2)[:-1] + "\\" + m.group(2)[-1], line)


def md_link(text: str | None, url: str | None) -> str:
    """``[text](url)`` for an http(s) URL; any other target is shown as text, never linked."""
    target = http_url(url)
    if target is None:
        return f"{md_text(text)} ({md_text(url)})" if url else md_text(text)
    return f"[{md_text(text)}]({quote(target, safe=_URL_SAFE)})"


def md_url(url: str | None) -> str:
    """A URL shown on its own: an ordinary http(s) URL stays as it is (renderers link it),
    its odd characters percent-encoded; anything else is escaped text."""
    target = http_url(url)
    return quote(target, safe=_URL_SAFE) if target else md_text(url)


def md_quote(text: str | None, prefix: str = "") -> list[str]:
    """A multi-line note as Markdown quote lines: every line stays inside the quote."""
    lines = [line for line in (text or "").splitlines() if line.strip()] or [""]
    return [f"> {prefix}{md_text(lines[0])}".rstrip()] + [f"> {md_text(line)}" for line in lines[1:]]
