"""Term matching: normalised text, every term of the taxonomy behind a few trie-shaped
regular expressions (leftmost, longest, non-overlapping; ASCII terms as whole words), and
jieba's segmentation to confirm ambiguous Chinese hits (see the package docstring, steps 1–2)."""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from typing import Any, NamedTuple


def normalise(text: str) -> str:
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


def name_key(name: str) -> str:
    """How category names and aliases are compared: width, case and spaces ignored."""
    return normalise(unicodedata.normalize("NFKC", name)).replace(" ", "")


# How a hit is confirmed, weakest first (a term in several roles gets the strictest):
# WORD — no word of jieba's segmentation straddles its edges (化工 is not in 细化/工作, but is
# in 煤化工); BOUNDARY — it starts and ends on word boundaries; TOKEN — it is a word itself.
NO_CHECK, WORD, BOUNDARY, TOKEN = 0, 1, 2, 3
# Dictionary words rarer than this (half of jieba's 350 000 occur under 4 times) never win a
# segmentation against a common keyword; 地级 (47) and 细化 (123), which do, are far above.
RARE = 20
CROSSING = 4  # longest dictionary word looked for across a hit's edge (longer ones are idioms, rare)


def default_check(term: str, whole_word: bool) -> int:
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


def tokenizer() -> Any:
    """One jieba tokenizer per process, loaded on first use (~0.6 s), never the global one."""
    global _TOKENIZER
    if _TOKENIZER is None:
        with _TOKENIZER_LOCK:
            if _TOKENIZER is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                loaded = jieba.Tokenizer()
                loaded.initialize()
                _TOKENIZER = loaded
    return _TOKENIZER


def _boundaries(text: str) -> set[int]:
    """Offsets where jieba puts word boundaries in a run of Chinese text (its dictionary-only
    mode, the same as ``jieba.cut(text, HMM=False)`` on a Chinese block)."""
    segmenter = tokenizer()
    route: dict[int, tuple[float, int]] = {}
    segmenter.calc(text, segmenter.get_DAG(text), route)
    cuts, x = {0}, 0
    while x < len(text):
        x = route[x][1] + 1
        cuts.add(x)
    return cuts


def _is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


class Payload(NamedTuple):
    kind: str  # "cat" | "cue" | "region"
    target: str  # category id, section name, region key
    weight: float  # negative for `negative:` terms; 1.0 / 0.6 for region names / short forms
    term: str  # as written in the YAML


class Matcher:
    """Every term → what it counts for, behind a few compiled expressions.

    Python's regular-expression engine tries the top-level alternatives of a pattern one by
    one at every position whose character starts some term; with ~400 distinct first
    characters that linear walk dominates. The terms are therefore split by first character
    into a few expressions (each keeps the engine's fast skip over characters that start none
    of its terms) and their matches are merged back into exactly what one expression would
    give: leftmost, longest, non-overlapping."""

    WINDOW = 8  # Chinese characters of context on each side for a jieba check

    def __init__(self, entries: dict[str, list[Payload]], checks: dict[str, int], max_checks: int):
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
    words = tokenizer().FREQ
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

