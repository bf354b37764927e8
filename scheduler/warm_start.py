"""Crawl children that start warm: forked from a server that imported the crawl code once.

A crawl child started as `python -m radar run --source NAME` spends most of an unchanged
check's CPU importing Scrapy, Twisted, SQLAlchemy's ORM and the crawler before its first
request, and the daemon pays that again for every crawl (issue 19). Here a fork server —
multiprocessing's "forkserver": a fresh, single-threaded interpreter started once, never a fork
of the multi-threaded daemon — imports those modules, and each crawl is a child forked from
it that runs `python -m radar ARGS` in-process, as the plain child would: same arguments,
same environment and working directory (the daemon's at the moment of the crawl), stdout
discarded, stderr kept for the daemon's warning line, the same exit status.

What the server must not hold, so that every child starts clean (tests/test_warm_start.py
checks each): a Twisted reactor (each child's CrawlerProcess installs its own, with its own
epoll descriptor), a thread, a database engine or pooled connection, or a console — the CLI
(whose Rich consoles fix colour and width when created) is imported in the child, against the
child's own streams.

RADAR_CRAWL_START=spawn (common/settings.py) turns this off: a plain child process per crawl.
"""

from __future__ import annotations

import atexit
import multiprocessing
import multiprocessing.connection
import os
import runpy
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Protocol

# Imported once by the server: what an unchanged `crawl run --source NAME` imports, found with
# `python -X importtime`, but the CLI's own modules (their consoles) and numpy (a migration's
# only; OpenBLAS starts threads when loaded). The TLS context factory first, as
# radar/cli/__init__.py does for `crawl run`: imported late, its deprecation shims' stack
# inspection walks every loaded module. A name that fails to import is skipped by the server.
WARM_MODULES = [
    "scrapy.core.downloader.contextfactory", "crawler.run", "scheduler.warm_start",
    "tldextract",  # Scrapy's cookie middleware: ~0.45 s on its own
    "typer", "rich.console", "rich.table", "rich.logging",
    "sqlalchemy.dialects.sqlite", "sqlalchemy.dialects.postgresql", "psycopg",
    "protego", "scrapy.utils.engine", "scrapy.spidermiddlewares.referer",
]
# A child's exit status is sent once by the server, and a second reader would find the stream
# ended and report 255. Process.start() reads the status of every earlier child (its clean-up of
# finished ones), so starts and status reads of all forked crawls take turns on one lock.
_STATUS_LOCK = threading.Lock()
STDERR_TAIL = 8192  # bytes of a child's stderr kept for the daemon's log (which shows the last 800 characters)


class CrawlChild(Protocol):
    """What the daemon needs of a crawl child, forked or spawned (a subprocess.Popen has it all)."""

    pid: int

    @property
    def returncode(self) -> int | None: ...

    def communicate(self, timeout: float | None = None) -> tuple[object, str | None]: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def send_signal(self, sig: int) -> None: ...

    def kill(self) -> None: ...


def _context() -> multiprocessing.context.ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(WARM_MODULES)  # read when the server starts, on the first crawl
    return context  # type: ignore[return-value]


class ForkedCrawl:
    """`python -m radar ARGV` forked from the warm server, with the part of subprocess.Popen's
    interface that the daemon uses: ``pid``, ``returncode``, ``communicate`` (whose stderr is
    the last 8 KB), ``wait``, ``send_signal``, ``kill``."""

    def __init__(self, argv: list[str]) -> None:
        # stderr goes to a file, not a pipe: nothing has to drain it while the crawl runs.
        descriptor, self._stderr_path = tempfile.mkstemp(prefix="radar-crawl-", suffix=".stderr")
        self._stderr = os.fdopen(descriptor, "rb")
        self._argv = argv
        self._process = _context().Process(target=run_in_child, args=(argv, dict(os.environ), self._stderr_path),
                                           name=f"crawl {' '.join(argv)}")
        try:
            with _STATUS_LOCK:
                self._process.start()
        except BaseException:
            self._release()
            raise
        self.pid: int = self._process.pid  # type: ignore[assignment]

    @property
    def returncode(self) -> int | None:
        """The exit status; -N when killed by signal N; None while running."""
        with _STATUS_LOCK:
            return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        # Waiting happens outside the lock (the daemon's crawl thread waits for hours while
        # stop_children() waits its grace period); only reading the status is under it.
        if not multiprocessing.connection.wait([self._process.sentinel], timeout):
            raise subprocess.TimeoutExpired(self._argv, timeout or 0)
        with _STATUS_LOCK:
            self._process.join()
            return self._process.exitcode  # type: ignore[return-value]

    def communicate(self, timeout: float | None = None) -> tuple[None, str]:
        """Wait for the child; return (None, the tail of its stderr)."""
        self.wait(timeout)
        self._stderr.seek(max(os.fstat(self._stderr.fileno()).st_size - STDERR_TAIL, 0))
        tail = self._stderr.read().decode("utf-8", "replace")
        self._release()
        return None, tail

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:  # it exited meanwhile
                pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def _release(self) -> None:
        if not self._stderr.closed:
            self._stderr.close()
            os.unlink(self._stderr_path)


def run_in_child(argv: list[str], environ: dict[str, str], stderr_path: str) -> None:
    """In the forked child: the daemon's environment and streams (multiprocessing has set its
    working directory and sys.path), then `python -m radar ARGV`. Its SystemExit is the
    child's exit status, as in a plain process."""
    _point(1, os.devnull)
    _point(2, stderr_path)
    os.environ.clear()
    os.environ.update(environ)
    time.tzset()
    sys.argv = ["crawl", *argv]
    try:
        runpy.run_module("radar", run_name="__main__", alter_sys=True)
    finally:
        # multiprocessing ends a child with os._exit: run what an interpreter's exit runs
        # (logging's flush, weakref finalizers, filelock's release of tldextract's cache lock).
        atexit._run_exitfuncs()


def _point(stream: int, path: str) -> None:
    """Make file descriptor ``stream`` write to ``path`` (appending)."""
    target = os.open(path, os.O_WRONLY | os.O_APPEND)
    os.dup2(target, stream)
    os.close(target)
