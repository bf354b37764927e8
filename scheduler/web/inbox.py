"""The inbox (candidates grouped like the report), one item, and triage — saved on every key
press, as JSON from the page's script or as a plain form without it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for

from scheduler.web import data
from scheduler.web.context import categories, db, local_zone, login_required, safe_next, wants_json
from storage.models import Item

MAX_ID = 2**31 - 1  # PostgreSQL's INTEGER: larger ids cannot exist, and must not reach the query
# The query arguments a page link carries over; only these, as url_for() takes some names
# (_external, _anchor…) for itself.
FILTER_ARGS = ("period", "status", "source", "category", "region", "triage", "from", "to", "q")
blueprint = Blueprint("inbox", __name__)


def _item_or_404(item_id: int) -> Item:
    item = db().get(Item, item_id) if 0 < item_id <= MAX_ID else None
    if item is None:
        abort(404, f"There is no item {item_id}.")
    return item


@blueprint.get("/")
@login_required
def index() -> Any:
    try:
        filters = data.Filters.parse(request.args)
    except data.Invalid as error:
        abort(400, str(error))
    found = data.inbox(db(), filters, data.now_utc(), local_zone(), categories(), page=_page(request.args.get("page")))
    kept = {key: request.args[key] for key in FILTER_ARGS if request.args.get(key)}  # for 이전/다음
    return render_template("inbox.html", inbox=found, filters=filters, periods=list(data.PERIODS), statuses=data.STATUSES,
                           kept_args=kept, page_size=data.PAGE_SIZE)


def _page(value: str | None) -> int:
    """The page asked for; anything that is not a page number is the first (like an unknown filter)."""
    return int(value) if value and value.isdigit() and len(value) < 7 else 1


@blueprint.get("/items/<int:item_id>")
@login_required
def item(item_id: int) -> Any:
    view = data.item_view(db(), _item_or_404(item_id))
    return render_template("item.html", view=view, item=view.item)


@blueprint.post("/items/<int:item_id>/triage")
@login_required
def triage(item_id: int) -> Any:
    target = _item_or_404(item_id)
    payload = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    if not isinstance(payload, dict):
        abort(400, "expected a JSON object or a form")
    fields = {k: payload.get(k) for k in ("decision", "category_override", "note")}
    if any(v is not None and not isinstance(v, str) for v in fields.values()):
        abort(400, "decision, category_override and note must be text")
    try:
        row = data.record_triage(db(), target, g.user, fields, {c.id: c for c in categories()})
    except data.Invalid as error:
        abort(400, str(error))
    db().commit()
    if request.is_json or wants_json():
        return jsonify(
            item_id=target.id, decision=row.decision, label=data.DECISION_LABELS[row.decision],
            category_override=row.category_override, note=row.note, user=g.user.username,
            at=row.at.isoformat(), at_local=data.local(row.at, local_zone()),
        )
    flash(f"{data.DECISION_LABELS[row.decision]} — saved")
    return redirect(safe_next(request.form.get("next") or url_for("inbox.item", item_id=target.id)))
