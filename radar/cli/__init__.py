"""`crawl` — the command line. Thin: it parses arguments and calls what the daemon and tests call.

One module per command group; this one builds the app and registers every command (in the
order they were first written, which is the order `crawl --help` keeps):

    crawl.py     run, demo              items.py    items, show, extract, diff
    sources.py   sources, sources add   checks.py   check, doctor
    daemon.py    daemon, jobs, status   digest.py   digest
    issues.py    issues …               tagging.py  tag, retag
    archive.py   export, import         db.py       db upgrade
    workspace.py web, users …           _common.py  what they share (settings, database, consoles)
"""

from __future__ import annotations

import gc
import os
import signal
import sys
from typing import Annotated, NoReturn

if next((word for word in sys.argv[1:] if not word.startswith("-")), None) in ("run", "demo"):  # `crawl -v run` too
    # Imports and watchlists leave ~1.3·10⁵ objects for the cyclic collector that live as long as
    # the process, and it walked them all again at every full collection, on the way and during
    # the crawl (~1 s of CPU in an unchanged check of all sources): off until the crawl starts,
    # which freezes them out of its walks and turns it back on (crawler.run).
    gc.disable()
    # A crawl (the daemon's child is `python -m radar run …`) imports this anyway, but first
    # here, while few modules are loaded: importing it calls `inspect.stack()` three times
    # (Scrapy's deprecated-class shims), and each frame of a nested import costs a scan of
    # `sys.modules` — 0.3–0.5 s of CPU when it came through crawler.run with ~900 modules loaded,
    # ~0.1 s here. Other commands never need it (TLS, OpenSSL: +0.3 s on `crawl --help`).
    import scrapy.core.downloader.contextfactory  # noqa: F401

import typer

from common.markup import safe
from radar import logs
from radar.cli import archive, checks, crawl, daemon, db, digest, issues, items, sources, tagging, workspace
from radar.cli._common import err


class _Radar(typer.Typer):
    """The `crawl` app: a database that fails mid-command (gone, locked, read-only where a write
    was needed) is reported in one line with exit code 2, not a page of SQLAlchemy traceback."""

    def __call__(self, *args: object, **kwargs: object) -> object:
        from sqlalchemy.exc import OperationalError

        try:
            return super().__call__(*args, **kwargs)
        except OperationalError as error:
            err.print(f"[red]database error:[/red] {safe(str(error.orig).splitlines()[0] if error.orig else error)}", highlight=False)
            sys.exit(2)


app = _Radar(
    help=(
        "cnst-radar: monitor Chinese S&T policy sources for the weekly report.\n\n"
        "Start with `crawl demo` (no network needed), then `crawl run --all`, `crawl items --new`."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
app.add_typer(db.db_app, name="db")
app.command("web")(workspace.web)
app.add_typer(workspace.users_app, name="users")
app.add_typer(issues.issues_app, name="issues")
app.command()(crawl.run)
app.command()(crawl.demo)
app.add_typer(sources.sources_app, name="sources")
app.command()(items.items)
app.command()(items.show)
app.command()(checks.check)
app.command()(items.extract)
app.command()(checks.doctor)
app.command()(daemon.daemon)
app.command()(daemon.jobs)
app.command()(daemon.status)
app.command()(digest.digest)
app.command("diff")(items.diff_command)
app.command()(tagging.tag)
app.command()(tagging.retag)
app.command("export")(archive.export_command)
app.command("import")(archive.import_command)


@app.callback()
def main(verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="-v: log each item; -vv: debug.")] = 0) -> None:
    logs.configure(verbose, console=err)
    if not isinstance(sys.stdout, _UntilReaderLeaves):
        sys.stdout = _UntilReaderLeaves(sys.stdout)


class _UntilReaderLeaves:
    """stdout that ends the process when its reader goes away (`crawl demo | head -20`).

    The usual BrokenPipeError cannot stop a crawl: it is raised inside Scrapy's signal handlers
    (the per-source progress line), which log it and carry on, and Twisted's threads keep the
    process alive. SIGPIPE's default action cannot be restored instead: sockets (the crawler's,
    the fake internet's) would then kill the process whenever a peer hangs up. So: leave at
    once, with the exit status of a process killed by SIGPIPE.
    """

    def __init__(self, stream: object):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)  # type: ignore[attr-defined,no-any-return]
        except BrokenPipeError:
            _reader_left()

    def flush(self) -> None:
        try:
            self._stream.flush()  # type: ignore[attr-defined]
        except BrokenPipeError:
            _reader_left()

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def _reader_left() -> NoReturn:
    os._exit(128 + signal.SIGPIPE)
