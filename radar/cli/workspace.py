"""`crawl web` and `crawl users …`: the editors' web workspace and their accounts."""

from __future__ import annotations

import json
import logging
import os
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from radar.cli._common import database, settings

log = logging.getLogger(__name__)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

users_app = typer.Typer(help="Editors who may log in to the web workspace (`crawl web`).", no_args_is_help=True)


def _database() -> str:
    return database(settings())


def web(
    host: Annotated[str, typer.Option(help="Address to listen on. The default serves this machine only; put a TLS proxy in front to share it.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    threads: Annotated[int, typer.Option(help="Worker threads.")] = 4,
) -> None:
    """Serve the editor workspace: the inbox, triage, the weekly draft, source health and feeds.

    Log in with an account made by `crawl users add NAME`. Behind an https proxy set
    RADAR_WEB_PROXY_FIX=1 so cookies are marked Secure; RADAR_WEB_SECRET fixes the session key
    (otherwise one is generated in the data directory).
    """
    from waitress import serve

    from radar import logs
    from common.settings import get_settings
    from scheduler.web import create_app
    from scheduler.web.serve import proxy_options

    logs.at_least_info()
    config = get_settings()
    app = create_app(config)
    with app.app_context():
        from storage import queries

        with app.extensions["radar"]["sessions"]() as session:
            if not queries.user_count(session):
                err.print("[yellow]No users yet:[/yellow] create one with `crawl users add NAME` to log in.")
    if host not in ("127.0.0.1", "localhost", "::1"):
        err.print(f"[yellow]Listening on {host}: anyone who can reach it sees the login page. Use https in front of it.[/yellow]")
    out.print(f"Editor workspace on http://{'[' + host + ']' if ':' in host else host}:{port}/  (Ctrl-C to stop)")
    serve(app, host=host, port=port, threads=threads, ident="cnst-radar", **proxy_options(config))


def _password(password: str | None) -> str:
    if password:
        return password
    if os.environ.get("RADAR_WEB_PASSWORD"):
        return os.environ["RADAR_WEB_PASSWORD"]
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Login name.")],
    password: Annotated[Optional[str], typer.Option(help="The password (else RADAR_WEB_PASSWORD, else a prompt).")] = None,
) -> None:
    """Create an editor account (with a feed token for the Atom feeds)."""
    from scheduler.web.auth import AccountError, add_user
    from storage.db import transaction

    url = _database()
    secret = _password(password)
    try:
        with transaction(url) as session:
            user = add_user(session, username, secret)
            name = user.username
    except AccountError as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    out.print(f"added user {name}; feed token shown by `crawl users list --tokens`")


@users_app.command("passwd")
def users_passwd(
    username: Annotated[str, typer.Argument(help="Login name.")],
    password: Annotated[Optional[str], typer.Option(help="The new password (else RADAR_WEB_PASSWORD, else a prompt).")] = None,
) -> None:
    """Change an editor's password (their open sessions end)."""
    from scheduler.web.auth import AccountError, set_password
    from storage.db import transaction

    url = _database()
    secret = _password(password)
    try:
        with transaction(url) as session:
            set_password(session, username, secret)
    except AccountError as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    out.print(f"password of {username} changed; their sessions ended and their feed token was replaced")


@users_app.command("remove")
def users_remove(username: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Remove an editor: their sessions end and their feed token stops working at once.
    Their triage history stays, still under their name."""
    from scheduler.web.auth import AccountError, remove_user
    from storage.db import transaction

    url = _database()
    try:
        with transaction(url) as session:
            deleted = remove_user(session, username)
    except AccountError as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    out.print(f"removed user {username.strip()}" + ("" if deleted else " (their triage history is kept)"))


@users_app.command("rotate-token")
def users_rotate_token(username: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Give an editor a new feed token: feed readers using the old one get 403 until updated."""
    from scheduler.web.auth import AccountError, rotate_token
    from storage.db import transaction

    url = _database()
    try:
        with transaction(url) as session:
            rotate_token(session, username)
    except AccountError as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    out.print(f"new feed token for {username.strip()}; shown by `crawl users list --tokens`")


@users_app.command("list")
def users_list(
    tokens: Annotated[bool, typer.Option("--tokens", help="Also show each user's feed token (a secret).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List editor accounts."""
    from scheduler.accounts import editor_rows
    from storage.db import transaction

    with transaction(_database()) as session:
        rows = editor_rows(session, tokens)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{len(rows)} user(s)")
    for column in ("username", "created", "triage actions", *(("feed token",) if tokens else ())):
        table.add_column(column)
    for row in rows:
        table.add_row(row["username"], row["created_at"][:16].replace("T", " "), str(row["actions"]), *((row["feed_token"],) if tokens else ()))
    out.print(table)
