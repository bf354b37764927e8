"""`crawl db`: the database schema."""

from __future__ import annotations

import typer

from radar.cli._common import out, settings, usable

db_app = typer.Typer(help="Database schema management.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (the CLI also does this on first use)."""
    from storage.db import current_revision, upgrade

    config = settings()
    url = usable(config.effective_database_url)
    upgrade(url)
    out.print(f"Database at revision {current_revision(url)}: {url}")
