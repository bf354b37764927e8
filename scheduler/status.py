"""The daemon's status endpoint: ``/healthz`` for orchestrators, ``/metrics`` for Prometheus.

Both are computed from the database on each request, so they tell what the daemon actually
recorded, and metric names are prefixed ``radar_``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import func, select, text

from storage.db import transaction
from storage.models import CrawlRun, DaemonState, Item, OutboxMessage, Source

log = logging.getLogger(__name__)
HEARTBEAT_FRESH = 120  # seconds


def health(database_url: str, scheduler_running: Callable[[], bool]) -> tuple[bool, dict]:
    facts: dict = {"scheduler": scheduler_running()}
    try:
        with transaction(database_url) as session:
            session.execute(text("SELECT 1"))
            beat = session.get(DaemonState, "heartbeat")
            facts["database"] = "ok"
            facts["last_heartbeat"] = beat.updated_at.isoformat() if beat else None
            age = (datetime.now(timezone.utc) - beat.updated_at).total_seconds() if beat else None
    except Exception as error:  # the point of a health check is to report this, not to crash
        facts["database"] = f"error: {type(error).__name__}"
        age = None
    healthy = facts["scheduler"] and facts["database"] == "ok" and age is not None and age < HEARTBEAT_FRESH
    facts["status"] = "ok" if healthy else "unhealthy"
    return healthy, facts


def metrics(database_url: str) -> str:
    lines: list[str] = []

    def family(name: str, kind: str, help_text: str, samples: list[tuple[dict, float]]) -> None:
        lines.append(f"# HELP radar_{name} {help_text}")
        lines.append(f"# TYPE radar_{name} {kind}")
        for labels, value in samples:
            rendered = ",".join(f'{k}="{v}"' for k, v in labels.items())
            lines.append(f"radar_{name}{{{rendered}}} {value}" if rendered else f"radar_{name} {value}")

    with transaction(database_url) as session:
        runs = session.execute(
            select(Source.name, CrawlRun.status, func.count(CrawlRun.id), func.sum(CrawlRun.new), func.sum(CrawlRun.errors))
            .join(CrawlRun).group_by(Source.name, CrawlRun.status)
        ).all()
        family("runs_total", "counter", "Crawl runs by source and outcome.", [({"source": s, "status": st}, n) for s, st, n, _, _ in runs])
        family("new_items_total", "counter", "New items stored, by source.", _sum_by_source(runs, 3))
        family("errors_total", "counter", "Errors during crawls, by source.", _sum_by_source(runs, 4))
        items = session.execute(select(Source.name, func.count(Item.id)).join(Item).group_by(Source.name)).all()
        family("items", "gauge", "Items stored, by source.", [({"source": s}, n) for s, n in items])
        last = session.execute(
            select(Source.name, CrawlRun.started_at, CrawlRun.finished_at)
            .join(CrawlRun).where(CrawlRun.id.in_(select(func.max(CrawlRun.id)).group_by(CrawlRun.source_id)))
        ).all()
        family("last_run_duration_seconds", "gauge", "Duration of the last crawl, by source.",
               [({"source": s}, round((f - st).total_seconds(), 3)) for s, st, f in last if f])
        health_rows = session.execute(select(Source.name, Source.health)).all()
        family("source_broken", "gauge", "1 when the source is broken.", [({"source": s}, int(h == "broken")) for s, h in health_rows])
        sent = session.execute(select(OutboxMessage.kind, func.count()).where(OutboxMessage.sent_at.is_not(None)).group_by(OutboxMessage.kind)).all()
        family("messages_sent_total", "counter", "Digests and alerts delivered, by kind.", [({"kind": k}, n) for k, n in sent])
        failing = session.execute(
            select(OutboxMessage.kind, func.count()).where(OutboxMessage.sent_at.is_(None), OutboxMessage.attempts > 0).group_by(OutboxMessage.kind)
        ).all()
        family("messages_failing", "gauge", "Messages whose delivery failed and is being retried.", [({"kind": k}, n) for k, n in failing])
        backlog = session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None)))
        family("outbox_backlog", "gauge", "Messages waiting to be sent.", [({}, backlog or 0)])
    return "\n".join(lines) + "\n"


def _sum_by_source(rows: list, column: int) -> list[tuple[dict, float]]:
    totals: dict[str, float] = {}
    for row in rows:
        totals[row[0]] = totals.get(row[0], 0) + (row[column] or 0)
    return [({"source": s}, v) for s, v in sorted(totals.items())]


def serve(address: str, database_url: str, scheduler_running: Callable[[], bool]) -> ThreadingHTTPServer:
    host, _, port = address.rpartition(":")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.path.startswith("/healthz"):
                healthy, facts = health(database_url, scheduler_running)
                self._send(200 if healthy else 503, json.dumps(facts).encode(), "application/json")
            elif self.path.startswith("/metrics"):
                self._send(200, metrics(database_url).encode(), "text/plain; version=0.0.4")
            else:
                self._send(404, b"try /healthz or /metrics\n", "text/plain")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("status endpoint: " + format, *args)

    server = ThreadingHTTPServer((host or "127.0.0.1", int(port)), Handler)
    threading.Thread(target=server.serve_forever, name="status-endpoint", daemon=True).start()
    log.info("status endpoint on http://%s/healthz and /metrics", address)
    return server
