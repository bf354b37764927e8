"""Export and import as JSON Lines: backups, and moving between SQLite and PostgreSQL.

One JSON object per line, tagged by table: ``{"type": "item", ...}``. Written and read one
record at a time, so a large archive never needs memory in proportion to it. Rows refer to
each other by natural keys (a source's name, an item's canonical URL, a user's name, an
outbox message's dedupe key, an issue's date and a story's position), never by database ids,
which differ between databases. Order matters and is kept: sources, users and issues before
the items that refer to them, items before clusters, triage and deliveries.

Everything a restore needs travels: items with their raw response, verdict, covered-story link
and MinHash signature; story clusters; triage decisions and notes; users (password hashes,
feed tokens); the outbox and the delivery ledger (what editors were already sent); crawl runs
and source health; the daemon's remembered alert states. Derived or transient rows do not:
LSH bands are rebuilt from the signatures, list-page validators (an HTTP cache — losing it
costs one unconditional fetch per list) and the daemon's heartbeat (the exporting process's
liveness) are left behind.

Importing is idempotent: a row whose natural key is already stored is skipped (an issue is
replaced only when its content changed). PostgreSQL cannot store NUL in text: on import into
it NUL characters are stripped, and logged.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import secrets
from collections import Counter
from collections.abc import Iterator
from dataclasses import fields, is_dataclass
from typing import IO, Any, get_args, get_type_hints

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from storage import queries
from desk import issues
from storage.models import (
    CrawlRun,
    DaemonState,
    Delivery,
    Item,
    ItemBand,
    ItemSignature,
    OutboxMessage,
    RawPage,
    ReportIssue,
    ReportStory,
    Source,
    StoryCluster,
    Triage,
    User,
)

log = logging.getLogger(__name__)

ITEM_FIELDS = ("url", "canonical_url", "title", "origin", "body", "language", "content_hash", "list_title",
               "extraction", "status", "verdict_reason", "topics", "score", "published_precision")
SOURCE_FIELDS = ("label", "kind", "health", "last_error")
USER_FIELDS = ("password_hash", "feed_token", "session_generation")
OUTBOX_FIELDS = ("kind", "tag", "title", "body_text", "body_markdown", "body_html", "attempts", "last_error")
RUN_FIELDS = ("status", "list_pages", "not_modified", "articles_found", "new", "updated", "skipped", "errors", "requests",
              "error_summary", "stats", "health", "problems")
TRANSIENT_STATE = ("heartbeat",)
BATCH = 500  # rows read at a time on export: memory stays flat however large the archive  # daemon_state keys that describe the exporting process, not the archive


def export(session: Session, out: IO[str], since: dt.datetime | None = None) -> Counter[str]:
    """Write every record; ``since`` limits items (and what hangs on them) to those first seen since."""
    counts: Counter[str] = Counter()
    for record in _records(session, since):
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        counts[record["type"]] += 1
    return counts


def _records(session: Session, since: dt.datetime | None) -> Iterator[dict[str, Any]]:
    yield from _sources(session)
    yield from _users(session)
    for issue in session.scalars(select(ReportIssue).order_by(ReportIssue.published)):
        yield {"type": "issue", "structure": issue.structure, "imported_at": _iso(issue.imported_at)}
    yield from _items(session, since)
    yield from _clusters(session, since)
    yield from _triage(session, since)
    yield from _outbox(session)
    yield from _deliveries(session, since)
    yield from _runs(session)
    for state in session.scalars(select(DaemonState).where(DaemonState.key.not_in(TRANSIENT_STATE)).order_by(DaemonState.key)):
        yield {"type": "daemon_state", "key": state.key, "value": state.value, "updated_at": _iso(state.updated_at)}


def _sources(session: Session) -> Iterator[dict[str, Any]]:
    for source in session.scalars(select(Source).order_by(Source.id)):
        yield {"type": "source", "name": source.name, **_values(source, SOURCE_FIELDS),
               "health_since": _iso(source.health_since), "created_at": _iso(source.created_at)}


def _users(session: Session) -> Iterator[dict[str, Any]]:
    for user in session.scalars(select(User).order_by(User.id)):
        yield {"type": "user", "username": user.username, **_values(user, USER_FIELDS), "created_at": _iso(user.created_at)}


def _items(session: Session, since: dt.datetime | None) -> Iterator[dict[str, Any]]:
    story = aliased(ReportStory)
    query = (select(Item, ItemSignature.minhash, ReportIssue.published, story.position)
             .outerjoin(ItemSignature, ItemSignature.item_id == Item.id)
             .outerjoin(story, story.id == Item.covered_story_id).outerjoin(ReportIssue, ReportIssue.id == story.issue_id)
             .order_by(Item.id))
    if since is not None:
        query = query.where(Item.first_seen_at >= since)
    for item, minhash, published, position in session.execute(query.execution_options(yield_per=BATCH)):
        record = {"type": "item", "source": item.source.name, "source_label": item.source.label, "source_kind": item.source.kind}
        record |= _values(item, ITEM_FIELDS)
        record |= {name: _iso(getattr(item, name)) for name in ("published_at", "first_seen_at", "updated_at")}
        if item.raw is not None:
            record["raw"] = {"status": item.raw.status, "headers": item.raw.headers, "fetched_at": _iso(item.raw.fetched_at),
                             "body_zlib": base64.b64encode(item.raw.body_zlib).decode()}
        if minhash is not None:
            record["minhash"] = base64.b64encode(minhash).decode()
        if published is not None:
            record["covered_story"] = {"issue": published.isoformat(), "position": position}
        yield record
        session.expunge(item)  # keep the session's identity map from growing with the archive


def _since_items(query: sa.Select, column: Any, since: dt.datetime | None) -> sa.Select:
    return query if since is None else query.where(column.in_(select(Item.id).where(Item.first_seen_at >= since)))


def _clusters(session: Session, since: dt.datetime | None) -> Iterator[dict[str, Any]]:
    query = _since_items(select(StoryCluster).order_by(StoryCluster.id), StoryCluster.primary_item_id, since)
    for cluster in session.scalars(query.execution_options(yield_per=BATCH)):
        urls = session.scalars(select(Item.canonical_url).where(Item.cluster_id == cluster.id).order_by(Item.id)).all()
        primary = session.scalar(select(Item.canonical_url).where(Item.id == cluster.primary_item_id))
        yield {"type": "story_cluster", "primary": primary, "members": urls, "created_at": _iso(cluster.created_at)}


def _triage(session: Session, since: dt.datetime | None) -> Iterator[dict[str, Any]]:
    query = (select(Triage, Item.canonical_url, User.username).join(Item, Item.id == Triage.item_id)
             .join(User, User.id == Triage.user_id).order_by(Triage.id))
    for row, url, username in session.execute(_since_items(query, Triage.item_id, since).execution_options(yield_per=BATCH)):
        yield {"type": "triage", "item": url, "user": username, "decision": row.decision,
               "category_override": row.category_override, "note": row.note, "at": _iso(row.at)}


def _outbox(session: Session) -> Iterator[dict[str, Any]]:
    for message in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id).execution_options(yield_per=BATCH)):
        yield {"type": "outbox", "dedupe_key": message.dedupe_key, **_values(message, OUTBOX_FIELDS),
               **{name: _iso(getattr(message, name)) for name in ("created_at", "next_attempt_at", "sent_at")}}


def _deliveries(session: Session, since: dt.datetime | None) -> Iterator[dict[str, Any]]:
    query = (select(Delivery, Item.canonical_url, OutboxMessage.dedupe_key).join(Item, Item.id == Delivery.item_id)
             .join(OutboxMessage, OutboxMessage.id == Delivery.outbox_id).order_by(Delivery.id))
    for row, url, key in session.execute(_since_items(query, Delivery.item_id, since).execution_options(yield_per=BATCH)):
        yield {"type": "delivery", "item": url, "kind": row.kind, "tag": row.tag, "outbox": key, "created_at": _iso(row.created_at)}


def _runs(session: Session) -> Iterator[dict[str, Any]]:
    query = select(CrawlRun, Source.name).join(Source, Source.id == CrawlRun.source_id).order_by(CrawlRun.id)
    for run, name in session.execute(query.execution_options(yield_per=BATCH)):
        yield {"type": "crawl_run", "source": name, **_values(run, RUN_FIELDS),
               "started_at": _iso(run.started_at), "finished_at": _iso(run.finished_at)}


def _values(row: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in names}


def import_(session: Session, lines: IO[str]) -> Counter[str]:
    """Import records line by line; the counts say what was added per type and, under
    ``skipped``, how many items were already stored (``skipped_<type>`` for the others)."""
    importer = _Importer(session)
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as error:
            raise ValueError(f"line {number}: not JSON ({error})") from None
        if not isinstance(record, dict):
            raise ValueError(f"line {number}: not a record")
        kind = record.get("type")
        handler = getattr(importer, f"import_{kind}", None) if isinstance(kind, str) else None
        if handler is None:
            raise ValueError(f"line {number}: unknown record type {kind!r}")
        if importer.strip_nul:
            record = _without_nul(record, number)
        try:
            added = handler(record)
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"line {number}: a bad {kind} record ({error!r})") from None
        importer.counts[kind if added else ("skipped" if kind == "item" else f"skipped_{kind}")] += 1
    return importer.counts


def _without_nul(value: Any, number: int) -> Any:
    """PostgreSQL refuses NUL in text (and in JSON strings): strip it, and say so."""
    if isinstance(value, str):
        if "\x00" in value:
            log.warning("line %d: NUL character(s) stripped (PostgreSQL cannot store them)", number)
            return value.replace("\x00", "")
        return value
    if isinstance(value, dict):
        return {_without_nul(k, number): _without_nul(v, number) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v, number) for v in value]
    return value


class _Importer:
    """Turns records back into rows, resolving natural keys to this database's ids."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.counts: Counter[str] = Counter()
        self.strip_nul = session.get_bind().dialect.name == "postgresql"

    def _item_id(self, url: str | None) -> int | None:
        return self.session.scalar(select(Item.id).where(Item.canonical_url == url)) if url else None

    def _user_id(self, name: str) -> int | None:
        return self.session.scalar(select(User.id).where(User.username == name))

    def import_source(self, record: dict[str, Any]) -> bool:
        source = self.session.scalar(select(Source).where(Source.name == record["name"]))
        if source is not None:
            return False
        self.session.add(Source(name=record["name"], **_pick(record, SOURCE_FIELDS), health_since=_time(record.get("health_since")),
                                created_at=_time(record.get("created_at")) or _now()))
        self.session.flush()
        return True

    def import_user(self, record: dict[str, Any]) -> bool:
        if self._user_id(record["username"]) is not None:
            return False
        values = _pick(record, USER_FIELDS)
        if self.session.scalar(select(User.id).where(User.feed_token == values["feed_token"])) is not None:
            values["feed_token"] = secrets.token_urlsafe(32)  # another user here holds it: never share a feed secret
        self.session.add(User(username=record["username"], **values, created_at=_time(record.get("created_at")) or _now()))
        self.session.flush()
        return True

    def import_issue(self, record: dict[str, Any]) -> bool:
        report = _build(issues.Report, record["structure"])
        stored = self.session.scalar(select(ReportIssue).where(ReportIssue.published == report.published))
        if stored is not None and stored.structure == record["structure"]:
            return False  # replacing it would renumber its stories and unlink the items it covers
        issue, _ = issues.store(self.session, report)
        if record.get("imported_at"):
            issue.imported_at = _time(record["imported_at"])
        return True

    def import_item(self, record: dict[str, Any]) -> bool:
        if queries.item_by_url(self.session, record["canonical_url"]) is not None:
            return False
        source = queries.upsert_source(self.session, record["source"], record.get("source_label", ""), record.get("source_kind", ""))
        item = Item(source_id=source.id, **_pick(record, ITEM_FIELDS))
        for name in ("published_at", "first_seen_at", "updated_at"):
            setattr(item, name, _time(record.get(name)))
        if record.get("raw"):
            raw = record["raw"]
            item.raw = RawPage(status=raw["status"], headers=raw["headers"], body_zlib=base64.b64decode(raw["body_zlib"]),
                               fetched_at=_time(raw.get("fetched_at")) or _now())
        if record.get("covered_story"):
            item.covered_story_id = self._story_id(record["covered_story"])
        self.session.add(item)
        self.session.flush()
        self._sign(item, base64.b64decode(record["minhash"]) if record.get("minhash") else None)
        self.session.expunge(item)
        return True

    def _story_id(self, key: dict[str, Any]) -> int | None:
        return self.session.scalar(
            select(ReportStory.id).join(ReportIssue, ReportIssue.id == ReportStory.issue_id)
            .where(ReportIssue.published == dt.date.fromisoformat(key["issue"]), ReportStory.position == key["position"]))

    def _sign(self, item: Item, packed: bytes | None) -> None:
        """The exported signature (or, from an archive written before signatures travelled, one
        computed as the crawler does), and its LSH bands rebuilt from it: they are derived."""
        import numpy as np

        from desk import similarity as diff

        values = np.frombuffer(packed, dtype="<u8") if packed else diff.signature(item.title or "", item.body or "")
        self.session.add(ItemSignature(item_id=item.id, minhash=packed or diff.pack(values)))
        self.session.add_all(ItemBand(band=band, item_id=item.id) for band in diff.band_keys(values))

    def import_story_cluster(self, record: dict[str, Any]) -> bool:
        primary = self._item_id(record["primary"])
        members = [i for i in (self._item_id(url) for url in record["members"]) if i is not None]
        free = [i for i in members if self.session.scalar(select(Item.cluster_id).where(Item.id == i)) is None]
        if primary is None or not free:
            return False  # already clustered here (or its items are not)
        cluster = StoryCluster(primary_item_id=primary, created_at=_time(record.get("created_at")) or _now())
        self.session.add(cluster)
        self.session.flush()
        self.session.execute(sa.update(Item).where(Item.id.in_(free)).values(cluster_id=cluster.id))
        return True

    def import_triage(self, record: dict[str, Any]) -> bool:
        item_id, user_id, at = self._item_id(record["item"]), self._user_id(record["user"]), _time(record["at"])
        if item_id is None or user_id is None:
            return False
        if self.session.scalar(select(Triage.id).where(Triage.item_id == item_id, Triage.user_id == user_id, Triage.at == at)):
            return False
        self.session.add(Triage(item_id=item_id, user_id=user_id, at=at, decision=record["decision"],
                                category_override=record.get("category_override"), note=record.get("note")))
        return True

    def import_outbox(self, record: dict[str, Any]) -> bool:
        if self.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == record["dedupe_key"])):
            return False
        times = {name: _time(record.get(name)) for name in ("created_at", "next_attempt_at", "sent_at")}
        self.session.add(OutboxMessage(dedupe_key=record["dedupe_key"], **_pick(record, OUTBOX_FIELDS),
                                       **{k: v for k, v in times.items() if v is not None}))
        self.session.flush()
        return True

    def import_delivery(self, record: dict[str, Any]) -> bool:
        item_id = self._item_id(record["item"])
        outbox_id = self.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == record["outbox"]))
        if item_id is None or outbox_id is None:
            return False
        if self.session.scalar(select(Delivery.id).where(Delivery.item_id == item_id, Delivery.kind == record["kind"],
                                                         Delivery.tag == record["tag"])):
            return False
        self.session.add(Delivery(item_id=item_id, outbox_id=outbox_id, kind=record["kind"], tag=record["tag"],
                                  created_at=_time(record.get("created_at")) or _now()))
        self.session.flush()
        return True

    def import_crawl_run(self, record: dict[str, Any]) -> bool:
        source = queries.upsert_source(self.session, record["source"])
        started = _time(record["started_at"])
        if self.session.scalar(select(CrawlRun.id).where(CrawlRun.source_id == source.id, CrawlRun.started_at == started)):
            return False
        self.session.add(CrawlRun(source_id=source.id, started_at=started, finished_at=_time(record.get("finished_at")),
                                  **_pick(record, RUN_FIELDS)))
        return True

    def import_daemon_state(self, record: dict[str, Any]) -> bool:
        if record["key"] in TRANSIENT_STATE or self.session.get(DaemonState, record["key"]) is not None:
            return False
        self.session.add(DaemonState(key=record["key"], value=record.get("value"), updated_at=_time(record.get("updated_at")) or _now()))
        self.session.flush()
        return True


def _pick(record: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: record[name] for name in names if name in record}


def _time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


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
