"""What every page of the workspace shares: the request's database session, the workspace's
settings, time zone and categories, the login check, and the one safe way to redirect."""

from __future__ import annotations

import re
from functools import wraps
from typing import Any, Callable
from zoneinfo import ZoneInfo

from flask import abort, current_app, g, redirect, request, url_for
from sqlalchemy.orm import Session

from common.settings import Settings
from scheduler.candidates import Category
from scheduler.web import data
from scheduler.web.auth import normalise_username


def settings() -> Settings:
    """The settings the workspace was created with."""
    return current_app.extensions["radar"]["config"]


def local_zone() -> ZoneInfo:
    """The editors' time zone (RADAR_TIMEZONE): weeks, days and displayed times follow it."""
    return current_app.extensions["radar"]["tz"]


def categories() -> list[Category]:
    """The report's categories, from the topics file."""
    return data.categories(settings().topics_file)


def db() -> Session:
    """The request's database session (opened on first use, closed at the end of the request)."""
    if "db" not in g:
        g.db = current_app.extensions["radar"]["sessions"]()
    return g.db


def wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def login_required(view: Callable) -> Callable:
    """Only for a logged-in editor: a browser's GET goes to the login page (and comes back
    after), anything else gets 401."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.user is None:
            if wants_json() or request.method != "GET":
                abort(401, "log in first")
            return redirect(url_for("account.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def is_admin() -> bool:
    """Whether the logged-in editor is one of RADAR_WEB_ADMINS (who may change the watchlists)."""
    admins = {normalise_username(name) for name in re.split(r"[\s,]+", settings().web_admins) if name}
    return g.get("user") is not None and g.user.username in admins


def admin_required(view: Callable) -> Callable:
    """Only for an admin (RADAR_WEB_ADMINS); any other editor gets 403."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not is_admin():
            abort(403, "only an admin (RADAR_WEB_ADMINS) may do this")
        return view(*args, **kwargs)

    return wrapped


def safe_next(target: str | None) -> str:
    r"""Only local paths: never an open redirect to another site. Browsers drop tabs and
    newlines inside a URL and treat a backslash as a slash, so "/\t/host" or "/\host" means
    "//host" (another site) to them; any whitespace or control character is refused outright."""
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not any(c.isspace() or not c.isprintable() for c in target)):
        return target
    return url_for("inbox.index")
