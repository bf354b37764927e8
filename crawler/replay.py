"""The fake internet: a loopback HTTP(S) forward proxy that serves the fixture sites by host name.

The crawler reaches it exactly as it would reach a corporate proxy in production — through
its ordinary proxy setting — so tests and ``crawl demo`` exercise the real transport:
``GET http://host/path`` for plain HTTP, ``CONNECT host:443`` followed by TLS (terminated
here with a throwaway CA from ``trustme``) for HTTPS.

A site is a folder named after its host: ``sites/www.ndrc.gov.cn/xxgk/zcfb/tz/index.html``
answers ``https://www.ndrc.gov.cn/xxgk/zcfb/tz/`` (a trailing ``/`` serves ``index.html``;
a query string is part of the file name, ``fieldlist.aspx?id=3``). An optional
``_site.yml`` in the folder sets ``content_type`` (the header for HTML files),
``etag: false`` and ``last_modified: false`` to mimic servers without validators.

Faults are injected per URL (:meth:`FakeInternet.inject`): a status code, a delay, a
truncated body, a connection reset, a wrong charset header, a redirect loop, a huge body,
a redirect elsewhere (``value``: the Location), a gzip bomb (``value``: MB once inflated),
or a different file served in place of the real one.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import socket
import ssl
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

log = logging.getLogger(__name__)
SITES = Path(__file__).resolve().parent / "sites"
HTML_SUFFIXES = {".html", ".htm", ".shtml", ".shtm", ".aspx", ".jsp", ".php", ""}
TYPES = {
    ".json": "application/json; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".pdf": "application/pdf",
    ".js": "application/javascript",
    ".css": "text/css",
}


@dataclass(frozen=True)
class Fault:
    """What to do instead of serving a URL normally. ``kind`` is one of :data:`FAULT_KINDS`."""

    kind: str
    value: object = None


FAULT_KINDS = ("status", "delay", "truncate", "reset", "charset", "redirect_loop", "huge", "replace", "redirect", "gzip_bomb")


def fault(kind: str, value: object = None) -> Fault:
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault {kind!r}; use one of {', '.join(FAULT_KINDS)}")
    return Fault(kind, value)


class FakeInternet:
    """Serve ``roots`` (folders of host folders) on loopback as an HTTP forward proxy."""

    def __init__(self, *roots: Path, host: str = "127.0.0.1", port: int = 0):
        self.roots = [Path(r) for r in roots] or [SITES]
        self.faults: dict[str, Fault] = {}
        self.hits: Counter[str] = Counter()
        self.posted: list[tuple[str, str, bytes]] = []  # (URL, Content-Type, body) of each POST, in order
        self._lock = threading.Lock()
        self._tls: dict[str, ssl.SSLContext] = {}
        self._ca = None
        self._server = _Server((host, port), _Handler)
        self._server.internet = self
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------
    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeInternet:
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-internet", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeInternet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- control -----------------------------------------------------------------------
    def inject(self, url: str, what: Fault) -> None:
        self.faults[_key(url)] = what

    def clear_faults(self) -> None:
        self.faults.clear()

    def requests_to(self, host: str | None = None) -> int:
        with self._lock:
            return sum(n for key, n in self.hits.items() if host is None or urlsplit(key).hostname == host)

    def hosts(self) -> list[str]:
        return sorted({p.name for root in self.roots if root.is_dir() for p in root.iterdir() if p.is_dir()})

    # -- serving -----------------------------------------------------------------------
    def record(self, url: str) -> None:
        with self._lock:
            self.hits[_key(url)] += 1

    def record_post(self, url: str, content_type: str, body: bytes) -> None:
        with self._lock:
            self.posted.append((url, content_type, body))

    def locate(self, host: str, path: str, query: str) -> tuple[Path, dict] | None:
        for root in self.roots:
            site = root / host
            if not site.is_dir():
                continue
            relative = unquote(path).lstrip("/")
            if relative == "" or relative.endswith("/"):
                relative += "index.html"
            candidate = site / (f"{relative}?{query}" if query else relative)
            if candidate.resolve().is_relative_to(site.resolve()) and candidate.is_file():
                return candidate, _site_config(site)
        return None

    def tls_context(self, host: str) -> ssl.SSLContext:
        with self._lock:
            if host not in self._tls:
                import trustme

                self._ca = self._ca or trustme.CA()
                context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                self._ca.issue_cert(host).configure_cert(context)
                self._tls[host] = context
            return self._tls[host]


def _key(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return f"{host}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")


_site_cache: dict[Path, tuple[float, dict]] = {}


def _site_config(site: Path) -> dict:
    path = site / "_site.yml"
    if not path.exists():
        return {}
    mtime = path.stat().st_mtime
    cached = _site_cache.get(path)
    if cached is None or cached[0] != mtime:
        cached = (mtime, yaml.safe_load(path.read_text(encoding="utf-8")) or {})
        _site_cache[path] = cached
    return cached[1]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    internet: FakeInternet

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients hang up mid-response all the time (that is what fault tests do).
        log.debug("fake internet: connection from %s ended abruptly", client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    tunnel_host: str | None = None

    def log_message(self, format: str, *args: object) -> None:
        log.debug("fake internet: " + format, *args)

    def do_CONNECT(self) -> None:
        host = self.path.split(":")[0].lower()
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        try:
            tls = self.server.internet.tls_context(host).wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.close_connection = True
            return
        handler = type(self).__new__(type(self))
        handler.tunnel_host = host
        try:
            BaseHTTPRequestHandler.__init__(handler, tls, self.client_address, self.server)
        except (ssl.SSLError, OSError):
            pass
        self.close_connection = True

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.internet.record_post(self._url(), self.headers.get("Content-Type", ""), self.rfile.read(length))
        self.do_GET()

    def do_GET(self) -> None:
        url = self._url()
        internet = self.server.internet
        internet.record(url)
        parts = urlsplit(url)
        what = internet.faults.get(_key(url))
        if what is not None and self._fault(what, url):
            return
        found = internet.locate(parts.hostname or "", parts.path, parts.query)
        if found is None:
            known = parts.hostname in internet.hosts()
            self._send(404 if known else 502, b"<html><body>not found</body></html>", "text/html")
            return
        path, config = found
        body = path.read_bytes()
        if what is not None and what.kind == "replace":
            body = Path(str(what.value)).read_bytes()
        self._serve_file(path, body, config, what)

    # -- helpers -----------------------------------------------------------------------
    def _url(self) -> str:
        if self.tunnel_host:
            return f"https://{self.tunnel_host}{self.path}"
        if self.path.startswith(("http://", "https://")):
            return self.path
        return f"http://{self.headers.get('Host', 'localhost')}{self.path}"

    def _serve_file(self, path: Path, body: bytes, config: dict, what: Fault | None) -> None:
        suffix = Path(path.name.split("?")[0]).suffix.lower()  # a query is part of the file name
        content_type = TYPES.get(suffix)
        if content_type is None or suffix in HTML_SUFFIXES:
            content_type = config.get("content_type", "text/html; charset=utf-8")
        if what is not None and what.kind == "charset":
            content_type = f"text/html; charset={what.value}"
        headers = {}
        mtime = path.stat().st_mtime
        if config.get("etag", True):
            headers["ETag"] = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if config.get("last_modified", True):
            headers["Last-Modified"] = formatdate(mtime, usegmt=True)
        if self._not_modified(headers, mtime):
            self.send_response(304)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if what is not None and what.kind == "truncate":
            self._send(200, body, content_type, headers, cut=int(len(body) * float(what.value or 0.5)))
            return
        self._send(200, body, content_type, headers)

    def _not_modified(self, headers: dict[str, str], mtime: float) -> bool:
        etag = self.headers.get("If-None-Match")
        if etag and "ETag" in headers:
            return etag == headers["ETag"]
        since = self.headers.get("If-Modified-Since")
        if since and "Last-Modified" in headers:
            try:
                return int(mtime) <= parsedate_to_datetime(since).timestamp()
            except (TypeError, ValueError):
                return False
        return False

    def _fault(self, what: Fault, url: str) -> bool:
        """Act out a fault. True when the response has been dealt with."""
        if what.kind == "status":
            self._send(int(what.value or 500), f"<html><body>error {what.value}</body></html>".encode(), "text/html")
        elif what.kind == "delay":
            time.sleep(float(what.value or 1))
            return False
        elif what.kind == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        elif what.kind == "redirect_loop":
            self.send_response(302)
            self.send_header("Location", url)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif what.kind == "huge":
            self._send_huge(int(what.value or 50) * 1024 * 1024)
        elif what.kind == "redirect":
            self.send_response(302)
            self.send_header("Location", str(what.value))
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif what.kind == "gzip_bomb":
            self._send(200, _gzip_bomb(int(what.value or 50)), "text/html; charset=utf-8", {"Content-Encoding": "gzip"})
        else:
            return False
        return True

    def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None, cut: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command == "HEAD":
            return
        if cut is not None:
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)

    def _send_huge(self, size: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        chunk = b"<p>" + "巨大的页面。".encode() * 500 + b"</p>\n"
        try:
            sent = 0
            while sent < size:
                piece = chunk[: size - sent]
                self.wfile.write(piece)
                sent += len(piece)
        except OSError:
            self.close_connection = True


def _gzip_bomb(megabytes: int) -> bytes:
    """A small gzip body that inflates to ``megabytes`` MB of HTML-ish zeros."""
    import gzip
    import io

    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as packed:
        packed.write(b"<html><body>")
        block = b"0" * (1024 * 1024)
        for _ in range(megabytes):
            packed.write(block)
    return out.getvalue()


def main() -> None:  # pragma: no cover - a convenience for source authors
    import argparse

    parser = argparse.ArgumentParser(description="Serve the fixture sites (reconstructions, not recordings) as a loopback HTTP(S) proxy.")
    parser.add_argument("--port", type=int, default=8899)
    parser.add_argument("roots", nargs="*", type=Path, help="folders of host folders (default: bundled sites)")
    args = parser.parse_args()
    try:
        internet = FakeInternet(*args.roots, port=args.port).start()
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        raise SystemExit(f"port {args.port} on 127.0.0.1 is already in use (another fake internet?): choose a free one with --port N") from None
    print(f"fake internet on {internet.address} serving: {', '.join(internet.hosts())}")
    print(f"point the crawler at it:  RADAR_PROXY={internet.address} crawl run --all")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        internet.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
