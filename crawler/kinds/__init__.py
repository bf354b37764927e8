"""Source kinds, urlwatch-style: one class per ``kind:`` a watchlist may name.

Each kind's module holds its schema (its list rules), how it reads a fetched list page and
how `crawl doctor` explains that reading; :mod:`crawler.kinds.base` holds what they share.
"""

from crawler.kinds.base import SourceBase
from crawler.kinds.feed import FeedSource
from crawler.kinds.html_list import HtmlListSource
from crawler.kinds.jpaas_list import JpaasListSource
from crawler.kinds.json_list import JsonListSource

# The one registry: a watchlist's `kind:` → the class that validates and reads it.
KINDS: dict[str, type[SourceBase]] = {
    "html_list": HtmlListSource,
    "json_list": JsonListSource,
    "jpaas_list": JpaasListSource,
    "feed": FeedSource,
}
