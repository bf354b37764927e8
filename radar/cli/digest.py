"""`crawl digest`: read, preview or send the daily digest."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Optional
from zoneinfo import ZoneInfo

import typer

from common.settings import Settings
from radar.cli._common import database, err, out, settings


def digest(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print what would go out; send nothing.")] = False,
    send: Annotated[bool, typer.Option("--send", help="Queue and send today's digest now.")] = False,
    preview: Annotated[Optional[Path], typer.Option("--preview", help="Write the HTML digest to this file.")] = None,
) -> None:
    """The daily digest: `--dry-run` to read it, `--preview FILE.html` to look at it, `--send` to send it."""
    from scheduler import digest as digests
    from scheduler import jobs as daemon_jobs
    from storage.db import transaction

    config = settings()
    now = datetime.now(timezone.utc)  # the command's one clock, passed to everything below
    if send:
        raise typer.Exit(_send_digest(config, now))
    with transaction(database(config)) as session:
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
    url = database(config)
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
