"""SQLAlchemy models. The schema itself is owned by the Alembic migrations in ``storage/migrations``.

Portable across SQLite and PostgreSQL: no dialect-specific types, timestamps stored
timezone-aware (UTC) through :class:`UtcDateTime`.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    UniqueConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out — SQLite forgets the offset otherwise."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} refused: store aware datetimes only")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class Source(Base):
    """A configured source as last seen in the watchlists, plus its health."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(32), default="")
    health: Mapped[str] = mapped_column(String(16), default="unknown")
    health_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    runs: Mapped[list[CrawlRun]] = relationship(back_populates="source")


# The counters the one log line per crawl run reports, wherever the crawl ran (a local child,
# a Scrapyd node).
RUN_COUNTERS = ("list_pages", "articles_found", "new", "updated", "skipped", "errors")


class CrawlRun(Base):
    """One crawl of one source: when, how it ended, and its counters."""

    __tablename__ = "crawl_runs"
    # A source's newest runs first: its last success (migration 0010) and its last run (0012)
    # without grouping every run.
    __table_args__ = (Index("ix_crawl_runs_source_finished", "source_id", "finished_at"), Index("ix_crawl_runs_source_id_id", "source_id", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # running | ok | partial (some errors) | failed (nothing could be fetched)
    status: Mapped[str] = mapped_column(String(16), default="running")
    list_pages: Mapped[int] = mapped_column(Integer, default=0)
    not_modified: Mapped[int] = mapped_column(Integer, default=0)
    articles_found: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    error_summary: Mapped[str | None] = mapped_column(Text)
    stats: Mapped[dict | None] = mapped_column(JSON)
    health: Mapped[str | None] = mapped_column(String(16))  # ok | degraded | broken, judged on this run
    problems: Mapped[list | None] = mapped_column(JSON)

    source: Mapped[Source] = relationship(back_populates="runs")

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


NEWS = ("new", "follow_up")  # the verdicts editors are shown as candidates (digest, inbox)


class Item(Base):
    """One article. Its identity is the canonical URL, unique at the database level."""

    __tablename__ = "items"
    # The inbox's "candidates seen since": bounded by the week whatever the planner knows of the
    # data (with the status index alone, SQLite reads every candidate ever kept; migration 0010).
    # A source's newest item is the end of its (source_id, first_seen_at) range (migration 0012).
    __table_args__ = (Index("ix_items_status_first_seen", "status", "first_seen_at"), Index("ix_items_source_first_seen", "source_id", "first_seen_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(String(2048), unique=True)
    title: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    # "day" when the page gave only a date (published_at is then midnight China time), "time"
    # when it gave a time of day; None when unknown. See common.dates.format_published.
    published_precision: Mapped[str | None] = mapped_column(String(8))
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    origin: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="zh")
    content_hash: Mapped[str] = mapped_column(String(64))
    list_title: Mapped[str | None] = mapped_column(Text)
    extraction: Mapped[dict | None] = mapped_column(JSON)  # which rule produced each field
    # Filled by later stages (diff, tagging, triage); nullable until then.
    status: Mapped[str] = mapped_column(String(16), default="new", index=True)  # new | follow_up | covered | duplicate
    verdict_reason: Mapped[str | None] = mapped_column(Text)
    covered_story_id: Mapped[int | None] = mapped_column(ForeignKey("report_stories.id", ondelete="SET NULL"), index=True)
    topics: Mapped[dict | None] = mapped_column(JSON)
    score: Mapped[float | None] = mapped_column(Float)
    cluster_id: Mapped[int | None] = mapped_column(Integer, index=True)  # the story cluster (see StoryCluster)

    source: Mapped[Source] = relationship()
    raw: Mapped[RawPage | None] = relationship(
        back_populates="item", cascade="all, delete-orphan", uselist=False
    )


class RawPage(Base):
    """The response as fetched, compressed, so extraction can be re-run without the network."""

    __tablename__ = "raw_pages"

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    status: Mapped[int] = mapped_column(Integer, default=200)
    headers: Mapped[dict | None] = mapped_column(JSON)
    body_zlib: Mapped[bytes] = mapped_column(LargeBinary)

    item: Mapped[Item] = relationship(back_populates="raw")


class ListPageState(Base):
    """What the last successful fetch of a list URL told us, for conditional GETs."""

    __tablename__ = "list_page_states"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    entry_urls: Mapped[list | None] = mapped_column(JSON)
    entry_count: Mapped[int] = mapped_column(Integer, default=0)
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class OutboxMessage(Base):
    """A digest or alert, written before it is sent and marked sent only after the channel
    accepted it — so a restart neither loses nor repeats it (see scheduler/outbox.py)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # digest | weekly | alert | ops
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    tag: Mapped[str | None] = mapped_column(String(64))  # Apprise tag that selects recipients
    title: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    body_markdown: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)


class Delivery(Base):
    """Which item went out in which kind of message to which recipients: never twice."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("item_id", "kind", "tag", name="uq_delivery"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    tag: Mapped[str] = mapped_column(String(64), default="")
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DaemonState(Base):
    """Small named facts the daemon keeps: its heartbeat, what it last alerted on, ..."""

    __tablename__ = "daemon_state"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[dict | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class StoryCluster(Base):
    """Items that tell the same story from different outlets; the primary is the most
    authoritative source (the issuing body over media over aggregators)."""

    __tablename__ = "story_clusters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    primary_item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ItemSignature(Base):
    """The MinHash of an item's title and body, for confirming near-duplicate candidates."""

    __tablename__ = "item_signatures"

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    minhash: Mapped[bytes] = mapped_column(LargeBinary)


class ItemBand(Base):
    """LSH bands: items sharing a band are near-duplicate candidates (an indexed lookup)."""

    __tablename__ = "item_bands"
    __table_args__ = (Index("ix_item_bands_band_id", "band", "id"),)  # newest first within a band

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    band: Mapped[str] = mapped_column(String(32))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)


class ReportIssue(Base):
    """A published issue of the weekly report, imported with `crawl issues import`."""

    __tablename__ = "report_issues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    published: Mapped[date] = mapped_column(Date, unique=True)
    title: Mapped[str] = mapped_column(Text, default="")
    source_file: Mapped[str | None] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    unplaced: Mapped[list | None] = mapped_column(JSON)
    structure: Mapped[dict | None] = mapped_column(JSON)  # the parsed issue, for --json

    stories: Mapped[list[ReportStory]] = relationship(back_populates="issue", cascade="all, delete-orphan", order_by="ReportStory.position")


class ReportStory(Base):
    """A main story or a brief (단신) of an issue."""

    __tablename__ = "report_stories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("report_issues.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    is_brief: Mapped[bool] = mapped_column(Boolean, default=False)
    section: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(64))
    number: Mapped[int | None] = mapped_column(Integer)
    headline: Mapped[str] = mapped_column(Text)
    event_date: Mapped[date | None] = mapped_column(Date)

    issue: Mapped[ReportIssue] = relationship(back_populates="stories")
    references: Mapped[list[ReportReference]] = relationship(back_populates="story", cascade="all, delete-orphan")


class ReportReference(Base):
    """A Chinese source a story cites: title and URL (참고자료, or a brief's 출처)."""

    __tablename__ = "report_references"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("report_stories.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(Text, default="")
    title_key: Mapped[str] = mapped_column(String(500), default="", index=True)
    url: Mapped[str] = mapped_column(Text, default="")
    canonical_url: Mapped[str] = mapped_column(String(2048), default="", index=True)
    outlet: Mapped[str | None] = mapped_column(Text)

    story: Mapped[ReportStory] = relationship(back_populates="references")


class User(Base):
    """An editor of the web workspace (`crawl users add`). The password is stored as an
    argon2 hash; ``feed_token`` is a per-user secret for reading Atom feeds without a session."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    feed_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Bumped by logout, a password change and removal: sessions issued before then end.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Triage(Base):
    """One editor's action on an item: pick, skip or later, with an optional category override
    and note. Rows are never updated: the current decision is the latest row of an item."""

    __tablename__ = "triage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    decision: Mapped[str] = mapped_column(String(8))  # pick | skip | later
    category_override: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)

    user: Mapped[User] = relationship()


class RunTally(Base):
    """Crawl runs ever made per source and status, with their new items and errors: kept by
    database triggers on crawl_runs (migration 0010), so /metrics reads a row per source
    instead of counting every run, and the totals never go down when old runs are deleted."""

    __tablename__ = "run_tallies"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    new_items: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)


class ItemTally(Base):
    """Items stored per source, kept by database triggers on items (migration 0010)."""

    __tablename__ = "item_tallies"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    items: Mapped[int] = mapped_column(Integer, default=0)


class TaggingModel(Base):
    """One fit of the learned tagger (desk/tagging/model.py): its examples, compressed JSON.
    Rows are only added; every process uses the newest (desk/tagging/learned.py)."""

    __tablename__ = "tagging_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trained_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    examples: Mapped[int] = mapped_column(Integer)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    version: Mapped[int] = mapped_column(Integer)
