"""Full-text search over items (title, origin, body), served by an index where one exists.

SQLite: the FTS5 table ``items_fts`` with the ``trigram`` tokenizer (migration 0010), an
external-content index kept in sync with ``items`` by triggers. Trigrams match any substring
of three or more characters, which suits Chinese and Korean (no word boundaries to find),
and rank by the weighted hits in each field (``occurrences``). PostgreSQL: ``pg_trgm`` GIN
indexes serve ``ILIKE '%term%'``, one per slice of ids (``SLICE_IDS``) and one over the
archive; the newest items are searched first (``storage.slices``), and ranked by the title's
similarity to the query. Either way the newest matches are the ones ranked.

A term shorter than three characters cannot be served by trigrams: it falls back to ILIKE,
as does the whole query when the index is absent (SQLite without FTS5 trigram, a role that
could not create pg_trgm) — with a log line, so a slow search has a visible cause.
"""

from __future__ import annotations

import logging
import math
import operator
import re
import threading
from functools import reduce
from typing import Any, NamedTuple

from markupsafe import Markup, escape
from sqlalchemy import ColumnElement, Select, and_, case, column, func, literal_column, or_, select, table, text, union_all
from sqlalchemy.orm import Session

from common.text import written_form
from storage import slices
from storage.models import Item
from storage.patterns import contains as _contains
from storage.patterns import has_case

log = logging.getLogger(__name__)
MIN_TERM = 3  # trigram indexes cannot serve shorter terms
FTS_TABLE = "items_fts"
# Weights of a hit in (title, origin, body): a hit in the title says more than one in the body.
FIELD_WEIGHTS = ((Item.title, 10), (Item.origin, 2), (Item.body, 1))
RANK = "match_rank"  # the column an FTS5 search adds to rank by, not returned
SNIPPET_BEFORE, SNIPPET_AFTER = 30, 90  # characters shown around the first hit

_fts = table(FTS_TABLE, column("rowid"))
_warned: set[str] = set()


def terms(q: str) -> list[str]:
    """The whitespace-separated terms of a query, each once, as written: a term copied out of a
    PDF of the report (⼈⼯智能) searches for what it shows (人工智能)."""
    return list(dict.fromkeys(written_form(q).split()))


def backend(session: Session) -> str:
    """"fts5", "pg_trgm" or "like": what can serve a search on this session's database."""
    bind = session.get_bind()
    if bind.dialect.name == "sqlite":
        found = session.scalar(text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"), {"name": FTS_TABLE})
        name = "fts5" if found else "like"
    elif bind.dialect.name == "postgresql":
        found = session.scalar(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"))
        name = "pg_trgm" if found else "like"
    else:
        name = "like"
    url = str(bind.url)
    if name == "like" and url not in _warned:
        _warned.add(url)
        log.warning("search: no full-text index on %s (migration 0010 could not build it); searching with ILIKE, "
                    "which reads every item", bind.url.render_as_string())
    return name


def like_clause(term: str):  # type: ignore[no-untyped-def]
    """``term`` occurs in the title, origin or body (case-insensitive)."""
    return or_(*(_contains(field, term) for field in (Item.title, Item.origin, Item.body)))


def fts_query(words: list[str]) -> str:
    """An FTS5 MATCH expression: every word as a quoted phrase (so no word is read as an
    operator), all required."""
    return " AND ".join('"' + word.replace('"', '""') + '"' for word in words)


def matching(query: Select[Any], session: Session, q: str, limit: int) -> Select[Any]:
    """At most ``limit`` rows of ``query`` (a select of Item columns, Item.id among them, not
    ordered) whose items hold every term of ``q``, best match first.

    Only the ``limit`` newest matches are ranked: a common term matches much of the archive,
    and scoring all of it is what made search grow with the archive. Ties go to the newer item.
    """
    words = terms(q)
    kind = backend(session)
    if kind == "pg_trgm":
        return slices.ranked_by_title(query, slices.newest_matches(session, query, words, limit), words)
    indexed = [w for w in words if len(w) >= MIN_TERM] if kind == "fts5" else []
    for word in words:
        if word not in indexed:
            query = query.where(like_clause(word))
    if indexed:
        match = text(f"{FTS_TABLE} MATCH :fts_query").bindparams(fts_query=fts_query(indexed))
        # FTS5 hands rows over newest first for ORDER BY rowid DESC, so the LIMIT stops the scan
        # and only the kept rows are scored.
        newest = query.join(_fts, _fts.c.rowid == Item.id).where(match).order_by(_fts.c.rowid.desc())
        hits = newest.add_columns((-occurrences(indexed)).label(RANK)).limit(limit).subquery("hits")
        rank = hits.c[RANK]
    else:  # unranked: newest first
        hits = query.order_by(Item.id.desc()).limit(limit).subquery("hits")
        return select(*hits.c).order_by(hits.c.id.desc())
    shown = (c for c in hits.c if c.key != RANK)
    return select(*shown).order_by(rank, hits.c.id.desc())


def occurrences(words: list[str]):  # type: ignore[no-untyped-def]
    """The weighted number of times ``words`` occur in an item's fields (FIELD_WEIGHTS),
    case-folded as the trigram tokenizer folds (ASCII here: SQLite's lower()).

    Not FTS5's bm25: its first call counts every row that matches each phrase, for the inverse
    document frequency — 33 ms for a term in 36 % of 10⁵ items, linear in its matches, so in the
    archive, although only the newest matches are ranked (issue 19). Counting hits here costs
    only the rows ranked; what is lost is bm25's weighing of a rarer word above a common one."""
    total = literal_column("0")
    for word in words:
        for field, weight in FIELD_WEIGHTS:
            # lower() copies the text: only for a word whose case can differ (as like_clause)
            text_of = func.lower(field) if has_case(word) else field
            removed = func.length(text_of) - func.length(func.replace(text_of, word.lower(), ""))
            total = total + weight * func.coalesce(removed, 0) / len(word)
    return total


def snippets(q: str, items: list[Item]) -> dict[int, Markup]:
    """Per item id: a short passage of its body (else title) around the first hit, escaped,
    hits wrapped in <mark>. Made in Python from the rows already read for the page: FTS5's
    snippet() for a page of rows walks every match of the archive (``rowid IN (…)``) or costs
    ~30 ms a row (``rowid = ?``), measured at 3·10⁴ items."""
    words = terms(q)
    found: dict[int, Markup] = {}
    for item in items if words else []:
        passage = passage_around(item.body or "", words) or passage_around(item.title or "", words)
        if passage:
            found[item.id] = passage
    return found


def passage_around(body: str, words: list[str]) -> Markup | None:
    """The text around the first occurrence of any word (case-insensitive), escaped, each
    occurrence wrapped in <mark>; None when no word occurs."""
    pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)), re.IGNORECASE)
    first = pattern.search(body)
    if first is None:
        return None
    start, end = max(first.start() - SNIPPET_BEFORE, 0), min(first.end() + SNIPPET_AFTER, len(body))
    window = " ".join(body[start:end].split())
    parts = [("…" if start else "")]
    last = 0
    for hit in pattern.finditer(window):
        parts += [str(escape(window[last:hit.start()])), "<mark>", str(escape(hit.group())), "</mark>"]
        last = hit.end()
    parts += [str(escape(window[last:])), "…" if end < len(body) else ""]
    return Markup("".join(parts))


COMMON = 2_000  # items a trigram may be in and still narrow a lookup; a commoner one is left out
AMONG_AT_ONCE = 500  # named items whose trigrams one statement counts (SQLite allows 32,766 bound values)
SAMPLE, SAMPLE_RUNS = 5_000, 100  # PostgreSQL: items whose titles and leads tell how common a trigram is (Counted)
# An estimate this many standard deviations from ``common`` is taken as it is; nearer, the trigram
# is counted. Four, not the textbook three: a sample of runs of neighbours (a crawl's items) varies
# more than one of single items. At 10⁵ items that counts 1,200–2,800, at 10⁶ up to 4,530.
NEAR_SIGMAS = 4
LEAD_FTS_TABLE = "items_lead_fts"  # SQLite's index of the leads (migration 0013)
LEAD_TABLE = "item_leads"  # PostgreSQL's leads, LEAD_SQL of each body, kept by a trigger (migration 0014)
# The bodies' leads as migration 0013 indexes them: the first 120 characters after the blanks
# str.strip() removes.
LEAD_BLANKS = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
               "\u2028\u2029\u202f\u205f\u3000")
LEAD_INDEXED = 120
LEAD_SQL = f"substr(ltrim(items.body, '{LEAD_BLANKS}'), 1, {LEAD_INDEXED})"
# PostgreSQL: the letters of a lead's first line that a title key keeps whatever else it drops
# (CJK ideographs, ASCII letters and digits), indexed by migration 0018.
HEADLINE_LETTERS_SQL = r"length(regexp_replace(split_part(item_leads.lead, E'\n', 1), '[^\u4e00-\u9fffA-Za-z0-9]', '', 'g'))"

_lead_fts = table(LEAD_FTS_TABLE, column("rowid"))
_leads = table(LEAD_TABLE, column("item_id"), column("lead"))


class Holders(NamedTuple):
    """The items a trigram lookup names, by the field that holds enough of the trigrams: a title
    named only by its lead need not be compared with the cited title, nor a lead named only by its title."""

    in_title: set[int]
    in_lead: set[int]

    def all(self) -> set[int]:
        return self.in_title | self.in_lead


class Counted:
    """How many items hold each trigram in a field, (field, spellings) → count, shared by the
    lookups of one issue's titles, which ask many trigrams twice (碳足迹 in a notice and its
    答记者问). A count only steers the cost: leaving out a trigram, common or not, lowers the
    count required and keeps every match.

    Counted in the index (``_count``): on SQLite up to ``common`` + 1, which costs little, as FTS5
    stops reading at the LIMIT. pg_trgm hands back every row holding a trigram before a LIMIT
    applies, so on PostgreSQL counting grew with the archive (one issue's counts: 4.9 s of the database's CPU
    at 10⁵ items, 10.2 s at 10⁶). PostgreSQL first estimates from a sample of SAMPLE items (the
    share holding the trigram, times the archive's id span), and counts only the trigrams whose
    estimate is near ``common`` (NEAR_SIGMAS): an estimate alone, off by a third there,
    changed which trigrams were left out, and an issue's lookups named 8,000 items more.
    """

    def __init__(self) -> None:
        self.counts: dict[tuple[str, tuple[str, ...]], int] = {}
        self._sample: dict[str, str] | None = None
        self._scale = 1.0
        self._lock = threading.Lock()

    def of(self, session: Session, kind: str, field: str, groups: list[list[str]], common: int) -> list[int]:
        """The count of each group (any of its spellings, ignoring case) in ``field``."""
        missing = [group for group in groups if (field, tuple(group)) not in self.counts]
        if missing and kind == "pg_trgm":
            self._estimate(session, field, missing)
            missing = [group for group in missing if self._near(self.counts[(field, tuple(group))], common)]
        if missing:  # two lookups may count one trigram at once: the same count, and no lock held over a query
            self._count(session, kind, field, missing, common)
        return [self.counts[(field, tuple(group))] for group in groups]

    def _near(self, estimate: int, common: int) -> bool:
        """Whether ``estimate`` could be on the other side of ``common``: within NEAR_SIGMAS
        standard deviations of it, the sample's hits varying as a Poisson count (√ of themselves)."""
        expected_hits = common / self._scale
        spread = NEAR_SIGMAS * math.sqrt(expected_hits) * self._scale
        return common - spread < estimate <= common + spread

    def _count(self, session: Session, kind: str, field: str, groups: list[list[str]], common: int) -> None:
        """One query for all ``groups``, each counted up to ``common`` + 1 on SQLite (FTS5 stops
        reading there). PostgreSQL counts every match: pg_trgm's bitmap holds them all before a
        LIMIT applies, and under a LIMIT the planner, once ANALYZE had seen a trigram in 2 % of the
        leads, read the table from its start instead, hoping to stop early (10⁶: 1.2 s for a
        trigram, against milliseconds). Only trigrams whose estimate is near ``common`` are
        counted there, so their counts stay near it."""
        cap = common + 1 if kind == "fts5" else None
        capped = [select(literal_column(str(n)).label("n"), _trigram_condition(kind, field, group, n).limit(cap).subquery().c.id)
                  for n, group in enumerate(groups)]
        rows = union_all(*capped).subquery("capped")
        found = dict(session.execute(select(rows.c.n, func.count()).group_by(rows.c.n)).all())
        self.counts.update({(field, tuple(group)): found.get(n, 0) for n, group in enumerate(groups)})

    def _estimate(self, session: Session, field: str, groups: list[list[str]]) -> None:
        with self._lock:  # one sample for the lookups, which run in threads
            if self._sample is None:
                self._sample = self._take_sample(session)
        for group in groups:
            # Occurrences, not items: str.count runs in C (a Python loop over 10,000 texts cost
            # 2.5 s an issue), and a trigram twice in one title or 120-character lead is rare.
            held = sum(self._sample[field].count(spelling.lower()) for spelling in group)
            self.counts[(field, tuple(group))] = round(held * self._scale)

    def _take_sample(self, session: Session) -> dict[str, str]:
        """The sample's titles and leads, each field's texts joined by a character no trigram
        holds: SAMPLE_RUNS runs of consecutive ids spread evenly over the archive. Not the newest
        items: the stories an issue cites are the week's, and their words are common in it."""
        first, last = session.execute(select(func.min(Item.id), func.max(Item.id))).one()
        query = select(Item.title, literal_column(LEAD_SQL))
        if first is not None and last - first + 1 > SAMPLE:
            run, step = SAMPLE // SAMPLE_RUNS, (last - first + 1) / SAMPLE_RUNS
            starts = [first + int(n * step) for n in range(SAMPLE_RUNS)]
            query = query.where(or_(*(Item.id.between(start, start + run - 1) for start in starts)))
            self._scale = (last - first + 1) / (run * SAMPLE_RUNS)
        rows = session.execute(query).all()
        return {"title": "\n".join(title or "" for title, _ in rows).lower(), "lead": "\n".join(lead or "" for _, lead in rows).lower()}


def sharing_trigrams(session: Session, groups: list[list[str]], in_title: int, in_lead: int, common: int = COMMON,
                     counted: Counted | None = None, lead_letters: int | None = None) -> Holders | None:
    """The items whose title holds ``in_title`` of ``groups``, and those whose lead (the start
    of the body, LEAD_SQL) holds ``in_lead`` of them — each group one trigram (three
    characters) in its spellings, any of which counts once — or None when no index serves the
    lookup (the caller then reads the items itself). Only the lead is asked: a whole body holds
    some trigrams of many headlines somewhere in its length.

    The cost follows the trigrams, not the archive: a trigram in more than ``common`` items is
    left out of the lookup and the count required lowered by one for it (an item may hold it
    uncounted); the items so named are then counted again with every trigram (``_holding_among``).
    When that would require nothing, every common trigram is left out and one of the uncommon ones
    required — the caller's assumption (desk.issues.lookup) that a match keeps one. When every
    trigram is common nothing is left out and the count is kept: the database counts each
    item's shared trigrams (HAVING; PostgreSQL: ``_holding_enough``), so only the items holding
    enough of them come back.

    ``counted`` (``Counted``), shared by the lookups of one issue's titles, keeps what each
    trigram was counted. ``lead_letters``: the most letters a lead's first line may hold
    (HEADLINE_LETTERS_SQL); PostgreSQL leaves longer leads out through their index, where a
    long first paragraph that quotes the title holds every trigram of it (a press conference's
    opening sentence in 14,213 leads of the 10⁶ benchmark archive: 0.74 s → 0.04 s).
    """
    kind = backend(session)
    if kind == "like" or not groups:
        return None if kind == "like" else Holders(set(), set())
    counted = Counted() if counted is None else counted
    short = (literal_column(HEADLINE_LETTERS_SQL) <= lead_letters,) if kind == "pg_trgm" and lead_letters is not None else ()
    return Holders(_holders(session, kind, "title", groups, in_title, common, counted),
                   _holders(session, kind, "lead", groups, in_lead, common, counted, short))


def _holders(session: Session, kind: str, field: str, groups: list[list[str]], at_least: int, common: int, counted: Counted,
             narrower: tuple[Any, ...] = ()) -> set[int]:
    """``sharing_trigrams`` for one field; ``narrower``: conditions every holder meets besides."""
    counts = counted.of(session, kind, field, groups, common)
    uncommon = [n for n, count in enumerate(counts) if count <= common]
    if not uncommon and kind == "pg_trgm":
        return _holding_enough(session, field, groups, at_least, narrower)
    named_at = max(at_least - (len(groups) - len(uncommon)), 1) if uncommon else at_least  # the uncommon ones bound the lookup
    conditions = [_trigram_condition(kind, field, groups[n], n) for n in uncommon or range(len(groups))]
    ids = union_all(*conditions).subquery("holders")
    named = set(session.scalars(select(ids.c.id).group_by(ids.c.id).having(func.count() >= named_at)))
    if named_at < at_least or narrower:
        return _holding_among(session, field, groups, at_least, named, narrower)
    return named


def _holding_among(session: Session, field: str, groups: list[list[str]], at_least: int, named: set[int],
                   narrower: tuple[Any, ...] = ()) -> set[int]:
    """Those of ``named`` whose ``field`` holds ``at_least`` of ``groups``, the common trigrams
    included. The uncommon trigrams alone name many items that hold one or two of them, more
    as the archive grows (10⁶ items: 21,897 leads for one issue, none a match); counting each
    named text's trigrams in SQL costs far less than confirming it in Python. Case is ignored as
    storage.patterns.contains ignores it: on SQLite for ASCII letters only, where FTS5 folds every
    letter, so a text that differs from the cited title only in the case of, say, a Greek letter
    is counted one trigram short."""
    key, text_of = _field_of(session, field)
    held = _count_held([_holds(text_of, group) for group in groups])
    ordered, holding = sorted(named), set()
    for start in range(0, len(ordered), AMONG_AT_ONCE):
        holding.update(session.scalars(select(key).where(key.in_(ordered[start:start + AMONG_AT_ONCE]), held >= at_least, *narrower)))
    return holding


def _field_of(session: Session, field: str) -> tuple[Any, Any]:
    """The id and the text of ``field`` ("title" or "lead") as the trigram indexes hold them."""
    if field == "title":
        return Item.id, Item.title
    if session.get_bind().dialect.name == "postgresql":
        return _leads.c.item_id, _leads.c.lead
    return Item.id, literal_column(LEAD_SQL)


def _holding_enough(session: Session, field: str, groups: list[list[str]], at_least: int, narrower: tuple[Any, ...] = ()) -> set[int]:
    """PostgreSQL, every trigram common: the items whose ``field`` holds ``at_least`` of
    ``groups``, without reading every row that holds one of them (a common trigram of a 10⁶
    archive is in 10⁵ leads, each read again to check it: 2.7 s for one title).

    An item holding that many misses at most ``len(groups) - at_least`` groups, so of that many
    plus one disjoint blocks it holds at least one block whole. pg_trgm's index intersects each
    block's lists itself; only rows holding a whole block are read, then counted. A block takes
    every n-th group, not neighbours: neighbouring trigrams come together in any text that quotes
    the title's words (中国科, 国科学), distant ones far less often (1.1 s for the same title)."""
    key, text_of = _field_of(session, field)
    at_least = max(at_least, 1)
    if at_least > len(groups):
        return set()
    held = [_holds(text_of, group) for group in groups]
    blocks = len(groups) - at_least + 1
    whole = [and_(*held[start::blocks]) for start in range(blocks)]
    return set(session.scalars(select(key).where(or_(*whole), _count_held(held) >= at_least, *narrower)))


def _holds(text_of: Any, spellings: list[str]) -> ColumnElement[bool]:
    """``text_of`` holds any of one trigram's ``spellings``, ignoring case."""
    return or_(*(_contains(text_of, s) for s in spellings))


def _count_held(conditions: list[ColumnElement[bool]]) -> Any:
    """How many of ``conditions`` a row meets, in SQL."""
    return reduce(operator.add, (case((held, 1), else_=0) for held in conditions))


def _trigram_condition(kind: str, field: str, spellings: list[str], n: int) -> Select[Any]:
    """The ids of the items whose ``field`` (title or lead) holds any of ``spellings``, ignoring case."""
    if kind == "fts5":  # a quoted phrase is never an operator
        phrases = "(" + " OR ".join('"' + s.replace('"', '""') + '"' for s in spellings) + ")"
        index, expression = (_fts, "{title} : " + phrases) if field == "title" else (_lead_fts, phrases)
        match = text(f"{index.name} MATCH :trigram_{n}").bindparams(**{f"trigram_{n}": expression})
        return select(index.c.rowid.label("id")).select_from(index).where(match)
    if field == "title":  # pg_trgm's GIN indexes serve these LIKEs
        return select(Item.id.label("id")).where(or_(*(_contains(Item.title, s) for s in spellings)))
    return select(_leads.c.item_id.label("id")).where(or_(*(_contains(_leads.c.lead, s) for s in spellings)))
