"""The daemon's status endpoint: ``/healthz`` for orchestrators, ``/metrics`` for Prometheus.

Both are computed from the database on each request, so they tell what the daemon actually
recorded, from tallies and indexed look-ups (never a count of the whole archive), and metric
names are prefixed ``radar_``. Counters never go down: messages sent are
counted from stored totals (``daemon_state``), not from outbox rows the clean-up deletes.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.db import transaction
from storage.models import CrawlRun, DaemonState, ItemTally, OutboxMessage, RunTally, Source

log = logging.getLogger(__name__)
HEARTBEAT_FRESH = 120  # seconds


def health(database_url: str, scheduler_running: Callable[[], bool], leadership: Callable[[], dict] | None = None) -> tuple[bool, dict]:
    """Whether this daemon is healthy, and the facts saying why. ``leadership`` gives its role
    (leader or standby) and the recorded leader; a standby is healthy while it can reach the
    database — the leader's heartbeat is the leader's to keep."""
    facts: dict = {"scheduler": scheduler_running()}
    try:
        with transaction(database_url) as session:
            session.execute(text("SELECT 1"))
            beat = session.get(DaemonState, "heartbeat")
            facts["database"] = "ok"
            facts["last_heartbeat"] = beat.updated_at.isoformat() if beat else None
            age = (datetime.now(timezone.utc) - beat.updated_at).total_seconds() if beat else None
        if leadership is not None:
            facts |= leadership()
    except Exception as error:  # the point of a health check is to report this, not to crash
        facts["database"] = f"error: {type(error).__name__}"
        age = None
    standby = facts.get("role") == "standby"
    healthy = facts["scheduler"] and facts["database"] == "ok" and (standby or (age is not None and age < HEARTBEAT_FRESH))
    facts["status"] = "ok" if healthy else "unhealthy"
    return healthy, facts


SENT_TOTAL = "sent_total:"  # daemon_state keys: messages ever sent, by kind ({"count": n})
HEALTH_STATES = ("ok", "degraded", "broken", "unknown")  # unknown: never crawled yet


def dialect_insert(session: Session) -> Callable[..., Any]:
    """The INSERT that has ``on_conflict_do_update`` on this session's database."""
    return {"sqlite": sqlite_insert, "postgresql": postgresql_insert}[session.get_bind().dialect.name]


def count_sent(session: Session, kind: str, now: datetime) -> None:
    """Add one to the stored total of sent ``kind`` messages, in the transaction that marks the
    message sent: /metrics counts from it, so the retention clean-up cannot make it drop."""
    session.flush()  # the message being marked is counted by the seed below
    insert = dialect_insert(session)
    statement = insert(DaemonState).values(key=SENT_TOTAL + kind, value={"count": _sent_rows(session, kind)}, updated_at=now)
    build_object = func.json_object if session.get_bind().dialect.name == "sqlite" else func.json_build_object
    session.execute(statement.on_conflict_do_update(
        index_elements=[DaemonState.key],
        set_={"value": build_object("count", DaemonState.value["count"].as_integer() + 1), "updated_at": now},
    ))


def seed_sent_totals(session: Session, now: datetime) -> None:
    """Start a stored total for each kind sent before totals existed (before rows are deleted)."""
    insert = dialect_insert(session)
    for kind in session.scalars(select(OutboxMessage.kind).where(OutboxMessage.sent_at.is_not(None)).distinct()):
        statement = insert(DaemonState).values(key=SENT_TOTAL + kind, value={"count": _sent_rows(session, kind)}, updated_at=now)
        session.execute(statement.on_conflict_do_nothing(index_elements=[DaemonState.key]))


def _sent_rows(session: Session, kind: str) -> int:
    return session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == kind, OutboxMessage.sent_at.is_not(None))) or 0


def sent_totals(session: Session) -> dict[str, int]:
    """Messages ever sent, by kind: the stored totals, or the sent rows for a kind without one."""
    stored = {row.key.removeprefix(SENT_TOTAL): int((row.value or {}).get("count") or 0)
              for row in session.scalars(select(DaemonState).where(DaemonState.key.startswith(SENT_TOTAL)))}
    rows = dict(session.execute(select(OutboxMessage.kind, func.count()).where(OutboxMessage.sent_at.is_not(None)).group_by(OutboxMessage.kind)).all())
    return {kind: stored.get(kind, rows.get(kind, 0)) for kind in sorted(set(stored) | set(rows))}


def metrics(database_url: str) -> str:
    """The Prometheus exposition, rendered by prometheus_client from one read of the database."""
    registry = CollectorRegistry(auto_describe=False)
    with transaction(database_url) as session:
        if session.get_bind().dialect.name == "postgresql":
            # One snapshot for every query, so stored totals and rows never disagree mid-clean-up.
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        registry.register(_Snapshot(_families(session)))
    return generate_latest(registry).decode()


class _Snapshot:
    """A collector that hands over families already read (prometheus_client's interface)."""

    def __init__(self, families: list[Metric]):
        self.families = families

    def collect(self) -> list[Metric]:
        return self.families


def _family(kind: type[Metric], name: str, help_text: str, labels: list[str], samples: Iterable[tuple[Iterable[str], float]]) -> Metric:
    family = kind(f"radar_{name}", help_text, labels=labels)
    for values, value in samples:
        family.add_metric(list(values), value)
    return family


def _families(session: Session) -> list[Metric]:
    # Totals come from the tallies the database keeps (migration 0010); the last runs are found
    # per source on an index. Nothing here reads every run or item ever stored.
    runs = session.execute(
        select(Source.name, RunTally.status, RunTally.runs, RunTally.new_items, RunTally.errors).join(RunTally).where(RunTally.runs > 0)
    ).all()
    items = session.execute(select(Source.name, ItemTally.items).join(ItemTally)).all()
    newest = select(select(CrawlRun.id).where(CrawlRun.source_id == Source.id).order_by(CrawlRun.id.desc()).limit(1).scalar_subquery())
    newest_ids = [run_id for run_id in session.scalars(newest) if run_id is not None]
    last = session.execute(select(Source.name, CrawlRun.started_at, CrawlRun.finished_at).join(CrawlRun).where(CrawlRun.id.in_(newest_ids))).all()
    newest_ok = (select(CrawlRun.finished_at).where(CrawlRun.source_id == Source.id, CrawlRun.status == "ok", CrawlRun.finished_at.is_not(None))
                 .order_by(CrawlRun.finished_at.desc()).limit(1).scalar_subquery())
    last_ok = session.execute(select(Source.name, newest_ok)).all()
    health_rows = session.execute(select(Source.name, Source.health).order_by(Source.name)).all()
    failing = session.execute(
        select(OutboxMessage.kind, func.count()).where(OutboxMessage.sent_at.is_(None), OutboxMessage.attempts > 0).group_by(OutboxMessage.kind)
    ).all()
    backlog = session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None))) or 0
    return [
        _family(CounterMetricFamily, "runs_total", "Crawl runs by source and outcome.", ["source", "status"], (((s, st), n) for s, st, n, _, _ in runs)),
        _family(CounterMetricFamily, "new_items_total", "New items stored, by source.", ["source"], _sum_by_source(runs, 3)),
        _family(CounterMetricFamily, "errors_total", "Errors during crawls, by source.", ["source"], _sum_by_source(runs, 4)),
        _family(GaugeMetricFamily, "items", "Items stored, by source.", ["source"], (((s,), n) for s, n in items)),
        _family(GaugeMetricFamily, "last_run_duration_seconds", "Duration of the last crawl, by source.", ["source"],
                (((s,), round((f - st).total_seconds(), 3)) for s, st, f in last if f)),
        _family(GaugeMetricFamily, "source_last_success_timestamp_seconds", "When the last run with status ok finished (Unix time), by source.",
                ["source"], (((s,), f.timestamp()) for s, f in last_ok if f)),
        _family(GaugeMetricFamily, "source_broken", "1 when the source is broken.", ["source"], (((s,), int(h == "broken")) for s, h in health_rows)),
        _family(GaugeMetricFamily, "source_health", "1 for the source's current health state (ok, degraded, broken, unknown), 0 for the others.",
                ["source", "state"], (((s, state), int(h == state)) for s, h in health_rows for state in HEALTH_STATES)),
        _family(CounterMetricFamily, "messages_sent_total", "Digests and alerts delivered, by kind (kept across the retention clean-up).",
                ["kind"], (((k,), n) for k, n in sent_totals(session).items())),
        _family(GaugeMetricFamily, "messages_failing", "Messages whose delivery failed and is being retried.", ["kind"], (((k,), n) for k, n in failing)),
        _family(GaugeMetricFamily, "outbox_backlog", "Messages waiting to be sent.", [], [((), backlog)]),
    ]


def _sum_by_source(rows: list, column: int) -> list[tuple[tuple[str], float]]:
    totals: dict[str, float] = {}
    for row in rows:
        totals[row[0]] = totals.get(row[0], 0) + (row[column] or 0)
    return [((s,), v) for s, v in sorted(totals.items())]


def serve(address: str, database_url: str, scheduler_running: Callable[[], bool], leadership: Callable[[], dict] | None = None) -> ThreadingHTTPServer:
    host, _, port = address.rpartition(":")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.path.startswith("/healthz"):
                healthy, facts = health(database_url, scheduler_running, leadership)
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
