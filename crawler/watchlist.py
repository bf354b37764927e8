"""Source watchlists: one YAML file per source under ``watchlists/sources/``.

This module loads them. The schema lives with the kinds (:mod:`crawler.kinds`); every
validation error is reported with the file, line and dotted field name, so an editor can fix
a broken file without reading Python.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from common.yamlfile import WatchlistError, describe, line_of, parse_yaml, yaml_problem
from pydantic import ValidationError

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
    text = path.read_text(encoding="utf-8")
    try:
        data, node = parse_yaml(text)
    except yaml.YAMLError as error:
        raise WatchlistError([yaml_problem(path, error)]) from None
    if not isinstance(data, dict):
        raise WatchlistError([f"{path}:1: expected a mapping of fields (name, label, kind, ...)"])
    if "kind" not in data:
        raise WatchlistError([f"{path}:1: field `kind`: missing (one of {', '.join(KINDS)})"])
    if data["kind"] not in KINDS:
        line = line_of(node, ("kind",))
        raise WatchlistError([f"{path}:{line}: field `kind`: unknown kind {data['kind']!r}; use one of {', '.join(KINDS)}"])
    try:
        source = KINDS[data["kind"]].model_validate(data)
    except ValidationError as error:
        raise WatchlistError([describe(path, node, e) for e in error.errors()]) from None
    return source.model_copy(update={"file": path})


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
    "KINDS", "WatchlistError", "load_source", "load_sources",
    # the schema, re-exported from crawler.kinds
    "ArticleRules", "Evidence", "Expectations", "FeedRules", "FeedSource", "HtmlListSource",
    "JpaasListSource", "JsonListRules", "JsonListSource", "ListEntryRules", "ListUrl",
    "Pagination", "Politeness", "Provenance", "Rule", "SourceBase", "Strict",
]
