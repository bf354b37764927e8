"""Text similarity for verdicts (desk/verdicts.py decides them): normalised title keys and
their index, the document a title names, and MinHash signatures with LSH band keys over
character shingles of title + body — estimated Jaccard similarity, so each new item looks up
a handful of candidates however large the archive."""

from __future__ import annotations

import bisect
import re
from collections import Counter
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path

import numpy as np

from common.text import nfkc

NUM_PERM, BANDS = 64, 16  # 16 bands of 4 rows: a pair at Jaccard 0.6 shares a band 89% of the time
ROWS = NUM_PERM // BANDS
DUPLICATE_AT = 0.6  # estimated Jaccard over 3-character shingles
TITLE_MATCH_AT = 0.9  # similarity of normalised titles for `covered`
HEADLINE_AGREES_AT = 0.7  # duplicates must also share most of a headline
SHINGLE = 3
_PUNCT = re.compile(r"[\W_]+", re.UNICODE)
_HASH_SEED = 7


@lru_cache(maxsize=1)
def _t2s():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=8192)  # one item's title is keyed three times, candidates' titles again and again
def title_key(text: str | None) -> str:
    """A title reduced to what identifies it: NFKC (full → half width), simplified characters,
    no punctuation, brackets or spaces, lower case."""
    if not text:
        return ""
    text = nfkc(text)
    if not _convertible().isdisjoint(text):  # else t2s would return it unchanged, a thousand times slower
        text = _t2s().convert(text)
    return _PUNCT.sub("", text).lower()


@lru_cache(maxsize=1)
def _convertible() -> frozenset[str]:
    """The characters OpenCC's t2s changes: where its tables (phrases and characters) map a
    character to another. A text with none of them converts to itself."""
    import opencc

    tables = Path(opencc.__file__).parent / "dictionary"
    changed: set[str] = set()
    for name in ("TSPhrases.txt", "TSCharacters.txt"):
        for line in (tables / name).read_text(encoding="utf-8").splitlines():
            source, _, targets = line.strip().partition("\t")
            target = targets.split(" ")[0]  # the alternative OpenCC uses
            if len(target) != len(source):
                changed.update(source)
            else:
                changed.update(old for old, new in zip(source, target) if old != new)
    return frozenset(changed)


def titles_match(a: str, b: str, matcher: SequenceMatcher | None = None) -> bool:
    """Two normalised titles name the same story (one may carry a prefix such as 【科技日报】).

    ``matcher``, when given, already holds ``b`` as its second sequence: comparing one title
    with many then indexes it once.
    """
    if not a or not b:
        return False
    if a == b:
        return True
    shorter, longer = sorted((a, b), key=len)
    if len(shorter) / len(longer) < MIN_LENGTH_RATIO:
        return False  # too different in length for either test below
    if len(shorter) >= 10 and shorter in longer:
        return True
    if matcher is None:
        matcher = SequenceMatcher(None, autojunk=False)
        matcher.set_seq2(b)
    matcher.set_seq1(a)
    # The quick ratios are upper bounds of ratio(): most references fail them cheaply.
    return matcher.real_quick_ratio() >= TITLE_MATCH_AT and matcher.quick_ratio() >= TITLE_MATCH_AT and matcher.ratio() >= TITLE_MATCH_AT


MIN_LENGTH_RATIO = 0.7  # below it neither containment nor a ratio of TITLE_MATCH_AT is possible


class TitleIndex:
    """Cited titles sorted by length: a title can only match one of similar length, so a
    lookup compares with a narrow band of them however many issues were imported."""

    def __init__(self, entries: list[tuple[str, int]]):
        self.entries = sorted(entries, key=lambda entry: len(entry[0]))
        self.lengths = [len(key) for key, _ in self.entries]
        self.characters = [Counter(key) for key, _ in self.entries]

    def __len__(self) -> int:
        return len(self.entries)

    def find(self, key: str) -> int | None:
        """The value stored with the first title that matches ``key``."""
        if not key:
            return None
        low = bisect.bisect_left(self.lengths, len(key) * MIN_LENGTH_RATIO - 1e-9)
        high = bisect.bisect_right(self.lengths, len(key) / MIN_LENGTH_RATIO + 1e-9)
        if low == high:  # no title of a length that could match (a lead is mostly longer than any)
            return None
        characters, matcher = Counter(key), None
        for position in range(low, high):
            title, value = self.entries[position]
            if not _may_match(title, key, self.characters[position], characters):
                continue
            if matcher is None:  # indexing ``key`` costs more than all the counting above
                matcher = SequenceMatcher(None, autojunk=False)
                matcher.set_seq2(key)
            if titles_match(title, key, matcher):
                return value
        return None


def _may_match(a: str, b: str, a_characters: Counter, b_characters: Counter) -> bool:
    """What :func:`titles_match` needs at the least: the characters both share (as a multiset)
    can make the shorter title part of the longer, or a ratio of TITLE_MATCH_AT (their count
    is what difflib's quick_ratio bounds ratio() with)."""
    shared = sum(min(a_characters[char], b_characters[char]) for char in a_characters.keys() & b_characters.keys())
    return shared >= min(len(a), len(b)) or 2 * shared >= TITLE_MATCH_AT * (len(a) + len(b))


_DOCUMENT = re.compile(r"《([^《》]{4,80})》")


def documents(title: str | None) -> list[tuple[str, str]]:
    """(name, normalised name) of the documents a title names in 《…》: a plan, its rules, a list."""
    return [(name, key) for name in _DOCUMENT.findall(title or "") if len(key := title_key(name)) >= 6]


def same_document(a: str, b: str) -> bool:
    """One document name is the other, or contains it ("X" and "X实施细则")."""
    return a in b or b in a


_ISSUER = re.compile(r"^.{0,40}?关于")  # "科技部办公厅关于…": who issues it, shared by all its notices
_DOC_TYPE = re.compile(r"的?(通知|通告|公告|意见|批复|函|决定|办法)$")


def headline_core(key: str) -> str:
    """A normalised government headline without its formulaic issuer and document type."""
    return _DOC_TYPE.sub("", _ISSUER.sub("", key)) or key


def same_headline(a: str, b: str) -> bool:
    """Headline agreement for duplicates: outlets reword and prefix, but keep the gist — and
    two notices of one ministry ("…关于…的通知") must agree on more than the formula."""
    a, b = headline_core(a), headline_core(b)
    if not a or not b:
        return False
    shorter, longer = sorted((a, b), key=len)
    if len(shorter) >= 8 and shorter in longer:
        return True
    return SequenceMatcher(None, a, b, autojunk=False).ratio() >= HEADLINE_AGREES_AT


def plain_key(text: str) -> str:
    """Like :func:`title_key` without the traditional → simplified step: for long texts, where
    the pure-Python OpenCC would cost milliseconds and reprints share the script anyway."""
    return _PUNCT.sub("", nfkc(text)).lower()


def signature(title: str, body: str) -> np.ndarray:
    """The MinHash of a text's 3-character shingles: NUM_PERM minima, one per hash function.

    Vectorised: each shingle becomes one exact 63-bit integer (three code points of 21 bits),
    is mixed by the MurmurHash3 finaliser, then by NUM_PERM multiply-shift hash functions —
    a few hundred microseconds for a 3,000-character body, with no per-shingle Python.
    """
    text = title_key(title) + plain_key(body[:3000])
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(points) < SHINGLE:  # a text shorter than a shingle is one (zero-padded) shingle
        points = np.concatenate([points, np.zeros(SHINGLE - len(points), dtype=np.uint64)])
    shingles = (points[:-2] << np.uint64(42)) | (points[1:-1] << np.uint64(21)) | points[2:]
    mixed = _fmix64(np.unique(shingles))
    a, b = _PERMUTATIONS
    return ((mixed[:, None] * a + b) >> np.uint64(32)).min(axis=0)


def _fmix64(keys: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser: a bijection that spreads structured keys."""
    keys = keys ^ (keys >> np.uint64(33))
    keys = keys * np.uint64(0xFF51AFD7ED558CCD)
    keys = keys ^ (keys >> np.uint64(33))
    keys = keys * np.uint64(0xC4CEB9FE1A85EC53)
    return keys ^ (keys >> np.uint64(33))


def _permutations(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Fixed for ever: stored signatures are only comparable with the same functions."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 1 << 63, NUM_PERM, dtype=np.uint64) * np.uint64(2) + np.uint64(1)  # odd
    return a, rng.integers(0, 1 << 63, NUM_PERM, dtype=np.uint64) * np.uint64(2)


_PERMUTATIONS = _permutations(_HASH_SEED)


def band_keys(values: np.ndarray) -> list[str]:
    return [f"{band}:{hash(tuple(values[band * ROWS:(band + 1) * ROWS].tolist())) & 0xFFFFFFFFFFFF:x}" for band in range(BANDS)]


def pack(values: np.ndarray) -> bytes:
    return values.astype("<u8").tobytes()


def similarity(packed: bytes, values: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures: the share of equal minima."""
    return float(np.count_nonzero(np.frombuffer(packed, dtype="<u8") == values)) / NUM_PERM
