"""The daily digest: new candidates since the last digest, grouped the way the report is."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.dates import format_published
from common import markup
from scheduler.notify import Message
from storage.models import NEWS, Delivery, Item, Source

TEMPLATES = Path(__file__).resolve().parent / "templates"
UNSORTED = ("미분류", "분류 전")  # section, category for items the tagger has not seen
SECTION_ORDER = ("특집기사", "정책동향", "기술동향", "단신동향", UNSORTED[0])  # the report's own order
LOOKBACK = timedelta(days=7)  # older undelivered items are history, not news
MAX_ENTRIES = 150  # a digest is read by people: the best-ranked 150; the rest wait in the inbox


@dataclass
class Entry:
    item_id: int
    title: str
    url: str
    source: str
    published: str
    lead: str
    matched: list[str] = field(default_factory=list)
    others: list[str] = field(default_factory=list)  # other outlets of the same story
    score: float = 0.0
    alerted: bool = False  # already sent as an immediate watch-term alert
    follow_up: str = ""  # why it may follow up a covered story (a heuristic), else empty


@dataclass
class Digest:
    title: str
    groups: dict[tuple[str, str], list[Entry]]
    covered: int = 0
    broken: list[tuple[str, str]] = field(default_factory=list)  # (source label, why)
    more: int = 0  # candidates beyond MAX_ENTRIES, left for the next digest and the inbox

    @property
    def entries(self) -> list[Entry]:
        return [entry for group in self.groups.values() for entry in group]

    @property
    def item_ids(self) -> list[int]:
        return [entry.item_id for entry in self.entries]


def build(session: Session, now: datetime, tz: ZoneInfo, kind: str = "digest", tag: str = "") -> Digest:
    delivered = select(Delivery.item_id).where(Delivery.kind == kind, Delivery.tag == tag)
    rows = session.execute(
        select(Item, Source)
        .join(Source)
        .where(Item.first_seen_at >= now - LOOKBACK, Item.status.in_(NEWS), Item.id.not_in(delivered))
        .order_by(Item.score.desc().nulls_last(), Item.published_at.desc().nulls_last(), Item.id)
    ).all()
    more = max(len(rows) - MAX_ENTRIES, 0)
    rows = rows[:MAX_ENTRIES]
    alerted = set(session.scalars(select(Delivery.item_id).where(Delivery.kind == "alert", Delivery.item_id.in_([i.id for i, _ in rows]))))
    groups: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for item, source in rows:
        entry = _entry(item, source, tz)
        entry.alerted = item.id in alerted
        groups[_group_of(item)].append(entry)
    covered = session.scalar(
        select(func.count(Item.id)).where(Item.first_seen_at >= now - LOOKBACK, Item.status == "covered", Item.id.not_in(delivered))
    )
    broken = [(s.label or s.name, s.last_error or "") for s in session.scalars(select(Source).where(Source.health == "broken"))]
    local = now.astimezone(tz)
    title = f"중국 과학기술 정책 동향 후보 {local:%Y-%m-%d} — {sum(len(g) for g in groups.values())}건"
    ordered = sorted(groups.items(), key=lambda pair: (_section_rank(pair[0][0]), pair[0][1]))
    return Digest(title, dict(ordered), covered or 0, broken, more)


def _section_rank(section: str) -> int:
    return SECTION_ORDER.index(section) if section in SECTION_ORDER else len(SECTION_ORDER)


def _group_of(item: Item) -> tuple[str, str]:
    topics = item.topics or {}
    return (topics.get("section") or UNSORTED[0], topics.get("category_label") or topics.get("category") or UNSORTED[1])


def _entry(item: Item, source: Source, tz: ZoneInfo) -> Entry:
    topics = item.topics or {}
    matched = topics.get("matched") or []
    if isinstance(matched, dict):
        matched = sorted({term for terms in matched.values() for term in terms})
    return Entry(
        item_id=item.id,
        title=item.title,
        url=item.url,
        source=source.label or source.name,
        published=format_published(item.published_at, item.published_precision),
        lead=_lead(item.body),
        matched=list(matched)[:8],
        others=list(topics.get("cluster_outlets") or []),
        score=item.score or 0.0,
        follow_up=(item.verdict_reason or "") if item.status == "follow_up" else "",
    )


def _lead(body: str, limit: int = 140) -> str:
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


def _autoescape(name: str | None) -> bool:
    # HTML-escape every template but the plain-text and Markdown ones, which escape for their
    # own format (the `md` filters). select_autoescape(["html"]) was false for "x.html.j2".
    return not (name or "").endswith((".txt.j2", ".md.j2"))


_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=_autoescape, trim_blocks=True, lstrip_blocks=True)
_env.filters.update(http_url=markup.http_url, md=markup.md_text, md_link=markup.md_link)


def render(digest: Digest, tag: str | None = None) -> Message:
    context = {"digest": digest}
    return Message(
        title=digest.title,
        text=_env.get_template("digest.txt.j2").render(context),
        markdown=_env.get_template("digest.md.j2").render(context),
        html=_env.get_template("digest.html.j2").render(context),
        tag=tag,
    )


def render_alert(name: str, title: str, tag: str, **context: object) -> Message:
    """An alert from the macro ``name`` of alerts.{txt,md,html}.j2 — escaped like the digest."""
    def part(kind: str) -> str:
        return str(getattr(_env.get_template(f"alerts.{kind}.j2").module, name)(**context)).strip() + "\n"

    # The title is a mail subject or chat heading: one line, whatever the crawled text held.
    return Message(title=" ".join(title.split()), text=part("txt"), markdown=part("md"), html=part("html"), tag=tag)
