"""/metrics as Prometheus reads it: parsed by prometheus_client's own parser, counters that never
go down (not even after the retention clean-up), and each source's health and last success."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete

from common.settings import get_settings
from scheduler import jobs
from scheduler.notify import Message
from scheduler.outbox import enqueue
from scheduler.status import SENT_TOTAL, metrics
from storage.db import ensure_schema, transaction
from storage.models import CrawlRun, DaemonState, OutboxMessage, Source
from test_daemon import endpoint  # noqa: F401 - a loopback channel that accepts every message

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=timezone.utc)  # any date: every call below is given it


def samples(database_url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, read back by the Prometheus client library's parser."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(metrics(database_url))
        for sample in family.samples
    }


def queue_alerts(database_url: str, keys: list[str], now: datetime) -> None:
    with transaction(database_url) as session:
        for key in keys:
            enqueue(session, "alert", key, Message(title=f"[cnst-radar] {key}", text=key, markdown=key, html=key, tag="editors"), now)


def sent(database_url: str) -> float | None:
    return samples(database_url).get(("radar_messages_sent_total", (("kind", "alert"),)))


def test_messages_sent_total_does_not_drop_after_the_retention_clean_up(database_url: str, endpoint: str) -> None:
    ensure_schema(database_url)
    config = get_settings(database_url=database_url, notify=endpoint, retention_days=30)
    queue_alerts(database_url, ["a", "b"], NOW)
    assert jobs.deliver(config, NOW) == (2, 0)
    assert sent(database_url) == 2
    jobs.cleanup(config, NOW + timedelta(days=31))
    with transaction(database_url) as session:
        assert session.query(OutboxMessage).count() == 0  # the rows are gone …
    assert sent(database_url) == 2  # … the count is not
    queue_alerts(database_url, ["c"], NOW + timedelta(days=32))
    jobs.deliver(config, NOW + timedelta(days=32))
    assert sent(database_url) == 3


def test_messages_sent_before_totals_were_stored_survive_the_clean_up(database_url: str, endpoint: str) -> None:
    ensure_schema(database_url)
    config = get_settings(database_url=database_url, notify=endpoint, retention_days=30)
    queue_alerts(database_url, ["a", "b"], NOW)
    jobs.deliver(config, NOW)
    with transaction(database_url) as session:  # as on a database from before the stored totals
        session.execute(delete(DaemonState).where(DaemonState.key.startswith(SENT_TOTAL)))
    assert sent(database_url) == 2  # counted from the rows still there
    jobs.cleanup(config, NOW + timedelta(days=31))
    assert sent(database_url) == 2


def test_metrics_show_each_sources_health_state_and_last_success(database_url: str) -> None:
    ensure_schema(database_url)
    ok_at = NOW - timedelta(hours=5)
    with transaction(database_url) as session:
        ndrc = Source(name="ndrc", health="degraded")
        cas = Source(name="cas", health="broken")
        session.add_all([ndrc, cas, Source(name="most")])
        session.flush()
        session.add_all([
            CrawlRun(source_id=ndrc.id, started_at=ok_at - timedelta(minutes=1), finished_at=ok_at, status="ok"),
            CrawlRun(source_id=ndrc.id, started_at=NOW - timedelta(minutes=1), finished_at=NOW, status="partial"),
            CrawlRun(source_id=cas.id, started_at=NOW - timedelta(minutes=1), finished_at=NOW, status="failed"),
        ])
    found = samples(database_url)
    health = {labels: value for (name, labels), value in found.items() if name == "radar_source_health"}
    assert health[(("source", "ndrc"), ("state", "degraded"))] == 1
    assert health[(("source", "ndrc"), ("state", "ok"))] == 0
    assert health[(("source", "cas"), ("state", "broken"))] == 1
    assert health[(("source", "most"), ("state", "unknown"))] == 1
    assert sum(health.values()) == 3  # one state per source
    last_success = {labels: value for (name, labels), value in found.items() if name == "radar_source_last_success_timestamp_seconds"}
    assert last_success == {(("source", "ndrc"),): ok_at.timestamp()}  # the ok run, not the later partial one; cas never succeeded
    assert found[("radar_runs_total", (("source", "ndrc"), ("status", "partial")))] == 1
    assert found[("radar_outbox_backlog", ())] == 0
