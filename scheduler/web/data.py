"""What the workspace pages show, as plain data: the inbox, one item, the weekly draft, source health.

Everything here takes an open session and works the same on SQLite and PostgreSQL: filters on
the tagger's JSON (category, region) and on triage decisions are applied in Python over a
bounded candidate set (ids and tags only; whole items are read for the page shown), and
search is served by storage.search (trigram indexes, which suit Chinese and Korean text).
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from markupsafe import Markup
from sqlalchemy import case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased, joinedload

from common.dates import CHINA, format_published
from scheduler.candidates import (
    BRIEF, BRIEF_SECTION, Category, Entry, Group, Outlet, add_outlets, entry_of, group_of, outlets_of, report_order,
)
from storage import queries
from storage.models import NEWS, CrawlRun, Item, ReportIssue, ReportStory, Source, Triage, User
from storage.search import matching, snippets

DECISIONS = ("pick", "skip", "later")
DECISION_LABELS = {"pick": "채택", "skip": "제외", "later": "보류"}
NOTE_LIMIT = 2000
PERIODS = {"today": None, "week": timedelta(days=7), "month": timedelta(days=30), "all": None}
STATUSES = ("new", "follow_up", "covered", "duplicate", "all")
TRIAGE_FILTERS = ("", "untriaged", "pick", "skip", "later")
MAX_CANDIDATES = 2000  # rows read before the Python-side filters; the inbox is a week, not the archive
# Matches ranked for a search: the newest 500 (ten pages). A common term matches a third of the
# archive; reading and ranking 2,000 of them was most of a search's time (storage.search.matching).
SEARCH_CANDIDATES = 500
PAGE_SIZE = 50  # entries a page of the inbox shows: a screen or two of HTML, not the week


# -- taxonomy (topics.yml) ---------------------------------------------------------------
def categories(topics_file: Path) -> list[Category]:
    """The report's categories and fields, in topics.yml order, for filters and overrides."""
    try:
        stamp = topics_file.stat().st_mtime
    except OSError:
        return []
    return _categories(str(topics_file), stamp)


@lru_cache(maxsize=4)
def _categories(path: str, _stamp: float) -> list[Category]:
    from desk.tagging import TaxonomyError, load_taxonomy

    try:
        taxonomy = load_taxonomy(path)
    except (TaxonomyError, OSError):
        return []
    return [Category(key, cat.label, cat.section) for key, cat in taxonomy.categories.items()]


# -- triage ------------------------------------------------------------------------------
def current_triage(session: Session, item_ids: list[int] | None = None) -> dict[int, Triage]:
    """The latest triage row per item (all items, or these)."""
    latest = queries.current_triage_ids()
    if item_ids is not None:
        if not item_ids:
            return {}
        latest = latest.where(Triage.item_id.in_(item_ids))
    rows = session.scalars(select(Triage).where(Triage.id.in_(latest)))
    return {row.item_id: row for row in rows}


def history(session: Session, item_id: int) -> list[Triage]:
    return list(session.scalars(select(Triage).where(Triage.item_id == item_id).order_by(Triage.id.desc())))


class Invalid(ValueError):
    """Bad triage input; the message is shown to the editor."""


def record_triage(session: Session, item: Item, user: User, data: dict, cats: dict[str, Category]) -> Triage:
    """Validate and store one action. Missing fields keep the item's current values."""
    refuse_nul((k, v) for k, v in data.items() if v is not None)  # JSON bodies skip the request-wide check
    current = current_triage(session, [item.id]).get(item.id)
    decision = (data.get("decision") or "").strip() or (current.decision if current else "")
    if decision not in DECISIONS:
        raise Invalid("decision must be one of pick, skip, later")
    override = data.get("category_override")
    override = (current.category_override if current else None) if override is None else (override.strip() or None)
    if override is not None and override != BRIEF and override not in cats:
        raise Invalid(f"unknown category {override[:64]!r}")
    note = data.get("note")
    note = (current.note if current else None) if note is None else (note.strip() or None)
    if note is not None and len(note) > NOTE_LIMIT:
        raise Invalid(f"the note is {len(note):,} characters long; at most {NOTE_LIMIT:,} are allowed")
    row = Triage(item_id=item.id, decision=decision, category_override=override, note=note, user_id=user.id)
    session.add(row)
    session.flush()
    return row


# -- inbox -------------------------------------------------------------------------------
@dataclass
class Filters:
    period: str = "week"
    status: str = "new"
    source: str = ""
    category: str = ""
    region: str = ""
    triage: str = ""
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""

    @classmethod
    def parse(cls, args: dict) -> Filters:
        """From query arguments; unknown values fall back to the defaults instead of failing,
        but a date outside FIRST_YEAR..LAST_YEAR raises OutOfRange (the caller answers 400)."""
        period = args.get("period", "week")
        status = args.get("status", "new")
        triage = args.get("triage", "")
        return cls(
            period=period if period in PERIODS else "week",
            status=status if status in STATUSES else "new",
            source=(args.get("source") or "")[:64],
            category=(args.get("category") or "")[:64],
            region=(args.get("region") or "")[:64],
            triage=triage if triage in TRIAGE_FILTERS else "",
            date_from=_day(args.get("from")),
            date_to=_day(args.get("to")),
            q=" ".join((args.get("q") or "").split())[:200],
        )

    @property
    def narrowed(self) -> bool:
        """Whether anything beyond the default view is asked for."""
        return self != Filters(period=self.period)


# Dates the archive can hold; outside them a filter or week is refused (400), not a 500 from
# date arithmetic at year 9999.
FIRST_YEAR, LAST_YEAR = 1949, 2099


class OutOfRange(Invalid):
    """A date or week outside FIRST_YEAR..LAST_YEAR."""


def _day(value: str | None) -> date | None:
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise OutOfRange(f"the date {day.isoformat()} is outside {FIRST_YEAR}–{LAST_YEAR}")
    return day


def refuse_nul(pairs: Iterable[tuple[str, object]]) -> None:
    """Raise Invalid when a request value holds NUL: PostgreSQL refuses it in any text, so it
    would fail as a 500 deep in a query instead of as the caller's mistake."""
    for key, value in pairs:
        if "\x00" in key or "\x00" in str(value):
            raise Invalid(f"the parameter {key[:32]!r} contains a NUL character")


@dataclass
class Inbox:
    groups: list[tuple[str, str, list[Entry]]]
    total: int  # entries that pass the filters, on every page
    sources: list[tuple[str, str]]
    regions: list[str]
    truncated: bool = False
    page: int = 1
    pages: int = 1
    snippets: dict[int, Markup] = field(default_factory=dict)  # per item id, when searching


def inbox(session: Session, filters: Filters, now: datetime, tz: ZoneInfo, cats: list[Category], page: int | None = None) -> Inbox:
    """The candidates that pass ``filters``, best first, grouped like the report: one page of
    PAGE_SIZE (``page`` from 1; past the last is the last), or all of them for None."""
    by_id = {c.id: c for c in cats}
    rows = session.execute(_inbox_query(session, filters, now, tz)).all()
    cap = SEARCH_CANDIDATES if filters.q else MAX_CANDIDATES
    truncated = len(rows) > cap
    rows = rows[:cap]
    # Decisions filter (triage, and category through an override) or are only shown.
    decided = bool(filters.triage or filters.category)
    decisions = current_triage(session, [row.id for row in rows]) if decided else {}
    kept = [row.id for row in rows if _kept(filters, row.topics, decisions.get(row.id))]
    pages = max(1, -(-len(kept) // PAGE_SIZE))
    shown = kept
    if page is not None:
        page = min(max(page, 1), pages)
        shown = kept[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    if not decided:
        decisions = current_triage(session, shown)
    loaded = {item.id: (item, source) for item, source in session.execute(select(Item, Source).join(Source).where(Item.id.in_(shown)))} if shown else {}
    grouped: dict[Group, list[Entry]] = defaultdict(list)
    for item, source in (loaded[item_id] for item_id in shown if item_id in loaded):
        decision = decisions.get(item.id)
        grouped[group_of(item, decision.category_override if decision else None, by_id)].append(entry_of(item, source, decision))
    entries = [e for group in grouped.values() for e in group]
    add_outlets(session, entries)
    issued = covered_in(session, [e.item for e in entries])
    for each in entries:
        each.covered_in = issued.get(each.item.id)
    sources = [(s.name, s.label or s.name) for s in session.scalars(select(Source).order_by(Source.name))]
    regions = {(row.topics or {}).get("region") for row in rows} - {None, ""}
    groups = [(section, category, group) for (section, category), group in report_order(grouped)]
    found = snippets(filters.q, [e.item for e in entries])
    return Inbox(groups, len(kept), sources, sorted(regions), truncated, page or 1, pages, found)


def _inbox_query(session: Session, filters: Filters, now: datetime, tz: ZoneInfo):  # type: ignore[no-untyped-def]
    """The ids and tags of at most MAX_CANDIDATES + 1 candidates (SEARCH_CANDIDATES + 1 when
    searching), after the filters SQL can apply, best first (best match first when searching)."""
    # No join with sources: a search joined a source row to every match before its LIMIT (4,779
    # at 10⁶, a sixth of the query); the source filter looks up the one id it names.
    query = select(Item.id, Item.topics)
    if filters.status == "new":  # what editors mean by new: follow-ups included
        query = query.where(queries.status_in(session, NEWS, searching=bool(filters.q)))
    elif filters.status != "all":
        query = query.where(queries.status_in(session, [filters.status], searching=bool(filters.q)))
    if filters.period == "today":
        midnight = datetime.combine(now.astimezone(tz).date(), time(0), tz)
        query = query.where(Item.first_seen_at >= midnight)
    elif PERIODS.get(filters.period):
        query = query.where(Item.first_seen_at >= now - PERIODS[filters.period])
    if filters.source:
        query = query.where(Item.source_id == select(Source.id).where(Source.name == filters.source).scalar_subquery())
    # Publication days are China days, as shown (common.dates.format_published).
    if filters.date_from:
        query = query.where(Item.published_at >= datetime.combine(filters.date_from, time(0), CHINA))
    if filters.date_to:
        query = query.where(Item.published_at < datetime.combine(filters.date_to + timedelta(days=1), time(0), CHINA))
    if filters.q:
        return matching(query, session, filters.q, SEARCH_CANDIDATES + 1)
    since = filters.period == "today" or PERIODS.get(filters.period) or filters.date_from  # a lower time bound: few rows
    return query.order_by(*queries.ranked(bounded_in_time=bool(since))).limit(MAX_CANDIDATES + 1)


def _kept(filters: Filters, topics: dict | None, decision: Triage | None) -> bool:
    """The filters on the tagger's JSON and on triage, which are applied here, not in SQL."""
    topics = topics or {}
    override = decision.category_override if decision else None
    if filters.category and filters.category not in (override, topics.get("category"), topics.get("category_label")):
        return False
    if filters.category == BRIEF and override != BRIEF:
        return False
    if filters.region and filters.region not in (topics.get("region"), topics.get("province"), *(topics.get("regions") or [])):
        return False
    if filters.triage == "untriaged":
        return decision is None
    if filters.triage in DECISIONS:
        return decision is not None and decision.decision == filters.triage
    return True


def covered_in(session: Session, items: list[Item]) -> dict[int, str]:
    """Per covered item id: the date of the issue that cited it."""
    stories = {item.covered_story_id for item in items if item.covered_story_id}
    if not stories:
        return {}
    issued = dict(session.execute(select(ReportStory.id, ReportIssue.published).join(ReportIssue).where(ReportStory.id.in_(stories))).all())
    return {item.id: f"{issued[item.covered_story_id]:%Y-%m-%d}" for item in items if item.covered_story_id in issued}


# Workspace times (first seen, triage, runs) carry their zone's name, e.g. "KST"; publication
# times are China time with "CST" (common.dates.format_published).
LOCAL_FORMAT = "%Y-%m-%d %H:%M %Z"


def local(value: datetime | None, tz: ZoneInfo, fmt: str = LOCAL_FORMAT) -> str:
    return value.astimezone(tz).strftime(fmt) if value else "—"


# -- one item ----------------------------------------------------------------------------
@dataclass
class ItemView:
    item: Item
    source: Source
    cluster: list[Outlet]
    covered_in: str | None
    run: CrawlRun | None
    triage: Triage | None
    history: list[Triage]

    @property
    def published(self) -> str:
        return format_published(self.item.published_at, self.item.published_precision)


def item_view(session: Session, item: Item) -> ItemView:
    run = session.scalar(
        select(CrawlRun).where(CrawlRun.source_id == item.source_id, CrawlRun.started_at <= item.first_seen_at)
        .order_by(CrawlRun.started_at.desc()).limit(1)
    )
    rows = history(session, item.id)
    others = outlets_of(session, [item]).get(item.id, [])
    return ItemView(item, item.source, others, covered_in(session, [item]).get(item.id), run, rows[0] if rows else None, rows)


# -- the weekly draft --------------------------------------------------------------------
@dataclass
class Reference:
    title: str
    url: str


@dataclass
class Story:
    number: int
    item_id: int
    section: str
    category: str
    headline: str
    day: str  # MM.DD of publication
    outlet: str
    url: str
    note: str | None
    references: list[Reference]


@dataclass
class Draft:
    week: str  # 2026-W03
    start: date
    end: date  # inclusive (Sunday)
    sections: list[tuple[str, list[tuple[str, list[Story]]]]]  # section → [(category, stories)]
    briefs: list[Story]

    @property
    def stories(self) -> list[Story]:
        return [s for _, cats in self.sections for _, stories in cats for s in stories]

    @property
    def empty(self) -> bool:
        return not self.stories and not self.briefs


WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def week_of(value: str | None, now: datetime, tz: ZoneInfo) -> tuple[str, date]:
    """An ISO week (``2026-W03``) and its Monday; the current week when ``value`` is empty.
    Raises ValueError for anything else."""
    if not value:
        today = now.astimezone(tz).date()
        monday = today - timedelta(days=today.weekday())
    else:
        match = WEEK.match(value)
        if not match:
            raise ValueError(f"{value[:20]!r} is not a week like 2026-W03")
        if not FIRST_YEAR <= int(match.group(1)) <= LAST_YEAR:
            raise OutOfRange(f"the week {value} is outside {FIRST_YEAR}–{LAST_YEAR}")
        monday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    year, number, _ = monday.isocalendar()
    return f"{year}-W{number:02d}", monday


def outlet_name(source: Source) -> str:
    """The Korean name inside a label like ``国家发展改革委 (국가발전개혁위원회)``, else the label."""
    label = source.label or source.name
    inner = re.search(r"\(([^()]*[가-힣][^()]*)\)\s*$", label)
    return inner.group(1).strip() if inner else label


def draft(session: Session, week: str, monday: date, tz: ZoneInfo, cats: list[Category]) -> Draft:
    """The stories picked during the week (by the latest decision's time), in the report's order."""
    by_id = {c.id: c for c in cats}
    start = datetime.combine(monday, time(0), tz)
    end = start + timedelta(days=7)
    picked = week_picks(session, start, end)
    # Each story names its outlet: the sources come in the same statement, not one lazy load per source.
    chosen = select(Item).options(joinedload(Item.source)).where(Item.id.in_([t.item_id for t in picked]))
    items = {i.id: i for i in session.scalars(chosen)} if picked else {}
    others = outlets_of(session, items.values())
    grouped: dict[Group, list[tuple[Item, Triage]]] = defaultdict(list)
    briefs: list[tuple[Item, Triage]] = []
    for decision in picked:
        item = items.get(decision.item_id)
        if item is None:
            continue
        group = group_of(item, decision.category_override, by_id)
        (briefs if group[0] == BRIEF_SECTION else grouped[group]).append((item, decision))
    numbers = itertools.count(1)  # stories are numbered through the sections, briefs on their own
    sections: dict[str, list[tuple[str, list[Story]]]] = {}
    for (section, category), pairs in report_order(grouped):
        stories = [_story(next(numbers), section, category, item, decision, others.get(item.id, [])) for item, decision in pairs]
        sections.setdefault(section, []).append((category, stories))
    built_briefs = [_story(n, BRIEF_SECTION, "", item, decision, others.get(item.id, [])) for n, (item, decision) in enumerate(briefs, 1)]
    return Draft(week, monday, monday + timedelta(days=6), list(sections.items()), built_briefs)


def week_picks(session: Session, start: datetime, end: datetime) -> list[Triage]:
    """The items whose latest decision is a pick made in [start, end), oldest first: read
    through the index on the decision's time, not from every decision ever made."""
    pick = aliased(Triage, name="pick")
    superseded = exists(select(Triage.id).where(Triage.item_id == pick.item_id, Triage.id > pick.id))
    return list(session.scalars(
        select(pick).where(pick.at >= start, pick.at < end, pick.decision == "pick", ~superseded).order_by(pick.at, pick.id)
    ))


def _story(number: int, section: str, category: str, item: Item, decision: Triage, others: list[Outlet]) -> Story:
    refs = [Reference(item.title, item.url)]
    for other in others:
        if other.url not in {r.url for r in refs}:
            refs.append(Reference(other.title, other.url))
    when = item.published_at or item.first_seen_at
    # The day the page states (China time), as the report cites it.
    return Story(number, item.id, section, category, item.title, when.astimezone(CHINA).strftime("%m.%d"), outlet_name(item.source),
                 item.url, decision.note, refs)


# -- sources -----------------------------------------------------------------------------
HEALTH_RANK = {"broken": 0, "degraded": 1}  # what needs a repair comes first on the board


def last_successes(session: Session) -> dict[int, datetime]:
    """Per source id: when its last *successful* run finished — one that read its lists
    (ok, or partial with some errors) and was not judged broken. A run that ends "ok" on an
    anti-bot page or an empty list is broken, not a success."""
    succeeded = (CrawlRun.status.in_(("ok", "partial")), or_(CrawlRun.health.is_(None), CrawlRun.health != "broken"))
    # Per source, its newest runs backwards on ix_crawl_runs_source_finished until a success:
    # a few index entries each, where grouping would read every run ever made.
    last = (select(CrawlRun.finished_at).where(CrawlRun.source_id == Source.id, CrawlRun.finished_at.is_not(None), *succeeded)
            .order_by(CrawlRun.finished_at.desc()).limit(1).scalar_subquery())
    return {source_id: finished for source_id, finished in session.execute(select(Source.id, last)) if finished is not None}


def board_order(rows: list[dict]) -> list[dict]:
    """Broken sources first, then degraded ones, then the rest; by name within each."""
    return sorted(rows, key=lambda row: (HEALTH_RANK.get(row["health"], len(HEALTH_RANK)), row["name"]))


def items_per_day(session: Session, now: datetime, tz: ZoneInfo, days: int = 30, source_id: int | None = None) -> dict[int, list[int]]:
    """Per source id (or only ``source_id``): how many items were first seen on each of the last
    ``days`` local days. One statement over the month's range of the first_seen_at index, each
    row given its day by comparison with the local midnights (exact across daylight-saving
    changes, the same on SQLite and PostgreSQL) and counted per source and day by the database:
    a statement per day was 30 round trips, a quarter of the Sources page at 10⁵ items."""
    first = now.astimezone(tz).date() - timedelta(days=days - 1)
    midnights = [datetime.combine(first + timedelta(days=n), time(0), tz) for n in range(days + 1)]
    day = case(*((Item.first_seen_at < midnight, index) for index, midnight in enumerate(midnights[1:-1])), else_=days - 1)
    dated = select(Item.source_id, day.label("day")).where(Item.first_seen_at >= midnights[0], Item.first_seen_at < midnights[-1])
    if source_id is not None:
        dated = dated.where(Item.source_id == source_id)
    rows = dated.subquery()  # grouped outside: PostgreSQL sees the CASE's parameters apart in GROUP BY
    counts: dict[int, list[int]] = defaultdict(lambda: [0] * days)
    for source, index, count in session.execute(select(rows.c.source_id, rows.c.day, func.count()).group_by(rows.c.source_id, rows.c.day)):
        counts[source][index] = count
    return counts


def sparkline(counts: list[int], width: int = 120, height: int = 24) -> str:
    """An inline SVG polyline (numbers only: nothing from the database reaches the markup)."""
    if not counts:
        return ""
    top = max(counts) or 1
    step = width / max(len(counts) - 1, 1)
    points = " ".join(f"{i * step:.1f},{height - 2 - (c / top) * (height - 4):.1f}" for i, c in enumerate(counts))
    return (
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="items per day, last {len(counts)} days: {sum(counts)} in all">'
        f'<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{points}"/></svg>'
    )


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
