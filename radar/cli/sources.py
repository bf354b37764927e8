"""`crawl sources` (configured sources and their health, `--evidence` for their provenance) and
`crawl sources add URL` (propose a watchlist from one page)."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer
from rich.table import Table

from common.markup import safe
from common.settings import Settings
from crawler.watchlist import SourceBase
from radar.cli._common import database, err, local_time, out, settings, watched_sources

sources_app = typer.Typer(help="Configured sources and their health; `crawl sources add URL` proposes a new one.", invoke_without_command=True)


@sources_app.callback()
def sources(
    context: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    evidence: Annotated[bool, typer.Option("--evidence", help="Where each source's list URL, selectors and article markup were confirmed.")] = False,
) -> None:
    """List configured sources with their schedule, last run and health. A source whose
    watchlist cites no independent evidence (only inference, or no provenance block) is
    marked `unverified`."""
    if context.invoked_subcommand is not None:
        return
    from storage import queries
    from storage.db import transaction

    config = settings()
    configured = watched_sources(config)
    if evidence:
        _print_evidence(configured, as_json)
        return
    with transaction(database(config)) as session:
        overview = queries.source_overview(session)
        rows = [_source_row(s, overview.get(s.name, {}), config) for s in configured]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    _print_sources(rows, config)
    _print_wechat_catalogue(config)


def _print_wechat_catalogue(config: Settings) -> None:
    """One line on the WeChat catalogue: disabled without a mirror, else what it follows."""
    from crawler import wechat

    line = wechat.status_line(wechat.catalogue_path(config.sources_dir), config.wechat_mirror)
    if line:
        out.print(safe(line), highlight=False)


def _print_sources(rows: list[dict], config: Settings) -> None:  # type: ignore[type-arg]
    table = Table(title=f"Sources ({config.sources_dir})")
    for column in ("name", "label", "kind", "schedule", "enabled", "last run", "last new item", "items", "health"):
        table.add_column(column)
    colours = {"ok": "green", "degraded": "yellow", "broken": "red"}
    for row in rows:
        state = row["health"]
        shown = f"[{colours.get(state, 'white')}]{state}[/]" + (f" since {row['health_since']}" if row["health_since"] else "")
        table.add_row(
            row["name"] + ("" if row["verified"] else " [yellow](unverified)[/]"), safe(row["label"]), row["kind"], row["schedule"], "yes" if row["enabled"] else "no",
            row["last_run"] or "never", row["last_new_item"] or "—", str(row["items"]), shown,
        )
    out.print(table)
    for row in rows:
        if row["health"] in ("degraded", "broken") and row["problem"]:
            out.print(f"  {row['name']}: {safe(row['problem'])}", highlight=False)
def _print_evidence(configured: list[SourceBase], as_json: bool) -> None:
    """Each source's provenance block, as the watchlist states it."""
    blocks = {s.name: s.provenance.model_dump(mode="json") if s.provenance else None for s in configured}
    if as_json:
        print(json.dumps(blocks, ensure_ascii=False, indent=2))
        return
    for source in configured:
        block = source.provenance
        if block is None:
            out.print(f"[bold]{source.name}[/] [yellow]unverified[/]: no provenance block in {safe(source.file)}", highlight=False)
            continue
        mark = "" if block.verified else " [yellow]unverified[/] (no independent markup evidence)"
        out.print(f"[bold]{source.name}[/]{mark} — checked {block.checked}", highlight=False)
        for label, text in (("list URL", block.list_url), ("selectors", block.selectors), ("article", block.article)):
            out.print(f"  {label}: {text}", highlight=False, markup=False)
        for item in block.evidence:
            when = f" ({item.date})" if item.date else " (undated)"
            shows = f" — {item.shows}" if item.shows else ""
            out.print(f"  [{item.kind}]{when} {item.where}{shows}", highlight=False, markup=False)
        for guess in block.inferred:
            out.print(f"  inferred: {guess}", highlight=False, markup=False)


def _source_row(source: SourceBase, seen: dict, config: Settings) -> dict:
    run, row = seen.get("last_run"), seen.get("source")
    return {
        "name": source.name,
        "label": source.label,
        "kind": source.kind,  # type: ignore[attr-defined]
        "schedule": source.schedule,
        "enabled": source.enabled,
        "verified": bool(source.provenance and source.provenance.verified),
        "last_run": f"{local_time(run.started_at, config)} {run.status}" if run else None,
        "last_new_item": local_time(seen.get("last_new"), config) if seen.get("last_new") else None,
        "items": seen.get("items", 0),
        "health": row.health if row and run else "unknown",
        "health_since": local_time(row.health_since, config) if row and row.health_since and run else None,
        "problem": row.last_error if row else None,
        "problems": run.problems if run else [],
        "last_error": run.error_summary if run else None,
    }


@sources_app.command("add")
def sources_add(
    url: Annotated[str, typer.Argument(help="A column (list) page, or an article URL: its column is derived.")],
    name: Annotated[Optional[str], typer.Option("--name", help="Watchlist name (default: from the URL).")] = None,
    write: Annotated[bool, typer.Option("--write", help="Write watchlists/sources/NAME.yml instead of printing it.")] = False,
) -> None:
    """Propose a watchlist from one URL: fetch the column through the crawler's own path,
    find its entries by detection, infer `article_url`, keep a list selector only if it
    reproduces them, try one article, and print the YAML (or `--write` it)."""
    import datetime as dt

    from crawler.add_source import ProposalError, preview, write as write_watchlist

    config = settings()
    try:
        shown = preview(url, config, dt.date.today(), name)
    except ProposalError as problem:
        err.print(f"Could not propose a source: {safe(problem)}")
        raise typer.Exit(1) from None
    proposal, article = shown.proposal, shown.article
    out.print(f"{safe(proposal.list_url)}: {safe(proposal.notes[0])}", highlight=False)
    for entry in proposal.entries[:5]:
        out.print(f"  {entry.date:%Y-%m-%d} {safe(entry.title)}" if entry.date else f"  {safe(entry.title)}", highlight=False)
    if not article.error:
        out.print(f"One article ({safe(article.url)}): title {safe(article.title or '—')!s}; "
                  f"published {article.published_at or '—'}; body {len(article.body)} characters", highlight=False)
    if not write:
        print(shown.yaml_text, end="")
        return
    try:
        target = write_watchlist(shown.name, shown.yaml_text, config)
    except ProposalError as problem:
        err.print(f"Not written: {safe(problem)}")
        raise typer.Exit(2) from None
    out.print(f"Wrote {safe(target)}. Next: `crawl check`, then `crawl run --source {shown.name}`.")
