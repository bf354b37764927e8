"""Verdicts: is a newly stored item news, or something editors have already seen?

- ``covered``: the report already ran the story — the item's URL is one a past issue cites,
  or its title (or lead) matches a cited Chinese title once width, punctuation, brackets and
  traditional characters are normalised away.
- ``duplicate``: the same story as an item stored from another outlet. Near-duplicates are
  found with MinHash over character shingles of title + body and an LSH band index kept in
  the database, so each new item looks up a handful of candidates however large the archive.
  Items of one story share a cluster whose primary item is the most authoritative source
  (the issuing government body over media over aggregators: ``relevance.authority`` in
  topics.yml, the table the tagger's relevance score reads too).
- ``new``: none of the above. (``seen`` never reaches storage: the unique canonical URL
  already refuses a second row.)

Precision over recall: a false ``duplicate`` hides a story from editors, so a candidate must
be confirmed by its estimated Jaccard similarity, not merely share a band.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from sqlalchemy import CompoundSelect, bindparam, func, select, union_all
from sqlalchemy.orm import Session

from desk import similarity
from desk.tagging import Authority
from storage.models import NEWS, Item, ItemBand, ItemSignature, ReportReference, ReportStory, StoryCluster


@dataclass
class Verdict:
    status: str  # new | follow_up | covered | duplicate
    reason: str = ""
    story_id: int | None = None  # the report story that covered it
    cluster_with: int | None = None  # an item of the same story


def judge(session: Session, item: Item, authority: Authority) -> Verdict:
    """Decide and store the verdict of a just-inserted item (in the caller's transaction);
    ``authority`` (the taxonomy's) decides which item of a story is its primary."""
    minhash = similarity.signature(item.title, item.body)
    verdict = (
        covered(session, item) or duplicate(session, item, minhash)
        or follow_up(session, item) or Verdict("new")
    )
    index(session, item, minhash)
    apply(session, item, verdict, authority)
    return verdict


CANDIDATES = 50  # band collisions examined per item, at most
PER_BAND = 200  # newest items read from each band


def covered(session: Session, item: Item) -> Verdict | None:
    ref = session.scalar(select(ReportReference).where(ReportReference.canonical_url == item.canonical_url).limit(1))
    if ref is not None:
        return Verdict("covered", f"URL cited in the {_issue_of_story(session, ref.story_id)} issue", ref.story_id)
    cited = reference_keys(session)
    for key in (similarity.title_key(item.title), similarity.title_key(lead(item.body))):
        story_id = cited.find(key)
        if story_id is not None:
            return Verdict("covered", f"title matches a story of the {_issue_of_story(session, story_id)} issue", story_id)
    return None


def follow_up(session: Session, item: Item) -> Verdict | None:
    """A heuristic, and marked as one: the item names a document (《…》) that a source of a
    covered story named too — its implementing rules, an interpretation, a next batch."""
    named = similarity.documents(item.title)
    cited_documents = _references(session)["documents"] if named else []
    for name, key in named:
        for cited, story_id in cited_documents:
            if similarity.same_document(key, cited):
                reason = f"follow-up (heuristic): names 《{name}》, as a story of the {_issue_of_story(session, story_id)} issue did"
                return Verdict("follow_up", reason)
    return None


def duplicate(session: Session, item: Item, minhash: np.ndarray) -> Verdict | None:
    candidates = _band_sharers(session, item, similarity.band_keys(minhash))
    best, best_id = 0.0, None
    title = similarity.title_key(item.title)
    rows = session.execute(
        select(ItemSignature.item_id, ItemSignature.minhash, Item.title).join(Item, Item.id == ItemSignature.item_id).where(ItemSignature.item_id.in_(candidates))
    )
    for candidate_id, packed, other_title in rows:
        score = similarity.similarity(packed, minhash)
        # Notices of one ministry share boilerplate; a reprint keeps the headline as well.
        if score > best and similarity.same_headline(title, similarity.title_key(other_title)):
            best, best_id = score, candidate_id
    if best_id is None or best < similarity.DUPLICATE_AT:
        return None
    return Verdict("duplicate", f"same story as item {best_id} (similarity {best:.2f})", cluster_with=best_id)


def _band_sharers(session: Session, item: Item, bands: list[str]) -> list[int]:
    """The items sharing the most bands with ``item`` — the likeliest duplicates — among the
    newest PER_BAND of each band: reprints follow within days, and a band that thousands of
    boilerplate-only pages share must not be read whole on every insert."""
    values = {"item_id": item.id} | {f"band_{n}": band for n, band in enumerate(bands)}
    shared = Counter(session.scalars(_newest_per_band(len(bands)), values))
    return [item_id for item_id, _ in shared.most_common(CANDIDATES)]


@lru_cache(maxsize=4)
def _newest_per_band(bands: int) -> CompoundSelect:
    """:func:`_band_sharers`' query for ``bands`` bands, made once: building sixteen subqueries
    for every stored item cost more than running them."""
    newest = [
        select(ItemBand.item_id).where(ItemBand.band == bindparam(f"band_{n}"), ItemBand.item_id != bindparam("item_id"))
        .order_by(ItemBand.id.desc()).limit(PER_BAND).subquery()
        for n in range(bands)
    ]
    return union_all(*(select(sub.c.item_id) for sub in newest))


def index(session: Session, item: Item, minhash: np.ndarray) -> None:
    session.add(ItemSignature(item_id=item.id, minhash=similarity.pack(minhash)))
    session.add_all(ItemBand(band=band, item_id=item.id) for band in similarity.band_keys(minhash))


def apply(session: Session, item: Item, verdict: Verdict, authority: Authority) -> None:
    item.status, item.verdict_reason, item.covered_story_id = verdict.status, verdict.reason or None, verdict.story_id
    if verdict.cluster_with is not None:
        _cluster(session, item, session.get(Item, verdict.cluster_with), authority)


def _cluster(session: Session, item: Item, other: Item, authority: Authority) -> None:
    """Put ``item`` in ``other``'s story cluster; the most authoritative item is primary."""
    cluster = session.get(StoryCluster, other.cluster_id) if other.cluster_id else None
    if cluster is None:
        cluster = StoryCluster(primary_item_id=other.id)
        session.add(cluster)
        session.flush()
        other.cluster_id = cluster.id
    item.cluster_id = cluster.id
    primary = session.get(Item, cluster.primary_item_id)
    if _authority_of(item, authority) > _authority_of(primary, authority):
        cluster.primary_item_id = item.id
        item.status = "covered" if item.covered_story_id else "new"
        item.verdict_reason = f"primary of a story also carried by item {primary.id}"
        if primary.status in NEWS:
            primary.status, primary.verdict_reason = "duplicate", f"same story as item {item.id}, a more authoritative source"


def _authority_of(item: Item, authority: Authority) -> float:
    return authority.score(item.url, item.source.name if item.source else None)


def reference_keys(session: Session) -> similarity.TitleIndex:
    """The normalised titles of every cited reference, with their story ids."""
    return _references(session)["keys"]


def _references(session: Session) -> dict:
    """Cited titles (a TitleIndex) and the documents they name; cached until references change."""
    stamp = session.execute(select(func.count(ReportReference.id), func.max(ReportReference.id))).one()
    if _cache.get("stamp") != tuple(stamp):
        rows = session.execute(
            select(ReportReference.title_key, ReportReference.title, ReportReference.story_id).where(ReportReference.title_key != "")
        ).all()
        documents = {key: story for _, title, story in rows for _, key in similarity.documents(title)}
        _cache.update(stamp=tuple(stamp), keys=similarity.TitleIndex([(key, story) for key, _, story in rows]), documents=list(documents.items()))
    return _cache


_cache: dict = {}
LEAD_CHARS = 120


def lead(body: str) -> str:
    """The text ``covered`` compares besides the title: the body's first line, at most LEAD_CHARS."""
    return body.strip().split("\n", 1)[0][:LEAD_CHARS]


def _issue_of_story(session: Session, story_id: int) -> str:
    story = session.get(ReportStory, story_id)
    return f"{story.issue.published:%Y-%m-%d}" if story else "?"
