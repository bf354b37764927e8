"""Storing imported report issues, and closing the loop: stored items they cite become `covered`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.urls import canonical_url
from desk import similarity as diff
from desk import verdicts
from desk.issues.report import Reference, Report
from storage.models import NEWS, Item, ReportIssue, ReportReference, ReportStory


def store(session: Session, report: Report) -> tuple[ReportIssue, bool]:
    """Insert or replace the issue of ``report.published``; True when it is new."""
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
        issue.stories.append(_story(position, False, story.section, story.category, story.number, story.headline, story.event_date, story.references))
    for brief in report.briefs:
        position += 1
        # A brief cites its outlet by URL only (its headline is Korean, not a Chinese title).
        refs = ([Reference(title="", url=brief.url, outlet=brief.outlet, date=brief.date)] if brief.url else [])
        refs += [r for r in brief.references if r.url != brief.url]
        issue.stories.append(_story(position, True, "단신동향", None, brief.number, brief.headline, brief.date, refs))
    session.flush()
    return issue, created


def _story(position: int, is_brief: bool, section: str, category: str | None, number: int | None, headline: str,
           event_date: dt.date | None, references: list[Reference]) -> ReportStory:
    story = ReportStory(position=position, is_brief=is_brief, section=section, category=category, number=number,
                        headline=headline, event_date=event_date)
    story.references = [
        ReportReference(title=ref.title, title_key=diff.title_key(ref.title)[:500], url=ref.url,
                        canonical_url=canonical_url(ref.url) if ref.url.startswith("http") else "", outlet=ref.outlet)
        for ref in references
    ]
    return story


def mark_covered(session: Session) -> int:
    """Re-judge stored `new`/`duplicate` items against all imported issues; return how many
    became `covered`."""
    changed = 0
    for item in session.scalars(select(Item).where(Item.status.in_((*NEWS, "duplicate")))):
        verdict = verdicts.covered(session, item)
        if verdict is not None:
            item.status, item.verdict_reason, item.covered_story_id = verdict.status, verdict.reason, verdict.story_id
            changed += 1
    return changed
