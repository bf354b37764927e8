"""The editor workspace: a small Flask app over the radar's database.

Pages live in blueprints, one per area: ``account`` (login, logout), ``inbox`` (the inbox, one
item, triage), ``draft`` (the weekly draft, Markdown / DOCX), ``sources`` (source health,
`crawl doctor` on request) and ``feeds`` (Atom). This module builds the app around them:
sessions are signed cookies (HttpOnly, SameSite=Lax, Secure over https); every POST carries a
CSRF token (Flask-WTF); errors are pages, never stack traces.
"""

from __future__ import annotations

import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, Response, abort, g, jsonify, render_template, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from werkzeug.exceptions import HTTPException

from common.settings import Settings, get_settings
from scheduler import candidates
from scheduler.web import account, auth, data, draft, feeds, inbox, sources
from scheduler.web.context import categories, db, wants_json
from storage.db import ensure_schema, session_factory
from storage.models import User

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
BLUEPRINTS = (account.blueprint, inbox.blueprint, draft.blueprint, sources.blueprint, feeds.blueprint)
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'"
)


class _SessionInterface(SecureCookieSessionInterface):
    """The Secure flag follows the request: set when served over https (directly or, with
    RADAR_WEB_PROXY_FIX, behind a proxy that says so), so plain-http localhost still works."""

    def get_cookie_secure(self, app: Flask) -> bool:  # type: ignore[override]
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def _secret_key(config: Settings) -> str:
    """RADAR_WEB_SECRET, else a random key kept in the data directory (created 0600 once)."""
    if config.web_secret:
        return config.web_secret
    path = Path(config.data_dir) / "web-secret.key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key


def create_app(config: Settings | None = None, **overrides: Any) -> Flask:
    """The workspace for ``config`` (default: the environment's settings). ``overrides`` go into
    ``app.config`` (e.g. ``SECRET_KEY`` in tests)."""
    config = config or get_settings()
    app = Flask(__name__, template_folder=str(HERE / "templates"), static_folder=str(HERE / "static"))
    app.session_interface = _SessionInterface()
    _configure(app, config, overrides)
    database_url = config.effective_database_url
    ensure_schema(database_url)
    tz = ZoneInfo(config.timezone)
    app.extensions["radar"] = {
        "config": config, "database_url": database_url, "sessions": session_factory(database_url), "tz": tz,
        "login_throttle": app.config.get("LOGIN_THROTTLE") or auth.LoginThrottle(),
    }
    CSRFProtect(app)
    _configure_templates(app, tz)
    _register_errors(app)
    _register_input_checks(app)
    _register_session_hooks(app)
    _register_headers(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    return app


def _configure(app: Flask, config: Settings, overrides: dict[str, Any]) -> None:
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="radar_session",
        PERMANENT_SESSION_LIFETIME=timedelta(days=7),
        MAX_CONTENT_LENGTH=256 * 1024,
        WTF_CSRF_TIME_LIMIT=None,  # valid for the session's life: an editor may leave a tab open all day
        PROPAGATE_EXCEPTIONS=False,
        TRAP_HTTP_EXCEPTIONS=False,
        JSON_AS_ASCII=False,
    )
    if "SECRET_KEY" not in overrides:
        app.config["SECRET_KEY"] = _secret_key(config)
    app.config.update(overrides)
    if config.web_proxy_fix:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]


def _configure_templates(app: Flask, tz: ZoneInfo) -> None:
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters["local"] = lambda value, fmt=data.LOCAL_FORMAT: data.local(value, tz, fmt)
    app.jinja_env.globals.update(decision_labels=data.DECISION_LABELS, csrf_token=generate_csrf, note_limit=data.NOTE_LIMIT)

    @app.context_processor
    def _common() -> dict:
        # For every template, error pages too: base.html shows the editor's name and logout.
        return {"user": g.get("user"), "categories": categories(), "brief": candidates.BRIEF}


def _register_errors(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[Any, int]:
        message = (
            f"This request was refused: its security token is missing or invalid ({error.description}). "
            "Reload the page and try again."
        )
        return _error_response(400, "Bad request — security token", message)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Any, int]:
        return _error_response(error.code or 500, error.name, error.description or "")

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Any, int]:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error_response(500, "Internal error", "Something went wrong on our side; it has been logged.")


def _register_input_checks(app: Flask) -> None:
    @app.before_request
    def _refuse_nul() -> None:
        # Before anything reads the database (the feed token lookup too, logged in or not).
        fields = [("path", request.path), *request.args.items(multi=True)]
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            fields += request.form.items(multi=True)
        try:
            data.refuse_nul(fields)
        except data.Invalid as error:
            abort(400, str(error))


def _register_session_hooks(app: Flask) -> None:
    @app.before_request
    def _load_user() -> None:
        g.user = None
        uid = session.get("uid")
        if uid is not None:
            user = db().get(User, uid)
            # The generation is checked here, on every request: logout, a password change or
            # removal bumps it, and every cookie issued before then stops working at once.
            if (user is not None and not auth.is_removed(user) and session.get("gen") == user.session_generation
                    and session.get("stamp") == auth.session_stamp(user)):
                g.user = user
            else:
                session.clear()

    @app.teardown_request
    def _close(_error: BaseException | None) -> None:
        opened = g.pop("db", None)
        if opened is not None:
            opened.close()


def _register_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if g.get("user") is not None:
            response.headers.setdefault("Cache-Control", "private, no-store")
        return response


def _error_response(code: int, title: str, message: str) -> tuple[Any, int]:
    if wants_json() or request.path.endswith((".atom", ".md", ".docx")):
        if request.path.endswith((".atom", ".md")) and not wants_json():
            return Response(f"{code} {title}: {message}\n", mimetype="text/plain"), code
        return jsonify(error=message, status=code), code
    try:
        return render_template("error.html", code=code, title=title, message=message), code
    except Exception:  # noqa: BLE001 - the error page itself must never fail with a trace
        return Response(f"{code} {title}", mimetype="text/plain"), code
