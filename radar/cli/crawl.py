"""`crawl run` (crawl sources now) and `crawl demo` (the same against the fake internet)."""

from __future__ import annotations

import shlex
from datetime import datetime, timezone
from typing import Annotated, Optional

import typer
from rich.table import Table

from common.markup import safe
from common.settings import Settings
from crawler.watchlist import SourceBase
from radar.cli._common import (
    choose, database, err, invocation, items_table, out, settings, since_option, usable, watched_sources,
)


def run(
    source: Annotated[Optional[list[str]], typer.Option("--source", "-s", help="Source name (repeatable). See `crawl sources`.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Crawl every enabled source.")] = False,
    max_pages: Annotated[Optional[int], typer.Option(help="Follow at most N list pages per list (default: the source's own).")] = None,
    since: Annotated[Optional[str], typer.Option(help="Ignore list entries older than this (2d, 12h, 2024-06-01).")] = None,
    refresh: Annotated[bool, typer.Option(help="Re-fetch stored articles and lists; update the ones that changed.")] = False,
) -> None:
    """Crawl sources now: new articles are extracted and stored.

    Incremental: list pages are fetched with conditional GETs, known articles are not
    fetched again, and pagination stops at the first page with nothing new.

    Examples: `crawl run --source sciencenet`, `crawl run --all --since 2d`.
    """
    config = settings()
    chosen = choose(watched_sources(config), source or [], all_)
    database(config)
    runs = _crawl(chosen, config, max_pages=max_pages, since=since_option(since), refresh=refresh)
    if any(r.status == "failed" for r in runs):
        raise typer.Exit(1)


def _crawl(sources: list[SourceBase], config: Settings, **options: object) -> list:  # type: ignore[type-arg]
    """Crawl ``sources``, a progress line as each finishes, then the summary table."""
    from crawler.run import RunOptions, crawl

    if not sources:
        err.print("No sources to crawl.")
        raise typer.Exit(2)
    out.print(f"Crawling {len(sources)} source(s): {', '.join(s.name for s in sources)}")

    def progress(name: str, run) -> None:  # type: ignore[no-untyped-def]
        colour = {"ok": "green", "partial": "yellow", "failed": "red"}.get(run.status, "white")
        out.print(
            f"  [{colour}]{run.status:>7}[/{colour}]  {name}: "
            f"{run.list_pages} list pages ({run.not_modified} unchanged), {run.articles_found} found, "
            f"{run.new} new, {run.skipped} skipped, {run.errors} errors",
            highlight=False,
        )

    # The run's time is read here, at the command, and passed down (dated list URLs need it).
    runs = crawl(sources, config, RunOptions(**options, now=datetime.now(timezone.utc)), on_finished=progress)  # type: ignore[arg-type]
    _summary(runs)
    return runs


def _summary(runs: list) -> None:  # type: ignore[type-arg]
    table = Table(title="Crawl summary")
    for column in ("source", "status", "lists", "found", "new", "upd", "skip", "err", "secs"):
        table.add_column(column, justify="left" if column in ("source", "status") else "right")
    for r in runs:
        table.add_row(
            r.source.name, r.status, str(r.list_pages), str(r.articles_found), str(r.new), str(r.updated),
            str(r.skipped), str(r.errors), f"{r.seconds:.1f}" if r.seconds is not None else "—",
        )
    out.print(table)
    for r in runs:
        if r.error_summary:
            out.print(f"  {r.source.name}: last error: {safe(r.error_summary)}", highlight=False)


def demo(
    fresh: Annotated[bool, typer.Option(help="Start from an empty demo database.")] = False,
) -> None:
    """See the whole pipeline work in under a minute, with no network and no setup.

    Starts the fake internet on loopback (fixture sites: reconstructions of the real sites from
    public evidence, not recordings), points the crawler at it through the ordinary proxy
    setting, crawls every configured source that has a fixture site, and shows what was stored. Demo data goes to a separate database
    unless RADAR_DATABASE_URL is set.
    """
    from crawler.replay import FakeInternet

    base = settings()
    database_url = base.database_url or f"sqlite:///{base.data_dir / 'demo.sqlite'}"
    if fresh and not base.database_url:
        (base.data_dir / "demo.sqlite").unlink(missing_ok=True)
    usable(database_url)
    with FakeInternet() as internet:
        config = settings(database_url=database_url, proxy=internet.address, polite=False)
        sources = [s for s in watched_sources(config) if s.enabled]
        recorded = set(internet.hosts())
        missing = [s.name for s in sources if not s.hosts <= recorded]
        out.print(f"Fake internet on {internet.address} serving {len(recorded)} fixture sites (reconstructions, not recordings).")
        if missing:
            out.print(f"(no fixture site for {', '.join(missing)}: skipped in the demo)")
        runs = _crawl([s for s in sources if s.name not in missing], config)
    _show_latest(database_url, config)
    explore = ("" if base.database_url else f"RADAR_DATABASE_URL={shlex.quote(database_url)} ") + invocation()
    out.print(f"\nDemo database: {safe(database_url)}", highlight=False)
    out.print(safe(f"Explore it:    {explore} items   ·   {explore} show ID   ·   {explore} sources"), highlight=False)
    if sum(r.new for r in runs) == 0:
        out.print("Nothing new this time — the demo remembers what it stored. `crawl demo --fresh` starts over.")


def _show_latest(database_url: str, config: Settings) -> None:
    from storage import queries
    from storage.db import transaction

    with transaction(database_url) as session:
        items_table(queries.find_items(session, limit=12), config, title="Latest stored items")
