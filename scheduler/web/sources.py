"""Source health: the board of every source (configured or seen in the database) with what the
watchlists cover of the latest imported issues, one source's recent runs, `crawl doctor` run on
an editor's request against that source's own pages, and — for an admin — a new source proposed
from one URL (the same code as `crawl sources add`), previewed, then saved."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup
from sqlalchemy import select

from crawler.watchlist import SourceBase
from scheduler.issue_coverage import CoverageReport, measure
from scheduler.web import data
from scheduler.web.context import admin_required, db, is_admin, local_zone, login_required, settings
from storage import queries
from storage.models import CrawlRun, ReportIssue, Source

blueprint = Blueprint("sources", __name__)
COVERAGE_ISSUES = 8  # the latest imported issues the board measures
MISSED_SHOWN = 8  # unwatched columns listed under them


def _configured() -> dict[str, Any]:
    """The watchlist's sources by name; none when the watchlist does not load (the board still
    shows what the database knows)."""
    from crawler.watchlist import WatchlistError, configured_sources

    try:
        return {s.name: s for s in configured_sources(settings())}
    except WatchlistError:
        return {}


def _board_row(name: str, watched: Any, seen: dict[str, Any], last_ok: Any, counts: list[int]) -> dict[str, Any]:
    """One line of the board, from the watchlist (``watched``) and the database (``seen``);
    ``counts`` are its items per day for the sparkline."""
    stored = seen.get("source")
    run = seen.get("last_run")
    return {
        "name": name,
        "label": (watched.label if watched is not None else stored.label if stored else name),
        "enabled": watched.enabled if watched is not None else False,
        "configured": watched is not None,
        "health": stored.health if stored is not None and run is not None else "unknown",
        "since": stored.health_since if stored is not None else None,
        "last_run": run,
        "last_success": last_ok,
        "last_error": (stored.last_error if stored is not None else None) or (run.error_summary if run else None),
        "count": seen.get("items", 0),
        "spark": Markup(data.sparkline(counts)),
    }


@blueprint.get("/sources")
@login_required
def board() -> Any:
    watch = _configured()
    overview = queries.source_overview(db())
    counts = data.items_per_day(db(), data.now_utc(), local_zone())
    successes = data.last_successes(db())
    rows = []
    for name in sorted(set(watch) | set(overview)):
        seen = overview.get(name, {})
        stored = seen.get("source")
        rows.append(_board_row(name, watch.get(name), seen, successes.get(stored.id) if stored is not None else None,
                               counts.get(stored.id, []) if stored is not None else [0] * 30))
    return render_template("sources.html", rows=data.board_order(rows), coverage=_coverage(list(watch.values())),
                           missed_shown=MISSED_SHOWN, admin=is_admin(), add_url=request.args.get("add", "")[:2000])


def _coverage(sources: list[SourceBase]) -> CoverageReport | None:
    """`crawl issues coverage` of the latest imported issues (None when none is imported)."""
    latest = list(db().scalars(select(ReportIssue.published).order_by(ReportIssue.published.desc()).limit(COVERAGE_ISSUES)))
    return measure(db(), sources, latest) if latest else None


@blueprint.post("/sources/add")
@admin_required
def add_preview() -> Any:
    """Propose a watchlist for the URL given (fetched through the crawler's guarded path) and
    show it; the save form carries the proposal signed, so what is saved is what was shown."""
    from crawler.add_source import ProposalError, preview

    url, name = (request.form.get("url") or "").strip(), (request.form.get("name") or "").strip()
    try:
        shown = preview(url, settings(), data.now_utc().astimezone(local_zone()).date(), name or None)
    except ProposalError as problem:
        return render_template("source_add.html", url=url, name=name, problem=str(problem)), 400
    token = _signer().dumps({"name": shown.name, "yaml": shown.yaml_text})
    return render_template("source_add.html", url=url, name=shown.name, shown=shown, token=token)


@blueprint.post("/sources/add/save")
@admin_required
def add_save() -> Any:
    """Write the previewed watchlist as `crawl sources add --write` does."""
    from crawler.add_source import ProposalError, write

    try:
        proposal = _signer().loads(request.form.get("proposal") or "")
    except BadSignature:
        abort(400, "this proposal was not made here (or was altered): preview the URL again")
    try:
        target = write(proposal["name"], proposal["yaml"], settings())
    except ProposalError as problem:
        return render_template("source_add.html", url="", name=proposal["name"], problem=str(problem)), 409
    flash(f"{target} 저장됨. 다음: `crawl check`, 그리고 `crawl run --source {proposal['name']}`.")
    return redirect(url_for("sources.source", name=proposal["name"]))


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="radar-add-source")


@blueprint.get("/sources/<name>")
@login_required
def source(name: str) -> Any:
    return _source_page(name, None)


@blueprint.post("/sources/<name>/doctor")
@login_required
def doctor(name: str) -> Any:
    from crawler.doctor import NotTheSourcesPage, check_list_url, diagnose

    chosen = _configured().get(name)
    if chosen is None:
        abort(404, f"There is no configured source {name[:64]!r}.")
    list_url = (request.form.get("url") or "").strip() or None
    if list_url and not re.match(r"^https?://", list_url):
        abort(400, "the list URL must start with http:// or https://")
    try:
        list_url = check_list_url(chosen, list_url) if list_url else None
    except NotTheSourcesPage as refused:
        abort(400, str(refused))  # no fetching on an editor's say-so: only the source's pages
    return _source_page(name, [_rich_line(line) for line in diagnose(chosen, settings(), list_url, now=datetime.now(timezone.utc))])


def _source_page(name: str, diagnosis: list[tuple[str, str]] | None) -> Any:
    chosen = _configured().get(name)
    stored = db().scalar(select(Source).where(Source.name == name))
    if chosen is None and stored is None:
        abort(404, f"There is no source {name[:64]!r}.")
    runs = list(db().scalars(select(CrawlRun).where(CrawlRun.source_id == stored.id).order_by(CrawlRun.id.desc()).limit(10))) if stored else []
    counts = data.items_per_day(db(), data.now_utc(), local_zone(), source_id=stored.id).get(stored.id, [0] * 30) if stored else [0] * 30
    return render_template("source.html", name=name, watch=chosen, stored=stored, runs=runs, diagnosis=diagnosis,
                           spark=Markup(data.sparkline(counts, width=300, height=40)))


def _rich_line(line: str) -> tuple[str, str]:
    """A `crawl doctor` line (Rich markup) as (css class, plain text)."""
    from rich.text import Text

    try:
        plain = Text.from_markup(line).plain
    except Exception:  # noqa: BLE001 - a selector containing brackets is not markup
        plain = line
    kind = "bad" if "[red]" in line or "✗" in line else "good" if "[green]" in line or "✓" in line else "head" if line.startswith("[bold]") else ""
    return kind, plain
