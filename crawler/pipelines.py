"""Item pipelines: normalise, then store — insert, judge, tag — each article in its own transaction."""

from __future__ import annotations

import hashlib
import logging
import zlib
from functools import cached_property, lru_cache
from pathlib import Path

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from common.urls import canonical_url
from crawler.extensions import RunLedger
from crawler.flow import SourceStats
from crawler.items import ArticleItem
from crawler.spiders import source_aliases
from storage import queries
from storage.db import transaction
from storage.models import Item, RawPage, utcnow

log = logging.getLogger(__name__)


class NormalizePipeline:
    """Give the item its identity (canonical URL) and a fingerprint of its content."""

    def __init__(self, crawler: Crawler | None = None):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizePipeline:
        return cls(crawler)

    def process_item(self, item: ArticleItem) -> ArticleItem:
        item.canonical_url = canonical_url(item.url, source_aliases(self.crawler, item.source))
        article = item.article
        fingerprint = "\n".join([article.title or "", article.body])
        item.content_hash = hashlib.sha256(fingerprint.encode("utf-8")).hexdigest()
        return item


def load_tagger(topics_path: str | None):  # type: ignore[no-untyped-def]
    """The tagger for a topics file, or None (logged) when there is none."""
    if not topics_path or not Path(topics_path).exists():
        log.warning("no topics file at %s: items are stored untagged", topics_path)
        return None
    return _tagger(topics_path, Path(topics_path).stat().st_mtime)


@lru_cache(maxsize=4)
def _tagger(path: str, mtime: float):  # type: ignore[no-untyped-def]
    # One per process and file version: a crawl of 30 sources builds 30 pipelines.
    from desk.tagging import Tagger, load_taxonomy

    return Tagger(load_taxonomy(path))


class StorePipeline:
    """Store each article in its own transaction, in steps: insert a new one, judge it against
    the archive, tag it (knowing now the size of its story cluster); with ``--refresh``, update
    a changed one and tag it again. A crash leaves no half-written item. Never a second row:
    the unique constraint on the canonical URL is the last word, not this code's check."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.database_url = crawler.settings.get("RADAR_DATABASE_URL")
        self._habits = None  # (learned model, pick signal): see _editors_habits

    # The tagger and the judge are loaded with the first new article, not with the pipeline:
    # most runs of the daemon find nothing new and need neither (nor numpy, which the judge's
    # similarity imports), and every crawl process would pay for them at start-up.
    @cached_property
    def tagger(self):  # type: ignore[no-untyped-def]
        return load_tagger(self.crawler.settings.get("RADAR_TOPICS"))

    @cached_property
    def authority(self):  # type: ignore[no-untyped-def]
        """Which item of a story is primary: topics.yml's authority table (without a topics
        file every source is alike and the first item stays primary)."""
        from desk.tagging import Authority

        return self.tagger.taxonomy.authority if self.tagger else Authority()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    def process_item(self, item: ArticleItem) -> ArticleItem:
        try:
            with transaction(self.database_url) as session:
                outcome = self._store(session, item)
        except IntegrityError as error:
            # Someone stored it between our check and our insert: it is known, not an error.
            # Unless it is still not there: then the database refused it (a trigger, a check).
            if not self._stored(item):
                self._failed(item, error)
            outcome = "unchanged"
        except (SQLAlchemyError, ValueError) as error:  # e.g. text PostgreSQL refuses
            self._failed(item, error)
        if outcome == "unchanged":
            self._stats(item).inc_value("radar/skipped")
            raise DropItem(f"already stored: {item.canonical_url}")
        self._stats(item).inc_value(f"radar/{outcome}")
        log.info("%s: %s %s — %s", item.source, outcome, item.canonical_url, item.article.title)
        return item

    def _store(self, session: Session, item: ArticleItem) -> str:
        """Write ``item`` in the caller's transaction; say whether it was new, updated or unchanged."""
        existing = queries.item_by_url(session, item.canonical_url)
        if existing is None:
            row = self._insert(session, item)
            self._judge(session, row, item)
            self._tag(session, row, item)
            return "new"
        if existing.content_hash != item.content_hash:
            _update_item(existing, item)
            self._tag(session, existing, item)
            return "updated"
        return "unchanged"

    def _insert(self, session: Session, item: ArticleItem) -> Item:
        # The source's row is opened with the run (RunLedger), before the first item arrives.
        source_id = self.crawler.get_extension(RunLedger).source_id(item.source)
        row = Item(source_id=source_id, url=item.url, canonical_url=item.canonical_url, first_seen_at=utcnow())
        _update_item(row, item)
        session.add(row)
        session.flush()  # the verdict looks the row up by id
        return row

    def _judge(self, session: Session, row: Item, item: ArticleItem) -> None:
        from desk import verdicts  # see tagger above: loaded with the first new article

        verdict = verdicts.judge(session, row, self.authority)
        self._stats(item).inc_value(f"radar/verdict/{verdict.status}")

    def _tag(self, session: Session, row: Item, item: ArticleItem) -> None:
        """Tag with the report's sections and categories (watchlists/topics.yml); a story many
        outlets carry scores higher, so the tagger is told how many items share its cluster."""
        if self.tagger is not None:
            model, signal = self._editors_habits(session)
            article = item.article
            cluster_size = queries.cluster_size(session, row.cluster_id)
            result = self.tagger.tag(
                article.title or "", article.body, source=item.source, url=item.url,
                published_at=article.published_at, cluster_size=cluster_size, model=model, picks=signal,
            )
            item.topics, item.score = result.to_dict(), result.score
        row.topics, row.score = item.topics, item.score

    def _editors_habits(self, session: Session):  # type: ignore[no-untyped-def]
        """The learned model and the editors' pick signal, read with the run's first new
        article and kept for the run: each costs a round trip or two to the database, per item
        that would double a run's queries, and a triage made during a run counts from the next."""
        if self._habits is None:
            from desk.tagging import learned, picks  # see tagger above: loaded with the first new article

            resolve = self.tagger.taxonomy.resolve
            self._habits = (learned.current_model(session, resolve), picks.current(session, resolve))
        return self._habits

    def _stats(self, item: ArticleItem) -> SourceStats:
        return self.crawler.spider.stats_of(item.source)  # type: ignore[union-attr]

    def _stored(self, item: ArticleItem) -> bool:
        with transaction(self.database_url) as session:
            return queries.item_by_url(session, item.canonical_url) is not None

    def _failed(self, item: ArticleItem, error: Exception) -> None:
        """An article the database refused is an error of the run, never a silent loss: the
        run is partial and its list pages are read again next time (see ListPageStates)."""
        reason = str(getattr(error, "orig", None) or error).splitlines()[0][:300]
        log.error("%s: could not store %s: %s", item.source, item.canonical_url, reason)
        stats = self._stats(item)
        for name in ("radar/errors", "radar/errors/store"):
            stats.inc_value(name)
        stats.set_value("radar/last_error", f"store {item.canonical_url}: {reason}")
        raise DropItem(f"not stored: {item.canonical_url}: {reason}")


def _update_item(row: Item, item: ArticleItem) -> None:
    article = item.article
    row.title = article.title or item.list_title or ""
    row.published_at = article.published_at
    row.published_precision = article.published_precision
    row.origin = article.origin
    row.body = article.body
    row.content_hash = item.content_hash
    row.list_title = item.list_title
    row.extraction = article.provenance
    row.updated_at = utcnow()
    raw = row.raw or RawPage()
    raw.status, raw.headers, raw.fetched_at = item.status, item.headers, utcnow()
    raw.body_zlib = zlib.compress(item.raw_body, 6)
    row.raw = raw
