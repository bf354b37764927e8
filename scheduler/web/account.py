"""Logging in and out. A login is throttled per address and per user name; a successful one
starts a fresh session, and logging out ends every session of that editor on the server."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for

from scheduler.web import auth
from scheduler.web.context import db, safe_next

log = logging.getLogger(__name__)
blueprint = Blueprint("account", __name__)


@blueprint.get("/login")
def login() -> Any:
    if g.user is not None:
        return redirect(safe_next(request.args.get("next")))
    return render_template("login.html", next=request.args.get("next", ""))


@blueprint.post("/login")
def login_post() -> Any:
    # Normalised once, so "kim\t" or "KIM" counts against the same lock as "kim".
    username = auth.normalise_username(request.form.get("username", "")[:4 * auth.USERNAME_MAX])[:auth.USERNAME_MAX]
    password = request.form.get("password", "")[:1024]
    keys = (f"addr:{request.remote_addr}", f"user:{username.casefold()}")
    throttle: auth.LoginThrottle = current_app.extensions["radar"]["login_throttle"]
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
    return redirect(safe_next(request.form.get("next")))


@blueprint.post("/logout")
def logout() -> Any:
    if g.user is not None:  # end the session on the server too: a copied cookie must not outlive it
        auth.end_sessions(g.user)
        db().commit()
    session.clear()
    return redirect(url_for("account.login"))
