"""Which stored items may cover a cited title, asked of the search index instead of read one by
one: an item that ``desk.similarity.titles_match`` would match shares most of the title's
trigrams, and the index finds the items holding enough of them (storage.search.sharing_trigrams).

How many is enough. A match by ratio allows E insertions and deletions between the keys
(E ≤ 2(1 − r)/r · L for a cited key of L characters and r = TITLE_MATCH_AT), each breaking at
most three of the cited title's trigrams; a match by containment loses the trigrams at the
ends, at most (1 − MIN_LENGTH_RATIO) · L. Requiring only what the worst case leaves (often a
single trigram: E is 5 in a 25-character title) would read the archive's commonest trigrams
(的通知, 关于印) for every title. So the requirement assumes what reprints do: add or drop
words at the ends (an outlet's name, a prefix, a date) and change at most INSIDE_EDITS
characters inside — a match whose edits are scattered wider (possible by ratio in a long
title: five single-character insertions in 25) is not found. Titles are short, so for most
of them the worst case and this assumption require the same. A body is asked only in its
lead (the start the index holds, storage.search.LEAD_SQL), which must hold at least half of the
trigrams (``required_in_lead``); PostgreSQL asks only the leads whose first line is short
enough to be the title (``most_lead_letters``), as a first paragraph that quotes the title
holds every trigram of it.

Digits. A trigram of digits alone (202, 024 of a year, 201 of a document number) has no
weight: it is in a large part of any archive and says nothing of the story, so it is not
asked and the count is lowered by one for each (``asked``). Marks never make a trigram: the
runs lie between them. A reprint that keeps none of the title's lettered trigrams whole is
not found (the count never falls below one).

Short titles. A title split by marks into short runs has few trigrams, and what the edits and
SLACK may break is most of them: 《消费端碳排放研究报告（2024）》发布 has eight with weight, one
required of a title (four of a lead). The index counts how many items hold each trigram, and
one held by more than storage.search.COMMON items is left out, the count lowered for it; when
that would leave nothing required, the common trigrams are all left out and one of the
title's uncommon ones is required: the assumption is that a reprint keeps at least one of them
whole (here one of the eight of 消费端碳排放研究报告: losing all eight takes three characters
changed inside those ten, the most INSIDE_EDITS and SLACK allow together, placed two apart —
such a reprint is not found). What it costs stays bounded by the issue: an uncommon trigram
names at most COMMON items. A title whose every trigram is common keeps its whole count, and
the database counts each item's shared trigrams, so only the items holding that many come back
— no assumption beyond the ones above; what it costs is each trigram's list of items, read by
the index, and the items holding enough, confirmed one by one. For a short title that count is
one in a title, so every item holding any of its trigrams is confirmed: that grows with the archive
(bench/NOTES.md).

The stored text is raw where the key is normalised, so the trigrams are taken within the
title's runs of letters (never across a mark the key drops), in simplified characters and
also in traditional ones, and SLACK more may be lost to what the key ignores (a space inside
a run, a full-width digit, a character OpenCC spells another way).
"""

from __future__ import annotations

import re
from functools import lru_cache

from common.text import nfkc
from desk import similarity

INSIDE_EDITS = 2  # characters a reprint changes inside a title (each breaks up to three trigrams)
SLACK = 3  # trigrams a stored title may lose to a difference its key ignores: one character's worth
_SEPARATORS = re.compile(r"[\W_]+", re.UNICODE)  # what title_key drops: runs of letters lie between
_KEPT_LETTERS = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")  # letters every title key keeps as they are


def trigram_groups(title: str) -> list[list[str]]:
    """The distinct trigrams of a cited title's runs of letters, each with its traditional spelling
    when it has another: [["人工智", "人工智"], ["工智能"], …] — simplified first."""
    groups: dict[str, list[str]] = {}
    for run in _SEPARATORS.split(nfkc(title)):
        simplified = similarity.title_key(run)
        traditional = _s2t(simplified) if len(simplified) >= 3 else simplified
        for start in range(len(simplified) - 2):
            trigram = simplified[start:start + 3]
            spellings = groups.setdefault(trigram, [trigram])
            if len(traditional) == len(simplified) and traditional[start:start + 3] not in spellings:
                spellings.append(traditional[start:start + 3])
    return list(groups.values())


def has_weight(trigram: str) -> bool:
    """Whether a trigram may narrow a lookup: it holds a letter. Digits alone (202, 024: a year
    in every other headline, a number in every document name) say nothing of the story."""
    return any(char.isalpha() for char in trigram)


def asked(title: str, key_length: int) -> tuple[list[list[str]], int, int]:
    """What the index is asked for a cited title whose key has ``key_length`` characters: its
    trigram groups that have weight, and how many of them an item's title, and its lead, must
    hold. A match holds ``required`` of all the groups, so of these it holds that many less the
    weightless ones, at least one (the assumption above); a lead, at least half of these
    (``required_in_lead``). A title of digits only keeps them."""
    groups = trigram_groups(title)
    weighed = [group for group in groups if has_weight(group[0])] or groups
    in_title = max(required(key_length, len(groups)) - (len(groups) - len(weighed)), 1)
    return weighed, in_title, required_in_lead(in_title, len(weighed))


def required(key_length: int, groups: int) -> int:
    """How many of a cited title's ``groups`` trigrams an item that matches it holds at the least."""
    ratio = similarity.TITLE_MATCH_AT
    edits = int(2 * (1 - ratio) / ratio * key_length + 1e-9)  # the worst case a ratio allows
    ends = int((1 - similarity.MIN_LENGTH_RATIO) * key_length + 1e-9)  # what containment loses
    lost = min(3 * edits, max(ends, 3 * INSIDE_EDITS)) + SLACK
    return max(groups - lost, 1)


def required_in_lead(in_title: int, groups: int) -> int:
    """What a body's lead (its first line), which may match, holds of ``groups`` trigrams that a
    title must hold ``in_title`` of: a body is long and holds a few trigrams of most headlines,
    so its lead must hold at least half of them — a lead that matches is the headline, whole or
    nearly (a reprint's real headline under a generic title)."""
    return max(in_title, (groups + 1) // 2)


def headline_letters(lead: str) -> int:
    """The letters of ``lead``'s first line that any title key keeps: what storage.search's
    HEADLINE_LETTERS_SQL counts, in Python."""
    return len(_KEPT_LETTERS.findall(lead.split("\n", 1)[0]))


def most_lead_letters(key_length: int) -> int:
    """The most letters (CJK ideographs, ASCII letters and digits: storage.search's
    HEADLINE_LETTERS_SQL) a lead's first line may hold and still match a cited title whose key
    has ``key_length`` characters. A key keeps every such letter, and titles_match wants the
    shorter key at least MIN_LENGTH_RATIO of the longer; SLACK more, for OpenCC, which spells a
    few traditional phrases in fewer characters."""
    return int(key_length / similarity.MIN_LENGTH_RATIO + 1e-9) + SLACK


@lru_cache(maxsize=4096)
def _s2t(text: str) -> str:
    return _opencc_s2t().convert(text)


@lru_cache(maxsize=1)
def _opencc_s2t():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("s2t")
