"""`crawl export` and `crawl import`: the archive as JSON Lines (backups, moves between SQLite
and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from common.markup import safe
from radar.cli._common import database, err, out, settings, since_option


def export_command(
    file: Annotated[Path, typer.Argument(help="Where to write the JSON Lines.")],
    since: Annotated[Optional[str], typer.Option(help="Only items first seen since (2024-06-01, 30d).")] = None,
) -> None:
    """Export the archive as JSON Lines — a backup, or a move between SQLite and PostgreSQL
    (`crawl import` on the other side): items with their raw pages, verdicts and signatures,
    report issues, story clusters, users, triage, the outbox and delivery ledger, crawl runs."""
    from desk import transfer
    from storage.db import transaction

    config = settings()
    with transaction(database(config)) as session, file.open("w", encoding="utf-8") as out_file:
        counts = transfer.export(session, out_file, since_option(since))
    out.print(f"Exported {counts['item']} item(s) and {counts['issue']} issue(s) to {file}{_other_records(counts)}")


def import_command(file: Annotated[Path, typer.Argument(help="JSON Lines written by `crawl export`.", exists=True, dir_okay=False)]) -> None:
    """Import what `crawl export` wrote; rows already stored are skipped, changed issues replaced."""
    from desk import transfer
    from storage import slices
    from storage.db import transaction

    config = settings()
    try:
        with transaction(database(config)) as session, file.open(encoding="utf-8") as lines:
            counts = transfer.import_(session, lines)
    except ValueError as error:
        err.print(f"[red]{safe(file)}: {safe(error)}[/red] — nothing was imported.")
        raise typer.Exit(1) from None
    # An archive can bring more items than the daily clean-up's one slice of ids ahead holds.
    slices.add_slice_indexes(database(config))
    out.print(f"Imported {counts['item']} item(s) and {counts['issue']} issue(s); {counts['skipped']} already stored."
              + _other_records(counts))


def _other_records(counts: dict[str, int]) -> str:
    """The records besides items and issues, e.g. " (also: 2 user, 14 triage)"."""
    others = [f"{n} {kind}" for kind, n in sorted(counts.items()) if kind not in ("item", "issue", "skipped") and not kind.startswith("skipped_")]
    return f" (also: {', '.join(others)})" if others else ""
