"""Tag crawled articles with the weekly report's own taxonomy (``watchlists/topics.yml``).

Pure functions of the text (but :mod:`~desk.tagging.learned`, which keeps the learned model in
the database): no network, no CLI. The caller (``crawl tag``, the
item pipeline, a digest) loads the taxonomy once and reuses one :class:`Tagger`::

    from common.settings import get_settings
    from desk.tagging import Tagger, load_taxonomy

    tagger = Tagger(load_taxonomy(get_settings().watchlists / "topics.yml"))
    result = tagger.tag(title, body, source="cas", url=url, published_at=published, cluster_size=3)
    result.section, result.category, result.region, result.score   # 기술동향, materials, None, 0.71
    result.to_dict()                                                  # JSON-ready
    print(result.explain())                                          # every rule that fired

How a result is reached (the YAML header says the same for editors):

1. Title and body are normalised (ASCII lower case, full-width letters and digits as ASCII)
   and scanned once with compiled regular expressions built as character tries over every
   term of the taxonomy (keywords, negative keywords, section cues, region names), merged to
   leftmost, longest, non-overlapping matches: 人工智能 is counted once, not also as 智能.
   ASCII terms must stand as a whole word (AI is not in AIGC). Hits in the first
   ``lead_chars`` of the body are "lead", the rest "body". Watch terms have their own
   expression, so no longer term can hide them.
2. Ambiguous Chinese terms are confirmed with jieba's segmentation: two-character region
   names must start and end on a word boundary (江西 is not in 浙江/西部, 北京 is not in
   北京大学, 福建 is not in 幸福/建设) and one-character short forms (粤, 沪) must be a word
   of their own. Only the text around such a hit is segmented, at most ``max_checks`` hits
   per term and article, because segmenting whole 5 KB bodies with jieba would cap the
   tagger at a few hundred items per second; keywords marked ``whole_word`` get the same
   boundary check. Every other two-character Chinese keyword must not straddle a word
   (化工 is not in 细化/工作, 上市 not in 地级/以上/市, but 化工 is in 煤化工); a few
   dictionary look-ups decide whether that can happen before jieba is asked.
3. A hit adds ``weight × zone factor × (1 + ln n, capped)`` to its category (negative terms
   subtract); lead and body together add at most ``body_cap`` to any one category or
   section, so a long body informs but cannot outvote the title. A region in the title or
   lead adds ``region_weight``; source priors (by source name, host, URL pattern, local-
   government host) add their points.
4. Each automatically assigned section totals ``section_weight × its cues`` (policy-document
   words vs research-result words) plus its best category; the best section wins and the
   category is the best one inside it (or the section's ``default_category``). Ranked
   ``categories`` are scored ``own evidence + section_weight × section cues``, so the chosen
   category is always first. ``field`` is the best technology field whatever the section.

5. With a learned model (``tagger.tag(..., model=learned.current_model(session))``),
   :mod:`~desk.tagging.blend` decides between rules and model and the result says who did
   (``decided_by``: rules / model / both); the second choice is the likeliest by the rules'
   record on the imported issues the model learned from (:mod:`~desk.tagging.record`).

Everything is deterministic: ties are broken by the order of the YAML file, and the only
clock (freshness in the relevance ``score``) can be fixed with ``Tagger(..., now=...)``.

The package, one concept a module: :mod:`~desk.tagging.schema` (the Pydantic model of the
YAML file, and :class:`~desk.tagging.schema.Authority`, the one table of source authority),
:mod:`~desk.tagging.taxonomy` (loading and cross-field checks, lookups),
:mod:`~desk.tagging.matcher` (steps 1–2), :mod:`~desk.tagging.tagger` (steps 3–4 and the
relevance score), :mod:`~desk.tagging.result` (what comes out, and its explanation),
:mod:`~desk.tagging.model` (the learned classifier, pure), :mod:`~desk.tagging.blend` (step 5),
:mod:`~desk.tagging.record` (the rules' record on imported issues: the second choice),
:mod:`~desk.tagging.learned` (its examples, storage and per-process cache) and
:mod:`~desk.tagging.picks` (the editors' past choices, a part of the relevance score).
"""

from desk.tagging.matcher import tokenizer
from desk.tagging.result import Evidence, TagResult
from desk.tagging.schema import Authority, TaxonomyFile
from desk.tagging.tagger import Tagger
from desk.tagging.taxonomy import Taxonomy, TaxonomyError, load_taxonomy

__all__ = ["Authority", "Evidence", "TagResult", "Tagger", "Taxonomy", "TaxonomyError", "TaxonomyFile", "load_taxonomy", "tokenizer"]
