"""Rules and model together: who decides an item's category, and why.

* An editor's decision on a near-identical item decides (``NEAR_EDITORS``): the editor
  overrode whatever the rules said there, and the same text should not need it twice.
* A rule that names the item explicitly decides: its category got ``STRONG_TITLE_POINTS``
  from terms in the title (one weight-3 keyword — "the term alone decides" in topics.yml).
* Otherwise rules and model are blended: the rules' share of their own evidence, trusted as
  much as their confidence, plus the model's probability for the rest. The model breaks ties
  and covers items no rule names (alone it must reach ``MODEL_ALONE``). A model that knows
  none of the item's n-grams (``Vote.speaks``) is silent: the rules alone decide and rank.
  So is a model that holds no example of the rules' first category: its probabilities are
  shared among the categories it has examples of, so its confidence in one of those says
  nothing against a category it never saw (the three sample issues hold examples of 3 of the 9
  technology fields). The rules decide; the model's first choice is second.
* The ranking's second is what the editors filed, on the imported issues, the titles whose
  first choice by the rules was this item's (:mod:`desk.tagging.record`): a second choice
  matters when the first is wrong, and the record says what the rules' mistakes have been.
  Without a record (nothing imported), it is the other side's first choice when rules and
  model disagree (:func:`_second_opinion`): two independent witnesses, the one that lost
  still the likeliest alternative. Fixed on principle, not fitted (three issues cannot fit a
  constant without fitting their titles).

Pure: the tagger calls :func:`decide` with what it counted and what the model voted.
"""

from __future__ import annotations

from dataclasses import dataclass

from desk.tagging.model import Resemblance, Vote
from desk.tagging.record import RulesRecord, Second

STRONG_TITLE_POINTS = 9.0
NEAR_EDITORS = 0.8  # cosine of n-grams: a re-post, a reworded headline of the same notice
MODEL_ALONE = 0.5  # probability the model must exceed, on n-grams it knows, when no rule gave a category
MODEL_SAY = 0.5  # after a strong rule's category, the model's share in ranking the others
RULE_TRUST = 2.0  # the rules are fully trusted from confidence 0.5 on: the model is young (three issues)


@dataclass(frozen=True)
class Decision:
    category: str | None
    decided_by: str  # rules | model | both (an editors' near-identical decision counts as the model's)
    confidence: float
    ranked: list[tuple[str, float]]  # blended scores, chosen first
    why: str
    second: Second | None = None  # when the rules' record chose the second (:mod:`desk.tagging.record`)


def decide(
    rule_ranked: list[tuple[str, float]], rule_confidence: float, title_points: dict[str, float], vote: Vote, record: RulesRecord | None = None,
) -> Decision:
    """The category of an item from the rules' ranking (chosen first), their confidence, the
    points each category got from title terms, and the model's vote; its second choice from
    the rules' ``record`` on the imported issues when there is one."""
    decision = _first(rule_ranked, rule_confidence, title_points, vote)
    rule_top = rule_ranked[0][0] if rule_ranked else None
    if record is None or decision.category is None:
        return decision
    second = record.second(rule_top, decision.category, vote.ranked if vote.speaks else ())
    if second is None:
        return decision
    ranked = _second_opinion(decision.ranked, second.category)
    return Decision(decision.category, decision.decided_by, decision.confidence, ranked, decision.why, second)


def _first(rule_ranked: list[tuple[str, float]], rule_confidence: float, title_points: dict[str, float], vote: Vote) -> Decision:
    """:func:`decide` but for the record: the first choice, and the second as the other side's first."""
    rule_top = rule_ranked[0][0] if rule_ranked else None
    model_ranked = vote.ranked if vote.speaks else []  # a silent model neither votes nor ranks
    model_top, model_p = model_ranked[0] if model_ranked else (None, 0.0)
    near = vote.editors
    if near is not None and near.similarity >= NEAR_EDITORS:
        return _by_editors(near, rule_ranked, rule_top)
    if rule_top is not None and title_points.get(rule_top, 0.0) >= STRONG_TITLE_POINTS:
        by = "both" if model_top == rule_top else "rules"
        ranked = [(rule_top, 1.0)] + [cv for cv in _blend(rule_ranked, 1 - MODEL_SAY, model_ranked) if cv[0] != rule_top]
        ranked = _second_opinion(ranked, model_top)
        return Decision(rule_top, by, rule_confidence, ranked, f"a rule names it in the title ({title_points[rule_top]:g} points)")
    if rule_top is None:
        if model_top is None or model_p <= MODEL_ALONE:
            return Decision(None, "rules", 0.0, model_ranked[:3], "no rule matched and the model is unsure")
        return Decision(model_top, "model", model_p, vote.ranked[:3], f"no rule matched; the model gives {model_p:.0%}")
    if not model_ranked:
        return Decision(rule_top, "rules", rule_confidence, rule_ranked, "rules alone: the model knows none of its n-grams")
    if rule_top not in dict(model_ranked):
        ranked = _second_opinion(rule_ranked, model_top)
        return Decision(rule_top, "rules", rule_confidence, ranked, "rules: the model holds no example of their category to weigh against it")
    trust = min(1.0, rule_confidence * RULE_TRUST)
    blended = _blend(rule_ranked, trust, model_ranked)
    chosen = blended[0][0]
    blended = _second_opinion(blended, model_top if chosen == rule_top else rule_top)
    by = "both" if chosen == rule_top == model_top else "rules" if chosen == rule_top else "model"
    return Decision(chosen, by, round(blended[0][1], 3), blended, f"blend: rules trusted {trust:.2f}, the model {1 - trust:.2f}")


def _blend(rule_ranked: list[tuple[str, float]], trust: float, model_ranked: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Categories by ``trust`` × their share of the rules' evidence + (1 − trust) × the model's probability."""
    positive = {c: s for c, s in rule_ranked if s > 0}
    total = sum(positive.values()) or 1.0
    order = {c: i for i, (c, _) in enumerate(rule_ranked)}
    scores = {c: trust * s / total for c, s in positive.items()}
    for c, p in model_ranked:
        scores[c] = scores.get(c, 0.0) + (1 - trust) * p
    return sorted(((c, round(v, 4)) for c, v in scores.items() if v > 0), key=lambda cv: (-cv[1], order.get(cv[0], len(order))))


def _second_opinion(ranked: list[tuple[str, float]], other: str | None) -> list[tuple[str, float]]:
    """``ranked`` with ``other`` (the first choice of the side that did not decide) second."""
    if other is None or not ranked or ranked[0][0] == other:
        return ranked
    found = dict(ranked)
    return [ranked[0], (other, found.get(other, 0.0))] + [cv for cv in ranked[1:] if cv[0] != other]


def _by_editors(near: Resemblance, rule_ranked: list[tuple[str, float]], rule_top: str | None) -> Decision:
    category = near.example.category
    ranked = [(category, near.similarity)] + [(c, s) for c, s in rule_ranked if c != category]
    by = "both" if category == rule_top else "model"
    return Decision(category, by, near.similarity, ranked, f"{near.similarity:.0%} like the {near.example.origin}")
