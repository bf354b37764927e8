"""Scrapy's HTTP/1.1 download handler with a shutdown race fixed (the intermittent
`twisted … AlreadyCalledError` traceback "while handling timed call" at the end of `crawl demo`).

Scrapy's ``HTTP11DownloadHandler.close()`` closes the connection pool and arms a one-second timer
that calls ``d.callback`` on the pool's Deferred, in case closing hangs; the coroutine awaiting
``d`` cancels the timer once it resumes. With the asyncio reactor, ``d`` firing only *schedules*
that resumption. When a callback has blocked the event loop for a second or more — extraction on
a loaded machine, 27 crawlers in one reactor during the demo — the next loop iteration runs the
already-due timer before the resumed coroutine can cancel it, and the timer calls back a Deferred
that has fired: AlreadyCalledError. The timer below gives up waiting only on a Deferred that has
not fired.
"""

from __future__ import annotations

from typing import Any

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

HANDLER = "crawler.download.HttpHandler"


class HttpHandler(HTTP11DownloadHandler):
    async def close(self) -> None:
        from twisted.internet import reactor

        closed: Deferred[Any] = self._pool.closeCachedConnections()
        give_up = reactor.callLater(self._disconnect_timeout, stop_waiting, closed)
        try:
            await maybe_deferred_to_future(closed)
        finally:
            if give_up.active():
                give_up.cancel()


def stop_waiting(closed: Deferred[Any]) -> None:
    """Stop waiting for connections to close — unless they did, and only the waiter is late."""
    if not closed.called:
        closed.callback(None)
