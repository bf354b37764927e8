"""The daemon: `crawl daemon` (run it), `crawl jobs` (what it has scheduled) and `crawl status`
(its heartbeat, the sources' last runs, the outbox)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from common.markup import safe
from radar import logs
from common.settings import Settings
from radar.cli._common import database, local_time, out, settings

if TYPE_CHECKING:
    from storage.models import DaemonState, OutboxMessage


def daemon() -> None:
    """Run the scheduler: crawls on each source's schedule, the daily digest, alerts.

    Reloads watchlists on SIGHUP and when a file changes; stops gracefully on SIGTERM.
    Recipients: RADAR_NOTIFY (Apprise URLs) or RADAR_APPRISE_CONFIG (an Apprise YAML file).
    """
    from scheduler.daemon import Daemon

    logs.at_least_info()
    config = settings()
    database(config)
    Daemon(config).start()


def jobs() -> None:
    """List the daemon's scheduled jobs and their next run times."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    from storage.db import get_engine

    config = settings()
    store = SQLAlchemyJobStore(engine=get_engine(database(config)))
    store.start(None, "default")  # type: ignore[arg-type]
    found = store.get_all_jobs()
    table = Table(title=f"{len(found)} scheduled job(s)")
    for column in ("id", "next run", "trigger"):
        table.add_column(column)
    for job in found:
        table.add_row(safe(job.id), local_time(job.next_run_time, config), safe(job.trigger))
    out.print(table)
    if not found:
        out.print("No jobs yet: they are created when `crawl daemon` starts.")


def status(check: Annotated[bool, typer.Option("--check", help="Exit 1 unless the daemon's heartbeat is fresh (for health checks).")] = False) -> None:
    """The daemon's heartbeat, the last run of each source, source health and the outbox."""
    from scheduler.leader import current_leader
    from scheduler.outbox import backlog
    from storage import queries
    from storage.db import transaction

    config = settings()
    with transaction(database(config)) as session:
        fresh = _print_heartbeat(queries.daemon_state(session, "heartbeat"), config)
        _print_leader(current_leader(session), config)
        _print_last_runs(queries.source_overview(session), config)
        _print_outbox(backlog(session), config)
    if check and not fresh:
        raise typer.Exit(1)


def _print_heartbeat(beat: DaemonState | None, config: Settings) -> bool:
    """Say whether the daemon is alive; True when its heartbeat is fresh."""
    age = (datetime.now(timezone.utc) - beat.updated_at).total_seconds() if beat else None
    stopped = bool(beat and (beat.value or {}).get("stopped"))  # a clean stop says so: its pid is not alive
    fresh = age is not None and age < 120 and not stopped
    out.print(f"Daemon: {'[green]alive[/green]' if fresh else '[red]not running[/red]'}"
              + (f" (stopped {local_time(beat.updated_at, config)}, was pid {beat.value.get('pid')})" if stopped  # type: ignore[union-attr]
                 else f" (heartbeat {age:.0f} s ago, pid {beat.value.get('pid')})" if beat else " (never started)"))
    return fresh


def _print_leader(leader: dict | None, config: Settings) -> None:  # type: ignore[type-arg]
    """Which daemon schedules (the others, on PostgreSQL, stand by)."""
    if leader is None:
        out.print("Leader: none yet")
        return
    since = datetime.fromisoformat(leader["since"]) if leader.get("since") else None
    out.print(f"Leader: pid {leader.get('pid')} on {safe(leader.get('host'))} since {local_time(since, config)}", highlight=False)


def _print_last_runs(overview: dict[str, dict], config: Settings) -> None:  # type: ignore[type-arg]
    table = Table(title="Sources")
    for column in ("source", "last run", "status", "new", "health", "why"):
        table.add_column(column, overflow="fold")
    for name, row in sorted(overview.items()):
        run, source = row.get("last_run"), row["source"]
        table.add_row(name, local_time(run.started_at, config) if run else "never", run.status if run else "—",
                      str(run.new) if run else "—", source.health, safe(source.last_error))
    out.print(table)


def _print_outbox(pending: list[OutboxMessage], config: Settings) -> None:
    from scheduler.notify import redact

    out.print(f"Outbox: {len(pending)} message(s) waiting")
    for message in pending:
        out.print(f"  {message.kind} {safe(repr(message.title))}: {message.attempts} attempt(s), next {local_time(message.next_attempt_at, config)}"
                  + (f", last error: {safe(redact(message.last_error))}" if message.last_error else ""), highlight=False)
