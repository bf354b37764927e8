"""Tagging in bulk, for `crawl tag --jsonl` and `crawl retag`: many records or every stored
item through one tagger (desk.tagging.Tagger, built by the caller from watchlists/topics.yml)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from desk.tagging import Tagger
from desk.tagging.model import TaggingModel
from desk.tagging.picks import PickSignal
from storage import queries


def tag_records(tagger: Tagger, lines: Iterable[str], model: TaggingModel | None = None, picks: PickSignal | None = None) -> Iterator[dict[str, Any]]:
    """One tag result per JSON line (keys title, body, source, url); blank lines are skipped."""
    for line in lines:
        if line.strip():
            record = json.loads(line)
            result = tagger.tag(record.get("title", ""), record.get("body", ""), source=record.get("source"), url=record.get("url"), model=model, picks=picks)
            yield result.to_dict()


@dataclass(frozen=True)
class Retagged:
    total: int
    changed_category: int


def retag_stored(
    session: Session, tagger: Tagger, source: str | None = None, model: TaggingModel | None = None, picks: PickSignal | None = None,
) -> Retagged:
    """Tag every stored item again (only ``source``'s when given) and store topics and score;
    ``model`` is the learned model to join the rules (desk/tagging/learned.py), ``picks`` the
    editors' past choices to join the score (desk/tagging/picks.py)."""
    changed = total = 0
    for item, name in queries.items_with_source(session, source):
        result = tagger.tag(item.title, item.body, source=name, url=item.url, published_at=item.published_at, model=model, picks=picks)
        total += 1
        if (item.topics or {}).get("category") != result.category:
            changed += 1
        item.topics, item.score = result.to_dict(), result.score
    return Retagged(total, changed)


def rescore_recent(session: Session, tagger: Tagger, picks: PickSignal, since: datetime) -> int:
    """Weigh the candidates first seen since ``since`` again with the editors' choices as they
    are now (``picks``), without tagging them again: their category and the other parts of
    their score stay as stored (see :meth:`Tagger.rescored`). Returns how many scores moved."""
    moved = 0
    for item in queries.candidates_since(session, since):
        topics = item.topics or {}
        if "score_parts" not in topics:
            continue
        score, parts = tagger.rescored(topics["score_parts"], picks.parts(item.url, topics.get("category")))
        if score != item.score:
            item.topics, item.score = {**topics, "score": score, "score_parts": parts}, score
            moved += 1
    return moved
