"""The database side of verdicts (see crawler/diff.py for what they mean)."""

from __future__ import annotations

from collections import Counter

import numpy as np
from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from crawler import diff
from storage.models import NEWS, Item, ItemBand, ItemSignature, ReportReference, ReportStory, StoryCluster

CANDIDATES = 50  # band collisions examined per item, at most
PER_BAND = 200  # newest items read from each band


def covered(session: Session, item: Item) -> diff.Verdict | None:
    ref = session.scalar(select(ReportReference).where(ReportReference.canonical_url == item.canonical_url).limit(1))
    if ref is not None:
        return diff.Verdict("covered", f"URL cited in the {_issue_of_story(session, ref.story_id)} issue", ref.story_id)
    cited = reference_keys(session)
    for key in (diff.title_key(item.title), diff.title_key(_lead(item.body))):
        story_id = cited.find(key)
        if story_id is not None:
            return diff.Verdict("covered", f"title matches a story of the {_issue_of_story(session, story_id)} issue", story_id)
    return None


def follow_up(session: Session, item: Item) -> diff.Verdict | None:
    """A heuristic, and marked as one: the item names a document (《…》) that a source of a
    covered story named too — its implementing rules, an interpretation, a next batch."""
    named = diff.documents(item.title)
    cited_documents = _references(session)["documents"] if named else []
    for name, key in named:
        for cited, story_id in cited_documents:
            if diff.same_document(key, cited):
                reason = f"follow-up (heuristic): names 《{name}》, as a story of the {_issue_of_story(session, story_id)} issue did"
                return diff.Verdict("follow_up", reason)
    return None


def duplicate(session: Session, item: Item, minhash: np.ndarray) -> diff.Verdict | None:
    candidates = _band_sharers(session, item, diff.band_keys(minhash))
    best, best_id = 0.0, None
    title = diff.title_key(item.title)
    rows = session.execute(
        select(ItemSignature.item_id, ItemSignature.minhash, Item.title).join(Item, Item.id == ItemSignature.item_id).where(ItemSignature.item_id.in_(candidates))
    )
    for candidate_id, packed, other_title in rows:
        score = diff.similarity(packed, minhash)
        # Notices of one ministry share boilerplate; a reprint keeps the headline as well.
        if score > best and diff.same_headline(title, diff.title_key(other_title)):
            best, best_id = score, candidate_id
    if best_id is None or best < diff.DUPLICATE_AT:
        return None
    return diff.Verdict("duplicate", f"same story as item {best_id} (similarity {best:.2f})", cluster_with=best_id)


def _band_sharers(session: Session, item: Item, bands: list[str]) -> list[int]:
    """The items sharing the most bands with ``item`` — the likeliest duplicates — among the
    newest PER_BAND of each band: reprints follow within days, and a band that thousands of
    boilerplate-only pages share must not be read whole on every insert."""
    newest = [
        select(ItemBand.item_id).where(ItemBand.band == band, ItemBand.item_id != item.id)
        .order_by(ItemBand.id.desc()).limit(PER_BAND).subquery()
        for band in bands
    ]
    shared = Counter(session.scalars(union_all(*(select(sub.c.item_id) for sub in newest))))
    return [item_id for item_id, _ in shared.most_common(CANDIDATES)]


def index(session: Session, item: Item, minhash: np.ndarray) -> None:
    session.add(ItemSignature(item_id=item.id, minhash=diff.pack(minhash)))
    session.add_all(ItemBand(band=band, item_id=item.id) for band in diff.band_keys(minhash))


def apply(session: Session, item: Item, verdict: diff.Verdict) -> None:
    item.status, item.verdict_reason, item.covered_story_id = verdict.status, verdict.reason or None, verdict.story_id
    if verdict.cluster_with is not None:
        _cluster(session, item, session.get(Item, verdict.cluster_with))


def _cluster(session: Session, item: Item, other: Item) -> None:
    """Put ``item`` in ``other``'s story cluster; the most authoritative item is primary."""
    cluster = session.get(StoryCluster, other.cluster_id) if other.cluster_id else None
    if cluster is None:
        cluster = StoryCluster(primary_item_id=other.id)
        session.add(cluster)
        session.flush()
        other.cluster_id = cluster.id
    item.cluster_id = cluster.id
    primary = session.get(Item, cluster.primary_item_id)
    if _rank(item) > _rank(primary):
        cluster.primary_item_id = item.id
        item.status = "covered" if item.covered_story_id else "new"
        item.verdict_reason = f"primary of a story also carried by item {primary.id}"
        if primary.status in NEWS:
            primary.status, primary.verdict_reason = "duplicate", f"same story as item {item.id}, a more authoritative source"


def _rank(item: Item) -> int:
    return diff.AUTHORITY[diff.authority_of(item.url)]


def reference_keys(session: Session) -> diff.TitleIndex:
    """The normalised titles of every cited reference, with their story ids."""
    return _references(session)["keys"]


def _references(session: Session) -> dict:
    """Cited titles (a TitleIndex) and the documents they name; cached until references change."""
    stamp = session.execute(select(func.count(ReportReference.id), func.max(ReportReference.id))).one()
    if _cache.get("stamp") != tuple(stamp):
        rows = session.execute(
            select(ReportReference.title_key, ReportReference.title, ReportReference.story_id).where(ReportReference.title_key != "")
        ).all()
        documents = {key: story for _, title, story in rows for _, key in diff.documents(title)}
        _cache.update(stamp=tuple(stamp), keys=diff.TitleIndex([(key, story) for key, _, story in rows]), documents=list(documents.items()))
    return _cache


_cache: dict = {}


def _lead(body: str) -> str:
    return body.strip().split("\n", 1)[0][:120]


def _issue_of_story(session: Session, story_id: int) -> str:
    story = session.get(ReportStory, story_id)
    return f"{story.issue.published:%Y-%m-%d}" if story else "?"
