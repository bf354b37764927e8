"""Printing hostile text with Rich: crawled titles, selectors, URLs and error messages contain
square brackets (`meta[name=ArticleTitle]`, a headline with `[/bold]`) that Rich would read as
markup — dropping them silently or crashing with MarkupError. Everything not written by us
goes through :func:`safe` before it reaches a Rich string."""

from __future__ import annotations

from rich.markup import escape


def safe(value: object) -> str:
    """``value`` as text that Rich prints verbatim (None prints as nothing)."""
    return escape("" if value is None else str(value))
