"""The tagger: one article's title, body and origin in, a :class:`TagResult` out.

:meth:`Tagger.tag` runs the steps of the package docstring in order: count the terms
(:mod:`desk.tagging.matcher`), add what the source says, choose the region, then the section
and the category inside it, and score the item's relevance.
"""

from __future__ import annotations

import math
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from common.dates import CHINA
from common.urls import host_matches
from desk.tagging import blend
from desk.tagging.matcher import BOUNDARY, NO_CHECK, TOKEN, Matcher, Payload, default_check, normalise
from desk.tagging.model import TaggingModel
from desk.tagging.record import RulesRecord
from desk.tagging.result import Learned, TagResult
from desk.tagging.taxonomy import Taxonomy

if TYPE_CHECKING:  # the tagger stays free of the database: the caller loads the signal
    from desk.tagging.picks import PickSignal

ZONE_ORDER = {"source": -1, "title": 0, "lead": 1, "body": 2}
Rule = tuple[str, str, str, str, int, float]  # Evidence fields, kept as plain tuples


@dataclass
class _Tally:
    """One article's evidence as the steps of :meth:`Tagger.tag` add to it."""

    own: dict[str, float] = field(default_factory=dict)  # category → points
    cues: dict[str, float] = field(default_factory=dict)  # section → points
    region_points: dict[str, float] = field(default_factory=dict)
    region_best: dict[str, tuple[float, int, str, str]] = field(default_factory=dict)  # factor, zone order, term, zone
    rules: list[Rule] = field(default_factory=list)
    matched_prior: dict[str, list[str]] = field(default_factory=dict)  # category → `source:` names


class Tagger:
    """Build once per taxonomy (compiles the matchers), then call :meth:`tag` per article."""

    def __init__(self, taxonomy: Taxonomy, now: Callable[[], datetime] | None = None):
        self.taxonomy = taxonomy
        self.spec = spec = taxonomy.spec
        self.settings = spec.settings
        self.now = now or (lambda: datetime.now(timezone.utc))
        self.order = {cat: index for index, cat in enumerate(taxonomy.categories)}
        self.section_order = {s: index for index, s in enumerate(spec.sections)}
        self.auto_sections = [s for s, sec in spec.sections.items() if sec.assign == "auto"]
        self.matcher = self._term_matcher()
        self.host_regions = sorted(
            ((host, key) for key, region in spec.regions.items() for host in region.hosts),
            key=lambda hr: -len(hr[0]),  # most specific host first (sz.gov.cn before gd…)
        )
        self.zones = self.settings.zones.model_dump()
        self.region_zones = self.settings.region_zones.model_dump()
        self.repeat = [0.0] + [min(1.0 + math.log(n), self.settings.repeat_cap) for n in range(1, 64)]
        self.region_weights = [(c, cat.region_weight) for c, cat in taxonomy.categories.items() if cat.region_weight]
        self.category_section = {c: cat.section for c, cat in taxonomy.categories.items()}
        self.region_order = {r: index for index, r in enumerate(spec.regions)}
        self._hosts: dict[str, tuple[str | None, set[int]]] = {}
        watch: dict[str, str] = {}
        for w in spec.watch_terms:
            watch.setdefault(normalise(w.term).strip(), w.term)
        self.watch_terms = watch
        self.watch = Matcher({k: [] for k in watch}, {}, 1)
        self.generic = frozenset(spec.generic_terms)
        self.priors = [(p, re.compile(p.match.url) if p.match.url else None) for p in spec.source_priors]
        self._records: weakref.WeakKeyDictionary[TaggingModel, RulesRecord] = weakref.WeakKeyDictionary()

    def _term_matcher(self) -> Matcher:
        """Every keyword, negative keyword, section cue and region name, with what it counts for."""
        entries: dict[str, list[Payload]] = {}
        checks: dict[str, int] = {}

        def add(term: str, payload: Payload, mode: int = NO_CHECK) -> None:
            key = normalise(term).strip()
            entries.setdefault(key, []).append(payload)
            checks[key] = max(checks.get(key, NO_CHECK), mode)

        for cat_id, cat in self.taxonomy.categories.items():
            for term, spec_ in cat.keywords.items():
                add(term, Payload("cat", cat_id, spec_.weight, term), default_check(term, spec_.whole_word))
            for term, spec_ in cat.negative.items():
                add(term, Payload("cat", cat_id, -spec_.weight, term), default_check(term, spec_.whole_word))
        for section, sec in self.spec.sections.items():
            for term, spec_ in sec.cues.items():
                add(term, Payload("cue", section, spec_.weight, term), default_check(term, spec_.whole_word))
        for key, region in self.spec.regions.items():
            for name in region.names:
                add(name, Payload("region", key, 1.0, name), BOUNDARY if len(name) <= 2 else NO_CHECK)
            for short in region.short:
                add(short, Payload("region", key, 0.6, short), TOKEN)
        return Matcher(entries, checks, self.settings.max_checks)

    # The one entry point -------------------------------------------------------------------
    def tag(
        self,
        title: str,
        body: str = "",
        source: str | None = None,
        url: str | None = None,
        published_at: datetime | None = None,
        cluster_size: int = 1,
        model: TaggingModel | None = None,
        picks: PickSignal | None = None,
    ) -> TagResult:
        """Tag one article. ``cluster_size`` is the number of items in its story's cluster;
        ``model``, the learned model (desk/tagging/learned.py), joins the rules when given;
        ``picks``, the editors' past choices (desk/tagging/picks.py), joins the relevance score."""
        title_n = normalise(title or "")
        body_n = normalise(body or "")
        tally = self._count_terms(title_n, body_n)
        host = (urlsplit(url).hostname or "").lower() if url else ""
        host_region, host_priors = self._host_info(host)
        prior_region = self._apply_priors(tally, source, url, host_region, host_priors)
        ranked_regions, region = self._choose_region(tally, host, host_region, prior_region)
        section, category, ranked, totals = self._choose_section(tally)
        confidence = self._confidence(tally.own, section, category, totals)
        learned = None
        if model is not None:
            section, category, ranked, confidence, learned = self._with_model(model, title, body, tally, section, category, ranked, confidence)
        fields = [(tally.own[c], -self.order[c], c) for c in self.taxonomy.field_ids if tally.own.get(c, 0) > 0]
        matched, cue_terms = self._shown_terms(tally)
        watch_hits = self._watch_hits(title_n, body_n)
        authority = self.taxonomy.authority.score(url, source)
        pick_parts = picks.parts(url, category) if picks is not None else None
        score, parts = self._relevance(confidence, authority, published_at, cluster_size, bool(watch_hits), pick_parts)
        return TagResult(
            section=section,
            category=category,
            category_label=self.taxonomy.label(category),
            confidence=confidence,
            categories=ranked,
            field=max(fields)[2] if fields else None,
            region=region,
            province=self.taxonomy.province_of(region),
            regions=ranked_regions or ([region] if region else []),
            matched=matched,
            cues=cue_terms,
            watch_hits=watch_hits,
            score=score,
            score_parts=parts,
            sections=totals,
            rules=tuple(tally.rules),
            taxonomy=self.taxonomy,
            decided_by=learned.decided_by if learned else "rules",
            learned=learned,
        )

    def _with_model(
        self, model: TaggingModel, title: str, body: str, tally: _Tally, section: str | None, category: str | None,
        ranked: list[tuple[str, float]], confidence: float,
    ) -> tuple[str | None, str | None, list[tuple[str, float]], float, Learned]:
        """Section, category, ranking and confidence once the model has had its say
        (desk/tagging/blend.py decides who wins)."""
        vote = model.vote(title or "", body or "")
        title_points: dict[str, float] = {}
        for kind, target, _term, zone, _n, points in tally.rules:
            if kind == "cat" and zone == "title":
                title_points[target] = title_points.get(target, 0.0) + points
        decision = blend.decide(ranked, confidence, title_points, vote, self.record_of(model))
        learned = Learned(decision.decided_by, decision.why, vote.ranked[:3], decision.ranked[:3], model, title or "", body or "", decision.second)
        chosen = decision.category
        if chosen is None or chosen not in self.category_section:
            return section, category, ranked, confidence, learned
        if chosen != category:
            section = self.category_section[chosen]
            ranked = [(chosen, dict(ranked).get(chosen, 0.0))] + [(c, v) for c, v in ranked if c != chosen]
        return section, chosen, ranked, decision.confidence, learned

    def record_of(self, model: TaggingModel) -> RulesRecord:
        """These rules' record on the cited titles of the issues ``model`` learned from
        (:mod:`desk.tagging.record`): each tagged by the rules alone, title and stored body,
        against the editors' category. Made once per model, at its first item (the rules' own
        speed: about a second for a thousand cited titles with short bodies, three with 5 KB
        ones); the editors' workspace decisions carry no issue and are not part of it."""
        record = self._records.get(model)
        if record is None:
            cases = [(self.tag(e.zh, e.body).category, e.category) for e in model.examples if e.zh and e.group]
            record = self._records[model] = RulesRecord(cases)
        return record

    # The steps, in the order tag() runs them -------------------------------------------------
    def _count_terms(self, title_n: str, body_n: str) -> _Tally:
        """Points from every term found in the (normalised) title and body."""
        counts = self.matcher.scan(title_n, None)
        counts.update(self.matcher.scan(body_n, self.settings.lead_chars))
        tally = _Tally()
        zones, region_zones, repeat, entries = self.zones, self.region_zones, self.repeat, self.matcher.entries
        text_own: dict[str, float] = {}  # lead + body evidence, capped per target below
        text_cues: dict[str, float] = {}
        for (term, zone), n in counts.items():
            factor = zones[zone] * (repeat[n] if n < len(repeat) else repeat[-1])
            in_title = zone == "title"
            for kind, target, weight, written in entries[term]:
                points = weight * factor
                if kind == "cat":
                    into = tally.own if in_title else text_own
                    into[target] = into.get(target, 0.0) + points
                elif kind == "cue":
                    into = tally.cues if in_title else text_cues
                    into[target] = into.get(target, 0.0) + points
                else:
                    tally.region_points[target] = tally.region_points.get(target, 0.0) + points
                    best = (region_zones[zone], -ZONE_ORDER[zone], written, zone)
                    if target not in tally.region_best or best[:2] > tally.region_best[target][:2]:
                        tally.region_best[target] = best
                if points:
                    tally.rules.append((kind, target, written, zone, n, points))
        self._add_capped(tally, text_own, text_cues)
        return tally

    def _add_capped(self, tally: _Tally, text_own: dict[str, float], text_cues: dict[str, float]) -> None:
        """The body informs but cannot outvote the title: lead + body add at most `body_cap`
        to any one category or section."""
        cap = self.settings.body_cap
        for parts, into, kind in ((text_own, tally.own, "cat"), (text_cues, tally.cues, "cue")):
            for target, points in parts.items():
                if points > cap:
                    tally.rules.append((kind, target, f"lead+body capped at {cap:g}", "body", 1, cap - points))
                    points = cap
                into[target] = into.get(target, 0.0) + points

    def _apply_priors(self, tally: _Tally, source: str | None, url: str | None, host_region: str | None, host_priors: set[int]) -> str | None:
        """Add the points of every source prior that matches where the article comes from;
        the region the first of them names, if any."""
        prior_region = None
        for prior, url_regex in self.priors:
            m = prior.match
            if m.source and source not in m.source:
                continue
            if m.host and id(prior) not in host_priors:
                continue
            if url_regex is not None and not (url and url_regex.search(url)):
                continue
            if m.local_government and host_region is None:
                continue
            for section, points in prior.sections.items():
                tally.cues[section] = tally.cues.get(section, 0.0) + points
                tally.rules.append(("prior", section, prior.name, "source", 1, points))
            for cat, points in prior.categories.items():
                tally.own[cat] = tally.own.get(cat, 0.0) + points
                tally.rules.append(("prior", cat, prior.name, "source", 1, points))
                tally.matched_prior.setdefault(cat, []).append(f"source:{prior.name}")
            prior_region = prior_region or prior.region
        return prior_region

    def _choose_region(self, tally: _Tally, host: str, host_region: str | None, prior_region: str | None) -> tuple[list[str], str | None]:
        """The regions named, strongest first, and the chosen one: the strongest named (a local
        government's host counts as one title mention of its region; ties go to the earliest
        zone), else a prior's. The chosen region's `region_weight` goes to its categories."""
        zones = self.zones
        if host_region is not None:
            tally.region_points[host_region] = tally.region_points.get(host_region, 0.0) + zones["title"]
            tally.rules.append(("region", host_region, host, "source", 1, zones["title"]))
            tally.region_best.setdefault(host_region, (0.0, 1, host, "source"))
        points, best = tally.region_points, tally.region_best
        ranked_regions = sorted(points, key=lambda r: (-points[r], -best[r][1], self.region_order[r]))
        region = ranked_regions[0] if ranked_regions else prior_region
        if region is not None and region in best and best[region][0]:
            factor, _, written, zone = best[region]
            for cat_id, weight in self.region_weights:
                tally.own[cat_id] = tally.own.get(cat_id, 0.0) + weight * factor
                tally.rules.append(("region_weight", cat_id, written, zone, 1, weight * factor))
        return ranked_regions, region

    def _choose_section(self, tally: _Tally) -> tuple[str | None, str | None, list[tuple[str, float]], dict[str, float]]:
        """Section, then the category inside it; the ranked categories and every section's total."""
        own, cues, s = tally.own, tally.cues, self.settings
        lam = s.section_weight
        order, section_of = self.order, self.category_section
        best_in: dict[str, tuple[float, str | None]] = {}
        totals: dict[str, float] = {}
        for section in self.auto_sections:
            inside = [(own[c], -order[c], c) for c in own if own[c] > 0 and section_of[c] == section]
            best = max(inside) if inside else (0.0, 0, None)
            best_in[section] = (best[0], best[2])
            totals[section] = round(lam * cues.get(section, 0.0) + best[0], 2)
        chosen = max(self.auto_sections, key=lambda sec: (totals[sec], -self.section_order[sec]))
        if totals[chosen] < s.min_score:
            return s.fallback_section, None, [], totals
        category = best_in[chosen][1] or self.spec.sections[chosen].default_category
        scored = {c: own[c] + lam * cues.get(section_of[c], 0.0) for c in own if own[c] > 0}
        if category is not None and category not in scored:
            scored[category] = lam * cues.get(chosen, 0.0)
        ranked = sorted(((c, round(v, 2)) for c, v in scored.items()), key=lambda cv: (-cv[1], cv[0] != category, order[cv[0]]))
        return chosen, category, ranked, totals

    def _confidence(self, own: dict[str, float], section: str | None, category: str | None, totals: dict[str, float]) -> float:
        """How clearly the section won, times how clearly the category won inside it, times how
        much evidence there is at all (saturating at `confidence_scale`)."""
        if category is None:
            return 0.0
        scale = self.settings.confidence_scale
        t1, t2 = (sorted(totals.values(), reverse=True) + [0.0])[:2]
        inside = sorted((own[c] for c in own if own[c] > 0 and self.category_section[c] == section), reverse=True) + [0.0, 0.0]
        o1, o2 = inside[0], inside[1]
        if o1 > 0:
            clarity = o1 / (o1 + o2)
            amount = 1 - math.exp(-o1 / scale)
        else:  # the section's default category: nothing named it
            clarity, amount = 0.5, 1 - math.exp(-t1 / scale)
        return round(t1 / (t1 + t2) * clarity * amount, 3) if t1 > 0 else 0.0

    def _shown_terms(self, tally: _Tally) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """The terms editors are shown, strongest first: per category (less `generic_terms`,
        plus the `source:` priors) and per section (its cues)."""
        matched: dict[str, list[str]] = {}
        cue_terms: dict[str, list[str]] = {}
        for kind, target, written, _zone, _n, points in sorted(tally.rules, key=lambda r: -r[5]):
            if written.startswith("lead+body capped") or written in self.generic:
                continue
            if kind == "cat":
                _append(matched.setdefault(target, []), written if points > 0 else f"-{written}")
            elif kind == "region_weight" and points > 0:
                _append(matched.setdefault(target, []), written)
            elif kind == "cue":
                _append(cue_terms.setdefault(target, []), written)
        for cat, names in tally.matched_prior.items():
            for name in names:
                _append(matched.setdefault(cat, []), name)
        return matched, cue_terms

    def _watch_hits(self, title_n: str, body_n: str) -> list[str]:
        found = {t for t, _ in self.watch.scan(title_n, None)} | {t for t, _ in self.watch.scan(body_n, 0)}
        return [written for term, written in self.watch_terms.items() if term in found]

    def _host_info(self, host: str) -> tuple[str | None, set[int]]:
        """The region whose government host this is, and the priors whose `host` matches (cached)."""
        info = self._hosts.get(host)
        if info is None:
            region = next((key for suffix, key in self.host_regions if host_matches(host, suffix)), None)
            priors = {id(p) for p, _ in self.priors if any(host_matches(host, suffix) for suffix in p.match.host)}
            if len(self._hosts) > 10_000:
                self._hosts.clear()
            info = self._hosts[host] = (region, priors)
        return info

    def _relevance(
        self, confidence: float, authority: float, published_at: datetime | None, cluster_size: int, watched: bool,
        pick_parts: dict[str, float] | None = None,
    ) -> tuple[float, dict[str, float]]:
        """The weighted mean of the parts (topics.yml `relevance`), plus the watch bonus. The
        editors' past choices (``pick_parts``, :meth:`PickSignal.parts`: of the item's source
        and of its category, weighed as one part) are a part only where someone chose anything."""
        rel = self.spec.relevance
        if published_at is None:
            freshness = rel.freshness.unknown
        else:
            when = published_at if published_at.tzinfo else published_at.replace(tzinfo=CHINA)
            age = (self.now() - when).total_seconds() / 3600
            freshness = 1.0 if age <= 0 else 0.5 ** (age / rel.freshness.half_life_hours)
        cluster = min(1.0, math.log(max(cluster_size, 1)) / math.log(rel.cluster_saturation))
        return self._weighted({"confidence": confidence, "authority": authority, "freshness": freshness, "cluster": cluster}, pick_parts, watched)

    def rescored(self, score_parts: dict[str, float], pick_parts: dict[str, float] | None) -> tuple[float, dict[str, float]]:
        """The relevance of an item tagged earlier (its stored ``score_parts``) with the editors'
        choices as they are now (``pick_parts``, :meth:`PickSignal.parts`). The other parts stay
        as they were measured when the item was tagged — freshness included, so an item does
        not sink merely by waiting for the editors."""
        parts = {name: score_parts.get(name, 0.0) for name in ("confidence", "authority", "freshness", "cluster")}
        return self._weighted(parts, pick_parts, "watch_bonus" in score_parts)

    def _weighted(self, parts: dict[str, float], pick_parts: dict[str, float] | None, watched: bool) -> tuple[float, dict[str, float]]:
        rel = self.spec.relevance
        w = rel.weights
        total = w.confidence + w.authority + w.freshness + w.cluster
        weighted = w.confidence * parts["confidence"] + w.authority * parts["authority"] + w.freshness * parts["freshness"] + w.cluster * parts["cluster"]
        parts["freshness"], parts["cluster"] = round(parts["freshness"], 3), round(parts["cluster"], 3)  # as stored
        if pick_parts is not None:
            total, weighted = total + w.picks, weighted + w.picks * pick_parts["picks"]
            parts.update(pick_parts)
        score = weighted / total
        if watched and rel.watch_bonus:
            parts["watch_bonus"] = rel.watch_bonus
            score += rel.watch_bonus
        return round(min(score, 1.0), 4), parts


def _append(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)
