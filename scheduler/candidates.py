"""Stored items as the entries editors read: the group an item belongs to, the report's order
of sections, an entry's lead and matched terms, and the other outlets of its story.

The daily digest, the web inbox (and its feeds) and the weekly draft all build on this, so an
item looks the same wherever an editor meets it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.dates import format_published
from storage.models import Item, Source, Triage

UNSORTED_SECTION = "미분류"  # for items the tagger has not seen
UNSORTED_CATEGORY = "분류 전"
BRIEF_SECTION = "단신동향"
SECTION_ORDER = ("특집기사", "정책동향", "기술동향", BRIEF_SECTION, UNSORTED_SECTION)  # the report's own order
BRIEF = "brief"  # category override that moves an item to the briefs (단신동향)
MAX_MATCHED = 8  # matched terms shown per entry: enough to see why it is a candidate

Group = tuple[str, str]  # (section, category label)
T = TypeVar("T")


@dataclass(frozen=True)
class Category:
    """A category of topics.yml, which an editor may move an item to."""

    id: str
    label: str
    section: str


def group_of(item: Item, override: str | None = None, categories: Mapping[str, Category] | None = None) -> Group:
    """(section, category label) of an item: the editor's override if any, else the tagger's."""
    if override == BRIEF:
        return BRIEF_SECTION, "단신"
    if override and categories and override in categories:
        return categories[override].section, categories[override].label
    topics = item.topics or {}
    return (topics.get("section") or UNSORTED_SECTION, topics.get("category_label") or topics.get("category") or UNSORTED_CATEGORY)


def section_rank(section: str) -> int:
    return SECTION_ORDER.index(section) if section in SECTION_ORDER else len(SECTION_ORDER)


def report_order(groups: Mapping[Group, T]) -> list[tuple[Group, T]]:
    """Groups by the report's section order (sections it does not know last, by name), then by
    category label."""
    return sorted(groups.items(), key=lambda pair: (section_rank(pair[0][0]), pair[0][0], pair[0][1]))


def lead(body: str, limit: int = 140) -> str:
    """About two lines: the first paragraph, cut at a sentence end when one is near."""
    paragraphs = [p for p in body.strip().split("\n") if p.strip()]
    # Government notices open with the addressees ("各省、自治区…："): not a lead.
    while len(paragraphs) > 1 and paragraphs[0].rstrip().endswith(("：", ":")):
        paragraphs.pop(0)
    first = paragraphs[0] if paragraphs else ""
    if len(first) <= limit:
        return first
    cut = max(first.rfind(mark, 0, limit) for mark in "。！？；")
    return first[: cut + 1] if cut > limit // 2 else first[:limit] + "…"


def matched_terms(topics: Mapping) -> list[str]:
    """The tagger's matched terms, without its ``source:`` marks (they name the source's
    region, not words of the article)."""
    matched = topics.get("matched") or []
    if isinstance(matched, dict):
        matched = sorted({term for terms in matched.values() for term in terms if not term.startswith("source:")})
    return list(matched)[:MAX_MATCHED]


@dataclass
class Outlet:
    """Another item of the same story, as its entry lists it."""

    item_id: int
    source: str  # the source's label
    title: str
    url: str
    status: str


@dataclass
class Entry:
    item: Item
    source: Source
    published: str
    lead: str
    matched: list[str]
    region: str | None
    watch_hits: list[str]
    triage: Triage | None = None
    others: list[Outlet] = field(default_factory=list)  # the other items of its story
    covered_in: str | None = None  # the date, for covered items
    alerted: bool = False  # already sent as an immediate watch-term alert

    @property
    def source_label(self) -> str:
        return self.source.label or self.source.name

    @property
    def other_outlets(self) -> list[str]:
        """The labels of the other outlets of its story, each once, in the order they ran it."""
        return list(dict.fromkeys(outlet.source for outlet in self.others))

    @property
    def follow_up(self) -> str:
        """Why it may follow up a covered story (a heuristic), else empty."""
        return (self.item.verdict_reason or "") if self.item.status == "follow_up" else ""


def entry_of(item: Item, source: Source, triage: Triage | None = None) -> Entry:
    topics = item.topics or {}
    return Entry(
        item=item,
        source=source,
        published=format_published(item.published_at, item.published_precision),
        lead=lead(item.body or ""),
        matched=matched_terms(topics),
        region=topics.get("region"),
        watch_hits=list(topics.get("watch_hits") or []),
        triage=triage,
    )


def outlets_of(session: Session, items: Iterable[Item]) -> dict[int, list[Outlet]]:
    """Per item id: the other items of its story cluster, read now from the database (so a
    reprint found later shows too), in the order they were first stored."""
    items = list(items)
    clusters = {item.cluster_id for item in items if item.cluster_id}
    if not clusters:
        return {}
    members: dict[int, list[Outlet]] = defaultdict(list)
    rows = session.execute(select(Item, Source).join(Source).where(Item.cluster_id.in_(clusters)).order_by(Item.id))
    for member, source in rows:
        members[member.cluster_id].append(Outlet(member.id, source.label or source.name, member.title, member.url, member.status))
    return {item.id: [o for o in members[item.cluster_id] if o.item_id != item.id] for item in items if item.cluster_id}


def add_outlets(session: Session, entries: list[Entry]) -> None:
    """Fill each entry's ``others``."""
    found = outlets_of(session, [e.item for e in entries])
    for each in entries:
        each.others = found.get(each.item.id, [])
