"""Item pipelines: normalise, then store — each article in its own transaction."""

from __future__ import annotations

import hashlib
import logging
import zlib
from functools import lru_cache

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from desk import verdicts
from crawler.extensions import RunLedger
from crawler.items import ArticleItem
from common.urls import canonical_url
from storage import queries
from storage.db import transaction
from storage.models import Item, RawPage, utcnow

log = logging.getLogger(__name__)


class NormalizePipeline:
    """Give the item its identity (canonical URL) and a fingerprint of its content."""

    def process_item(self, item: ArticleItem) -> ArticleItem:
        item.canonical_url = canonical_url(item.url)
        article = item.article
        fingerprint = "\n".join([article.title or "", article.body])
        item.content_hash = hashlib.sha256(fingerprint.encode("utf-8")).hexdigest()
        return item


class TagPipeline:
    """Tag each article with the report's sections and categories (watchlists/topics.yml)."""

    def __init__(self, topics_path: str | None):
        self.tagger = load_tagger(topics_path)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TagPipeline:
        return cls(crawler.settings.get("RADAR_TOPICS"))

    def process_item(self, item: ArticleItem) -> ArticleItem:
        if self.tagger is not None:
            article = item.article
            result = self.tagger.tag(article.title or "", article.body, source=item.source, url=item.url, published_at=article.published_at)
            item.topics, item.score = result.to_dict(), result.score
        return item


def load_tagger(topics_path: str | None):  # type: ignore[no-untyped-def]
    """The tagger for a topics file, or None (logged) when there is none."""
    from pathlib import Path

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
    """Insert new articles; with ``--refresh``, update changed ones. Never a second row:
    the unique constraint on the canonical URL is the last word, not this code's check."""

    def __init__(self, crawler: Crawler):
        self.stats = crawler.stats
        self.database_url = crawler.settings.get("RADAR_DATABASE_URL")
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    def process_item(self, item: ArticleItem) -> ArticleItem:
        source_id = self.crawler.get_extension(RunLedger).source_id  # opened with the run
        try:
            with transaction(self.database_url) as session:
                existing = queries.item_by_url(session, item.canonical_url)
                if existing is None:
                    row = _new_item(item, source_id)
                    session.add(row)
                    session.flush()
                    verdict = verdicts.judge(session, row)
                    self.stats.inc_value(f"radar/verdict/{verdict.status}")
                    outcome = "new"
                elif existing.content_hash != item.content_hash:
                    _update_item(existing, item)
                    outcome = "updated"
                else:
                    outcome = "unchanged"
        except IntegrityError as error:
            # Someone stored it between our check and our insert: it is known, not an error.
            # Unless it is still not there: then the database refused it (a trigger, a check).
            if not self._stored(item):
                self._failed(item, error)
            outcome = "unchanged"
        except (SQLAlchemyError, ValueError) as error:  # e.g. text PostgreSQL refuses
            self._failed(item, error)
        if outcome == "unchanged":
            self.stats.inc_value("radar/skipped")
            raise DropItem(f"already stored: {item.canonical_url}")
        self.stats.inc_value(f"radar/{outcome}")
        log.info("%s: %s %s — %s", item.source, outcome, item.canonical_url, item.article.title)
        return item

    def _stored(self, item: ArticleItem) -> bool:
        with transaction(self.database_url) as session:
            return queries.item_by_url(session, item.canonical_url) is not None

    def _failed(self, item: ArticleItem, error: Exception) -> None:
        """An article the database refused is an error of the run, never a silent loss: the
        run is partial and its list pages are read again next time (see ListPageStates)."""
        reason = str(getattr(error, "orig", None) or error).splitlines()[0][:300]
        log.error("%s: could not store %s: %s", item.source, item.canonical_url, reason)
        for name in ("radar/errors", "radar/errors/store"):
            self.stats.inc_value(name)
        self.stats.set_value("radar/last_error", f"store {item.canonical_url}: {reason}")
        raise DropItem(f"not stored: {item.canonical_url}: {reason}")


def _new_item(item: ArticleItem, source_id: int) -> Item:
    row = Item(source_id=source_id, url=item.url, canonical_url=item.canonical_url, first_seen_at=utcnow())
    _update_item(row, item)
    return row


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
    row.topics, row.score = item.topics, item.score
    row.updated_at = utcnow()
    raw = row.raw or RawPage()
    raw.status, raw.headers, raw.fetched_at = item.status, item.headers, utcnow()
    raw.body_zlib = zlib.compress(item.raw_body, 6)
    row.raw = raw
