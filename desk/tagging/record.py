"""The rules' record on the imported issues, and the second choice it suggests.

Every cited title of an imported issue is a case where the rules can be checked: tagged by
the rules alone, it got a first choice; the editors filed its story under a category. Over
all of them this is a confusion table, and it says what the rules' mistakes look like:
when the rules say 인재 or 기업 of a national plan, the editors have tended to file it under
기술전략. The second choice of a ranking is there for when the first is wrong, so the
likeliest category *when the rules chose X* is what it should be (:meth:`RulesRecord.second`).

Few titles fall under any one first choice, so each category's own row is backed off to the
rules' record as a whole (``BACKOFF`` pseudo-titles of it): right as often as they have been,
and when wrong, filed as the editors filed the rules' mistakes everywhere. Nothing here is
fitted: the counts are the record, ``BACKOFF`` is one pseudo-title (a priori; 0.5 to 5 gave
the same second choices on the sample issues, bench/tagging_eval.py).

The record is the rules' own, measured with whatever topics.yml holds now, so it is optimistic
on issues the rules were tuned on and honest on issues imported since.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

BACKOFF = 1.0  # pseudo-titles of the overall record behind each first choice's own row


@dataclass(frozen=True)
class Second:
    """The second choice the record gave and what it rests on."""

    category: str
    rules_first: str
    filed: int  # titles the rules put first under ``rules_first`` and the editors filed under ``category``
    of: int  # titles the rules put first under ``rules_first``
    right: int  # titles the rules got right, of ``total`` imported titles
    total: int

    def describe(self, label: Callable[[str], str]) -> str:
        """One line for ``crawl tag --explain``."""
        second, first = label(self.category), label(self.rules_first)
        row = f"of the imported titles the rules put first under {first}, the editors filed {self.filed} of {self.of} under {second}"
        if self.category == self.rules_first:
            return f"second: {second}, the rules' first — {row}; the rules were right on {self.right} of {self.total} imported titles"
        if self.filed:
            return f"second: {second} — {row}"
        return f"second: {second} — where the rules were wrong on imported titles, the editors filed under it most often ({row})"


class RulesRecord:
    """What the editors filed each title under, per the rules' first choice (None: no category)."""

    def __init__(self, cases: Iterable[tuple[str | None, str]]):
        self.filed: dict[str | None, Counter[str]] = {}
        for rules_first, editors in cases:
            self.filed.setdefault(rules_first, Counter())[editors] += 1
        self.total = sum(sum(c.values()) for c in self.filed.values())
        self.right = sum(c[first] for first, c in self.filed.items() if first is not None)
        self.mistakes: Counter[str] = Counter()  # the editors' categories where the rules chose another
        for first, counts in self.filed.items():
            self.mistakes.update({c: n for c, n in counts.items() if c != first})
        self.accuracy = self.right / self.total if self.total else 0.0
        wrong = sum(self.mistakes.values())
        self._mistaken = {c: (1 - self.accuracy) * n / wrong for c, n in self.mistakes.items()} if wrong else {}
        self._ranked: dict[str, list[tuple[float, str]]] = {}  # per first choice: its likelihoods, likeliest first

    def __len__(self) -> int:
        return self.total

    def likelihoods(self, rules_first: str) -> dict[str, float]:
        """P(editors' category | the rules chose ``rules_first``): its own row, backed off to the
        whole record (right as often as the rules have been; when wrong, as the mistakes fell)."""
        own = self.filed.get(rules_first, Counter())
        backoff = dict(self._mistaken)
        backoff[rules_first] = backoff.get(rules_first, 0.0) + self.accuracy
        size = sum(own.values())
        return {c: (own.get(c, 0) + BACKOFF * backoff.get(c, 0.0)) / (size + BACKOFF) for c in set(own) | set(backoff)}

    def second(self, rules_first: str | None, first: str, model: Sequence[tuple[str, float]] = ()) -> Second | None:
        """The likeliest editors' category other than ``first`` (the chosen one) when the rules
        chose ``rules_first``; equals by the ``model``'s probabilities, then by name. None when
        the record has nothing to say (no imported title, or the rules chose nothing)."""
        if rules_first is None or not self.total:
            return None
        ranked = self._ranked.get(rules_first)
        if ranked is None:  # once per first choice: this is on tagging's hot path
            likely = self.likelihoods(rules_first)
            ranked = self._ranked[rules_first] = sorted(((p, c) for c, p in likely.items() if p > 0), key=lambda pc: (-pc[0], pc[1]))
        others = [(p, c) for p, c in ranked if c != first]
        if not others:
            return None
        equals = [c for p, c in others if p == others[0][0]]
        best = equals[0]
        if len(equals) > 1:
            probability = dict(model)
            best = max(equals, key=lambda c: probability.get(c, 0.0))
        own = self.filed.get(rules_first, Counter())
        return Second(best, rules_first, own.get(best, 0), sum(own.values()), self.right, self.total)
