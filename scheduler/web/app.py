"""The editor workspace: a small Flask app over the radar's database.

Pages: the inbox (candidates grouped like the report), one item, triage (saved on every key
press), the weekly draft (Markdown / DOCX), source health with `crawl doctor` on request, and
Atom feeds. Sessions are signed cookies (HttpOnly, SameSite=Lax, Secure over https); every
POST carries a CSRF token (Flask-WTF); errors are pages, never stack traces.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from datetime import timedelta
from functools import wraps
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

from flask import Flask, Response, abort, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from common.settings import Settings, get_settings
from scheduler.web import auth, data, export
from storage.db import ensure_schema, session_factory
from storage.models import Item, Source, User

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
MAX_ID = 2**31 - 1  # PostgreSQL's INTEGER: larger ids cannot exist, and must not reach the query


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
    database_url = config.effective_database_url
    ensure_schema(database_url)
    app.extensions["radar"] = {"config": config, "database_url": database_url, "sessions": session_factory(database_url)}
    CSRFProtect(app)
    tz = ZoneInfo(config.timezone)
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters["local"] = lambda value, fmt=data.LOCAL_FORMAT: data.local(value, tz, fmt)
    app.jinja_env.globals.update(decision_labels=data.DECISION_LABELS, csrf_token=generate_csrf, note_limit=data.NOTE_LIMIT)
    _register_errors(app)
    _register_input_checks(app)
    _register_routes(app, config, tz)

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

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
        )
        if g.get("user") is not None:
            response.headers.setdefault("Cache-Control", "private, no-store")
        return response

    return app


def db():  # type: ignore[no-untyped-def]
    """The request's database session (opened on first use, closed at the end of the request)."""
    if "db" not in g:
        from flask import current_app

        g.db = current_app.extensions["radar"]["sessions"]()
    return g.db


def wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def login_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.user is None:
            if wants_json() or request.method != "GET":
                abort(401, "log in first")
            return redirect(url_for("login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def _safe_next(target: str | None) -> str:
    r"""Only local paths: never an open redirect to another site. Browsers drop tabs and
    newlines inside a URL and treat a backslash as a slash, so "/\t/host" or "/\host" means
    "//host" (another site) to them; any whitespace or control character is refused outright."""
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not any(c.isspace() or not c.isprintable() for c in target)):
        return target
    return url_for("inbox")


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


def _error_response(code: int, title: str, message: str) -> tuple[Any, int]:
    if wants_json() or request.path.endswith((".atom", ".md", ".docx")):
        if request.path.endswith((".atom", ".md")) and not wants_json():
            return Response(f"{code} {title}: {message}\n", mimetype="text/plain"), code
        return jsonify(error=message, status=code), code
    try:
        return render_template("error.html", code=code, title=title, message=message), code
    except Exception:  # noqa: BLE001 - the error page itself must never fail with a trace
        return Response(f"{code} {title}", mimetype="text/plain"), code


def _item_or_404(item_id: int) -> Item:
    item = db().get(Item, item_id) if 0 < item_id <= MAX_ID else None
    if item is None:
        abort(404, f"There is no item {item_id}.")
    return item


def _register_routes(app: Flask, config: Settings, tz: ZoneInfo) -> None:
    def cats() -> list[data.Category]:
        return data.categories(config.topics_file)

    @app.context_processor
    def _common() -> dict:
        return {"user": g.get("user"), "categories": cats(), "brief": data.BRIEF}

    throttle = app.config.get("LOGIN_THROTTLE") or auth.LoginThrottle()

    @app.get("/login")
    def login() -> Any:
        if g.user is not None:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("login.html", next=request.args.get("next", ""))

    @app.post("/login")
    def login_post() -> Any:
        # Normalised once, so "kim\t" or "KIM" counts against the same lock as "kim".
        username = auth.normalise_username(request.form.get("username", "")[:4 * auth.USERNAME_MAX])[:auth.USERNAME_MAX]
        password = request.form.get("password", "")[:1024]
        keys = (f"addr:{request.remote_addr}", f"user:{username.casefold()}")
        wait = throttle.retry_after(*keys)
        if wait:
            log.warning("login refused for %r from %s: too many failed attempts", username, request.remote_addr)
            page = render_template("login.html", next=request.form.get("next", ""), throttled=(wait + 59) // 60)
            return page, 429, {"Retry-After": str(wait)}
        user = auth.authenticate(db(), username, password)
        if user is None:
            throttle.failed(*keys)
            return render_template("login.html", next=request.form.get("next", ""), failed=True), 401
        throttle.succeeded(*keys)
        db().commit()  # a rehashed password
        session.clear()  # a fresh session: no fixation
        session.permanent = True
        session["uid"], session["gen"], session["stamp"] = user.id, user.session_generation, auth.session_stamp(user)
        return redirect(_safe_next(request.form.get("next")))

    @app.post("/logout")
    def logout() -> Any:
        if g.user is not None:  # end the session on the server too: a copied cookie must not outlive it
            auth.end_sessions(g.user)
            db().commit()
        session.clear()
        return redirect(url_for("login"))

    @app.get("/")
    @login_required
    def inbox() -> Any:
        try:
            filters = data.Filters.parse(request.args)
        except data.Invalid as error:
            abort(400, str(error))
        found = data.inbox(db(), filters, data.now_utc(), tz, cats())
        return render_template("inbox.html", inbox=found, filters=filters, periods=list(data.PERIODS), statuses=data.STATUSES)

    @app.get("/items/<int:item_id>")
    @login_required
    def item(item_id: int) -> Any:
        view = data.item_view(db(), _item_or_404(item_id))
        return render_template("item.html", view=view, item=view.item)

    @app.post("/items/<int:item_id>/triage")
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
            row = data.record_triage(db(), target, g.user, fields, {c.id: c for c in cats()})
        except data.Invalid as error:
            abort(400, str(error))
        db().commit()
        if request.is_json or wants_json():
            return jsonify(
                item_id=target.id, decision=row.decision, label=data.DECISION_LABELS[row.decision],
                category_override=row.category_override, note=row.note, user=g.user.username,
                at=row.at.isoformat(), at_local=data.local(row.at, tz),
            )
        flash(f"{data.DECISION_LABELS[row.decision]} — saved")
        return redirect(_safe_next(request.form.get("next") or url_for("item", item_id=target.id)))

    def _draft(week: str | None) -> data.Draft:
        try:
            label, monday = data.week_of(week, data.now_utc(), tz)
        except data.OutOfRange as error:
            abort(400, str(error))
        except ValueError as error:
            abort(404, str(error))
        return data.draft(db(), label, monday, tz, cats())

    @app.get("/draft")
    @login_required
    def draft() -> Any:
        built = _draft(request.args.get("week") or None)
        prev_week, _ = data.week_of(None, data.datetime.combine(built.start - timedelta(days=7), data.time(12), tz), tz)
        next_week, _ = data.week_of(None, data.datetime.combine(built.start + timedelta(days=7), data.time(12), tz), tz)
        return render_template("draft.html", draft=built, title=export.draft_title(built), prev_week=prev_week, next_week=next_week)

    @app.get("/draft/<week>.md")
    @login_required
    def draft_markdown(week: str) -> Any:
        built = _draft(week)
        return Response(export.markdown(built), mimetype="text/markdown",
                        headers={"Content-Disposition": f'attachment; filename="draft-{built.week}.md"'})

    @app.get("/draft/<week>.docx")
    @login_required
    def draft_docx(week: str) -> Any:
        built = _draft(week)
        return Response(export.docx(built), mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                        headers={"Content-Disposition": f'attachment; filename="draft-{built.week}.docx"'})

    def configured() -> dict[str, Any]:
        from crawler.watchlist import WatchlistError, load_sources

        try:
            return {s.name: s for s in load_sources(config.sources_dir)}
        except WatchlistError:
            return {}

    @app.get("/sources")
    @login_required
    def sources() -> Any:
        from storage import queries

        watch = configured()
        overview = queries.source_overview(db())
        counts = data.items_per_day(db(), data.now_utc(), tz)
        successes = data.last_successes(db())
        rows = []
        for name in sorted(set(watch) | set(overview)):
            seen = overview.get(name, {})
            stored = seen.get("source")
            run = seen.get("last_run")
            last_ok = successes.get(stored.id) if stored is not None else None
            rows.append({
                "name": name,
                "label": (watch[name].label if name in watch else stored.label if stored else name),
                "enabled": watch[name].enabled if name in watch else False,
                "configured": name in watch,
                "health": stored.health if stored is not None and run is not None else "unknown",
                "since": stored.health_since if stored is not None else None,
                "last_run": run,
                "last_success": last_ok,
                "last_error": (stored.last_error if stored is not None else None) or (run.error_summary if run else None),
                "count": seen.get("items", 0),
                "spark": Markup(data.sparkline(counts.get(stored.id, []) if stored is not None else [0] * 30)),
            })
        return render_template("sources.html", rows=data.board_order(rows))

    @app.route("/sources/<name>", methods=["GET"])
    @login_required
    def source(name: str) -> Any:
        return _source_page(name, None)

    @app.post("/sources/<name>/doctor")
    @login_required
    def source_doctor(name: str) -> Any:
        from crawler.doctor import NotTheSourcesPage, check_list_url, diagnose

        chosen = configured().get(name)
        if chosen is None:
            abort(404, f"There is no configured source {name[:64]!r}.")
        list_url = (request.form.get("url") or "").strip() or None
        if list_url and not re.match(r"^https?://", list_url):
            abort(400, "the list URL must start with http:// or https://")
        try:
            list_url = check_list_url(chosen, list_url) if list_url else None
        except NotTheSourcesPage as refused:
            abort(400, str(refused))  # no fetching on an editor's say-so: only the source's pages
        return _source_page(name, [_rich_line(line) for line in diagnose(chosen, config, list_url)])

    def _source_page(name: str, diagnosis: list | None) -> Any:
        chosen = configured().get(name)
        stored = db().scalar(select(Source).where(Source.name == name))
        if chosen is None and stored is None:
            abort(404, f"There is no source {name[:64]!r}.")
        from storage.models import CrawlRun

        runs = list(db().scalars(select(CrawlRun).where(CrawlRun.source_id == stored.id).order_by(CrawlRun.id.desc()).limit(10))) if stored else []
        counts = data.items_per_day(db(), data.now_utc(), tz).get(stored.id, [0] * 30) if stored else [0] * 30
        return render_template("source.html", name=name, watch=chosen, stored=stored, runs=runs, diagnosis=diagnosis,
                               spark=Markup(data.sparkline(counts, width=300, height=40)))

    @app.get("/feeds")
    @login_required
    def feeds() -> Any:
        return render_template("feeds.html", token=g.user.feed_token)

    def _feed_user() -> User:
        if g.user is not None:
            return g.user
        token = request.args.get("token", "")
        if not token:
            abort(401, "log in, or add ?token=YOUR_FEED_TOKEN (see the Feeds page)")
        user = auth.by_token(db(), token)
        if user is None:
            abort(403, "this feed token is not valid")
        return user

    def _feed(title: str, key: str, keep: Callable[[data.Entry], bool]) -> Response:
        _feed_user()
        found = data.inbox(db(), data.Filters(period="month"), data.now_utc(), tz, cats())
        entries = sorted((e for _, _, group in found.groups for e in group if keep(e)), key=lambda e: e.item.first_seen_at, reverse=True)[:100]
        updated = max((e.item.updated_at for e in entries), default=data.now_utc())
        self_url = request.base_url  # never echo the token back into the document
        body = export.atom(title, export.feed_tag(key), self_url, request.host_url, entries, updated)
        return Response(body, mimetype="application/atom+xml")

    @app.get("/feeds/category/<category>.atom")
    def feed_category(category: str) -> Any:
        known = {c.id: c for c in cats()}
        by_label = {c.label: c for c in cats()}
        chosen = known.get(category) or by_label.get(category)
        if chosen is None:
            _feed_user()
            abort(404, f"There is no category {category[:64]!r}.")

        def keep(entry: data.Entry) -> bool:
            topics = entry.item.topics or {}
            override = entry.triage.category_override if entry.triage else None
            return (override or topics.get("category")) == chosen.id

        return _feed(f"cnst-radar — {chosen.label}", f"category/{chosen.id}", keep)

    @app.get("/feeds/watch.atom")
    def feed_watch() -> Any:
        return _feed("cnst-radar — 주시어 (watch terms)", "watch", lambda e: bool(e.watch_hits))


def _rich_line(line: str) -> tuple[str, str]:
    """A `crawl doctor` line (Rich markup) as (css class, plain text)."""
    from rich.text import Text

    try:
        plain = Text.from_markup(line).plain
    except Exception:  # noqa: BLE001 - a selector containing brackets is not markup
        plain = line
    kind = "bad" if "[red]" in line or "✗" in line else "good" if "[green]" in line or "✓" in line else "head" if line.startswith("[bold]") else ""
    return kind, plain
