"""The CONTENTS block: which entry describes which story, so a story gets its category."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from desk.issues.report import Story


@dataclass
class ContentsEntry:
    """One headline listed in CONTENTS, under the section and category named above it."""

    section: str | None
    category: str | None
    headline: str
    raw: str  # the line as extracted, for Report.unplaced when no story matches


def is_category(text: str) -> bool:
    """A bare, short, unpunctuated line in CONTENTS names the category of what follows."""
    return len(text) <= 15 and not re.search(r"[,，'‘’\"“”()]", text)


def _similarity(a: str, b: str) -> float:
    """How alike two headlines read, punctuation and spacing aside (they vary freely)."""
    a, b = (re.sub(r"[\W_]+", "", text) for text in (a, b))
    return difflib.SequenceMatcher(None, a, b).ratio()


def _align(entries: list[ContentsEntry], stories: list[Story]) -> dict[int, int]:
    """Which CONTENTS entry (value) describes which story (key).

    The same number of each: order decides, as it does for a reader (CONTENTS often words a
    headline differently). Otherwise the order-keeping pairing with the most similar
    headlines, so one missing entry does not shift every category after it.
    """
    if len(entries) == len(stories):
        return {i: i for i in range(len(stories))}
    return _similar_pairs([[_similarity(s.headline, e.headline) for e in entries] for s in stories])


def _similar_pairs(score: list[list[float]], floor: float = 0.4) -> dict[int, int]:
    """Order-keeping pairs of rows and columns with the largest total score (each ≥ floor)."""
    rows, columns = len(score), len(score[0]) if score else 0
    best = [[0.0] * (columns + 1) for _ in range(rows + 1)]
    for i in range(rows - 1, -1, -1):
        for j in range(columns - 1, -1, -1):
            pair = score[i][j] + best[i + 1][j + 1] if score[i][j] >= floor else 0.0
            best[i][j] = max(best[i + 1][j], best[i][j + 1], pair)
    pairs, i, j = {}, 0, 0
    while i < rows and j < columns:
        if score[i][j] >= floor and best[i][j] == score[i][j] + best[i + 1][j + 1]:
            pairs[i], i, j = j, i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return pairs


def _same_section(body: str, contents: str | None) -> bool:
    return bool(body and contents) and (body.startswith(contents) or contents.startswith(body))


def categorise(stories: list[Story], entries: list[ContentsEntry]) -> list[str]:
    """Give each story its CONTENTS category; return the raw CONTENTS lines left unmatched.

    Entries are paired within their section when CONTENTS names sections, else in one run.
    A section may be named shorter in one place than the other (특집 / 특집기사).
    """
    by_section = any(entry.section for entry in entries)
    used: set[int] = set()
    for section in dict.fromkeys(entry.section if by_section else None for entry in entries):
        group = [k for k, entry in enumerate(entries) if not by_section or entry.section == section]
        group_stories = [story for story in stories if not by_section or _same_section(story.section, section)]
        for s, e in _align([entries[k] for k in group], group_stories).items():
            group_stories[s].category = entries[group[e]].category
            used.add(group[e])
    return [entry.raw for k, entry in enumerate(entries) if k not in used]
