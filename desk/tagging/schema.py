"""The schema of ``watchlists/topics.yml``: Pydantic models that validate one file's fields.

Checks that span fields (names that must exist, collisions) are in :mod:`desk.tagging.taxonomy`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from common.urls import host_matches, host_of
from common.yamlfile import compiled_regex

ID = re.compile(r"^[a-z][a-z0-9_]*$")
HOST = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _term_spec(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a weight must be a number such as 2 or 1.5, not yes/no")
    if isinstance(value, (int, float)):
        return {"weight": value}
    if value is None:
        raise ValueError("missing weight: write `term: 2` (a number)")
    if isinstance(value, dict):
        return value
    raise ValueError(f"expected a weight (a number such as 2 or 1.5) or {{weight: 2, whole_word: true}}, got {value!r}")


class TermSpec(Strict):
    weight: float = Field(gt=0, le=10)
    whole_word: bool = False  # Chinese term must start and end on a jieba word boundary


TermField = Annotated[TermSpec, BeforeValidator(_term_spec)]


def _term_keys(value: Any) -> Any:
    """YAML turns `yes:`, `2024:` into booleans and numbers; terms must be strings."""
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if isinstance(key, bool) or key is None:
            raise ValueError(f"term {key!r} is not text — put it in quotes")
        key = str(key)
        if not key.strip():
            raise ValueError("empty term")
        out[key] = item
    return out


Terms = Annotated[dict[str, TermField], BeforeValidator(_term_keys)]


class Section(Strict):
    description: str | None = None
    assign: Literal["auto", "fallback", "manual"] = "auto"
    default_category: str | None = None
    cues: Terms = {}


class Category(Strict):
    label: str = Field(min_length=1)
    section: str
    aliases: list[str] = []
    description: str | None = None
    region_weight: float = Field(default=0, ge=-10, le=10)
    keywords: Terms = Field(min_length=1)
    negative: Terms = {}


class Region(Strict):
    label: str
    kind: Literal["municipality", "province", "autonomous_region", "sar", "city", "area", "cluster"]
    names: list[str] = Field(min_length=1)
    short: list[str] = []
    parent: str | None = None
    hosts: list[str] = []

    @field_validator("short")
    @classmethod
    def _one_character(cls, value: list[str]) -> list[str]:
        for item in value:
            if len(item) != 1:
                raise ValueError(f"{item!r}: a short form is one character (put longer forms in `names`)")
        return value

    @field_validator("hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        for item in value:
            if not HOST.match(item):
                raise ValueError(f"{item!r}: give a bare host suffix such as gd.gov.cn (no scheme, no path)")
        return value


def _listify(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class PriorMatch(Strict):
    source: Annotated[list[str], BeforeValidator(_listify)] = []
    host: Annotated[list[str], BeforeValidator(_listify)] = []
    url: str | None = None
    local_government: bool = False

    @field_validator("url")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        return compiled_regex(value)

    @model_validator(mode="after")
    def _some_condition(self) -> PriorMatch:
        if not (self.source or self.host or self.url or self.local_government):
            raise ValueError("give at least one of `source`, `host`, `url`, `local_government`")
        return self


class SourcePrior(Strict):
    name: str
    match: PriorMatch
    sections: dict[str, float] = {}
    categories: dict[str, float] = {}
    region: str | None = None


def _watch_term(value: Any) -> Any:
    return {"term": value} if isinstance(value, str) else value


class WatchTerm(Strict):
    term: str = Field(min_length=1)
    note: str | None = None


class Zones(Strict):
    title: float = Field(default=3.0, ge=0)
    lead: float = Field(default=1.5, ge=0)
    body: float = Field(default=0.5, ge=0)


class Settings(Strict):
    zones: Zones = Zones()
    lead_chars: int = Field(default=200, ge=0)
    repeat_cap: float = Field(default=2.5, ge=1)
    section_weight: float = Field(default=1.0, ge=0)
    min_score: float = Field(default=2.0, ge=0)
    confidence_scale: float = Field(default=8.0, gt=0)
    fallback_section: str | None = None
    region_zones: Zones = Zones(title=3.0, lead=1.0, body=0.0)
    max_checks: int = Field(default=4, ge=1)
    body_cap: float = Field(default=9.0, ge=0)


class RelevanceWeights(Strict):
    confidence: float = Field(default=0.45, ge=0)
    authority: float = Field(default=0.2, ge=0)
    freshness: float = Field(default=0.2, ge=0)
    cluster: float = Field(default=0.15, ge=0)
    picks: float = Field(default=0.2, ge=0)  # the editors' past choices (desk/tagging/picks.py)


class Freshness(Strict):
    half_life_hours: float = Field(default=72, gt=0)
    unknown: float = Field(default=0.5, ge=0, le=1)


Unit = Annotated[float, Field(ge=0, le=1)]


class Authority(Strict):
    """How authoritative a source is, from 0 to 1: the issuing government body above media
    above aggregators. The tagger's relevance score weighs it, and the verdicts pick a story
    cluster's primary item by it; this table is the only one."""

    default: Unit = 0.5
    sources: dict[str, Unit] = {}  # by source name (watchlists/sources/*.yml)
    hosts: dict[str, Unit] = {}  # by host suffix: gov.cn counts for www.most.gov.cn

    def score(self, url: str | None, source: str | None = None) -> float:
        """The source's own score if it has one, else that of the longest host suffix the
        URL's host matches, else ``default``."""
        if source is not None and source in self.sources:
            return self.sources[source]
        host = host_of(url)
        matching = [suffix for suffix in self.hosts if host_matches(host, suffix)]
        return self.hosts[max(matching, key=len)] if matching else self.default


class Relevance(Strict):
    weights: RelevanceWeights = RelevanceWeights()
    watch_bonus: Unit = 0.1
    freshness: Freshness = Freshness()
    cluster_saturation: int = Field(default=8, ge=2)
    authority: Authority = Authority()


class TaxonomyFile(Strict):
    version: Literal[1] = 1
    settings: Settings = Settings()
    sections: dict[str, Section] = Field(min_length=1)
    categories: dict[str, Category] = Field(min_length=1)
    fields: dict[str, Category] = {}
    regions: dict[str, Region] = {}
    source_priors: list[SourcePrior] = []
    watch_terms: list[Annotated[WatchTerm, BeforeValidator(_watch_term)]] = []
    generic_terms: list[str] = []  # evidence, but not shown to editors among the matched terms
    relevance: Relevance = Relevance()
