"""The learned model in the database: its examples gathered from imported issues and from the
editors' triage, a fit stored as a row of ``tagging_models``, and the newest row loaded once
per process.

When it is retrained: on ``crawl issues import`` and ``crawl retag``; an editor's triage
marks it stale — the next tagging run that finds a triage row newer than the newest fit
(:func:`current_model` with a ``resolve``: the crawl pipeline, ``crawl tag``) fits again
first, as it does when issues or triage are there but no fit (an archive restored by
``crawl import``: fits do not travel, they are derived). A fit of a few hundred examples takes a fraction of a second; the workspace itself holds no
taxonomy to resolve the report's category names with, so it does not fit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from desk.tagging.cache import PerDatabase
from desk.tagging.model import BODY_CHARS, FORMAT_VERSION, Example, TaggingModel
from desk.tagging.taxonomy import Taxonomy, load_taxonomy
from storage import queries
from storage.models import Item, ReportIssue, ReportReference, ReportStory, Triage
from storage.models import TaggingModel as StoredModel

log = logging.getLogger(__name__)

# Editors' workspace decisions are this team's current habit: they count above history.
OVERRIDE_WEIGHT = 3.0
PICK_WEIGHT = 2.0
# The habit is read from the newest decisions only: a year or two of a team's picks, skips and
# overrides, so the fit (and every process that loads it) stays the same size as the archive grows.
HABIT_WINDOW = 5_000
KEPT_FITS = 5  # older rows are deleted when a new fit is stored

Resolve = Callable[[str], "str | None"]  # a CONTENTS label or id → a category id of topics.yml

_LEAD = func.substr(Item.body, 1, BODY_CHARS)  # all of a stored body the model reads

_models: PerDatabase[TaggingModel | None] = PerDatabase()  # fingerprint: the row's id; None: that row could not be read


def gather_examples(session: Session, resolve: Resolve) -> list[Example]:
    """Every labelled example the database holds: imported stories, then editors' decisions."""
    return issue_examples(session, resolve) + workspace_examples(session, resolve)


def issue_examples(session: Session, resolve: Resolve) -> list[Example]:
    """One example per cited Chinese title of every categorised story (with the stored body of
    the cited article when we have it), and one for its Korean headline and subhead."""
    bodies = _stored_bodies(session)
    examples = []
    query = (select(ReportStory, ReportIssue.published, ReportIssue.structure).join(ReportIssue)
             .where(ReportStory.is_brief.is_(False), ReportStory.category.is_not(None))
             .order_by(ReportIssue.published, ReportStory.position))
    for story, published, structure in session.execute(query):
        category = resolve(story.category or "")
        if category is None:
            continue
        origin = f"issue {published} #{story.number or story.position}: {story.headline}"
        korean = korean_text(story.headline, _subheadline(structure, story.headline))
        cited = [(ref.title, bodies.get(ref.canonical_url, "")) for ref in story.references]
        examples += story_examples(category, korean, cited, origin, group=f"issue {published}")
    return examples


def korean_text(headline: str, subheadline: str | None) -> str:
    """What the model learns of a story's Korean: its headline and its subhead."""
    return " ".join(filter(None, [headline, subheadline]))


def story_examples(category: str, korean: str, cited: list[tuple[str, str]], origin: str, group: str = "") -> list[Example]:
    """The examples one story of the report gives: its Korean headline (and subhead), and each
    distinct cited Chinese title with the cited article's body ("" when not stored); ``group``
    names its issue, which the model holds out as one when it measures itself."""
    examples = [Example(category, ko=korean, origin=origin, group=group)] if korean else []
    seen = set()
    for title, body in cited:
        if title and title not in seen:
            seen.add(title)
            examples.append(Example(category, zh=title, body=body, origin=origin, group=group))
    return examples


def _stored_bodies(session: Session) -> dict[str, str]:
    """Canonical URL → the lead of the stored body (all the model reads), for the items the
    imported issues cite."""
    cited = select(ReportReference.canonical_url).where(ReportReference.canonical_url != "")
    return dict(session.execute(select(Item.canonical_url, _LEAD).where(Item.canonical_url.in_(cited))).all())


def _subheadline(structure: dict | None, headline: str) -> str:
    for story in (structure or {}).get("stories", []):
        if story.get("headline") == headline:
            return story.get("subheadline") or ""
    return ""


def workspace_examples(session: Session, resolve: Resolve, newest: int = HABIT_WINDOW) -> list[Example]:
    """Each of the ``newest`` decided items' current triage: a category override (any
    decision) or a pick of the category it was tagged with. Skips without an override say
    nothing about the category. Only the body's lead is read: the model uses no more."""
    query = (select(Triage.decision, Triage.category_override, Item.id, Item.title, Item.topics["category"].as_string(), _LEAD)
             .join(Item, Item.id == Triage.item_id)
             .where(Triage.id.in_(queries.current_triage_ids(newest))).order_by(Triage.id))
    examples = []
    for decision, override, item_id, title, tagged, lead in session.execute(query):
        if override:
            category, weight, how = resolve(override), OVERRIDE_WEIGHT, "editor's override"
        elif decision == "pick":
            category, weight, how = resolve(tagged or ""), PICK_WEIGHT, "editor's pick"
        else:
            continue
        if category is not None:  # "brief" and retired categories are no category
            examples.append(Example(category, zh=title, body=lead or "", weight=weight, origin=f"{how}, item {item_id}: {title}"))
    return examples


def retrain(session: Session, resolve: Resolve) -> StoredModel:
    """Fit on everything the database holds and store the fit as the newest model."""
    model = TaggingModel.fit(gather_examples(session, resolve))
    row = StoredModel(examples=len(model), payload=model.to_payload(), version=FORMAT_VERSION)
    session.add(row)
    session.flush()
    old = select(StoredModel.id).order_by(StoredModel.id.desc()).offset(KEPT_FITS)
    session.execute(delete(StoredModel).where(StoredModel.id.in_(old.scalar_subquery())), execution_options={"synchronize_session": False})
    _models.put(session, row.id, model)
    return row


def retrain_with_topics(session: Session, topics_file: str | Path) -> StoredModel | None:
    """:func:`retrain`, category names resolved by a topics file (None when there is none):
    for callers that hold no taxonomy, such as the workspace after an editor's triage."""
    path = Path(topics_file)
    if not path.is_file():
        return None
    return retrain(session, load_topics(path).resolve)


def load_topics(topics_file: str | Path) -> Taxonomy:
    """A topics file as a Taxonomy, read again only once the file has changed. Raises
    TaxonomyError as load_taxonomy does."""
    path = Path(topics_file)
    return _taxonomy(str(path), path.stat().st_mtime if path.exists() else 0.0)


@lru_cache(maxsize=2)
def _taxonomy(path: str, mtime: float) -> Taxonomy:
    return load_taxonomy(path)


def current_model(session: Session, resolve: Resolve | None = None) -> TaggingModel | None:
    """The newest stored model (None before the first fit), fitted once per process and row.
    With ``resolve``, a model older than the editors' latest triage is retrained first."""
    newest = session.execute(select(StoredModel.id, StoredModel.trained_at).order_by(StoredModel.id.desc()).limit(1)).first()
    if resolve is not None and _stale(session, newest.trained_at if newest else None):
        row = retrain(session, resolve)
        return _models.get(session, row.id, lambda: _model_of_row(session, row.id))
    if newest is None:
        return None
    return _models.get(session, newest.id, lambda: _model_of_row(session, newest.id))


def _model_of_row(session: Session, row_id: int) -> TaggingModel | None:
    """The model stored in row ``row_id`` (None when it cannot be read)."""
    row = session.get(StoredModel, row_id)
    if row is None:  # deleted since: a newer one is there
        return current_model(session)
    try:
        return TaggingModel.from_payload(row.payload)
    except ValueError as error:  # tag with the rules alone rather than fail every item
        log.warning("tagging model %s unusable, tagging by rules alone until the next fit (crawl retag): %s", row_id, error)
        return None


def _stale(session: Session, trained_at: datetime | None) -> bool:
    """Whether an editor triaged an item after the newest fit; with no fit at all, whether
    there is anything to learn from (an archive restored by `crawl import` brings no fit)."""
    last_triage = session.scalar(select(func.max(Triage.at)))
    if trained_at is None:
        return last_triage is not None or session.scalar(select(ReportStory.id).limit(1)) is not None
    return last_triage is not None and last_triage > trained_at
