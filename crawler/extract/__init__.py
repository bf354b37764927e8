"""Turning a fetched article page into an Article: decoding (encoding.py), the page and its
extractors' protocol (page.py), site- and CMS-specific page objects (sites.py), and the
field-by-field merge (article.py)."""

from crawler.extract.article import extract_article
from crawler.extract.page import Article

__all__ = ["Article", "extract_article"]
