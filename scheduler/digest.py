"""The daily digest: new candidates since the last digest, grouped the way the report is."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from common import markup
from scheduler.candidates import Entry, Group, add_outlets, entry_of, group_of, report_order
from scheduler.notify import Message
from storage import queries
from storage.models import NEWS, Delivery, Item, Source

TEMPLATES = Path(__file__).resolve().parent / "templates"
LOOKBACK = timedelta(days=7)  # older undelivered items are history, not news
MAX_ENTRIES = 150  # a digest is read by people: the best-ranked 150; the rest wait in the inbox


@dataclass
class Digest:
    title: str
    groups: dict[Group, list[Entry]]
    covered: int = 0
    broken: list[tuple[str, str]] = field(default_factory=list)  # (source label, why)
    more: int = 0  # candidates beyond MAX_ENTRIES, left for the next digest and the inbox

    @property
    def entries(self) -> list[Entry]:
        return [entry for group in self.groups.values() for entry in group]

    @property
    def item_ids(self) -> list[int]:
        return [entry.item.id for entry in self.entries]


def build(session: Session, now: datetime, tz: ZoneInfo, kind: str = "digest", tag: str = "") -> Digest:
    """The best-ranked news of the last week not yet delivered as ``kind`` to ``tag``."""
    # Per candidate, one probe of the delivery ledger's (item_id, kind, tag) key: NOT IN would
    # read every delivery ever recorded for the kind on each digest.
    undelivered = ~exists().where(Delivery.item_id == Item.id, Delivery.kind == kind, Delivery.tag == tag)
    news = (Item.first_seen_at >= now - LOOKBACK, Item.status.in_(NEWS), undelivered)
    # Whole items (bodies) only for the entries shown; the rest are counted, not loaded.
    rows = session.execute(
        select(Item, Source).join(Source).where(*news)
        .order_by(*queries.ranked(bounded_in_time=True)).limit(MAX_ENTRIES)
    ).all()
    more = max((session.scalar(select(func.count(Item.id)).where(*news)) or 0) - MAX_ENTRIES, 0) if len(rows) == MAX_ENTRIES else 0
    alerted = set(session.scalars(select(Delivery.item_id).where(Delivery.kind == "alert", Delivery.item_id.in_([i.id for i, _ in rows]))))
    groups: dict[Group, list[Entry]] = defaultdict(list)
    for item, source in rows:
        found = entry_of(item, source)
        found.alerted = item.id in alerted
        groups[group_of(item)].append(found)
    add_outlets(session, [e for group in groups.values() for e in group])
    covered = session.scalar(select(func.count(Item.id)).where(Item.first_seen_at >= now - LOOKBACK, Item.status == "covered", undelivered))
    broken = [(s.label or s.name, s.last_error or "") for s in session.scalars(select(Source).where(Source.health == "broken"))]
    local = now.astimezone(tz)
    title = f"중국 과학기술 정책 동향 후보 {local:%Y-%m-%d} — {sum(len(g) for g in groups.values())}건"
    return Digest(title, dict(report_order(groups)), covered or 0, broken, more)


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
