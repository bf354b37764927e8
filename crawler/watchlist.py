"""Source watchlists: one YAML file per source under ``watchlists/sources/``.

This module loads them. The schema lives with the kinds (:mod:`crawler.kinds`); every
validation error is reported with the file, line and dotted field name, so an editor can fix
a broken file without reading Python.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

import yaml
from common.settings import Settings
from common.yamlfile import WatchlistError, line_of, load_model

from crawler.kinds import KINDS
# Re-exported: the schema's names, where the rest of the code has always imported them.
from crawler.kinds.base import (
    ArticleRules,
    Evidence,
    Expectations,
    ListEntryRules,
    ListUrl,
    Pagination,
    Politeness,
    Provenance,
    Rule,
    SourceBase,
    Strict,
)
from crawler.kinds.feed import FeedRules, FeedSource
from crawler.kinds.html_list import HtmlListSource
from crawler.kinds.jpaas_list import JpaasListSource
from crawler.kinds.json_list import JsonListRules, JsonListSource
from crawler.wechat import catalogue_path, catalogue_sources


def load_source(path: Path) -> SourceBase:
    source = load_model(path, functools.partial(_kind_model, path))
    return source.model_copy(update={"file": path})


def _kind_model(path: Path, data: Any, node: yaml.Node | None) -> type[SourceBase]:
    """The schema of the kind the file names, or a WatchlistError saying which kinds there are."""
    if not isinstance(data, dict):
        raise WatchlistError([f"{path}:1: expected a mapping of fields (name, label, kind, ...)"])
    if "kind" not in data:
        raise WatchlistError([f"{path}:1: field `kind`: missing (one of {', '.join(KINDS)})"])
    if data["kind"] not in KINDS:
        line = line_of(node, ("kind",))
        raise WatchlistError([f"{path}:{line}: field `kind`: unknown kind {data['kind']!r}; use one of {', '.join(KINDS)}"])
    return KINDS[data["kind"]]


def configured_sources(config: Settings) -> list[SourceBase]:
    """The sources this configuration follows: the watchlists in its sources folder and the
    WeChat catalogue through its mirror — what every command, the daemon, the workspace and
    `scrapy crawl radar` see alike.

    Loaded again only when a file changed (added, removed, or other bytes): the workspace's
    Sources page and the daemon ask on every request and every job, and parsing and validating
    ~50 files was half of that page. The sources are frozen models, so sharing them is safe; a
    watchlist that does not load is read again on every call."""
    return list(_sources_as_of(config.sources_dir, config.wechat_mirror, fingerprint(config.sources_dir)))


def fingerprint(directory: Path) -> tuple[tuple[str, bytes], ...]:
    """What the loaded sources depend on — each watchlist and the WeChat catalogue, by name and
    a digest of its bytes — so a caller can tell whether anything changed. Reading ~50 small files costs well under a millisecond; sizes and
    modification times would miss a same-size rewrite within one filesystem timestamp tick."""
    prints = []
    for path in [*sorted(directory.glob("*.y*ml")), catalogue_path(directory)]:
        try:
            content = path.read_bytes()
        except OSError:  # the catalogue is optional; a file removed meanwhile changes the list anyway
            continue
        prints.append((str(path), hashlib.blake2b(content, digest_size=16).digest()))
    return tuple(prints)


@functools.lru_cache(maxsize=8)
def _sources_as_of(directory: Path, wechat_mirror: str | None, _fingerprint: tuple) -> tuple[SourceBase, ...]:
    return tuple(load_sources(directory, wechat_mirror))


def load_sources(directory: Path, wechat_mirror: str | None = None) -> list[SourceBase]:
    """Load every ``*.yml`` in ``directory``, and the WeChat catalogue beside it through
    ``wechat_mirror`` (RADAR_WECHAT_MIRROR; unset: no WeChat source); collect all problems
    before failing."""
    sources: list[SourceBase] = []
    problems: list[str] = []
    for path in sorted(directory.glob("*.y*ml")):
        try:
            sources.append(load_source(path))
        except WatchlistError as error:
            problems.extend(error.problems)
    try:
        sources.extend(catalogue_sources(catalogue_path(directory), wechat_mirror)[0])
    except WatchlistError as error:
        problems.extend(error.problems)
    seen: dict[str, Path] = {}
    for source in sources:
        if source.name in seen:
            problems.append(f"{source.file}:1: field `name`: {source.name!r} is already used by {seen[source.name]}")
        seen[source.name] = source.file  # type: ignore[assignment]
    if problems:
        raise WatchlistError(problems)
    return sources

__all__ = [
    "KINDS", "WatchlistError", "configured_sources", "load_source", "load_sources",
    # the schema, re-exported from crawler.kinds
    "ArticleRules", "Evidence", "Expectations", "FeedRules", "FeedSource", "HtmlListSource",
    "JpaasListSource", "JsonListRules", "JsonListSource", "ListEntryRules", "ListUrl",
    "Pagination", "Politeness", "Provenance", "Rule", "SourceBase", "Strict",
]
