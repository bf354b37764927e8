"""`crawl db`: the database schema, and how big the database is."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from common.markup import safe
from radar.cli._common import database, out, settings, usable

db_app = typer.Typer(help="Database schema management and size.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (the CLI also does this on first use)."""
    from storage.db import current_revision, upgrade

    config = settings()
    url = usable(config.effective_database_url)
    upgrade(url)
    out.print(f"Database at revision {current_revision(url)}: {url}")


@db_app.command("stats")
def db_stats(as_json: Annotated[bool, typer.Option("--json", help="Rows and bytes per table, and the total.")] = False) -> None:
    """Rows and size on disk per table, largest first (raw pages shrink with RADAR_RAW_RETENTION_DAYS)."""
    from storage.db import redacted, transaction
    from storage.stats import database_bytes, table_sizes

    url = database(settings())
    with transaction(url) as session:
        sizes, total = table_sizes(session), database_bytes(session)
    if as_json:
        print(json.dumps({"tables": [vars(size) for size in sizes], "database_bytes": total}, indent=2))
        return
    table = Table(title=f"Database {safe(redacted(url))}: {_human(total)}")
    for column, justify in (("table", "left"), ("rows", "right"), ("size", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for size in sizes:
        table.add_row(size.name, f"{size.rows:,}", _human(size.bytes))
    out.print(table)


def _human(size: int | None) -> str:
    if size is None:
        return "?"
    value, unit = float(size), "B"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            break
        value /= 1024
    return f"{value:,.0f} B" if unit == "B" else f"{value:,.1f} {unit}"
