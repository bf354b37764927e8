"""Storing imported report issues, and closing the loop: stored items they cite become `covered`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import ColumnElement, func, literal, select
from sqlalchemy.orm import Session

from common.urls import canonical_url
from desk import similarity as diff
from desk import verdicts
from desk.issues import lookup
from desk.issues.report import Reference, Report
from storage import search
from storage.db import transaction
from storage.models import NEWS, Item, ReportIssue, ReportReference, ReportStory


def store(session: Session, report: Report, key: Callable[[str], str] = canonical_url) -> tuple[ReportIssue, bool]:
    """Insert or replace the issue of ``report.published``; True when it is new. ``key`` gives a
    cited URL the canonical URL its item would be stored under (the crawler's, with the watching
    source's alias hosts folded: ``crawler.coverage.stored_key``)."""
    issue = session.scalar(select(ReportIssue).where(ReportIssue.published == report.published))
    created = issue is None
    if issue is None:
        issue = ReportIssue(published=report.published)
        session.add(issue)
    issue.title, issue.source_file, issue.unplaced = report.title, report.source_file, list(report.unplaced)
    issue.structure = json.loads(json.dumps(dataclasses.asdict(report), default=str, ensure_ascii=False))
    issue.stories.clear()  # re-import: the issue is replaced, never duplicated
    session.flush()
    position = 0
    for story in report.stories:
        position += 1
        issue.stories.append(_story(position, False, story.section, story.category, story.number, story.headline, story.event_date, story.references, key))
    for brief in report.briefs:
        position += 1
        # A brief cites its outlet by URL only (its headline is Korean, not a Chinese title).
        refs = ([Reference(title="", url=brief.url, outlet=brief.outlet, date=brief.date)] if brief.url else [])
        refs += [r for r in brief.references if r.url != brief.url]
        issue.stories.append(_story(position, True, "단신동향", None, brief.number, brief.headline, brief.date, refs, key))
    session.flush()
    return issue, created


def _story(position: int, is_brief: bool, section: str, category: str | None, number: int | None, headline: str,
           event_date: dt.date | None, references: list[Reference], key: Callable[[str], str]) -> ReportStory:
    story = ReportStory(position=position, is_brief=is_brief, section=section, category=category, number=number,
                        headline=headline, event_date=event_date)
    story.references = [
        ReportReference(title=ref.title, title_key=diff.title_key(ref.title)[:500], url=ref.url,
                        canonical_url=key(ref.url) if ref.url.startswith("http") else "", outlet=ref.outlet)
        for ref in references
    ]
    return story


log = logging.getLogger(__name__)
BATCH = 500  # rows per read or write transaction: each holds SQLite's lock for milliseconds
LEAD_WINDOW = 400  # body characters read to find the lead; a longer search reads the whole body
LOOKUPS_AT_ONCE = 4  # cited titles looked up in the index side by side (threads, a session each)


def mark_covered(url: str, issue_id: int, batch: int = BATCH) -> int:
    """Re-judge the stored `new`/`follow_up`/`duplicate` items that issue ``issue_id`` may cover;
    return how many became `covered`. Call it after the issue is committed.

    Only this issue can change a verdict: every other item was judged against the issues
    before it when it was stored, or when they were imported. So the candidates are the items
    at a URL the issue cites (the unique canonical-URL index) and those whose title or lead
    matches one of its cited titles: the search index names the items holding enough of each
    title's trigrams (desk.issues.lookup says how many, and which matches that misses), and a
    TitleIndex of this issue's titles confirms each by the title or the lead it was named by;
    ``desk.verdicts.covered`` decides each, as for a new item. The work follows the issue, not
    the archive, except where no index serves the lookup: then every judged item is read. Reads
    and writes go in batches of short transactions, so a crawl storing meanwhile never waits
    long for the lock.
    """
    with transaction(url) as session:
        urls, titles = _citations(session, issue_id)
    candidates = set(_cited_by_url(url, urls, batch)) | set(_cited_by_title(url, titles, batch))
    changed, ordered = 0, sorted(candidates)
    for start in range(0, len(ordered), batch):
        with transaction(url) as session:
            changed += _rejudge(session, ordered[start:start + batch])
    return changed


def _citations(session: Session, issue_id: int) -> tuple[list[str], dict[str, str]]:
    """The canonical URLs the issue's references cite, and their titles by title key."""
    rows = session.execute(
        select(ReportReference.canonical_url, ReportReference.title_key, ReportReference.title)
        .join(ReportStory, ReportStory.id == ReportReference.story_id).where(ReportStory.issue_id == issue_id)
    ).all()
    return sorted({u for u, _, _ in rows if u}), {k: title for _, k, title in sorted(rows, key=lambda row: row[1]) if k}


_JUDGED = (*NEWS, "duplicate")  # the verdicts an issue can still turn into `covered`


def _cited_by_url(url: str, urls: list[str], batch: int) -> list[int]:
    found: list[int] = []
    for start in range(0, len(urls), batch):
        with transaction(url) as session:
            found += session.scalars(select(Item.id).where(Item.canonical_url.in_(urls[start:start + batch]), Item.status.in_(_JUDGED)))
    return found


def _cited_by_title(url: str, titles: dict[str, str], batch: int) -> list[int]:
    """Items whose title or lead matches a cited title: those the search index names, confirmed."""
    if not titles:
        return []
    index = diff.TitleIndex([(key, 0) for key in titles])
    # The titles are looked up side by side: each lookup is read-only and mostly the database's
    # time, so while one waits for its rows another's query runs on the other core (PostgreSQL,
    # 10⁶ items, idle machine: 14.7 s one after the other, 11.0 s four at a time; two 12.5 s,
    # eight 11.8 s). Confirming each lookup's items as it returns gained nothing: both cores are busy.
    with ThreadPoolExecutor(LOOKUPS_AT_ONCE) as pool:
        named = list(pool.map(functools.partial(_named_by_title, url, search.Counted()), titles.items()))
    unserved = [title for title, found in zip(titles.values(), named) if found is None]
    if unserved:  # no index, or a title without three letters in a row
        log.info("issue import: no index serves the cited title %r; reading every judged item", unserved[0])
        return _matching_all(url, index, batch)
    # Each item is compared on the side the index named it by: a title that matches holds enough
    # of the cited title's trigrams to be named by its title, a lead by its lead (desk.issues.lookup).
    by_title = _confirmed(url, index, set().union(*(found.in_title for found in named)), batch, read_lead=False)
    by_lead = set().union(*(found.in_lead for found in named)) - set(by_title)
    return by_title + _confirmed(url, index, by_lead, batch, read_title=False)


def _confirmed(url: str, index: diff.TitleIndex, named: set[int], batch: int, read_title: bool = True, read_lead: bool = True) -> list[int]:
    """``_matching`` over the ``named`` items, a batch per transaction."""
    ordered, confirmed = sorted(named), []
    for start in range(0, len(ordered), batch):
        with transaction(url) as session:
            confirmed += _matching(session, index, Item.id.in_(ordered[start:start + batch]), read_title, read_lead)
    return confirmed


def _named_by_title(url: str, counted: search.Counted, cited: tuple[str, str]) -> search.Holders | None:
    """The items the search index names for one cited title (key, title); None when no index
    serves it. ``counted``: the trigrams' counts, shared by the issue's lookups."""
    key, title = cited
    groups, in_title, in_lead = lookup.asked(title, len(key))
    if not groups:
        return None
    with transaction(url) as session:
        return search.sharing_trigrams(session, groups, in_title, in_lead, counted=counted, lead_letters=lookup.most_lead_letters(len(key)))


def _matching_all(url: str, index: diff.TitleIndex, batch: int) -> list[int]:
    """``_matching`` over every item, a batch per transaction — linear in the archive."""
    found, last = [], 0
    while True:
        with transaction(url) as session:
            ids = session.scalars(select(Item.id).where(Item.id > last).order_by(Item.id).limit(batch)).all()
            if ids:
                found += _matching(session, index, Item.id.between(ids[0], ids[-1]))
        if len(ids) < batch:
            return found
        last = ids[-1]


def _matching(session: Session, index: diff.TitleIndex, which: ColumnElement[bool], read_title: bool = True, read_lead: bool = True) -> list[int]:
    """The judged items among ``which`` whose title (``read_title``) or lead (``read_lead``)
    matches a title of ``index``. Only the title and the start of the body are read, and a
    lookup costs microseconds."""
    found, longest = [], lookup.most_lead_letters(index.lengths[-1]) if len(index) else 0
    title_of = Item.title if read_title else literal(None)
    start_of = func.substr(Item.body, 1, LEAD_WINDOW) if read_lead else literal(None)
    # The status is checked here, not in SQL: a planner given it may read the status index
    # and sort, for every batch — quadratic in the archive.
    for item_id, status, title, start in session.execute(select(Item.id, Item.status, title_of, start_of).where(which)):
        if status not in _JUDGED:
            continue
        if (read_title and _names(index, title)) or (read_lead and _names_as_lead(index, _lead_of(session, item_id, start or ""), longest)):
            found.append(item_id)
    return found


def _names(index: diff.TitleIndex, text: str | None) -> bool:
    return index.find(diff.title_key(text)) is not None


def _names_as_lead(index: diff.TitleIndex, lead: str, longest: int) -> bool:
    """``_names`` for a lead: one whose first line is longer than any cited title could match
    (``longest`` letters) is not keyed at all — most leads are, and keying costs far more."""
    return lookup.headline_letters(lead) <= longest and _names(index, lead)


def _lead_of(session: Session, item_id: int, start: str) -> str:
    """``verdicts.lead`` of the body that begins with ``start``: the whole body is read only when
    the lead may run past it (long leading blanks, no line break in reach)."""
    stripped = start.lstrip()
    if len(start) < LEAD_WINDOW or "\n" in stripped[:verdicts.LEAD_CHARS + 1] or len(stripped) > verdicts.LEAD_CHARS:
        return verdicts.lead(start)
    return verdicts.lead(session.scalar(select(Item.body).where(Item.id == item_id)) or "")


def _rejudge(session: Session, item_ids: list[int]) -> int:
    """Judge first, change after: the reads take no lock, and the writes are flushed together
    at commit, so the write lock is held for milliseconds, not for the judging."""
    judged = [(item, verdicts.covered(session, item))
              for item in session.scalars(select(Item).where(Item.id.in_(item_ids), Item.status.in_(_JUDGED))).all()]
    changed = [(item, verdict) for item, verdict in judged if verdict is not None]
    for item, verdict in changed:
        item.status, item.verdict_reason, item.covered_story_id = verdict.status, verdict.reason, verdict.story_id
    return len(changed)
