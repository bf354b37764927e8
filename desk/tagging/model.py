"""The learned half of tagging: a naive Bayes classifier over what the editors filed before.

Every example is one decision of the editors — a story of an imported issue (its CONTENTS
category, its Korean headline and subhead, a cited Chinese title and the stored body of that
article when we have it) or an action in the workspace (a category override, a pick). The
classifier is multinomial naive Bayes over

* character 1–3-grams of the Chinese text (Chinese has no spaces, and 2–3 characters are
  most of its words: 规划, 实施方案, 人工智能 → 人工, 工智, 智能, 人工智 …), ASCII words as
  words (AI, 5G), the body's lead counted at a fraction of the title;
* Korean words and their character bigrams (particles stick to words: 발표, 발표했다).

Its constants are fixed on principle, not fitted to the few issues there are: Laplace
smoothing, log-evidence divided by ``TEMPERATURE`` (overlapping n-grams are not independent
witnesses; without it the model called nearly everything 99 %), priors counted per decision,
and the Korean and Chinese n-grams as two multinomials (one language never dilutes the other).

Its probabilities are then calibrated by what it measures of itself (:func:`_sharpness`):
fitted without each imported issue in turn, what probability it gave the editors' category of
that issue's cited titles. Its log-probabilities are multiplied by the factor in (0, 1] that
gives those held-out categories the highest likelihood (temperature scaling: it tempers how
sure the model is and never reorders its ranking). Few issues give a humble model, more
issues a bolder one, with no constant to retune.

It is small (hundreds of examples, a few thousand n-grams), fits and calibrates in well under a
second (tenths at the three sample issues), predicts in tens of microseconds, and explains
itself: the n-grams that pulled an item toward its category
(:meth:`TaggingModel.contributions`) and the past examples it most resembles
(:meth:`TaggingModel.nearest`, cosine over the same n-grams). Pure: no database, no clock;
:mod:`desk.tagging.learned` stores it and assembles the examples.

The stored form is the examples themselves (:meth:`TaggingModel.to_payload`): fitting is
cheaper than reading fitted tables, and the nearest stories need the examples anyway.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from itertools import chain
from operator import add
from typing import Any

import numpy as np

from desk.tagging.matcher import normalise

FORMAT_VERSION = 2  # 2: examples carry `group` (their issue); a format-1 payload reads with none
READABLE_FORMATS = (1, 2)
ALPHA = 1.0  # Laplace smoothing, chosen a priori: a smaller one made an n-gram a class never cited nearly veto it (overconfident)
BODY_WEIGHT = 0.25  # an n-gram of the body's lead counts this much of one in the title
BODY_CHARS = 200  # the lead: the same length the rules call `lead_chars`
KOREAN_WEIGHT = 0.5  # Korean words only ever meet Korean text; they must not swamp a class
TEMPERATURE = 3.0  # every character is counted thrice (as 1-, 2- and 3-gram): its evidence is divided back to once
PRIOR_PSEUDO = 1.0  # Laplace: one imagined decision per category seen, so a young model's priors stay mild
NEAR_SHOWN = 3
SHARPNESS_STEP = 0.05  # the calibration's grid: finer would fit the noise of a few dozen held-out titles
CALIBRATION_FOLDS = 5  # at most this many refits to calibrate, however many issues are imported
EDITOR_WEIGHT = 1.5  # examples weighted above this are the editors' own decisions (desk/tagging/learned.py)

_HAN_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]+")
_ASCII_WORD = re.compile("[0-9a-z]+(?:[.-][0-9a-z]+)*")
_HANGUL_WORD = re.compile("[\uac00-\ud7a3]+")
_KOREAN = ("k:", "k2:")  # the prefixes of Korean features


@dataclass(frozen=True)
class Example:
    """One decision of the editors: text and the category they filed it under."""

    category: str  # a category or field id of topics.yml
    zh: str = ""  # Chinese title (cited or crawled)
    body: str = ""  # the article's body, when stored (only its lead is used)
    ko: str = ""  # Korean headline and subhead
    weight: float = 1.0  # editors' workspace decisions count above imported history
    origin: str = ""  # where it comes from, for editors: "issue 2024-06-28 #3", "override of item 12"
    group: str = ""  # the imported issue it belongs to, held out together when the model measures itself ("": never held out)


def features(zh: str = "", body: str = "", ko: str = "") -> dict[str, float]:
    """The n-grams of one text and how much each counts (present once; see the module doc)."""
    found: dict[str, float] = {}
    if ko:
        words = _HANGUL_WORD.findall(ko)
        found = dict.fromkeys({"k2:" + w[i : i + 2] for w in words for i in range(len(w) - 1)} | {"k:" + w for w in words}, KOREAN_WEIGHT)
    title, lead = title_and_lead(zh, body)
    found.update(dict.fromkeys(lead, BODY_WEIGHT))
    found.update(dict.fromkeys(title, 1.0))
    return found


def title_and_lead(zh: str, body: str) -> tuple[set[str], set[str]]:
    """The Chinese n-grams of a title, and those of the body's lead the title does not have
    (the title's weight wins): what :func:`features` weighs, as two sets."""
    title = _chinese(normalise(zh)) if zh else set()
    lead = _chinese(normalise(body[:BODY_CHARS])) if body else set()
    lead.difference_update(title)  # in place: a pass over the title's few n-grams, not over the lead's many
    return title, lead


def _chinese(text: str) -> set[str]:
    grams: set[str] = set()
    for run in _HAN_RUN.findall(text):  # the hot path of tagging with the model: the n-grams are joined in C
        chars = list(run)  # each character made once (iterating a string makes every one anew)
        pairs = list(map(add, chars, chars[1:]))
        grams.update(chars, pairs, map(add, pairs, chars[2:]))
    grams.update(["w:" + word for word in _ASCII_WORD.findall(text)])
    return grams


@dataclass(frozen=True)
class Vote:
    """What the model says of one text: every category's probability, most probable first,
    and the editors' decision on the most similar item they judged, if any."""

    ranked: list[tuple[str, float]]
    editors: Resemblance | None
    known: int  # how many of the text's n-grams the model has seen (0: the ranking is the priors)
    sharpness: float = 1.0  # the factor its log-probabilities were tempered by (:func:`_sharpness`)

    @property
    def speaks(self) -> bool:
        """Whether the model has an opinion of the text: it knows some of its n-grams."""
        return self.known > 0


@dataclass(frozen=True)
class Resemblance:
    """A past example like the item, and how alike they are (cosine of their n-grams, 0–1)."""

    similarity: float
    example: Example


class TaggingModel:
    """Naive Bayes fitted on examples; build with :meth:`fit` or :meth:`from_payload`."""

    def __init__(self, examples: Sequence[Example], classes: list[str], vocabulary: dict[str, int], log_prior: np.ndarray, log_likelihood: np.ndarray):
        self.examples = list(examples)
        self.classes = classes
        self.vocabulary = vocabulary
        self.log_prior = log_prior  # (classes,)
        self.log_likelihood = log_likelihood  # (features, classes)
        self._vectors: list[dict[str, float]] | None = None
        self._temper(1.0)
        self._editors = _EditorIndex([e for e in self.examples if e.weight > EDITOR_WEIGHT], vocabulary)

    def _temper(self, sharpness: float) -> None:
        """Set the calibration (:func:`_sharpness`) and scale the tables by it once, so that
        scoring an item is a sum of table rows (tempered, evidence over ``TEMPERATURE``)."""
        self.sharpness = sharpness
        self._prior = sharpness * self.log_prior
        self._evidence = (sharpness / TEMPERATURE) * self.log_likelihood

    @classmethod
    def fit(cls, examples: Iterable[Example], calibrate: bool = True) -> TaggingModel:
        """Weighted multinomial naive Bayes with additive smoothing ``ALPHA``: one multinomial
        per language (:func:`_likelihoods`), priors counted per decision (:func:`_priors`),
        calibrated on the issues it holds (:func:`_sharpness`) unless ``calibrate`` is False."""
        examples = [e for e in examples if e.category and (e.zh or e.body or e.ko)]
        names: dict[str, int] = {}  # every n-gram of every example; a fit keeps those it saw
        coded = []  # each example's n-grams as indices into names, and their amounts
        for example in examples:  # counted once: the calibration refits on subsets
            grams = features(example.zh, example.body, example.ko)
            coded.append((np.array([names.setdefault(f, len(names)) for f in grams], dtype=int), np.fromiter(grams.values(), float, len(grams))))
        model = cls._fit(examples, coded, list(names))
        if calibrate:
            model._temper(_sharpness(held_out(examples, coded, list(names))))
        return model

    @classmethod
    def _fit(cls, examples: list[Example], coded: list[tuple[np.ndarray, np.ndarray]], names: list[str]) -> TaggingModel:
        """:meth:`fit`, uncalibrated, of examples whose n-grams are counted (``coded``, in order)."""
        classes = sorted({e.category for e in examples})
        index = {c: i for i, c in enumerate(classes)}
        counts = np.zeros((len(names), len(classes)))
        if examples:
            rows = np.concatenate([grams for grams, _ in coded])
            cols = np.concatenate([np.full(len(grams), index[e.category]) for e, (grams, _) in zip(examples, coded)])
            values = np.concatenate([amounts * e.weight for e, (_, amounts) in zip(examples, coded)])
            np.add.at(counts, (rows, cols), values)
        seen = np.flatnonzero(counts.any(axis=1))  # an n-gram only held-out examples have is unknown here
        vocabulary = {names[i]: row for row, i in enumerate(seen)}
        korean = np.array([names[i].startswith(_KOREAN) for i in seen], dtype=bool)
        return cls(examples, classes, vocabulary, _priors(examples, index), _likelihoods(counts[seen], korean))

    def __len__(self) -> int:
        return len(self.examples)

    def predict(self, zh: str = "", body: str = "", ko: str = "") -> list[tuple[str, float]]:
        """Every category with its probability, most probable first ([] for an empty model)."""
        rows, weights = self._known(features(zh, body, ko))
        return self._probabilities(self._log_scores(rows, weights))

    def vote(self, zh: str = "", body: str = "") -> Vote:
        """:meth:`predict` of a crawled item, and the editors' most similar decision. The hot
        path of tagging with the model: the n-grams are made once, as two sets, each is one
        dictionary look-up (most of a text's n-grams were never seen), and the rows found
        serve both the probabilities and the editors' index."""
        title, lead = title_and_lead(zh, body)
        rows, weights = self._rows(title, lead)
        # Without decisions the norm is not worth counting: most_like would find nothing.
        editors = self._editors.most_like(rows, weights, _shape_norm(title, lead, zh, body)) if self._editors.examples else None
        return Vote(self._probabilities(self._log_scores(rows, weights)), editors, len(rows), self.sharpness)

    def _rows(self, title: set[str], lead: set[str]) -> tuple[np.ndarray, np.ndarray]:
        """The vocabulary rows of the n-grams the model knows (:func:`title_and_lead`'s sets,
        the title's first) and the weight of each: 1, or ``BODY_WEIGHT`` in the lead."""
        known = self.vocabulary.get
        in_title = [row for row in map(known, title) if row is not None]
        in_lead = [row for row in map(known, lead) if row is not None]
        weights = np.full(len(in_title) + len(in_lead), BODY_WEIGHT)
        weights[: len(in_title)] = 1.0
        return np.fromiter(chain(in_title, in_lead), np.intp, len(weights)), weights  # fromiter: np.array would inspect each int

    def _probabilities(self, scores: np.ndarray) -> list[tuple[str, float]]:
        if not self.classes:
            return []
        scores = np.exp(scores - scores.max())
        probabilities = (scores / scores.sum()).tolist()
        order = np.argsort(-scores, kind="stable").tolist()
        return [(self.classes[i], round(probabilities[i], 4)) for i in order]

    def _log_scores(self, rows: Sequence[int] | np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Each category's tempered log prior plus the text's tempered log-evidence (unnormalised)."""
        return self._prior + weights @ self._evidence.take(rows, axis=0) if len(rows) else self._prior

    def _known(self, found: dict[str, float]) -> tuple[list[int], np.ndarray]:
        vocabulary = self.vocabulary
        known = [f for f in found if f in vocabulary]
        return [vocabulary[f] for f in known], np.array([found[f] for f in known])

    def contributions(self, category: str, zh: str = "", body: str = "", ko: str = "", top: int = 6) -> list[tuple[str, float]]:
        """The n-grams that pulled the text toward ``category`` most: each one's log-likelihood
        there minus its best elsewhere, times its count (positive = for this category)."""
        if category not in self.classes or len(self.classes) < 2:
            return []
        column = self.classes.index(category)
        others = np.delete(self.log_likelihood, column, axis=1)
        found = features(zh, body, ko)
        pulls = []
        for feature, weight in found.items():
            row = self.vocabulary.get(feature)
            if row is not None:
                pull = weight * (self.log_likelihood[row, column] - others[row].max())
                if pull > 0:
                    pulls.append((feature, round(float(pull), 2)))
        pulls.sort(key=lambda fp: (-fp[1], fp[0]))
        return pulls[:top]

    def nearest(self, zh: str = "", body: str = "", ko: str = "", top: int = NEAR_SHOWN) -> list[Resemblance]:
        """The past stories most like the text (cosine over the n-grams of 2+ characters), each
        once: by its most similar example."""
        if self._vectors is None:
            self._vectors = [_shape(features(e.zh, e.body, e.ko)) for e in self.examples]
        query = _shape(features(zh, body, ko))
        scored = sorted(((_cosine(query, vector), i) for i, vector in enumerate(self._vectors)), key=lambda si: (-si[0], si[1]))
        found: dict[str, Resemblance] = {}
        for similarity, i in scored:
            if similarity <= 0 or len(found) == top:
                break
            found.setdefault(self.examples[i].origin, Resemblance(round(similarity, 3), self.examples[i]))
        return list(found.values())

    def to_payload(self) -> bytes:
        """The examples as zlib-compressed JSON: what :meth:`from_payload` fits again."""
        data = {"format": FORMAT_VERSION, "examples": [asdict(e) for e in self.examples]}
        return zlib.compress(json.dumps(data, ensure_ascii=False).encode("utf-8"), 6)

    @classmethod
    def from_payload(cls, payload: bytes) -> TaggingModel:
        """The model whose :meth:`to_payload` gave ``payload``; ValueError when it is not one."""
        try:
            data: dict[str, Any] = json.loads(zlib.decompress(payload).decode("utf-8"))
            if isinstance(data, dict) and data.get("format") not in READABLE_FORMATS:  # checked first: a newer format may add fields
                raise ValueError(f"stored tagging model has format {data.get('format')!r}, this code reads {READABLE_FORMATS}")
            examples = [Example(**e) for e in data["examples"]]
        except (zlib.error, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as error:
            raise ValueError(f"not a stored tagging model ({error})") from error
        return cls.fit(examples)


def _priors(examples: Sequence[Example], index: dict[str, int]) -> np.ndarray:
    """Log priors from the editors' decisions, not from how many titles each one cited: a
    story (or a workspace action) counts once, at its weight, plus ``PRIOR_PSEUDO``."""
    decisions: dict[tuple[str, str], float] = {}
    for example in examples:
        key = (example.origin or f"#{id(example)}", example.category)
        decisions[key] = max(decisions.get(key, 0.0), example.weight)
    weight = np.full(len(index), PRIOR_PSEUDO)
    for (_origin, category), amount in decisions.items():
        weight[index[category]] += amount
    return np.log(weight / weight.sum()) if len(index) else weight


def _sharpness(cases: list[tuple[np.ndarray, int]]) -> float:
    """The factor t in (0, 1] for the log-probabilities (P ∝ exp(t × log-score)) that gives the
    editors' categories of held-out issues (``cases``, :func:`held_out`) the highest
    likelihood, in steps of ``SHARPNESS_STEP`` (a proper scoring rule: it rewards being right
    and being as sure as it should). 1 (as fitted) when there is nothing held out to measure
    it on; never above 1: calibration tempers, it does not embolden a model of few issues."""
    if not cases:
        return 1.0
    factors = SHARPNESS_STEP * np.arange(1, round(1 / SHARPNESS_STEP) + 1)
    likelihood = np.zeros(len(factors))
    for scores, category in cases:
        tempered = np.outer(factors, scores - scores.max())  # one row per factor
        likelihood += tempered[:, category] - np.log(np.exp(tempered).sum(axis=1))
    return round(float(factors[int(np.argmax(likelihood))]), 4)


def held_out(examples: list[Example], coded: list[tuple[np.ndarray, np.ndarray]], names: list[str]) -> list[tuple[np.ndarray, int]]:
    """Each cited title of an imported issue (``Example.group``; ``coded``, ``names``: the
    examples' n-grams, as :meth:`TaggingModel.fit` counts them) scored by an uncalibrated fit
    without its issue: that fit's log-scores and the index of the editors' category (left out
    when that fit never saw the category: no factor can help it). Issues are held out one at a
    time, or in ``CALIBRATION_FOLDS`` folds (every n-th issue by date) when there are more,
    which bounds the refits."""
    issues = sorted({e.group for e in examples if e.group})
    if len(issues) < 2:
        return []
    fold_of = {issue: i % CALIBRATION_FOLDS for i, issue in enumerate(issues)}
    cases = []
    for fold in sorted(set(fold_of.values())):
        out = [e.group in fold_of and fold_of[e.group] == fold for e in examples]
        trained = TaggingModel._fit([e for e, o in zip(examples, out) if not o], [c for c, o in zip(coded, out) if not o], names)
        for example, (grams, amounts), held in zip(examples, coded, out):
            if held and example.zh and example.category in trained.classes:
                known = [(trained.vocabulary[names[i]], amount) for i, amount in zip(grams, amounts) if names[i] in trained.vocabulary]
                scores = trained._log_scores([row for row, _ in known], np.array([amount for _, amount in known]))
                cases.append((scores, trained.classes.index(example.category)))
    return cases


def _likelihoods(counts: np.ndarray, korean: np.ndarray) -> np.ndarray:
    """Log P(n-gram | category), smoothed, normalised within each language: Korean words
    never occur in a crawled Chinese item, so a category with long Korean headlines must not
    have its Chinese n-grams diluted by them (one multinomial per language)."""
    smoothed = counts + ALPHA
    likelihood = np.empty_like(smoothed)
    for rows in (korean, ~korean):
        if rows.any():
            likelihood[rows] = np.log(smoothed[rows]) - np.log(smoothed[rows].sum(axis=0))
    return likelihood


class _EditorIndex:
    """The editors' own decisions (overrides, picks) by n-gram, so that finding the one most
    like an item costs a few array operations over the decisions sharing its n-grams, not a
    comparison with each decision in turn (cosine over :func:`_shape`'s n-grams, as
    :meth:`TaggingModel.nearest`). The postings are one compressed sparse table by the
    model's vocabulary row, so an item's rows (:meth:`TaggingModel._rows`) are looked up
    once for both: row → a slice of ``decisions`` (which decision) and ``amounts`` (its
    weight there); empty for the n-grams :func:`_shape` drops and those no decision has."""

    def __init__(self, examples: list[Example], vocabulary: dict[str, int]):
        self.examples = examples
        vectors = [_shape(features(e.zh, e.body, e.ko)) for e in examples]
        rows, decisions, amounts = [], [], []
        for i, vector in enumerate(vectors):
            for gram, weight in vector.items():  # every one is in the vocabulary: the model was fitted on these examples
                rows.append(vocabulary[gram])
                decisions.append(i)
                amounts.append(weight)
        by_row = np.argsort(np.array(rows, dtype=np.intp), kind="stable")
        self.decisions = np.array(decisions, dtype=np.intp)[by_row]
        self.amounts = np.array(amounts, dtype=float)[by_row]
        self.lengths = np.bincount(np.array(rows, dtype=np.intp), minlength=len(vocabulary))
        self.starts = np.cumsum(self.lengths) - self.lengths
        norms = np.array([math.sqrt(sum(w * w for w in v.values())) for v in vectors])
        self.norms = np.where(norms > 0, norms, np.inf)  # a decision with no n-gram of 2+ characters resembles nothing

    def most_like(self, rows: np.ndarray, weights: np.ndarray, norm: float) -> Resemblance | None:
        """The decision most like an item whose known n-grams are ``rows`` of the vocabulary,
        ``weights`` each (:meth:`TaggingModel._rows`), and whose vector's length is ``norm``
        (:func:`_shape_norm`), the first of equals; None when none shares an n-gram with it
        (always, without decisions: every row's postings are empty)."""
        starts, lengths = self.starts[rows], self.lengths[rows]
        found = int(lengths.sum())
        if not found:
            return None
        within = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(found)  # every posting of those rows
        dots = np.bincount(self.decisions[within], weights=self.amounts[within] * np.repeat(weights, lengths), minlength=len(self.examples))
        similarity = dots / (norm * self.norms)
        best = int(np.argmax(similarity))
        return Resemblance(round(float(similarity[best]), 3), self.examples[best])


def _shape_norm(title: set[str], lead: set[str], zh: str, body: str) -> float:
    """The length of an item's vector as :func:`_shape` keeps it (no single characters), from
    its :func:`title_and_lead` sets and the texts they came from: a set's single characters are
    the characters of its text that it holds, found by a pass over the short text rather than
    one over the n-grams (normalising changes no Chinese character)."""
    kept_title = len(title) - len(title.intersection(zh))
    kept_lead = len(lead) - len(lead.intersection(body[:BODY_CHARS]))
    return math.sqrt(kept_title + BODY_WEIGHT**2 * kept_lead)


def _shape(found: dict[str, float]) -> dict[str, float]:
    """The n-grams that say something about likeness (single characters say little)."""
    return {f: w for f, w in found.items() if len(f) > 1 and not f.startswith("k2:")}


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if not a or not b:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    dot = sum(w * b[f] for f, w in a.items() if f in b)
    if not dot:
        return 0.0
    return dot / math.sqrt(sum(w * w for w in a.values()) * sum(w * w for w in b.values()))
