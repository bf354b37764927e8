"""What the tagger found: :class:`TagResult` (JSON-ready with ``to_dict``, readable with
``explain``) and the :class:`Evidence` behind it."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from collections.abc import Callable
from typing import Any, NamedTuple

from desk.tagging.model import TaggingModel
from desk.tagging.record import Second
from desk.tagging.taxonomy import Taxonomy


class Evidence(NamedTuple):
    """One rule that fired: ``points`` were added to ``target`` (a category id, a section or a region)."""

    kind: str  # "cat" | "cue" | "region" | "region_weight" | "prior"
    target: str
    term: str
    zone: str  # title | lead | body | source
    count: int
    points: float


@dataclass(frozen=True)
class Learned:
    """What the learned model said of an item and who decided (desk/tagging/blend.py)."""

    decided_by: str  # rules | model | both
    why: str
    model: list[tuple[str, float]]  # the model's top categories with their probabilities
    blended: list[tuple[str, float]]  # the decision's ranking, chosen first
    fitted: TaggingModel = dc_field(repr=False, compare=False)
    title: str = dc_field(repr=False, default="")
    body: str = dc_field(repr=False, default="")
    second: Second | None = None  # when the rules' record on imported issues chose the second

    def explain(self, label: Callable[[str], str]) -> list[str]:
        """The decision, the n-grams behind the model's choice, the past stories it resembles."""
        lines = [f"decided by: {self.decided_by} — {self.why}"]
        if self.second is not None:
            lines.append(self.second.describe(label))
        sharpness = self.fitted.sharpness
        calibrated = f"; tempered ×{sharpness:.2f}, as measured on held-out issues" if sharpness < 1 else ""
        lines.append("model: " + ", ".join(f"{label(c)} {p:.0%}" for c, p in self.model) + f"  ({len(self.fitted)} examples{calibrated})")
        if self.model:
            pulls = self.fitted.contributions(self.model[0][0], self.title, self.body)
            if pulls:
                lines.append(f"  n-grams for {label(self.model[0][0])}: " + ", ".join(f"{f} {w:+.1f}" for f, w in pulls))
        near = self.fitted.nearest(self.title, self.body)
        if near:
            lines.append("resembles:")
            lines += [f"  {r.similarity:.2f}  {label(r.example.category)} ← {r.example.origin}" + (f"  (cited: {r.example.zh})" if r.example.zh else "") for r in near]
        return lines


@dataclass(frozen=True)
class TagResult:
    section: str | None
    category: str | None
    category_label: str | None
    confidence: float
    categories: list[tuple[str, float]]  # ranked (id, own evidence + section cues); the chosen first, also when the model chose it
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
    decided_by: str = "rules"  # rules | model | both (agree): who chose the category
    learned: Learned | None = dc_field(repr=False, compare=False, default=None)

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
            "decided_by": self.decided_by,
            **({"model": [[c, p] for c, p in self.learned.model]} if self.learned else {}),
        }

    def _confidence_source(self) -> str:
        """Whose confidence the score weighs: with a learned model, the editors' past choices
        reach the score through it too."""
        if self.learned is None:
            return "rules alone"
        who = {"both": "they agree", "model": "the model decided"}.get(self.decided_by, "the rules decided")
        return f"rules with the learned model, {who}"

    def explain(self) -> str:
        """Every rule that fired, as text an editor can read."""
        label = (lambda c: f"{self.taxonomy.label(c)} [{c}]") if self.taxonomy else (lambda c: c)
        head = f"category {label(self.category) if self.category else '(none)'} · section {self.section} · confidence {self.confidence:.2f}"
        if self.field:
            head += f" · field {label(self.field)}"
        if self.region:
            head += f" · region {self.region}" + (f" (province {self.province})" if self.province and self.province != self.region else "")
        evidence = self.evidence
        if self.learned is not None:
            head += "\n" + "\n".join(self.learned.explain(lambda c: label(c) if c else "(none)"))
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
            f"score {self.score:.3f} = mean of confidence {parts.get('confidence', 0):.2f} ({self._confidence_source()}), "
            f"authority {parts.get('authority', 0):.2f}, freshness {parts.get('freshness', 0):.2f}, cluster {parts.get('cluster', 0):.2f}"
            + (f", editors' past picks {parts['picks']:.2f} (of its source {parts.get('picks_source', 0):.2f}, "
               f"of its category {parts.get('picks_category', 0):.2f})" if "picks" in parts else "") + " (weights in topics.yml)"
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

