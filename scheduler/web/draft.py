"""The weekly draft: the chosen stories of one week as a page, as Markdown and as DOCX."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, abort, render_template, request

from scheduler.web import data, export
from scheduler.web.context import categories, db, local_zone, login_required

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
blueprint = Blueprint("draft", __name__)


def _draft(week: str | None) -> data.Draft:
    """The draft of ``week`` (e.g. "2026-W03"; None: this week): 400 for a year out of range,
    404 for anything that is not a week."""
    tz = local_zone()
    try:
        label, monday = data.week_of(week, data.now_utc(), tz)
    except data.OutOfRange as error:
        abort(400, str(error))
    except ValueError as error:
        abort(404, str(error))
    return data.draft(db(), label, monday, tz, categories())


def _week_label(day: date) -> str:
    """The label of the week holding ``day`` (taken at local noon, well clear of midnight)."""
    tz = local_zone()
    label, _ = data.week_of(None, datetime.combine(day, time(12), tz), tz)
    return label


@blueprint.get("/draft")
@login_required
def index() -> Any:
    built = _draft(request.args.get("week") or None)
    return render_template("draft.html", draft=built, title=export.draft_title(built),
                           prev_week=_week_label(built.start - timedelta(days=7)),
                           next_week=_week_label(built.start + timedelta(days=7)))


@blueprint.get("/draft/<week>.md")
@login_required
def markdown(week: str) -> Any:
    built = _draft(week)
    return Response(export.markdown(built), mimetype="text/markdown",
                    headers={"Content-Disposition": f'attachment; filename="draft-{built.week}.md"'})


@blueprint.get("/draft/<week>.docx")
@login_required
def docx(week: str) -> Any:
    built = _draft(week)
    return Response(export.docx(built), mimetype=DOCX_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="draft-{built.week}.docx"'})
