"""Serving the editor workspace with waitress: the settings it needs behind a proxy, and the
daemon's way of serving it in a thread (RADAR_WEB_ADDR). `crawl web` serves it in the
foreground (radar/cli/workspace.py)."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def proxy_options(config: Any) -> dict[str, Any]:
    """waitress's settings for RADAR_WEB_PROXY_FIX. waitress drops every X-Forwarded-* header it
    was not told to trust before the app sees it, so Flask's ProxyFix alone never took effect
    under `crawl web`: trust one proxy hop (whoever connects, as ProxyFix did — so listen
    only where the proxy alone can reach) for the client's address, scheme and host."""
    if not config.web_proxy_fix:
        return {}
    return {
        "trusted_proxy": "*",
        "trusted_proxy_count": 1,
        "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"},
        "clear_untrusted_proxy_headers": True,
    }


def serve_in_background(config: Any, address: str) -> Any:
    """The workspace on ``address`` (host:port) in a thread of the calling process — how the
    daemon serves it when RADAR_WEB_ADDR is set. Returns the server; ``close()`` stops it."""
    import threading

    from waitress.server import create_server

    from scheduler.web import create_app

    host, _, port = address.rpartition(":")
    server = create_server(create_app(config), host=host or "127.0.0.1", port=int(port), threads=4, ident="cnst-radar",
                           **proxy_options(config))
    threading.Thread(target=server.run, name="editor-workspace", daemon=True).start()
    log.info("editor workspace on http://%s/", address)
    return server
