"""What spiders yield: one article as fetched and extracted, before it is stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from crawler.extract import Article


@dataclass
class ArticleItem:
    source: str
    url: str
    article: Article
    raw_body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    list_title: str | None = None
    list_date: datetime | None = None
    # Filled by the pipelines: identity and fingerprint by NormalizePipeline, topics and score by
    # StorePipeline once the verdict has put the article in its story cluster.
    canonical_url: str = ""
    content_hash: str = ""
    topics: dict | None = None
    score: float | None = None
