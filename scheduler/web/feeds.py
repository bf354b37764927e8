"""Atom feeds of the inbox (per category, and of items that hit a watch term), readable by a
logged-in editor or, for feed readers, with the editor's feed token in ``?token=``; and the
page that lists them."""

from __future__ import annotations

from typing import Any, Callable

from flask import Blueprint, Response, abort, g, render_template, request

from scheduler.candidates import Entry
from scheduler.web import auth, data, export
from scheduler.web.context import categories, db, local_zone, login_required
from storage.models import User

FEED_LENGTH = 100
blueprint = Blueprint("feeds", __name__)


@blueprint.get("/feeds")
@login_required
def index() -> Any:
    return render_template("feeds.html", token=g.user.feed_token)


@blueprint.get("/feeds/category/<category>.atom")
def category(category: str) -> Any:
    known = {c.id: c for c in categories()}
    by_label = {c.label: c for c in categories()}
    chosen = known.get(category) or by_label.get(category)
    if chosen is None:
        _feed_user()  # a stranger learns nothing, not even which categories exist
        abort(404, f"There is no category {category[:64]!r}.")

    def keep(entry: Entry) -> bool:
        topics = entry.item.topics or {}
        override = entry.triage.category_override if entry.triage else None
        return (override or topics.get("category")) == chosen.id

    return _feed(f"cnst-radar — {chosen.label}", f"category/{chosen.id}", keep)


@blueprint.get("/feeds/watch.atom")
def watch() -> Any:
    return _feed("cnst-radar — 주시어 (watch terms)", "watch", lambda e: bool(e.watch_hits))


def _feed_user() -> User:
    """The logged-in editor, else the owner of ``?token=``; 401 without a token, 403 for a wrong one."""
    if g.user is not None:
        return g.user
    token = request.args.get("token", "")
    if not token:
        abort(401, "log in, or add ?token=YOUR_FEED_TOKEN (see the Feeds page)")
    user = auth.by_token(db(), token)
    if user is None:
        abort(403, "this feed token is not valid")
    return user


def _feed(title: str, key: str, keep: Callable[[Entry], bool]) -> Response:
    """The last month's inbox entries that ``keep`` accepts, newest first, as an Atom feed."""
    _feed_user()
    tz = local_zone()
    found = data.inbox(db(), data.Filters(period="month"), data.now_utc(), tz, categories())
    entries = sorted((e for _, _, group in found.groups for e in group if keep(e)),
                     key=lambda e: e.item.first_seen_at, reverse=True)[:FEED_LENGTH]
    updated = max((e.item.updated_at for e in entries), default=data.now_utc())
    self_url = request.base_url  # never echo the token back into the document
    body = export.atom(title, export.feed_tag(key), self_url, request.host_url, entries, updated)
    return Response(body, mimetype="application/atom+xml")
