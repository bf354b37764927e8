"""`crawl issues`: past issues of the weekly report — import them so covered stories are
recognised, list and show them, and measure what the watchlists cover of what they cite."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.table import Table

from common.dates import parse_date
from common.markup import safe
from common.settings import Settings
from crawler.watchlist import SourceBase
from radar.cli._common import database, err, out, settings, watched_sources

if TYPE_CHECKING:
    from desk.issues import Report
    from desk.tagging import Taxonomy

issues_app = typer.Typer(help="Past issues of the weekly report: import them so covered stories are recognised.", no_args_is_help=True)


@issues_app.command("import")
def issues_import(files: Annotated[list[Path], typer.Argument(help="Issue files (.txt, .pdf or .docx), or folders of them.", exists=True)]) -> None:
    """Import issues (re-importing one replaces it); stored items they cite become `covered`,
    and the tagging model is retrained on every imported issue (`crawl tag --explain`)."""
    from desk.issues import ReportParseError, issue_files, parse_report, read_report_text
    from desk import issues
    from desk.tagging import TaxonomyError
    from desk.tagging.learned import retrain_with_topics
    from crawler import coverage
    from storage.db import transaction

    config = settings()
    url, failed, imported = database(config), 0, 0
    sources, taxonomy = _sources_for_keys(config), _taxonomy_or_none(config)
    try:
        files = issue_files(files)
    except ReportParseError as error:
        err.print(f"[red]{safe(error)}[/red]")
        raise typer.Exit(1) from None
    for file in files:
        try:
            report = parse_report(read_report_text(file), str(file))
        except ReportParseError as error:
            err.print(f"[red]{safe(file)}: {safe(error)}[/red]")
            failed += 1
            continue
        with transaction(url) as session:
            issue, created = issues.store(session, report, lambda cited: coverage.stored_key(cited, sources))
        covered = issues.mark_covered(url, issue.id)
        refs = sum(len(s.references) for s in issue.stories)
        out.print(f"{'imported' if created else 're-imported'} {issue.published}: {len(report.stories)} stories, "
                  f"{len(report.briefs)} briefs, {refs} references; {covered} stored item(s) now covered")
        for line in report.unplaced:
            out.print(f"  [yellow]could not place:[/yellow] {safe(line)}", highlight=False)
        for category in _categories_not_in(taxonomy, report):
            out.print(f"  [yellow]category not in topics.yml, so not learned from:[/yellow] {safe(category)} "
                      "(add it there, or as an alias of one)", highlight=False)
        imported += 1
    if imported:
        try:
            with transaction(url) as session:
                fit = retrain_with_topics(session, config.topics_file)
        except TaxonomyError as error:  # the issues are stored; only the model waits for a valid file
            err.print(f"[yellow]tagging model not retrained: {safe(error)}[/yellow]")
        else:
            out.print(f"tagging model retrained on {fit.examples} example(s)" if fit else f"no topics file at {safe(config.topics_file)}: tagging model not retrained")
    if failed:
        raise typer.Exit(1)


def _taxonomy_or_none(config: Settings) -> Taxonomy | None:
    """topics.yml, or None when it cannot be read (retraining says why, below)."""
    from desk.tagging import TaxonomyError
    from desk.tagging.learned import load_topics  # cached: retraining reads the same file

    try:
        return load_topics(config.topics_file)
    except TaxonomyError:
        return None


def _categories_not_in(taxonomy: Taxonomy | None, report: Report) -> list[str]:
    """The CONTENTS categories of ``report`` that topics.yml names neither as a label nor as an
    alias: the model cannot learn from those stories."""
    if taxonomy is None:
        return []
    return sorted({s.category for s in report.stories if s.category and taxonomy.resolve(s.category) is None})


def _sources_for_keys(config: Settings) -> list[SourceBase]:
    """The sources whose alias hosts give cited URLs their stored keys; importing an issue
    must not wait for a broken watchlist, so then none (and a warning saying so)."""
    from crawler.watchlist import WatchlistError, configured_sources

    try:
        return configured_sources(config)
    except WatchlistError:
        err.print("[yellow]The watchlists have errors (see `crawl check`): cited URLs are keyed without alias hosts.[/yellow]")
        return []


@issues_app.command("list")
def issues_list() -> None:
    """List imported issues."""
    from storage import queries
    from storage.db import transaction

    config = settings()
    table = Table(title="Imported issues")
    for column in ("published", "stories", "briefs", "references", "file"):
        table.add_column(column)
    with transaction(database(config)) as session:
        for issue in queries.report_issues(session):
            briefs = sum(s.is_brief for s in issue.stories)
            table.add_row(str(issue.published), str(len(issue.stories) - briefs), str(briefs),
                          str(sum(len(s.references) for s in issue.stories)), safe(issue.source_file))
    out.print(table)


@issues_app.command("show")
def issues_show(published: Annotated[str, typer.Argument(help="Publication date, e.g. 2024-06-28.")],
                as_json: Annotated[bool, typer.Option("--json", help="The full parsed structure.")] = False) -> None:
    """Show one imported issue: its stories, categories and references."""
    from storage import queries
    from storage.db import transaction

    config = settings()
    day = parse_date(published)
    with transaction(database(config)) as session:
        issue = queries.report_issue(session, day.date() if day else None)
        if issue is None:
            err.print(f"No imported issue of {published}. See `crawl issues list`.")
            raise typer.Exit(1)
        if as_json:
            print(json.dumps(issue.structure, ensure_ascii=False, indent=2))
            return
        out.print(f"[bold]{safe(issue.title)}[/bold] — {issue.published}")
        for story in issue.stories:
            label = "단신동향" if story.is_brief else f"{story.section} · {story.category or '—'}"
            out.print(f"\n[bold]{safe(label)}[/bold] {story.number or ''} {safe(story.headline)} ({safe(story.event_date or '—')})", highlight=False)
            for ref in story.references:
                out.print(f"   {safe(ref.title or ref.outlet)}  {safe(ref.url)}", highlight=False)


@issues_app.command("coverage")
def issues_coverage(
    dates: Annotated[Optional[list[str]], typer.Argument(help="Publication dates (2024-06-28); all imported issues when none.")] = None,
    all_issues: Annotated[bool, typer.Option("--all", help="Every imported issue (the default when no date is given).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Per issue: shares, every cited URL's verdict, and the missed columns.")] = False,
) -> None:
    """What are we missing? For each URL an imported issue cites: which source watches its
    column (the crawler's own host + `article_url` rule), whether we stored it and how many
    days before the issue. Then the unwatched columns, most cited first, with a command to try each."""
    from crawler.coverage import KINDS
    from scheduler.issue_coverage import measure
    from storage.db import transaction

    config = settings()
    sources = watched_sources(config)
    if all_issues and dates:
        err.print("Give dates or --all, not both.")
        raise typer.Exit(2)
    wanted = [day.date() for day in map(parse_date, dates or []) if day is not None]
    if dates and len(wanted) != len(dates):
        err.print("Give dates as YYYY-MM-DD, e.g. `crawl issues coverage 2024-06-28`.")
        raise typer.Exit(2)
    with transaction(database(config)) as session:
        report = measure(session, sources, wanted or None)
    if not report.issues:
        err.print("No imported issue" + (f" of {', '.join(dates)}" if dates else "") + ". Import some with `crawl issues import FILE…`.")
        raise typer.Exit(1)
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return
    table = Table(title="Cited URLs in a watched column (WeChat apart)")
    for column in ("issue", "watched", "references", "briefs", "figures", "WeChat", "stored", "median lead"):
        table.add_column(column)
    for issue in report.issues:
        kinds = [f"{issue.by_kind[k]['watched']}/{issue.by_kind[k]['cited']}" for k in KINDS]
        lead = "—" if issue.median_lead_days is None else f"{issue.median_lead_days:g} d"
        table.add_row(issue.published, f"{issue.watched}/{issue.cited} ({issue.share:.0%})", *kinds,
                      f"{issue.wechat['watched']}/{issue.wechat['cited']}", str(issue.stored), lead)
    out.print(table)
    total = report.total()
    out.print(f"All issues: {total['watched']}/{total['cited']} non-WeChat cited URLs in a watched column ({total['share']:.0%}).")
    if report.missed:
        out.print("\nUnwatched columns, most cited first:")
        for column in report.missed:
            out.print(f"  {column.citations}× {safe(column.column)}  — {safe(column.try_with)}", highlight=False)
