"""What every command group shares: the consoles, the settings, the watchlists, an open-able
database, the `--since` option, local times, and the table of items."""

from __future__ import annotations

import shlex
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

from common.dates import PUBLISHED_ZONE, format_published, parse_date, parse_duration
from common.markup import safe
from common.settings import Settings, get_settings
from crawler.watchlist import SourceBase, WatchlistError, configured_sources

# Piped output (CI logs, `| less`) gets wide tables instead of Rich's 80-column default.
out = Console(width=None if sys.stdout.isatty() else 160, soft_wrap=True)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160, soft_wrap=True)


def settings(**overrides: object) -> Settings:
    return get_settings(**overrides)


def watched_sources(config: Settings) -> list[SourceBase]:
    """The watchlists' sources — or the watchlists' errors, and exit code 2."""
    try:
        return configured_sources(config)
    except WatchlistError as error:
        err.print(f"[red]The watchlists have errors:[/red]\n{safe(error)}", highlight=False)
        err.print("Fix them (see `crawl check`) and try again.")
        raise typer.Exit(2) from None


def choose(sources: list[SourceBase], names: list[str], all_: bool) -> list[SourceBase]:
    """The sources named on the command line (`--source`), or every enabled one (`--all`)."""
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
    return [by_name[n] for n in dict.fromkeys(names)]  # a source named twice is crawled once


def database(config: Settings) -> str:
    return usable(config.effective_database_url)


def usable(url: str) -> str:
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


def since_option(value: str | None) -> datetime | None:
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


def local_time(value: datetime | None, config: Settings) -> str:
    return value.astimezone(ZoneInfo(config.timezone)).strftime("%Y-%m-%d %H:%M") if value else "—"


def items_table(found: list, config: Settings, title: str) -> None:  # type: ignore[type-arg]
    table = Table(title=title)
    for column in ("id", "source", f"published ({PUBLISHED_ZONE})", "title", "origin", "status"):
        table.add_column(column, overflow="fold")
    for item in found:
        table.add_row(str(item.id), item.source.name, format_published(item.published_at, item.published_precision), safe(item.title), safe(item.origin or "—"), item.status)
    out.print(table)


def invocation() -> str:
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
