"""Checking the configuration: `crawl check` (every watchlist file) and `crawl doctor` (one
source against its live site, rule by rule)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Optional

import typer

from common.markup import safe
from crawler.watchlist import WatchlistError, configured_sources
from radar.cli._common import choose, err, out, settings, watched_sources


def check() -> None:
    """Validate every watchlist file; errors name the file, line and field."""
    from desk.tagging import load_taxonomy

    config = settings()
    problems: list[str] = []
    try:
        found = configured_sources(config)
        out.print(f"[green]OK[/green]: {len(found)} source(s) in {safe(config.sources_dir)}: {', '.join(s.name for s in found)}")
    except WatchlistError as error:
        problems += error.problems
    if config.topics_file.exists():
        try:
            taxonomy = load_taxonomy(config.topics_file)
            out.print(f"[green]OK[/green]: {safe(config.topics_file)}: {len(taxonomy.categories)} categories and fields, {len(taxonomy.regions)} regions")
        except WatchlistError as error:
            problems += error.problems
    if problems:
        err.print(safe("\n".join(problems)), highlight=False)
        err.print(f"[red]{len(problems)} problem(s).[/red]")
        raise typer.Exit(1)


def doctor(
    source: Annotated[str, typer.Option("--source", "-s", help="The source to diagnose.")],
    list_url: Annotated[Optional[str], typer.Option("--url", help="A list URL other than the source's first.")] = None,
) -> None:
    """Fetch one list page and one article and explain, step by step, what each rule matched.

    Use it to repair a watchlist after a site redesign: edit the YAML, run `crawl doctor`
    again, until every rule matches. Two requests, nothing stored.
    """
    from crawler.doctor import NotTheSourcesPage, check_list_url, diagnose

    config = settings()
    chosen = choose(watched_sources(config), [source], False)[0]
    try:
        list_url = check_list_url(chosen, list_url) if list_url else None
    except NotTheSourcesPage as refused:
        err.print(str(refused), markup=False, highlight=False)
        raise typer.Exit(2) from None
    out.print(f"[bold]{chosen.name}[/bold] — {safe(chosen.label)} ({safe(chosen.file)})")
    for line in diagnose(chosen, config, list_url, now=datetime.now(timezone.utc)):
        out.print(line, highlight=False)
