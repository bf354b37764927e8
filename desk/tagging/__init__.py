"""Tag crawled articles with the weekly report's own taxonomy (``watchlists/topics.yml``).

Pure functions of the text: no database, no network, no CLI. The caller (``crawl tag``, the
item pipeline, a digest) loads the taxonomy once and reuses one :class:`Tagger`::

    from common.settings import get_settings
    from desk.tagging import Tagger, load_taxonomy

    tagger = Tagger(load_taxonomy(get_settings().watchlists / "topics.yml"))
    result = tagger.tag(title, body, source="cas", url=url, published_at=published, cluster_size=3)
    result.section, result.category, result.region, result.score   # 기술동향, materials, None, 0.71
    result.to_dict()                                                  # JSON-ready
    print(result.explain())                                          # every rule that fired

How a result is reached (the YAML header says the same for editors):

1. Title and body are normalised (ASCII lower case, full-width letters and digits as ASCII)
   and scanned once with compiled regular expressions built as character tries over every
   term of the taxonomy (keywords, negative keywords, section cues, region names), merged to
   leftmost, longest, non-overlapping matches: 人工智能 is counted once, not also as 智能.
   ASCII terms must stand as a whole word (AI is not in AIGC). Hits in the first
   ``lead_chars`` of the body are "lead", the rest "body". Watch terms have their own
   expression, so no longer term can hide them.
2. Ambiguous Chinese terms are confirmed with jieba's segmentation: two-character region
   names must start and end on a word boundary (江西 is not in 浙江/西部, 北京 is not in
   北京大学, 福建 is not in 幸福/建设) and one-character short forms (粤, 沪) must be a word
   of their own. Only the text around such a hit is segmented, at most ``max_checks`` hits
   per term and article, because segmenting whole 5 KB bodies with jieba would cap the
   tagger at a few hundred items per second; keywords marked ``whole_word`` get the same
   boundary check. Every other two-character Chinese keyword must not straddle a word
   (化工 is not in 细化/工作, 上市 not in 地级/以上/市, but 化工 is in 煤化工); a few
   dictionary look-ups decide whether that can happen before jieba is asked.
3. A hit adds ``weight × zone factor × (1 + ln n, capped)`` to its category (negative terms
   subtract); lead and body together add at most ``body_cap`` to any one category or
   section, so a long body informs but cannot outvote the title. A region in the title or
   lead adds ``region_weight``; source priors (by source name, host, URL pattern, local-
   government host) add their points.
4. Each automatically assigned section totals ``section_weight × its cues`` (policy-document
   words vs research-result words) plus its best category; the best section wins and the
   category is the best one inside it (or the section's ``default_category``). Ranked
   ``categories`` are scored ``own evidence + section_weight × section cues``, so the chosen
   category is always first. ``field`` is the best technology field whatever the section.

Everything is deterministic: ties are broken by the order of the YAML file, and the only
clock (freshness in the relevance ``score``) can be fixed with ``Tagger(..., now=...)``.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from common.dates import CHINA
from common.urls import host_matches
from common.yamlfile import WatchlistError, compiled_regex, describe, parse_yaml  # one error style: file:line: field `x`: ...

ID = re.compile(r"^[a-z][a-z0-9_]*$")
HOST = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")
ZONE_ORDER = {"source": -1, "title": 0, "lead": 1, "body": 2}

# ─── schema ──────────────────────────────────────────────────────────────────────────────────


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


class Freshness(Strict):
    half_life_hours: float = Field(default=72, gt=0)
    unknown: float = Field(default=0.5, ge=0, le=1)


Unit = Annotated[float, Field(ge=0, le=1)]


class Authority(Strict):
    default: Unit = 0.5
    sources: dict[str, Unit] = {}
    hosts: dict[str, Unit] = {}


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


class TaxonomyError(WatchlistError):
    """topics.yml is invalid. ``str()`` names file, line and field for each problem."""


# ─── loading ─────────────────────────────────────────────────────────────────────────────────


def load_taxonomy(path: str | Path) -> Taxonomy:
    """Read and validate a topics file; every problem is reported as ``file:line: field `x`: ...``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TaxonomyError([f"{path}:1: cannot read the file: {error}"]) from None
    try:
        data, node = parse_yaml(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise TaxonomyError([f"{path}{line}: not valid YAML: {getattr(error, 'problem', error)}"]) from None
    if not isinstance(data, dict):
        raise TaxonomyError([f"{path}:1: expected a mapping (settings, sections, categories, fields, regions, ...)"])
    problems = [_problem(path, node, loc, message) for loc, message in _duplicate_keys(node)]
    try:
        spec = TaxonomyFile.model_validate(data)
    except ValidationError as error:
        problems += [describe(path, node, _clean(e)) for e in error.errors()]
        raise TaxonomyError(problems) from None
    problems += [_problem(path, node, loc, message) for loc, message in _references(spec)]
    if problems:
        raise TaxonomyError(problems)
    return Taxonomy(spec, path)


def _clean(error: Any) -> dict[str, Any]:
    """Pydantic marks errors in dict keys with a trailing ``[key]``; the key's line is enough."""
    loc = tuple(part for part in error["loc"] if part != "[key]" and not str(part).startswith("function-"))
    return {**error, "loc": loc}


def _problem(path: Path, node: yaml.Node | None, loc: tuple[Any, ...], message: str) -> str:
    return describe(path, node, {"loc": loc, "msg": message, "type": "value_error"})


def _duplicate_keys(node: yaml.Node | None, loc: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], str]]:
    """PyYAML silently keeps the last of two equal keys; an editor should hear about it."""
    found: list[tuple[tuple[Any, ...], str]] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = key.value
            if name in seen:
                found.append((loc, f"`{name}` appears twice (lines {seen[name]} and {key.start_mark.line + 1}); only the last one would count"))
            else:
                seen[name] = key.start_mark.line + 1
            found += _duplicate_keys(value, loc + (name,))
    elif isinstance(node, yaml.SequenceNode):
        for index, value in enumerate(node.value):
            found += _duplicate_keys(value, loc + (index,))
    return found


def _references(spec: TaxonomyFile) -> list[tuple[tuple[Any, ...], str]]:
    """Checks that span fields: names that must exist, ids, collisions."""
    found: list[tuple[tuple[Any, ...], str]] = []
    sections = spec.sections
    every = {**{k: ("categories", c) for k, c in spec.categories.items()}}
    for key, cat in spec.fields.items():
        if key in every:
            found.append((("fields", key), f"id `{key}` is already used in `categories`"))
        every.setdefault(key, ("fields", cat))
    names: dict[str, tuple[Any, ...]] = {}
    for key, (group, cat) in every.items():
        where = (group, key)
        if not ID.match(key):
            found.append((where, f"id `{key}`: use lower-case ASCII letters, digits and `_` (e.g. `basic_science`); put the Korean name in `label`"))
        if cat.section not in sections:
            found.append((where + ("section",), f"unknown section {cat.section!r}; use one of {', '.join(sections)}"))
        elif sections[cat.section].assign != "auto":
            found.append((where + ("section",), f"section {cat.section!r} is not assigned by the tagger (assign: {sections[cat.section].assign})"))
        for index, name in enumerate([key, cat.label, *cat.aliases]):
            norm = _name_key(name)
            if norm in names and names[norm] != where:
                place = where + (("aliases", index - 2) if index >= 2 else ("label",) if index == 1 else ())
                found.append((place, f"name {name!r} already names `{'.'.join(map(str, names[norm]))}`"))
            names.setdefault(norm, where)
        for part in ("keywords", "negative"):
            seen: dict[str, str] = {}
            for term in getattr(cat, part):
                norm = _normalise(term).strip()
                if norm in seen:
                    found.append((where + (part, term), f"same term as {seen[norm]!r} once case and width are ignored"))
                seen[norm] = term
    for key, section in sections.items():
        default = section.default_category
        if default is not None:
            if default not in every:
                found.append((("sections", key, "default_category"), f"unknown category {default!r}"))
            elif every[default][1].section != key:
                found.append((("sections", key, "default_category"), f"`{default}` belongs to section {every[default][1].section!r}"))
    fallback = spec.settings.fallback_section
    if fallback is not None and fallback not in sections:
        found.append((("settings", "fallback_section"), f"unknown section {fallback!r}; use one of {', '.join(sections)}"))
    if not any(s.assign == "auto" for s in sections.values()):
        found.append((("sections",), "no section has `assign: auto`; the tagger could never choose one"))
    seen_names: dict[str, str] = {}
    for key, region in spec.regions.items():
        if region.parent is not None and region.parent not in spec.regions:
            found.append((("regions", key, "parent"), f"unknown region {region.parent!r}"))
        for part, values in (("names", region.names), ("short", region.short)):
            for index, name in enumerate(values):
                if name in seen_names and seen_names[name] != key:
                    found.append((("regions", key, part, index), f"{name!r} is already a name of region {seen_names[name]!r}"))
                seen_names.setdefault(name, key)
    for index, prior in enumerate(spec.source_priors):
        for section in prior.sections:
            if section not in sections:
                found.append((("source_priors", index, "sections", section), f"unknown section {section!r}"))
        for cat in prior.categories:
            if cat not in every:
                found.append((("source_priors", index, "categories", cat), f"unknown category {cat!r}"))
        if prior.region is not None and prior.region not in spec.regions:
            found.append((("source_priors", index, "region"), f"unknown region {prior.region!r}"))
    known = {term for _, cat in every.values() for term in (*cat.keywords, *cat.negative)}
    known |= {term for section in sections.values() for term in section.cues} | set(seen_names)
    for index, term in enumerate(spec.generic_terms):
        if term not in known:  # a typo would silently show the word it meant to hide
            found.append((("generic_terms", index), f"{term!r} is not a term of this file; only matched terms can be hidden"))
    weights = spec.relevance.weights
    if weights.confidence + weights.authority + weights.freshness + weights.cluster <= 0:
        found.append((("relevance", "weights"), "at least one weight must be above 0"))
    return found


# ─── the taxonomy as the tagger and the report importer use it ───────────────────────────────


def _normalise(text: str) -> str:
    """ASCII lower case, and full-width letters and digits (ＡＩ, ５Ｇ) as ASCII. Applied alike
    to terms and to article text. (Deliberately not NFKC: full-width punctuation, which every
    Chinese sentence is full of, is left alone, and normalising whole bodies costs more than
    matching them.)"""
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters lower-case to two (İ); keep offsets stable
        lowered = text.translate(_ASCII_LOWER)
    if _FULLWIDTH_ALNUM.search(lowered):
        lowered = lowered.translate(_FULLWIDTH_TABLE)
    return lowered


_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}
_FULLWIDTH_ALNUM = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
_FULLWIDTH_TABLE = {c: c - 0xFEE0 for c in [*range(0xFF10, 0xFF1A), *range(0xFF41, 0xFF5B)]} | {c: c - 0xFEE0 + 32 for c in range(0xFF21, 0xFF3B)}


def _name_key(name: str) -> str:
    return _normalise(unicodedata.normalize("NFKC", name)).replace(" ", "")


class Taxonomy:
    """A validated topics file with lookups by id, label and alias."""

    def __init__(self, spec: TaxonomyFile, path: Path | None = None):
        self.spec = spec
        self.path = path
        self.categories: dict[str, Category] = {**spec.categories, **spec.fields}
        self.policy_ids = tuple(spec.categories)
        self.field_ids = tuple(spec.fields)
        self.sections = spec.sections
        self.regions = spec.regions
        self._names: dict[str, str] = {}
        for key, cat in self.categories.items():
            for name in (key, cat.label, *cat.aliases):
                self._names.setdefault(_name_key(name), key)

    def resolve(self, name: str | None) -> str | None:
        """The id of a category named by id, Korean label or alias (``ICT`` → ``ict``), else None."""
        if not name:
            return None
        return self._names.get(_name_key(name))

    def label(self, category: str | None) -> str | None:
        return self.categories[category].label if category in self.categories else None

    def section_of(self, category: str) -> str:
        return self.categories[category].section

    def province_of(self, region: str | None) -> str | None:
        """The province (or municipality) a region belongs to; itself if it is one."""
        seen = 0
        while region is not None and self.regions[region].parent is not None and seen < 5:
            region, seen = self.regions[region].parent, seen + 1
        if region is None or self.regions[region].kind in ("cluster",):
            return None
        return region


# ─── matching ────────────────────────────────────────────────────────────────────────────────

# How a hit is confirmed, weakest first (a term in several roles gets the strictest):
# WORD — no word of jieba's segmentation straddles its edges (化工 is not in 细化/工作, but is
# in 煤化工); BOUNDARY — it starts and ends on word boundaries; TOKEN — it is a word itself.
NO_CHECK, WORD, BOUNDARY, TOKEN = 0, 1, 2, 3
# Dictionary words rarer than this (half of jieba's 350 000 occur under 4 times) never win a
# segmentation against a common keyword; 地级 (47) and 细化 (123), which do, are far above.
RARE = 20
CROSSING = 4  # longest dictionary word looked for across a hit's edge (longer ones are idioms, rare)


def _default_check(term: str, whole_word: bool) -> int:
    """How a keyword or cue is confirmed: two-character Chinese terms are the ones found
    inside other words (化工 in 细化工作), so they must not straddle jieba's words."""
    if whole_word:
        return BOUNDARY
    return WORD if len(term) == 2 and all(_is_han(c) for c in term) else NO_CHECK


_ASCII_WORD = re.compile(r"[0-9a-z]")


def _trie_pattern(words: list[str]) -> str:
    """One regular expression for many literal words, shaped as a trie so the engine only
    ever follows branches that share the next character: leftmost, longest match. Every
    top-level branch starts with a literal, so the engine skips positions whose character
    starts no term without entering the pattern at all. ASCII words carry their own word
    boundaries as lookarounds (AI matches in "AI+算力", not in "AIGC" or "SAID")."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = True

    def build(node: dict[str, Any], last: str | None) -> str:
        branches = []
        for char in sorted(k for k in node if k):
            literal = re.escape(char)
            if last is None and _ASCII_WORD.match(char):
                literal += f"(?<![0-9a-z]{literal})"  # nothing alphanumeric just before the word
            child = node[char]
            if list(child) == [""]:
                branches.append(literal + ("(?![0-9a-z])" if _ASCII_WORD.match(char) else ""))
            else:
                branches.append(literal + build(child, char))
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" not in node:
            return body
        if last is not None and _ASCII_WORD.match(last):
            return f"(?:{body}|(?![0-9a-z]))"  # a word may end here only before a non-alphanumeric
        return f"(?:{body})?"

    return build(trie, None)


_TOKENIZER: Any = None
_TOKENIZER_LOCK = threading.Lock()


def _tokenizer() -> Any:
    """One jieba tokenizer per process, loaded on first use (~0.6 s), never the global one."""
    global _TOKENIZER
    if _TOKENIZER is None:
        with _TOKENIZER_LOCK:
            if _TOKENIZER is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                _TOKENIZER = tokenizer
    return _TOKENIZER


def _boundaries(text: str) -> set[int]:
    """Offsets where jieba puts word boundaries in a run of Chinese text (its dictionary-only
    mode, the same as ``jieba.cut(text, HMM=False)`` on a Chinese block)."""
    tokenizer = _tokenizer()
    route: dict[int, tuple[float, int]] = {}
    tokenizer.calc(text, tokenizer.get_DAG(text), route)
    cuts, x = {0}, 0
    while x < len(text):
        x = route[x][1] + 1
        cuts.add(x)
    return cuts


def _is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


class _Payload(NamedTuple):
    kind: str  # "cat" | "cue" | "region"
    target: str  # category id, section name, region key
    weight: float  # negative for `negative:` terms; 1.0 / 0.6 for region names / short forms
    term: str  # as written in the YAML


class _Matcher:
    """Every term → what it counts for, behind a few compiled expressions.

    Python's regular-expression engine tries the top-level alternatives of a pattern one by
    one at every position whose character starts some term; with ~400 distinct first
    characters that linear walk dominates. The terms are therefore split by first character
    into a few expressions (each keeps the engine's fast skip over characters that start none
    of its terms) and their matches are merged back into exactly what one expression would
    give: leftmost, longest, non-overlapping."""

    WINDOW = 8  # Chinese characters of context on each side for a jieba check

    def __init__(self, entries: dict[str, list[_Payload]], checks: dict[str, int], max_checks: int):
        self.entries = entries
        self.checks = checks
        self.max_checks = max_checks
        words = sorted(entries)
        firsts = sorted({w[0] for w in words})
        k = max(1, min(8, len(firsts) // 48))
        groups = [set(firsts[i::k]) for i in range(k)]
        self.regexes = [re.compile(_trie_pattern([w for w in words if w[0] in g])) for g in groups if g]
        self.longest = max(map(len, words), default=1)

    def find(self, text: str, pos: int = 0, endpos: int | None = None) -> list[tuple[int, int, str]]:
        """(start, end, term) of every match in ``text[pos:endpos]``, left to right."""
        endpos = len(text) if endpos is None else endpos
        if not text or not self.regexes:
            return []
        if len(self.regexes) == 1:
            return [(m.start(), m.end(), m.group()) for m in self.regexes[0].finditer(text, pos, endpos)]
        candidates: list[tuple[int, int, str, int]] = []
        for index, regex in enumerate(self.regexes):
            candidates += [(*m.span(), m.group(), index) for m in regex.finditer(text, pos, endpos)]
        candidates.sort()
        found: list[tuple[int, int, str]] = []
        last, i = 0, 0
        while i < len(candidates):
            start, end, term, index = candidates[i]
            i += 1
            if start >= last:
                found.append((start, end, term))
                last = end
            elif end > last:
                # Rejected (it overlaps the match just taken) but it reaches further: its own
                # expression skipped [last, end) and may have hidden a match there. Rare.
                extra = []
                for m in self.regexes[index].finditer(text, last, endpos):
                    if m.start() >= end:
                        break
                    extra.append((*m.span(), m.group(), index))
                if extra:
                    candidates[i:] = sorted(candidates[i:] + extra)
        return found

    def scan(self, text: str, lead_chars: int | None) -> dict[tuple[str, str], int]:
        """Counts per (term, zone). ``lead_chars=None`` means the text is a title."""
        counts: dict[tuple[str, str], int] = {}
        checked: dict[str, list[bool]] = {}
        hits = self.find(text)
        i = 0
        while i < len(hits):
            start, end, term = hits[i]
            i += 1
            mode = self.checks.get(term, NO_CHECK)
            if mode:
                results = checked.setdefault(term, [])
                # A keyword seen once as a word of its own is that word in this article: no
                # more checks (they would cost more than all the matching).
                settled = mode == WORD and any(results)
                if len(results) < self.max_checks and not settled:
                    ok = self._check(text, start, end, mode)
                    results.append(ok)
                    if not ok:
                        hits[i:] = self._hidden_by(text, start, end, hits[i:])
                        continue
                elif not any(results):
                    continue
            zone = "title" if lead_chars is None else "lead" if start < lead_chars else "body"
            counts[(term, zone)] = counts.get((term, zone), 0) + 1
        return counts

    def _hidden_by(self, text: str, start: int, end: int, rest: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
        """The hits after a rejected one: what it hid (进化 in 推进化工 hides 化工; 动物 in 移动物联网
        hides 物联网), then the later hits that do not overlap those."""
        reach = end + self.longest
        hidden = [h for h in self.find(text, start + 1, min(reach, len(text))) if h[0] < end]
        if not hidden:
            return rest
        last = hidden[-1][1]
        return hidden + [h for h in rest if h[0] >= last]

    def _check(self, text: str, start: int, end: int, mode: int) -> bool:
        left_free = start == 0 or not _is_han(text[start - 1])
        right_free = end == len(text) or not _is_han(text[end])
        if left_free and right_free:
            return True  # punctuation, digits or Latin on both sides: a word of its own
        window = self.WINDOW
        if mode == WORD:
            if not _may_straddle(text, start, end):
                return True  # no dictionary word crosses an edge: segmenting cannot split it off
            window = CROSSING + 1  # the words at the edges and their neighbours decide
        left = start
        while left > 0 and start - left < window and _is_han(text[left - 1]):
            left -= 1
        right = end
        while right < len(text) and right - end < window and _is_han(text[right]):
            right += 1
        cuts = {c + left for c in _boundaries(text[left:right])}
        return _confirmed(cuts, start, end, mode)


def _may_straddle(text: str, start: int, end: int) -> bool:
    """Whether some dictionary word begins before the hit and ends inside it, or the other way
    round — the only way jieba's segmentation can straddle it. A few dictionary look-ups, so
    most hits never need the segmentation itself."""
    words = _tokenizer().FREQ
    for inside in range(start + 1, end):
        for a in range(max(0, inside - CROSSING), start):
            if words.get(text[a:inside], 0) >= RARE:
                return True
        for b in range(end + 1, min(len(text), inside + CROSSING) + 1):
            if words.get(text[inside:b], 0) >= RARE:
                return True
    return False


def _confirmed(cuts: set[int], start: int, end: int, mode: int) -> bool:
    if mode == WORD:
        return not _straddled(cuts, start, end)
    if start not in cuts or end not in cuts:
        return False
    return mode == BOUNDARY or not any(start < c < end for c in cuts)


def _straddled(cuts: set[int], start: int, end: int) -> bool:
    """A segmented word begins before the hit and ends inside it (细化|工作 for 化工), or
    begins inside it and ends after it. A word that holds the whole hit (煤化工) does not."""
    ordered = sorted(cuts)
    after_start = next((c for c in ordered if c > start), end)
    before_end = max((c for c in ordered if c < end), default=start)
    return (start not in cuts and after_start < end) or (end not in cuts and before_end > start)


# ─── results ─────────────────────────────────────────────────────────────────────────────────


class Evidence(NamedTuple):
    """One rule that fired: ``points`` were added to ``target`` (a category id, a section or a region)."""

    kind: str  # "cat" | "cue" | "region" | "region_weight" | "prior"
    target: str
    term: str
    zone: str  # title | lead | body | source
    count: int
    points: float


@dataclass(frozen=True)
class TagResult:
    section: str | None
    category: str | None
    category_label: str | None
    confidence: float
    categories: list[tuple[str, float]]  # ranked (id, own evidence + section cues)
    field: str | None  # best technology field, even when the category is a policy one
    region: str | None  # most specific region key (深圳, 广东, 粤港澳大湾区 ...)
    province: str | None  # its province or municipality (广东 for 深圳)
    regions: list[str]  # every region named, strongest first
    matched: dict[str, list[str]]  # category id → terms that fired, less `generic_terms` (regions, `source:` priors)
    cues: dict[str, list[str]]  # section → cue terms that fired
    watch_hits: list[str]
    score: float  # relevance in [0, 1]
    score_parts: dict[str, float]
    sections: dict[str, float]  # section → total evidence
    rules: tuple[tuple[str, str, str, str, int, float], ...] = dc_field(repr=False, default=())
    taxonomy: Taxonomy | None = dc_field(repr=False, compare=False, default=None)

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        """Every rule that fired, in the order it was applied."""
        return tuple(Evidence(*rule) for rule in self.rules)

    def to_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "category": self.category,
            "category_label": self.category_label,
            "confidence": self.confidence,
            "categories": [[cat, score] for cat, score in self.categories],
            "field": self.field,
            "region": self.region,
            "province": self.province,
            "regions": list(self.regions),
            "matched": {cat: list(terms) for cat, terms in self.matched.items()},
            "cues": {section: list(terms) for section, terms in self.cues.items()},
            "watch_hits": list(self.watch_hits),
            "score": self.score,
            "score_parts": dict(self.score_parts),
        }

    def explain(self) -> str:
        """Every rule that fired, as text an editor can read."""
        label = (lambda c: f"{self.taxonomy.label(c)} [{c}]") if self.taxonomy else (lambda c: c)
        head = f"category {label(self.category) if self.category else '(none)'} · section {self.section} · confidence {self.confidence:.2f}"
        if self.field:
            head += f" · field {label(self.field)}"
        if self.region:
            head += f" · region {self.region}" + (f" (province {self.province})" if self.province and self.province != self.region else "")
        evidence = self.evidence
        weight = self.taxonomy.spec.settings.section_weight if self.taxonomy else 1.0
        lines = [head, f"sections ({weight:g} × cues + best category):"]
        for section, total in sorted(self.sections.items(), key=lambda kv: -kv[1]):
            cues = [e for e in evidence if e.kind in ("cue", "prior") and e.target == section]
            lines.append(f"  {section:<6} {total:6.1f}" + ("   " + "; ".join(_fmt(e) for e in cues) if cues else ""))
        lines.append(f"categories (own evidence + {weight:g} × section cues):")
        for rank, (cat, score) in enumerate(self.categories, 1):
            lines.append(f"  {rank}. {label(cat)}  {score:.1f}")
            for e in evidence:
                if e.target == cat and e.kind in ("cat", "region_weight", "prior"):
                    lines.append(f"       {_fmt(e)}")
        unranked = sorted({e.target for e in evidence if e.kind == "cat"} - {c for c, _ in self.categories})
        for cat in unranked:
            parts = "; ".join(_fmt(e) for e in evidence if e.target == cat and e.kind in ("cat", "region_weight", "prior"))
            lines.append(f"  –  {label(cat)} (not ranked: net ≤ 0)  {parts}")
        regions = [e for e in evidence if e.kind == "region"]
        if regions:
            lines.append("regions: " + "; ".join(f"{e.target} ← {_fmt(e)}" for e in regions))
        lines.append("watch terms: " + (", ".join(self.watch_hits) if self.watch_hits else "none"))
        parts = self.score_parts
        lines.append(
            f"score {self.score:.3f} = mean of confidence {parts.get('confidence', 0):.2f}, authority {parts.get('authority', 0):.2f}, "
            f"freshness {parts.get('freshness', 0):.2f}, cluster {parts.get('cluster', 0):.2f} (weights in topics.yml)"
            + (f" + watch bonus {parts['watch_bonus']:.2f}" if parts.get("watch_bonus") else "")
        )
        return "\n".join(lines)


def _fmt(e: Evidence) -> str:
    if e.term.startswith("lead+body capped"):
        return f"{e.term}: {e.points:+.1f}"
    if e.kind == "prior":
        return f"source prior “{e.term}” {e.points:+.1f}"
    if e.kind == "region_weight":
        return f"region {e.term} in {e.zone} × region_weight {e.points:+.1f}"
    times = f" ×{e.count}" if e.count > 1 else ""
    return f"{e.term} ({e.zone}{times}) {e.points:+.1f}"


# ─── the tagger ──────────────────────────────────────────────────────────────────────────────


class Tagger:
    """Build once per taxonomy (compiles the matchers), then call :meth:`tag` per article."""

    def __init__(self, taxonomy: Taxonomy, now: Callable[[], datetime] | None = None):
        self.taxonomy = taxonomy
        self.spec = spec = taxonomy.spec
        self.settings = spec.settings
        self.now = now or (lambda: datetime.now(timezone.utc))
        self.order = {cat: index for index, cat in enumerate(taxonomy.categories)}
        self.section_order = {s: index for index, s in enumerate(spec.sections)}
        self.auto_sections = [s for s, sec in spec.sections.items() if sec.assign == "auto"]
        entries: dict[str, list[_Payload]] = {}
        checks: dict[str, int] = {}

        def add(term: str, payload: _Payload, mode: int = NO_CHECK) -> None:
            key = _normalise(term).strip()
            entries.setdefault(key, []).append(payload)
            checks[key] = max(checks.get(key, NO_CHECK), mode)

        for cat_id, cat in taxonomy.categories.items():
            for term, spec_ in cat.keywords.items():
                add(term, _Payload("cat", cat_id, spec_.weight, term), _default_check(term, spec_.whole_word))
            for term, spec_ in cat.negative.items():
                add(term, _Payload("cat", cat_id, -spec_.weight, term), _default_check(term, spec_.whole_word))
        for section, sec in spec.sections.items():
            for term, spec_ in sec.cues.items():
                add(term, _Payload("cue", section, spec_.weight, term), _default_check(term, spec_.whole_word))
        self.host_regions: list[tuple[str, str]] = []
        for key, region in spec.regions.items():
            for name in region.names:
                add(name, _Payload("region", key, 1.0, name), BOUNDARY if len(name) <= 2 else NO_CHECK)
            for short in region.short:
                add(short, _Payload("region", key, 0.6, short), TOKEN)
            self.host_regions += [(host, key) for host in region.hosts]
        self.host_regions.sort(key=lambda hr: -len(hr[0]))  # most specific host first (sz.gov.cn before gd…)
        self.matcher = _Matcher(entries, checks, self.settings.max_checks)
        self.zones = self.settings.zones.model_dump()
        self.region_zones = self.settings.region_zones.model_dump()
        self.repeat = [0.0] + [min(1.0 + math.log(n), self.settings.repeat_cap) for n in range(1, 64)]
        self.region_weights = [(c, cat.region_weight) for c, cat in taxonomy.categories.items() if cat.region_weight]
        self.category_section = {c: cat.section for c, cat in taxonomy.categories.items()}
        self.region_order = {r: index for index, r in enumerate(spec.regions)}
        self._hosts: dict[str, tuple[str | None, set[int], float]] = {}
        watch = {}
        for w in spec.watch_terms:
            watch.setdefault(_normalise(w.term).strip(), w.term)
        self.watch_terms = watch
        self.watch = _Matcher({k: [] for k in watch}, {}, 1)
        self.generic = frozenset(spec.generic_terms)
        self.priors = [(p, re.compile(p.match.url) if p.match.url else None) for p in spec.source_priors]

    # The one entry point -------------------------------------------------------------------
    def tag(
        self,
        title: str,
        body: str = "",
        source: str | None = None,
        url: str | None = None,
        published_at: datetime | None = None,
        cluster_size: int = 1,
    ) -> TagResult:
        s = self.settings
        title_n = _normalise(title or "")
        body_n = _normalise(body or "")
        counts = self.matcher.scan(title_n, None)
        counts.update(self.matcher.scan(body_n, s.lead_chars))

        own: dict[str, float] = {}
        cues: dict[str, float] = {}
        region_points: dict[str, float] = {}
        region_best: dict[str, tuple[float, int, str, str]] = {}  # factor, zone order, term, zone
        rules: list[tuple[str, str, str, str, int, float]] = []  # Evidence fields, kept as plain tuples
        zones, region_zones, repeat, entries = self.zones, self.region_zones, self.repeat, self.matcher.entries
        text_own: dict[str, float] = {}  # lead + body evidence, capped per target below
        text_cues: dict[str, float] = {}
        for (term, zone), n in counts.items():
            factor = zones[zone] * (repeat[n] if n < len(repeat) else repeat[-1])
            in_title = zone == "title"
            for kind, target, weight, written in entries[term]:
                points = weight * factor
                if kind == "cat":
                    into = own if in_title else text_own
                    into[target] = into.get(target, 0.0) + points
                elif kind == "cue":
                    into = cues if in_title else text_cues
                    into[target] = into.get(target, 0.0) + points
                else:
                    region_points[target] = region_points.get(target, 0.0) + points
                    best = (region_zones[zone], -ZONE_ORDER[zone], written, zone)
                    if target not in region_best or best[:2] > region_best[target][:2]:
                        region_best[target] = best
                if points:
                    rules.append((kind, target, written, zone, n, points))

        # The body informs but cannot outvote the title: lead + body add at most `body_cap`
        # to any one category or section.
        cap = s.body_cap
        for parts, into, kind in ((text_own, own, "cat"), (text_cues, cues, "cue")):
            for target, points in parts.items():
                if points > cap:
                    rules.append((kind, target, f"lead+body capped at {cap:g}", "body", 1, cap - points))
                    points = cap
                into[target] = into.get(target, 0.0) + points

        # Where the article comes from.
        host = (urlsplit(url).hostname or "").lower() if url else ""
        host_region, host_priors = self._host_info(host)
        prior_region = None
        matched_prior: dict[str, list[str]] = {}
        for prior, url_regex in self.priors:
            m = prior.match
            if m.source and source not in m.source:
                continue
            if m.host and id(prior) not in host_priors:
                continue
            if url_regex is not None and not (url and url_regex.search(url)):
                continue
            if m.local_government and host_region is None:
                continue
            for section, points in prior.sections.items():
                cues[section] = cues.get(section, 0.0) + points
                rules.append(("prior", section, prior.name, "source", 1, points))
            for cat, points in prior.categories.items():
                own[cat] = own.get(cat, 0.0) + points
                rules.append(("prior", cat, prior.name, "source", 1, points))
                matched_prior.setdefault(cat, []).append(f"source:{prior.name}")
            prior_region = prior_region or prior.region

        # Region: the strongest named one (a local government's host counts as one title
        # mention of its region; ties go to the earliest zone); else a prior's.
        if host_region is not None:
            region_points[host_region] = region_points.get(host_region, 0.0) + zones["title"]
            rules.append(("region", host_region, host, "source", 1, zones["title"]))
            region_best.setdefault(host_region, (0.0, 1, host, "source"))
        ranked_regions = sorted(region_points, key=lambda r: (-region_points[r], -region_best[r][1], self.region_order[r]))
        region = ranked_regions[0] if ranked_regions else prior_region
        if region is not None and region in region_best and region_best[region][0]:
            factor, _, written, zone = region_best[region]
            for cat_id, weight in self.region_weights:
                points = weight * factor
                own[cat_id] = own.get(cat_id, 0.0) + points
                rules.append(("region_weight", cat_id, written, zone, 1, points))

        # Section, then category inside it.
        lam = s.section_weight
        order, section_of = self.order, self.category_section
        best_in: dict[str, tuple[float, str | None]] = {}
        totals: dict[str, float] = {}
        for section in self.auto_sections:
            inside = [(own[c], -order[c], c) for c in own if own[c] > 0 and section_of[c] == section]
            best = max(inside) if inside else (0.0, 0, None)
            best_in[section] = (best[0], best[2])
            totals[section] = round(lam * cues.get(section, 0.0) + best[0], 2)
        chosen = max(self.auto_sections, key=lambda sec: (totals[sec], -self.section_order[sec]))
        ranked: list[tuple[str, float]] = []
        if totals[chosen] < s.min_score:
            section, category = s.fallback_section, None
        else:
            section = chosen
            category = best_in[chosen][1] or self.spec.sections[chosen].default_category
            scored = {c: own[c] + lam * cues.get(section_of[c], 0.0) for c in own if own[c] > 0}
            if category is not None and category not in scored:
                scored[category] = lam * cues.get(chosen, 0.0)
            ranked = sorted(((c, round(v, 2)) for c, v in scored.items()), key=lambda cv: (-cv[1], cv[0] != category, order[cv[0]]))
        # Confidence: how clearly the section won, times how clearly the category won inside
        # it, times how much evidence there is at all (saturating at `confidence_scale`).
        confidence = 0.0
        if category is not None:
            t1, t2 = (sorted(totals.values(), reverse=True) + [0.0])[:2]
            inside = sorted((own[c] for c in own if own[c] > 0 and section_of[c] == section), reverse=True) + [0.0, 0.0]
            o1, o2 = inside[0], inside[1]
            if o1 > 0:
                clarity = o1 / (o1 + o2)
                amount = 1 - math.exp(-o1 / s.confidence_scale)
            else:  # the section's default category: nothing named it
                clarity, amount = 0.5, 1 - math.exp(-t1 / s.confidence_scale)
            confidence = round(t1 / (t1 + t2) * clarity * amount, 3) if t1 > 0 else 0.0

        fields = [(own[c], -order[c], c) for c in self.taxonomy.field_ids if own.get(c, 0) > 0]
        best_field = max(fields)[2] if fields else None

        matched: dict[str, list[str]] = {}
        cue_terms: dict[str, list[str]] = {}
        for kind, target, written, _zone, _n, points in sorted(rules, key=lambda r: -r[5]):
            if written.startswith("lead+body capped") or written in self.generic:
                continue
            if kind == "cat":
                _append(matched.setdefault(target, []), written if points > 0 else f"-{written}")
            elif kind == "region_weight" and points > 0:
                _append(matched.setdefault(target, []), written)
            elif kind == "cue":
                _append(cue_terms.setdefault(target, []), written)
        for cat, names in matched_prior.items():
            for name in names:
                _append(matched.setdefault(cat, []), name)

        found = {t for t, _ in self.watch.scan(title_n, None)} | {t for t, _ in self.watch.scan(body_n, 0)}
        watch_hits = [written for term, written in self.watch_terms.items() if term in found]
        score, parts = self._relevance(confidence, source, host, published_at, cluster_size, bool(watch_hits))
        return TagResult(
            section=section,
            category=category,
            category_label=self.taxonomy.label(category),
            confidence=confidence,
            categories=ranked,
            field=best_field,
            region=region,
            province=self.taxonomy.province_of(region),
            regions=ranked_regions or ([region] if region else []),
            matched=matched,
            cues=cue_terms,
            watch_hits=watch_hits,
            score=score,
            score_parts=parts,
            sections=totals,
            rules=tuple(rules),
            taxonomy=self.taxonomy,
        )

    def _host_info(self, host: str) -> tuple[str | None, set[int]]:
        """The region whose government host this is, and the priors whose `host` matches (cached)."""
        info = self._hosts.get(host)
        if info is None:
            region = next((key for suffix, key in self.host_regions if host_matches(host, suffix)), None)
            priors = {id(p) for p, _ in self.priors if any(host_matches(host, suffix) for suffix in p.match.host)}
            auth = self.spec.relevance.authority
            suffixes = sorted((h for h in auth.hosts if host_matches(host, h)), key=len, reverse=True)
            authority = auth.hosts[suffixes[0]] if suffixes else auth.default
            if len(self._hosts) > 10_000:
                self._hosts.clear()
            info = self._hosts[host] = (region, priors, authority)
        return info[0], info[1]

    def _relevance(self, confidence: float, source: str | None, host: str, published_at: datetime | None, cluster_size: int, watched: bool) -> tuple[float, dict[str, float]]:
        rel = self.spec.relevance
        auth = rel.authority
        if source is not None and source in auth.sources:
            authority = auth.sources[source]
        else:
            self._host_info(host)
            authority = self._hosts[host][2]
        if published_at is None:
            freshness = rel.freshness.unknown
        else:
            when = published_at if published_at.tzinfo else published_at.replace(tzinfo=CHINA)
            age = (self.now() - when).total_seconds() / 3600
            freshness = 1.0 if age <= 0 else 0.5 ** (age / rel.freshness.half_life_hours)
        cluster = min(1.0, math.log(max(cluster_size, 1)) / math.log(rel.cluster_saturation))
        w = rel.weights
        total = w.confidence + w.authority + w.freshness + w.cluster
        score = (w.confidence * confidence + w.authority * authority + w.freshness * freshness + w.cluster * cluster) / total
        parts = {"confidence": confidence, "authority": authority, "freshness": round(freshness, 3), "cluster": round(cluster, 3)}
        if watched and rel.watch_bonus:
            parts["watch_bonus"] = rel.watch_bonus
            score += rel.watch_bonus
        return round(min(score, 1.0), 4), parts


def _append(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)

