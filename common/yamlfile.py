"""Watchlist files: YAML read once with its node tree, so that every problem can be reported
as ``file:line: field `dotted.path`: what is wrong`` — the one error style of every file an
editor writes (sources, topics)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


class WatchlistError(Exception):
    """A watchlist file is invalid. ``str()`` names file, line and field for each problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def yaml_problem(path: Path, error: yaml.YAMLError) -> str:
    """``file:line: not valid YAML: …`` for a file the YAML parser refused."""
    mark = getattr(error, "problem_mark", None)
    line = f":{mark.line + 1}" if mark else ""
    return f"{path}{line}: not valid YAML: {getattr(error, 'problem', error)}"


def parse_yaml(text: str) -> tuple[Any, yaml.Node | None]:
    """The data of a YAML document and its node tree (for line numbers), parsed once — with
    libyaml when available: every crawl process reads every watchlist at start-up."""
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    finally:
        loader.dispose()


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_model(path: Path, model: type[Model] | Callable[[Any, yaml.Node | None], type[Model]]) -> Model:
    """The file at ``path`` validated by ``model`` — a Pydantic model, or a function that picks
    one from the parsed data and node tree (raising WatchlistError when none fits). Every
    problem is a WatchlistError naming file, line and field."""
    try:
        data, node = parse_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise WatchlistError([f"{path}:1: cannot read the file: {error}"]) from None
    except yaml.YAMLError as error:
        raise WatchlistError([yaml_problem(path, error)]) from None
    chosen = model if isinstance(model, type) else model(data, node)
    try:
        return chosen.model_validate(data)
    except ValidationError as error:
        raise WatchlistError([describe(path, node, e) for e in error.errors()]) from None


def compiled_regex(value: str | None) -> str | None:
    """Refuse a pattern Python cannot compile (the field names where it is written)."""
    if value is not None:
        try:
            re.compile(value)
        except re.error as error:
            raise ValueError(f"invalid regular expression: {error}") from None
    return value


def describe(path: Path, root: yaml.Node | None, error: Any) -> str:
    """``file:line: field `a.b`: message`` for one Pydantic error, the line found in the YAML tree."""
    loc = tuple(error["loc"])
    if loc[-1:] == ("select",) and isinstance(node_at(root, loc[:-1]), yaml.ScalarNode):
        loc = loc[:-1]  # written as the shorthand `title: "h1"`: there is no `select` key to name
    field = ".".join(str(part) for part in loc) or "(file)"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        message = "missing (required)"
    elif error["type"] == "extra_forbidden":
        message = "unknown field (check the spelling)"
    return f"{path}:{line_of(root, loc)}: field `{field}`: {message}"


def line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int:
    """Line of the deepest YAML key (or list item) that ``loc`` reaches (1-based)."""
    return _walk(node, loc)[0]


def node_at(node: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    """The YAML node at ``loc``, or None when the path leaves the document."""
    _, found, complete = _walk(node, loc)
    return found if complete else None


def _walk(node: yaml.Node | None, loc: tuple[Any, ...]) -> tuple[int, yaml.Node | None, bool]:
    """Follow ``loc`` down the node tree: (line of the last key reached, its node, reached the end)."""
    line = (node.start_mark.line + 1) if node is not None else 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == part), None)
            if match is None:
                return line, node, False
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line, node, False
    return line, node, True
