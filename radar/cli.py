"""`crawl` — the command line. Thin: it parses arguments and calls what the daemon and tests call."""

from __future__ import annotations

import csv
import json
import os
import shlex
import shutil
import signal
import sys
import zlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, NoReturn, Optional
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

from radar import logs
from common.settings import Settings, get_settings
from common.dates import PUBLISHED_ZONE, format_published, parse_date, parse_duration
from common.markup import safe
from crawler.watchlist import SourceBase, WatchlistError, load_sources

class _Radar(typer.Typer):
    """The `crawl` app: a database that fails mid-command (gone, locked, read-only where a write
    was needed) is reported in one line with exit code 2, not a page of SQLAlchemy traceback."""

    def __call__(self, *args: object, **kwargs: object) -> object:
        from sqlalchemy.exc import OperationalError

        try:
            return super().__call__(*args, **kwargs)
        except OperationalError as error:
            err.print(f"[red]database error:[/red] {safe(str(error.orig).splitlines()[0] if error.orig else error)}", highlight=False)
            sys.exit(2)


app = _Radar(
    help=(
        "cnst-radar: monitor Chinese S&T policy sources for the weekly report.\n\n"
        "Start with `crawl demo` (no network needed), then `crawl run --all`, `crawl items --new`."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema management.", no_args_is_help=True)
app.add_typer(db_app, name="db")
from radar import workspace as web_commands  # noqa: E402 - the workspace's own commands

app.command("web")(web_commands.web)
app.add_typer(web_commands.users_app, name="users")
issues_app = typer.Typer(help="Past issues of the weekly report: import them so covered stories are recognised.", no_args_is_help=True)
app.add_typer(issues_app, name="issues")
# Piped output (CI logs, `| less`) gets wide tables instead of Rich's 80-column default.
out = Console(width=None if sys.stdout.isatty() else 160, soft_wrap=True)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160, soft_wrap=True)


@app.callback()
def main(verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="-v: log each item; -vv: debug.")] = 0) -> None:
    logs.configure(verbose, console=err)
    if not isinstance(sys.stdout, _UntilReaderLeaves):
        sys.stdout = _UntilReaderLeaves(sys.stdout)


class _UntilReaderLeaves:
    """stdout that ends the process when its reader goes away (`crawl demo | head -20`).

    The usual BrokenPipeError cannot stop a crawl: it is raised inside Scrapy's signal handlers
    (the per-source progress line), which log it and carry on, and Twisted's threads keep the
    process alive. SIGPIPE's default action cannot be restored instead: sockets (the crawler's,
    the fake internet's) would then kill the process whenever a peer hangs up. So: leave at
    once, with the exit status of a process killed by SIGPIPE.
    """

    def __init__(self, stream: object):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)  # type: ignore[attr-defined,no-any-return]
        except BrokenPipeError:
            _reader_left()

    def flush(self) -> None:
        try:
            self._stream.flush()  # type: ignore[attr-defined]
        except BrokenPipeError:
            _reader_left()

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def _reader_left() -> NoReturn:
    os._exit(128 + signal.SIGPIPE)


# -- helpers ---------------------------------------------------------------------------
def _config(**overrides: object) -> Settings:
    return get_settings(**overrides)


def _sources(config: Settings) -> list[SourceBase]:
    try:
        return load_sources(config.sources_dir)
    except WatchlistError as error:
        err.print(f"[red]The watchlists have errors:[/red]\n{safe(error)}", highlight=False)
        err.print("Fix them (see `crawl check`) and try again.")
        raise typer.Exit(2) from None


def _database(config: Settings) -> str:
    return _usable(config.effective_database_url)


def _usable(url: str) -> str:
    """``url``, its schema brought up to date — or one line saying why the database cannot be
    used (bad URL, server down, file not writable), and exit code 2."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage.db import describe_error, ensure_schema

    try:
        ensure_schema(url)
    except (SQLAlchemyError, OSError, ImportError) as error:
        err.print(f"[red]{safe(describe_error(url, error))}[/red]", highlight=False)
        raise typer.Exit(2) from None
    return url


def _since(value: str | None) -> datetime | None:
    """`2d`, `12h`, `30m` ago, or a date like 2024-06-01."""
    if not value:
        return None
    ago = parse_duration(value)
    if ago is not None:
        return datetime.now(timezone.utc) - ago
    parsed = parse_date(value)
    if parsed is None:
        raise typer.BadParameter(f"{value!r}: use a duration like 2d / 12h or a date like 2024-06-01")
    return parsed


def _local(value: datetime | None, config: Settings) -> str:
    return value.astimezone(ZoneInfo(config.timezone)).strftime("%Y-%m-%d %H:%M") if value else "—"


# -- crawl run / demo -----------------------------------------------------------------
@app.command()
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
    config = _config()
    chosen = _choose(_sources(config), source or [], all_)
    _database(config)
    runs = _crawl(chosen, config, max_pages=max_pages, since=_since(since), refresh=refresh)
    if any(r.status == "failed" for r in runs):
        raise typer.Exit(1)


def _choose(sources: list[SourceBase], names: list[str], all_: bool) -> list[SourceBase]:
    if all_:
        return [s for s in sources if s.enabled]
    if not names:
        err.print("Name a source with --source NAME, or use --all. Configured sources: " + safe(", ".join(s.name for s in sources)))
        raise typer.Exit(2)
    by_name = {s.name: s for s in sources}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        err.print(f"[red]Unknown source(s): {safe(', '.join(unknown))}.[/red] Configured: {safe(', '.join(by_name))}")
        raise typer.Exit(2)
    return [by_name[n] for n in names]


def _crawl(sources: list[SourceBase], config: Settings, **options: object) -> list:
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

    runs = crawl(sources, config, RunOptions(**options), on_finished=progress)  # type: ignore[arg-type]
    _summary(runs)
    return runs


def _summary(runs: list) -> None:
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


@app.command()
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

    base = _config()
    database_url = base.database_url or f"sqlite:///{base.data_dir / 'demo.sqlite'}"
    if fresh and not base.database_url:
        (base.data_dir / "demo.sqlite").unlink(missing_ok=True)
    _usable(database_url)
    with FakeInternet() as internet:
        config = _config(database_url=database_url, proxy=internet.address, polite=False)
        sources = [s for s in _sources(config) if s.enabled]
        recorded = set(internet.hosts())
        missing = [s.name for s in sources if not s.hosts <= recorded]
        if missing:
            out.print(f"(no fixture site for {', '.join(missing)}: skipped in the demo)")
        out.print(f"Fake internet on {internet.address} serving {len(recorded)} fixture sites (reconstructions, not recordings).")
        runs = _crawl([s for s in sources if s.name not in missing], config)
    _show_latest(database_url, config)
    explore = ("" if base.database_url else f"RADAR_DATABASE_URL={shlex.quote(database_url)} ") + _invocation()
    out.print(f"\nDemo database: {safe(database_url)}", highlight=False)
    out.print(safe(f"Explore it:    {explore} items   ·   {explore} show ID   ·   {explore} sources"), highlight=False)
    if sum(r.new for r in runs) == 0:
        out.print("Nothing new this time — the demo remembers what it stored. `crawl demo --fresh` starts over.")


def _invocation() -> str:
    """How to run this `crawl` again from a fresh shell, where the venv may not be activated:
    `crawl` when that is what PATH finds, else the path of the running program."""
    program = Path(sys.argv[0]).absolute()
    if program.name == "__main__.py":  # python -m radar
        return f"{shlex.quote(_shortest(Path(sys.executable).absolute()))} -m radar"
    on_path = shutil.which("crawl")
    if on_path and Path(on_path).absolute() == program:
        return "crawl"
    return shlex.quote(_shortest(program))


def _shortest(path: Path) -> str:
    """``path`` relative to the working directory when inside it (`.venv/bin/crawl`), else absolute."""
    if not path.is_relative_to(Path.cwd()):
        return str(path)
    relative = str(path.relative_to(Path.cwd()))
    return relative if "/" in relative else f"./{relative}"  # a bare name would be looked up on PATH


def _show_latest(database_url: str, config: Settings) -> None:
    from storage import queries
    from storage.db import transaction

    with transaction(database_url) as session:
        items = queries.find_items(session, limit=12)
        _items_table(items, config, title="Latest stored items")


# -- inspecting what is stored -------------------------------------------------------
sources_app = typer.Typer(help="Configured sources and their health; `crawl sources add URL` proposes a new one.", invoke_without_command=True)
app.add_typer(sources_app, name="sources")


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

    config = _config()
    configured = _sources(config)
    if evidence:
        _print_evidence(configured, as_json)
        return
    with transaction(_database(config)) as session:
        overview = queries.source_overview(session)
        rows = [_source_row(s, overview.get(s.name, {}), config) for s in configured]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
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
        "last_run": f"{_local(run.started_at, config)} {run.status}" if run else None,
        "last_new_item": _local(seen.get("last_new"), config) if seen.get("last_new") else None,
        "items": seen.get("items", 0),
        "health": row.health if row and run else "unknown",
        "health_since": _local(row.health_since, config) if row and row.health_since and run else None,
        "problem": row.last_error if row else None,
        "problems": run.problems if run else [],
        "last_error": run.error_summary if run else None,
    }


@app.command()
def items(
    source: Annotated[Optional[str], typer.Option("--source", "-s", help="Only this source.")] = None,
    since: Annotated[Optional[str], typer.Option(help="First seen within (2d, 12h) or since a date.")] = None,
    new: Annotated[bool, typer.Option("--new", help="Only candidates for the report: `new` and `follow_up`.")] = False,
    status: Annotated[Optional[str], typer.Option(help="Only items with this verdict: new, follow_up, covered or duplicate.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="JSON array output.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV output.")] = False,
) -> None:
    """List stored items, newest first."""
    from storage import queries
    from storage.db import transaction

    config = _config()
    with transaction(_database(config)) as session:
        found = queries.find_items(session, source=source, since=_since(since), status="news" if new else status, limit=limit)
        if as_json:
            print(json.dumps([_item_dict(i) for i in found], ensure_ascii=False, indent=2))
        elif as_csv:
            writer = csv.DictWriter(sys.stdout, fieldnames=["id", "source", "published_at", "title", "origin", "url", "status"])
            writer.writeheader()
            for item in found:
                row = _item_dict(item)
                writer.writerow({k: row[k] for k in writer.fieldnames})
        else:
            _items_table(found, config, title=f"{len(found)} item(s)")
            if not found and not config.database_url:
                _point_at_the_demo(config)


def _point_at_the_demo(config: Settings) -> None:
    """An empty default database after `crawl demo` puzzles: the demo wrote elsewhere."""
    if (config.data_dir / "demo.sqlite").exists():
        demo = f"sqlite:///{config.data_dir / 'demo.sqlite'}"
        out.print(safe(f"Nothing in the default database ({config.effective_database_url}). The demo's database is {demo}:\n"
                       f"  RADAR_DATABASE_URL={shlex.quote(demo)} {_invocation()} items"), highlight=False)
    else:
        out.print(f"Nothing stored yet. `{safe(_invocation())} demo` crawls recorded sites in a minute; `crawl run --all` the real ones.",
                  highlight=False)


def _item_dict(item, body: bool = False) -> dict:  # type: ignore[no-untyped-def]
    data = {
        "id": item.id,
        "source": item.source.name,
        "url": item.url,
        "canonical_url": item.canonical_url,
        "title": item.title,
        "published_at": item.published_at.astimezone(ZoneInfo("Asia/Shanghai")).isoformat() if item.published_at else None,
        "published_precision": item.published_precision,
        "published": format_published(item.published_at, item.published_precision),
        "first_seen_at": item.first_seen_at.isoformat(),
        "origin": item.origin,
        "status": item.status,
    }
    if body:
        data |= {"body": item.body, "extraction": item.extraction, "updated_at": item.updated_at.isoformat()}
    return data


def _items_table(found: list, config: Settings, title: str) -> None:
    table = Table(title=title)
    for column in ("id", "source", f"published ({PUBLISHED_ZONE})", "title", "origin", "status"):
        table.add_column(column, overflow="fold")
    for item in found:
        table.add_row(str(item.id), item.source.name, format_published(item.published_at, item.published_precision), safe(item.title), safe(item.origin or "—"), item.status)
    out.print(table)


@app.command()
def show(
    key: Annotated[str, typer.Argument(help="Item id or URL.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    raw: Annotated[bool, typer.Option("--raw", help="Print the stored raw HTML instead.")] = False,
) -> None:
    """Show one stored item in full: metadata and extracted text."""
    from common.urls import canonical_url
    from storage import queries
    from storage.db import transaction

    config = _config()
    with transaction(_database(config)) as session:
        item = queries.get_item(session, key if key.isdigit() else canonical_url(key))
        if item is None:
            err.print(f"No stored item {key!r}. Try `crawl items` to see ids.")
            raise typer.Exit(1)
        if raw:
            sys.stdout.buffer.write(zlib.decompress(item.raw.body_zlib) if item.raw else b"")
            return
        data = _item_dict(item, body=True)
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for name in ("id", "source", "title", "published", "origin", "url", "canonical_url", "first_seen_at", "status", "extraction"):
        out.print(f"[bold]{name:>14}[/bold]  {safe(data[name])}", highlight=False)
    out.print()
    out.print(data["body"], markup=False, highlight=False)


@app.command()
def check() -> None:
    """Validate every watchlist file; errors name the file, line and field."""
    from desk.tagging import load_taxonomy

    config = _config()
    problems: list[str] = []
    try:
        found = load_sources(config.sources_dir)
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


@app.command()
def extract(
    file: Annotated[Path, typer.Argument(help="A saved HTML page.", exists=True, dir_okay=False)],
    url: Annotated[str, typer.Option(help="The page's URL (picks site rules; resolves links).")],
    source: Annotated[Optional[str], typer.Option("--source", "-s", help="Apply this source's article rules.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object: url, title, published_at, origin, body.")] = False,
) -> None:
    """Run the article extractor on a saved page — no network; the crawler's exact code path."""
    from crawler.extract import extract_article

    config = _config()
    rules = None
    if source:
        rules = next((s for s in _sources(config) if s.name == source), None)
        if rules is None:
            err.print(f"Unknown source {source!r}.")
            raise typer.Exit(2)
    article = extract_article(url, file.read_bytes(), None, rules)
    data = {
        "url": url,
        "title": article.title,
        "published_at": article.published_at.isoformat() if article.published_at else None,
        "origin": article.origin,
        "body": article.body,
        "provenance": article.provenance,
        "problems": article.problems,
        "unavailable": article.unavailable,
    }
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for name in ("title", "published_at", "origin", "provenance", "problems", "unavailable"):
        out.print(f"[bold]{name:>12}[/bold]  {safe(data[name])}", highlight=False)
    out.print()
    out.print(article.body, markup=False, highlight=False)


@app.command()
def doctor(
    source: Annotated[str, typer.Option("--source", "-s", help="The source to diagnose.")],
    list_url: Annotated[Optional[str], typer.Option("--url", help="A list URL other than the source's first.")] = None,
) -> None:
    """Fetch one list page and one article and explain, step by step, what each rule matched.

    Use it to repair a watchlist after a site redesign: edit the YAML, run `crawl doctor`
    again, until every rule matches. Two requests, nothing stored.
    """
    from crawler.doctor import NotTheSourcesPage, check_list_url, diagnose

    config = _config()
    chosen = _choose(_sources(config), [source], False)[0]
    try:
        list_url = check_list_url(chosen, list_url) if list_url else None
    except NotTheSourcesPage as refused:
        err.print(str(refused), markup=False, highlight=False)
        raise typer.Exit(2) from None
    out.print(f"[bold]{chosen.name}[/bold] — {safe(chosen.label)} ({safe(chosen.file)})")
    for line in diagnose(chosen, config, list_url):
        out.print(line, highlight=False)


@app.command()
def daemon() -> None:
    """Run the scheduler: crawls on each source's schedule, the daily digest, alerts.

    Reloads watchlists on SIGHUP and when a file changes; stops gracefully on SIGTERM.
    Recipients: RADAR_NOTIFY (Apprise URLs) or RADAR_APPRISE_CONFIG (an Apprise YAML file).
    """
    from scheduler.daemon import Daemon

    logs.at_least_info()
    config = _config()
    _database(config)
    Daemon(config).start()


@app.command()
def jobs() -> None:
    """List the daemon's scheduled jobs and their next run times."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    from storage.db import get_engine

    config = _config()
    store = SQLAlchemyJobStore(engine=get_engine(_database(config)))
    store.start(None, "default")  # type: ignore[arg-type]
    found = store.get_all_jobs()
    table = Table(title=f"{len(found)} scheduled job(s)")
    for column in ("id", "next run", "trigger"):
        table.add_column(column)
    for job in found:
        table.add_row(safe(job.id), _local(job.next_run_time, config), safe(job.trigger))
    out.print(table)
    if not found:
        out.print("No jobs yet: they are created when `crawl daemon` starts.")


@app.command()
def status(check: Annotated[bool, typer.Option("--check", help="Exit 1 unless the daemon's heartbeat is fresh (for health checks).")] = False) -> None:
    """The daemon's heartbeat, the last run of each source, source health and the outbox."""

    from scheduler.notify import redact
    from scheduler.outbox import backlog
    from storage import queries
    from storage.db import transaction
    from storage.models import DaemonState

    config = _config()
    with transaction(_database(config)) as session:
        beat = session.get(DaemonState, "heartbeat")
        age = (datetime.now(timezone.utc) - beat.updated_at).total_seconds() if beat else None
        stopped = bool(beat and (beat.value or {}).get("stopped"))  # a clean stop says so: its pid is not alive
        fresh = age is not None and age < 120 and not stopped
        out.print(f"Daemon: {'[green]alive[/green]' if fresh else '[red]not running[/red]'}"
                  + (f" (stopped {_local(beat.updated_at, config)}, was pid {beat.value.get('pid')})" if stopped
                     else f" (heartbeat {age:.0f} s ago, pid {beat.value.get('pid')})" if beat else " (never started)"))
        overview = queries.source_overview(session)
        table = Table(title="Sources")
        for column in ("source", "last run", "status", "new", "health", "why"):
            table.add_column(column, overflow="fold")
        for name, row in sorted(overview.items()):
            run, source = row.get("last_run"), row["source"]
            table.add_row(name, _local(run.started_at, config) if run else "never", run.status if run else "—",
                          str(run.new) if run else "—", source.health, safe(source.last_error))
        out.print(table)
        pending = backlog(session)
        out.print(f"Outbox: {len(pending)} message(s) waiting")
        for message in pending:
            out.print(f"  {message.kind} {safe(repr(message.title))}: {message.attempts} attempt(s), next {_local(message.next_attempt_at, config)}"
                      + (f", last error: {safe(redact(message.last_error))}" if message.last_error else ""), highlight=False)
    if check and not fresh:
        raise typer.Exit(1)


@app.command()
def digest(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print what would go out; send nothing.")] = False,
    send: Annotated[bool, typer.Option("--send", help="Queue and send today's digest now.")] = False,
    preview: Annotated[Optional[Path], typer.Option("--preview", help="Write the HTML digest to this file.")] = None,
) -> None:
    """The daily digest: `--dry-run` to read it, `--preview FILE.html` to look at it, `--send` to send it."""
    from scheduler import digest as digests
    from scheduler import jobs as daemon_jobs
    from storage.db import transaction

    config = _config()
    now = datetime.now(timezone.utc)  # the command's one clock, passed to everything below
    if send:
        raise typer.Exit(_send_digest(config, now))
    with transaction(_database(config)) as session:
        message = digests.render(digests.build(session, now, ZoneInfo(config.timezone), tag=daemon_jobs.EDITORS))
    if preview:
        preview.write_text(message.html, encoding="utf-8")
        out.print(f"Wrote {preview}")
    if dry_run or not preview:
        out.print(message.markdown, highlight=False, markup=False)  # crawled "[/bold]" is text


def _send_digest(config: Settings, now: datetime) -> int:
    """Queue today's digest and deliver it as the daemon does; returns the exit code."""
    from scheduler import jobs as daemon_jobs
    from scheduler.notify import apprise_schemes
    from scheduler.outbox import deliver_pending, find

    notifier = daemon_jobs.notifier(config)
    if notifier.rejected:  # before anything is queued: a typo must not swallow today's digest
        for url in notifier.rejected:
            err.print(f"RADAR_NOTIFY: not a valid Apprise URL: {url}", markup=False, highlight=False)
        err.print(f"Apprise knows these schemes: {', '.join(apprise_schemes())}", markup=False, highlight=False)
        return 2
    if not notifier.configured:
        err.print("No recipients configured: set RADAR_NOTIFY (Apprise URLs, e.g. mailto://user:password@smtp.example.org)"
                  " or RADAR_APPRISE_CONFIG. Nothing queued.", markup=False, highlight=False)
        return 2
    url = _database(config)
    daemon_jobs.queue_digest(config, now)
    today = find(url, daemon_jobs.digest_key(config, now))
    if today is not None and today.sent_at is not None:
        local = today.sent_at.astimezone(ZoneInfo(config.timezone))
        out.print(f"Today's digest was already sent at {local:%Y-%m-%d %H:%M %Z} (outbox #{today.id}): nothing sent.", markup=False)
    elif today is None:
        out.print("Nothing new since the last digest: nothing to send (RADAR_DIGEST_WHEN_EMPTY=true sends a short note).", markup=False)
    attempts = deliver_pending(url, notifier, now, also=[today.id] if today is not None and today.sent_at is None else [])
    for attempt in attempts:
        accepted = [answer for answer in attempt.answers if answer.accepted]
        verdict = f"sent to {len(accepted)} recipient(s)" if attempt.sent else f"not sent: {len(accepted)} of {len(attempt.answers)} recipient(s) accepted it"
        out.print(f"outbox #{attempt.message_id} {attempt.title}: {verdict}", markup=False, highlight=False)
        for answer in attempt.answers:
            out.print(f"  {answer}", markup=False, highlight=False)
    digest = next((attempt for attempt in attempts if today is not None and attempt.message_id == today.id), None)
    if digest is not None and not any(answer.accepted for answer in digest.answers):
        err.print("Nothing could be delivered; the message stays in the outbox (`crawl status`) and is retried.", markup=False)
        return 1
    return 0


@issues_app.command("import")
def issues_import(files: Annotated[list[Path], typer.Argument(help="Issue files: .txt, .pdf or .docx.", exists=True, dir_okay=False)]) -> None:
    """Import issues (re-importing one replaces it); stored items they cite become `covered`."""
    from desk.issues import ReportParseError, parse_report, read_report_text
    from desk import issues
    from storage.db import transaction

    config = _config()
    url, failed = _database(config), 0
    for file in files:
        try:
            report = parse_report(read_report_text(file), str(file))
        except ReportParseError as error:
            err.print(f"[red]{safe(file)}: {safe(error)}[/red]")
            failed += 1
            continue
        with transaction(url) as session:
            issue, created = issues.store(session, report)
            covered = issues.mark_covered(session)
        refs = sum(len(s.references) for s in issue.stories)
        out.print(f"{'imported' if created else 're-imported'} {issue.published}: {len(report.stories)} stories, "
                  f"{len(report.briefs)} briefs, {refs} references; {covered} stored item(s) now covered")
        for line in report.unplaced:
            out.print(f"  [yellow]could not place:[/yellow] {safe(line)}", highlight=False)
    if failed:
        raise typer.Exit(1)


@issues_app.command("list")
def issues_list() -> None:
    """List imported issues."""
    from sqlalchemy import select

    from storage.db import transaction
    from storage.models import ReportIssue

    config = _config()
    table = Table(title="Imported issues")
    for column in ("published", "stories", "briefs", "references", "file"):
        table.add_column(column)
    with transaction(_database(config)) as session:
        for issue in session.scalars(select(ReportIssue).order_by(ReportIssue.published.desc())):
            briefs = sum(s.is_brief for s in issue.stories)
            table.add_row(str(issue.published), str(len(issue.stories) - briefs), str(briefs),
                          str(sum(len(s.references) for s in issue.stories)), safe(issue.source_file))
    out.print(table)


@issues_app.command("show")
def issues_show(published: Annotated[str, typer.Argument(help="Publication date, e.g. 2024-06-28.")],
                as_json: Annotated[bool, typer.Option("--json", help="The full parsed structure.")] = False) -> None:
    """Show one imported issue: its stories, categories and references."""
    from sqlalchemy import select

    from storage.db import transaction
    from storage.models import ReportIssue

    config = _config()
    day = parse_date(published)
    with transaction(_database(config)) as session:
        issue = session.scalar(select(ReportIssue).where(ReportIssue.published == (day.date() if day else None)))
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


@app.command("diff")
def diff_command(
    since: Annotated[str, typer.Option(help="First seen within (1d, 12h) or since a date.")] = "1d",
    source: Annotated[Optional[str], typer.Option("--source", "-s")] = None,
) -> None:
    """Show the verdict of each recent item: new, covered (already in an issue) or duplicate."""
    from storage import queries
    from storage.db import transaction

    config = _config()
    with transaction(_database(config)) as session:
        found = queries.find_items(session, source=source, since=_since(since), limit=1000)
        table = Table(title=f"{len(found)} item(s) since {since}")
        for column in ("id", "source", f"published ({PUBLISHED_ZONE})", "verdict", "title", "why"):
            table.add_column(column, overflow="fold")
        colours = {"new": "green", "follow_up": "cyan", "covered": "blue", "duplicate": "yellow"}
        for item in found:
            table.add_row(str(item.id), item.source.name, format_published(item.published_at, item.published_precision),
                          f"[{colours.get(item.status, 'white')}]{item.status}[/]", safe(item.title), safe(item.verdict_reason))
        out.print(table)


@app.command()
def tag(
    key: Annotated[Optional[str], typer.Argument(help="A stored item (id or URL) to explain; or use --title / --jsonl.")] = None,
    title: Annotated[Optional[str], typer.Option(help="Tag this ad-hoc title (nothing is stored).")] = None,
    body: Annotated[str, typer.Option(help="Body text to go with --title.")] = "",
    source: Annotated[Optional[str], typer.Option("--source", "-s", help="Source name, for source priors.")] = None,
    jsonl: Annotated[Optional[Path], typer.Option(help="Tag many: one JSON object per line (title, body, source, url).", exists=True)] = None,
    explain: Annotated[bool, typer.Option("--explain", help="Show which rules matched.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Tag text with the report's sections and categories (watchlists/topics.yml).

    `crawl tag --explain ID` explains a stored item; `crawl tag --title 广东省… --json` tags
    ad-hoc text; `crawl tag --jsonl FILE` tags many, printing one JSON result per line.
    """
    from crawler.pipelines import load_tagger

    config = _config()
    tagger = load_tagger(str(config.topics_file))
    if tagger is None:
        err.print(f"No topics file at {config.topics_file}.")
        raise typer.Exit(2)
    if jsonl:
        for line in jsonl.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                result = tagger.tag(record.get("title", ""), record.get("body", ""), source=record.get("source"), url=record.get("url"))
                print(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    if title is None and key is None:
        err.print("Give an item (id or URL), --title TEXT, or --jsonl FILE.")
        raise typer.Exit(2)
    if title is None:
        from common.urls import canonical_url
        from storage import queries
        from storage.db import transaction

        with transaction(_database(config)) as session:
            item = queries.get_item(session, key if key.isdigit() else canonical_url(key))
            if item is None:
                err.print(f"No stored item {key!r}.")
                raise typer.Exit(1)
            title, body, source, url = item.title, item.body, item.source.name, item.url
    else:
        url = None
    result = tagger.tag(title, body, source=source, url=url)
    if as_json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        out.print(result.explain() if explain or key else json.dumps(result.to_dict(), ensure_ascii=False, indent=2), markup=False, highlight=False)


@app.command()
def retag(source: Annotated[Optional[str], typer.Option("--source", "-s")] = None) -> None:
    """Re-tag stored items after watchlists/topics.yml changed."""
    from sqlalchemy import select

    from crawler.pipelines import load_tagger
    from storage.db import transaction
    from storage.models import Item, Source

    config = _config()
    tagger = load_tagger(str(config.topics_file))
    if tagger is None:
        err.print(f"No topics file at {config.topics_file}.")
        raise typer.Exit(2)
    changed = total = 0
    with transaction(_database(config)) as session:
        query = select(Item, Source.name).join(Source)
        if source:
            query = query.where(Source.name == source)
        for item, name in session.execute(query):
            result = tagger.tag(item.title, item.body, source=name, url=item.url, published_at=item.published_at)
            total += 1
            if (item.topics or {}).get("category") != result.category:
                changed += 1
            item.topics, item.score = result.to_dict(), result.score
    out.print(f"Re-tagged {total} item(s); {changed} changed category.")


@app.command("export")
def export_command(
    file: Annotated[Path, typer.Argument(help="Where to write the JSON Lines.")],
    since: Annotated[Optional[str], typer.Option(help="Only items first seen since (2024-06-01, 30d).")] = None,
) -> None:
    """Export the archive as JSON Lines — a backup, or a move between SQLite and PostgreSQL
    (`crawl import` on the other side): items with their raw pages, verdicts and signatures,
    report issues, story clusters, users, triage, the outbox and delivery ledger, crawl runs."""
    from desk import transfer
    from storage.db import transaction

    config = _config()
    with transaction(_database(config)) as session, file.open("w", encoding="utf-8") as out_file:
        counts = transfer.export(session, out_file, _since(since))
    out.print(f"Exported {counts['item']} item(s) and {counts['issue']} issue(s) to {file}{_other_records(counts)}")


@app.command("import")
def import_command(file: Annotated[Path, typer.Argument(help="JSON Lines written by `crawl export`.", exists=True, dir_okay=False)]) -> None:
    """Import what `crawl export` wrote; rows already stored are skipped, changed issues replaced."""
    from desk import transfer
    from storage.db import transaction

    config = _config()
    try:
        with transaction(_database(config)) as session, file.open(encoding="utf-8") as lines:
            counts = transfer.import_(session, lines)
    except ValueError as error:
        err.print(f"[red]{safe(file)}: {safe(error)}[/red] — nothing was imported.")
        raise typer.Exit(1) from None
    out.print(f"Imported {counts['item']} item(s) and {counts['issue']} issue(s); {counts['skipped']} already stored."
              + _other_records(counts))


def _other_records(counts: dict[str, int]) -> str:
    """The records besides items and issues, e.g. " (also: 2 user, 14 triage)"."""
    others = [f"{n} {kind}" for kind, n in sorted(counts.items()) if kind not in ("item", "issue", "skipped") and not kind.startswith("skipped_")]
    return f" (also: {', '.join(others)})" if others else ""


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (the CLI also does this on first use)."""
    from storage.db import current_revision, upgrade

    config = _config()
    url = _usable(config.effective_database_url)
    upgrade(url)
    out.print(f"Database at revision {current_revision(url)}: {url}")



@issues_app.command("coverage")
def issues_coverage(
    dates: Annotated[Optional[list[str]], typer.Argument(help="Publication dates (2024-06-28); all imported issues when none.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Per issue: shares, every cited URL's verdict, and the missed columns.")] = False,
) -> None:
    """What are we missing? For each URL an imported issue cites: which source watches its
    column (the crawler's own host + `article_url` rule), whether we stored it and how many
    days before the issue. Then the unwatched columns, most cited first, with a command to try each."""
    from dataclasses import asdict

    from crawler import coverage
    from common.urls import canonical_url
    from storage import queries
    from storage.db import transaction

    config = _config()
    sources = _sources(config)
    wanted = [day.date() for day in map(parse_date, dates or []) if day is not None]
    if dates and len(wanted) != len(dates):
        err.print("Give dates as YYYY-MM-DD, e.g. `crawl issues coverage 2024-06-28`.")
        raise typer.Exit(2)
    with transaction(_database(config)) as session:
        cited = [(day, coverage.citations(structure)) for day, structure in queries.issue_structures(session, wanted or None)]
        seen = queries.first_seen(session, (canonical_url(c.url) for _, citations in cited for c in citations))
    if not cited:
        err.print("No imported issue" + (f" of {', '.join(dates)}" if dates else "") + ". Import some with `crawl issues import FILE…`.")
        raise typer.Exit(1)
    issues = [coverage.judge(day, citations, sources, seen) for day, citations in cited]
    missed = coverage.missed_columns(issues, sources)
    if as_json:
        print(json.dumps({"issues": [i.to_dict() for i in issues], "total": _coverage_total(issues),
                          "missed_columns": [asdict(c) for c in missed]}, ensure_ascii=False, indent=2))
        return
    table = Table(title="Cited URLs in a watched column (WeChat apart)")
    for column in ("issue", "watched", "references", "briefs", "figures", "WeChat", "stored", "median lead"):
        table.add_column(column)
    for issue in issues:
        kinds = [f"{issue.by_kind[k]['watched']}/{issue.by_kind[k]['cited']}" for k in coverage.KINDS]
        lead = "—" if issue.median_lead_days is None else f"{issue.median_lead_days:g} d"
        table.add_row(issue.published, f"{issue.watched}/{issue.cited} ({issue.share:.0%})", *kinds,
                      f"{issue.wechat['watched']}/{issue.wechat['cited']}", str(issue.stored), lead)
    out.print(table)
    total = _coverage_total(issues)
    out.print(f"All issues: {total['watched']}/{total['cited']} non-WeChat cited URLs in a watched column ({total['share']:.0%}).")
    if missed:
        out.print("\nUnwatched columns, most cited first:")
        for column in missed:
            out.print(f"  {column.citations}× {safe(column.column)}  — {safe(column.try_with)}", highlight=False)


def _coverage_total(issues: list) -> dict[str, object]:  # type: ignore[type-arg]
    cited, watched = sum(i.cited for i in issues), sum(i.watched for i in issues)
    return {"cited": cited, "watched": watched, "share": round(watched / cited, 3) if cited else 0.0}


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

    import yaml

    from crawler import doctor, propose
    from crawler.extract import extract_article
    from crawler.spiders import ARTICLE

    config = _config()
    list_url = propose.list_url_for(url.strip())
    name = name or propose.name_for(list_url)
    page = doctor.fetch(list_url, config, propose.provisional_source(name, list_url))
    if page.error or not 200 <= page.status < 300:
        err.print(f"Could not read {safe(list_url)}: {safe(page.error or f'HTTP {page.status}')}")
        raise typer.Exit(1)
    proposal = propose.propose(name, page.url, page.text)
    if not proposal.entries:
        err.print(f"No article entries found on {safe(list_url)}; is it a column page? Try `crawl sources add` with a list URL.")
        raise typer.Exit(1)
    out.print(f"{safe(list_url)}: {safe(proposal.notes[0])}", highlight=False)
    for entry in proposal.entries[:5]:
        out.print(f"  {entry.date:%Y-%m-%d} {safe(entry.title)}" if entry.date else f"  {safe(entry.title)}", highlight=False)
    sample = proposal.entries[0].url
    fetched = doctor.fetch(sample, config, propose.provisional_source(name, list_url), referer=list_url, role=ARTICLE)
    if not fetched.error:
        article = extract_article(fetched.url, fetched.body, fetched.headers)
        out.print(f"One article ({safe(sample)}): title {safe(article.title or '—')!s}; "
                  f"published {article.published_at or '—'}; body {len(article.body)} characters", highlight=False)
    text = yaml.safe_dump(proposal.watchlist(dt.date.today()), allow_unicode=True, sort_keys=False)
    if not write:
        print(text, end="")
        return
    target = config.sources_dir / f"{name}.yml"
    if target.exists():
        err.print(f"{safe(target)} exists already: choose another --name.")
        raise typer.Exit(2)
    target.write_text(text, encoding="utf-8")
    out.print(f"Wrote {safe(target)}. Next: `crawl check`, then `crawl run --source {name}`.")
