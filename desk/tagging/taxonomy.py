"""A topics file as the tagger and the report importer use it: :func:`load_taxonomy` reads and
validates it (every problem as ``file:line: field `x`: ...``), :class:`Taxonomy` looks
categories up by id, label and alias."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from common.yamlfile import WatchlistError, describe, parse_yaml, yaml_problem  # one error style: file:line: field `x`: ...
from desk.tagging.matcher import name_key, normalise
from desk.tagging.schema import ID, Category, TaxonomyFile

Problem = tuple[tuple[Any, ...], str]  # where in the file (a Pydantic `loc`), what is wrong


class TaxonomyError(WatchlistError):
    """topics.yml is invalid. ``str()`` names file, line and field for each problem."""


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
        raise TaxonomyError([yaml_problem(path, error)]) from None
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


def _duplicate_keys(node: yaml.Node | None, loc: tuple[Any, ...] = ()) -> list[Problem]:
    """PyYAML silently keeps the last of two equal keys; an editor should hear about it."""
    found: list[Problem] = []
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


def _references(spec: TaxonomyFile) -> list[Problem]:
    """Checks that span fields: names that must exist, ids, collisions."""
    every, found = _all_categories(spec)
    names: dict[str, tuple[Any, ...]] = {}
    for key, (group, cat) in every.items():
        found += _category_problems(spec, (group, key), cat, names)
    found += _section_problems(spec, every)
    region_names, region_problems = _region_names(spec)
    found += region_problems
    found += _prior_problems(spec, every)
    found += _generic_term_problems(spec, every, region_names)
    weights = spec.relevance.weights
    if weights.confidence + weights.authority + weights.freshness + weights.cluster <= 0:
        found.append((("relevance", "weights"), "at least one weight must be above 0"))
    return found


def _all_categories(spec: TaxonomyFile) -> tuple[dict[str, tuple[str, Category]], list[Problem]]:
    """Policy categories and technology fields by id, with the group each is in; a field may
    not reuse a category's id."""
    found: list[Problem] = []
    every = {k: ("categories", c) for k, c in spec.categories.items()}
    for key, cat in spec.fields.items():
        if key in every:
            found.append((("fields", key), f"id `{key}` is already used in `categories`"))
        every.setdefault(key, ("fields", cat))
    return every, found


def _category_problems(spec: TaxonomyFile, where: tuple[str, str], cat: Category, names: dict[str, tuple[Any, ...]]) -> list[Problem]:
    """One category's id, section, names (``names`` collects them across categories) and terms."""
    found: list[Problem] = []
    sections, key = spec.sections, where[1]
    if not ID.match(key):
        found.append((where, f"id `{key}`: use lower-case ASCII letters, digits and `_` (e.g. `basic_science`); put the Korean name in `label`"))
    if cat.section not in sections:
        found.append((where + ("section",), f"unknown section {cat.section!r}; use one of {', '.join(sections)}"))
    elif sections[cat.section].assign != "auto":
        found.append((where + ("section",), f"section {cat.section!r} is not assigned by the tagger (assign: {sections[cat.section].assign})"))
    for index, name in enumerate([key, cat.label, *cat.aliases]):
        norm = name_key(name)
        if norm in names and names[norm] != where:
            place = where + (("aliases", index - 2) if index >= 2 else ("label",) if index == 1 else ())
            found.append((place, f"name {name!r} already names `{'.'.join(map(str, names[norm]))}`"))
        names.setdefault(norm, where)
    for part in ("keywords", "negative"):
        seen: dict[str, str] = {}
        for term in getattr(cat, part):
            norm = normalise(term).strip()
            if norm in seen:
                found.append((where + (part, term), f"same term as {seen[norm]!r} once case and width are ignored"))
            seen[norm] = term
    return found


def _section_problems(spec: TaxonomyFile, every: dict[str, tuple[str, Category]]) -> list[Problem]:
    found: list[Problem] = []
    sections = spec.sections
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
    return found


def _region_names(spec: TaxonomyFile) -> tuple[dict[str, str], list[Problem]]:
    """Every region name and short form → its region; a name may name one region only."""
    found: list[Problem] = []
    seen_names: dict[str, str] = {}
    for key, region in spec.regions.items():
        if region.parent is not None and region.parent not in spec.regions:
            found.append((("regions", key, "parent"), f"unknown region {region.parent!r}"))
        for part, values in (("names", region.names), ("short", region.short)):
            for index, name in enumerate(values):
                if name in seen_names and seen_names[name] != key:
                    found.append((("regions", key, part, index), f"{name!r} is already a name of region {seen_names[name]!r}"))
                seen_names.setdefault(name, key)
    return seen_names, found


def _prior_problems(spec: TaxonomyFile, every: dict[str, tuple[str, Category]]) -> list[Problem]:
    found: list[Problem] = []
    for index, prior in enumerate(spec.source_priors):
        for section in prior.sections:
            if section not in spec.sections:
                found.append((("source_priors", index, "sections", section), f"unknown section {section!r}"))
        for cat in prior.categories:
            if cat not in every:
                found.append((("source_priors", index, "categories", cat), f"unknown category {cat!r}"))
        if prior.region is not None and prior.region not in spec.regions:
            found.append((("source_priors", index, "region"), f"unknown region {prior.region!r}"))
    return found


def _generic_term_problems(spec: TaxonomyFile, every: dict[str, tuple[str, Category]], region_names: dict[str, str]) -> list[Problem]:
    found: list[Problem] = []
    known = {term for _, cat in every.values() for term in (*cat.keywords, *cat.negative)}
    known |= {term for section in spec.sections.values() for term in section.cues} | set(region_names)
    for index, term in enumerate(spec.generic_terms):
        if term not in known:  # a typo would silently show the word it meant to hide
            found.append((("generic_terms", index), f"{term!r} is not a term of this file; only matched terms can be hidden"))
    return found


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
        self.authority = spec.relevance.authority  # also ranks a story's items (desk.verdicts)
        self._names: dict[str, str] = {}
        for key, cat in self.categories.items():
            for name in (key, cat.label, *cat.aliases):
                self._names.setdefault(name_key(name), key)

    def resolve(self, name: str | None) -> str | None:
        """The id of a category named by id, Korean label or alias (``ICT`` → ``ict``), else None."""
        if not name:
            return None
        return self._names.get(name_key(name))

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

