"""Export and import as JSON Lines: backups, and moving between SQLite and PostgreSQL.

One JSON object per line, ``{"type": "item", ...}`` or ``{"type": "issue", ...}``. Items keep
their raw response (compressed, base64) so extraction can be re-run after a move; their
verdicts and tags travel with them. Importing is idempotent: an item whose canonical URL is
already stored, or an issue already imported, is skipped (an issue is replaced).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import fields, is_dataclass
from typing import IO, Any, get_args, get_type_hints

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler import reports
from storage import issues, queries
from storage.models import Item, RawPage, ReportIssue

ITEM_FIELDS = ("url", "canonical_url", "title", "origin", "body", "language", "content_hash", "list_title",
               "extraction", "status", "verdict_reason", "topics", "score", "published_precision")


def export(session: Session, out: IO[str], since: dt.datetime | None = None) -> dict[str, int]:
    counts = {"item": 0, "issue": 0}
    for record in _records(session, since):
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        counts[record["type"]] += 1
    return counts


def _records(session: Session, since: dt.datetime | None) -> Iterator[dict[str, Any]]:
    query = select(Item).order_by(Item.id)
    if since is not None:
        query = query.where(Item.first_seen_at >= since)
    for item in session.scalars(query).yield_per(500):
        record = {"type": "item", "source": item.source.name, "source_label": item.source.label, "source_kind": item.source.kind}
        record |= {name: getattr(item, name) for name in ITEM_FIELDS}
        record |= {name: _iso(getattr(item, name)) for name in ("published_at", "first_seen_at", "updated_at")}
        if item.raw is not None:
            record["raw"] = {"status": item.raw.status, "headers": item.raw.headers, "body_zlib": base64.b64encode(item.raw.body_zlib).decode()}
        yield record
    for issue in session.scalars(select(ReportIssue).order_by(ReportIssue.published)):
        yield {"type": "issue", "structure": issue.structure}


def import_(session: Session, lines: IO[str]) -> dict[str, int]:
    counts = {"item": 0, "issue": 0, "skipped": 0}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as error:
            raise ValueError(f"line {number}: not JSON ({error})") from None
        kind = record.get("type")
        if kind == "item":
            counts["item" if _import_item(session, record) else "skipped"] += 1
        elif kind == "issue":
            issues.store(session, _build(reports.Report, record["structure"]))
            counts["issue"] += 1
        else:
            raise ValueError(f"line {number}: unknown record type {kind!r}")
    return counts


def _import_item(session: Session, record: dict[str, Any]) -> bool:
    if queries.item_by_url(session, record["canonical_url"]) is not None:
        return False
    source = queries.upsert_source(session, record["source"], record.get("source_label", ""), record.get("source_kind", ""))
    item = Item(source_id=source.id, **{name: record.get(name) for name in ITEM_FIELDS})
    for name in ("published_at", "first_seen_at", "updated_at"):
        setattr(item, name, dt.datetime.fromisoformat(record[name]) if record.get(name) else None)
    if record.get("raw"):
        raw = record["raw"]
        item.raw = RawPage(status=raw["status"], headers=raw["headers"], body_zlib=base64.b64decode(raw["body_zlib"]))
    session.add(item)
    session.flush()
    return True


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _build(cls: type, data: Any) -> Any:
    """Rebuild a (nested) dataclass from its JSON form (dates come back as ISO strings)."""
    if data is None:
        return None
    hints = get_type_hints(cls)
    values = {}
    for field in fields(cls):
        if field.name in data:
            values[field.name] = _convert(hints[field.name], data[field.name])
    return cls(**values)


def _convert(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    args = [a for a in get_args(hint) if a is not type(None)]
    if hint is dt.date or dt.date in args:
        return dt.date.fromisoformat(value)
    if args and isinstance(value, list):  # list[Story], list[str], ...
        inner = args[0]
        return [_build(inner, v) if is_dataclass(inner) else v for v in value]
    if is_dataclass(hint):
        return _build(hint, value)
    return value
