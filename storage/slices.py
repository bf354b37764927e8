"""PostgreSQL's search by slices of ids: the newest matches of a term without reading them all.

pg_trgm's GIN index hands over every match of a term, unordered; one index over the archive
made a search read all of a term's matches to keep the newest few hundred. storage.search
calls ``newest_matches`` and ``ranked_by_title`` when pg_trgm serves the search; the daily
clean-up calls ``add_slice_indexes``. SQLite's FTS5 hands matches over newest first and needs
none of this.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import ARRAY, Integer, Select, any_, bindparam, func, literal_column, or_, select, text, union_all
from sqlalchemy.orm import Session

from storage.db import get_engine
from storage.models import Item
from storage.patterns import contains

# Title, origin and body are indexed together, one partial index per slice of SLICE_IDS ids
# (migration 0016; later slices by add_slice_indexes). 65,536 ids are seven months at 300 items
# a day. A term in 0.7 % of the items had 700 matches read at 10⁵ items and 6,974 at 10⁶.
SLICE_IDS = 1 << 16
SLICE_INDEX_PREFIX = "ix_items_search_"  # slice n's index is ix_items_search_<n>
SEARCH_TEXT_SQL = "(coalesce(items.title, '') || ' ' || coalesce(items.origin, '') || ' ' || coalesce(items.body, ''))"
_search_text = literal_column(SEARCH_TEXT_SQL)
_unindexed_text = literal_column(f"({SEARCH_TEXT_SQL} || '')")  # the same text, which no index serves
PROBE_IDS = 2_000  # the newest ids a search reads one by one before any index
FIRST_SLICES = 2  # slices a search's first slice query names; the newest may have only begun
TAIL_MATCHES = 2_000  # matches the older items may be expected to hold for one query over them all
# Every scan of a GIN index reads its whole list of pending entries, which PostgreSQL lets grow
# to 4 MB before merging them; the trigram indexes merge at this size (migration 0017).
PENDING_LIST_KB = 256


def newest_matches(session: Session, query: Select[Any], words: list[str], limit: int) -> list[int]:
    """The ids of the ``limit`` newest rows of ``query`` whose title, origin or body holds every
    word, newest first. Three ways to read, each while it reads least:

    - the newest items one by one (PROBE_IDS, then on while the matches are dense enough): a
      common term fills the page there. The planner cannot tell: it has no statistics on the
      slices' expression and took every term for a rare one (人工智能 read 13,604 matches of
      a slice to keep 501: 36 ms);
    - slice by slice through the slice indexes (SLICE_IDS), FIRST_SLICES in the first query and
      twice as many in each next one, for planning costs each slice a query names (0.2 ms);
    - all older items at once through the archive-wide indexes (migration 0010), once they are
      expected to hold at most TAIL_MATCHES matches (as many per id as the items searched):
      fewer rows than more slices would cost, and a term found nowhere does not ask every
      slice's index."""
    newest = session.scalar(select(func.max(Item.id))) or 0
    only_ids = query.with_only_columns(Item.id)
    found: list[int] = []
    below, step = newest + 1, PROBE_IDS  # ids from ``below`` up have been searched
    while below > 0 and len(found) < limit:
        first = max(below - step, 0)
        found += session.scalars(_walk(only_ids, words, first, below, limit - len(found))).all()
        below, density, wanted = first, len(found) / (newest + 1 - first), limit - len(found)
        # Walking on reads wanted / density rows; a slice's index reads density · SLICE_IDS.
        if density * density * SLICE_IDS < wanted:
            break
        step = int(2 * wanted / density) + 1
    slices = list(range((below - 1) // SLICE_IDS, -1, -1)) if below > 0 else []
    batch = FIRST_SLICES
    while slices and len(found) < limit:
        searched, slices = slices[:batch], slices[batch:]
        found += session.scalars(_in_slices(only_ids, words, searched, limit - len(found), below)).all()
        older = searched[-1] * SLICE_IDS  # ids below the slices searched so far
        if slices and len(found) < limit and len(found) * older <= TAIL_MATCHES * (newest + 1 - older):
            with _through_indexes_only(session):
                found += session.scalars(_older_than(only_ids, words, older, limit - len(found))).all()
            break
        batch *= 2
    return found


def _walk(query: Select[Any], words: list[str], first: int, below: int, limit: int) -> Select[Any]:
    """The ``limit`` newest rows of ``query`` with ids from ``first`` to ``below`` (excluded) that
    hold every word, read one by one, newest first: the text is hidden from the slice indexes
    (``|| ''``), and the bounds are written out as _in_slices explains."""
    matches = [contains(_unindexed_text, word, written_out=True) for word in words]
    in_range = text(f"items.id >= {int(first)} AND items.id < {int(below)}")
    return query.where(in_range, *matches).order_by(Item.id.desc()).limit(_written(limit))


def _in_slices(query: Select[Any], words: list[str], slices: list[int], limit: int, below: int) -> Select[Any]:
    """The ``limit`` newest rows of ``query`` in ``slices`` (newest first), with ids below
    ``below``, that hold every word.

    One ordered branch per slice under UNION ALL: PostgreSQL runs the branches in turn and stops
    at the LIMIT, so a slice is read only while the newer ones hold too few matches.

    The bounds, patterns and LIMIT are written into the statement, not bound as parameters.
    The pooled connections prepare a statement run five times, and PostgreSQL may then plan it
    once for any parameters: such a plan cannot use a partial index, and without the pattern
    it walked every slice's ids (3 → 150 ms at 10⁵ items, from the sixth search on)."""
    branches = []
    matches = [contains(_search_text, word, written_out=True) for word in words]
    rows = _written(limit)
    for number in slices:
        first = number * SLICE_IDS
        in_slice = text(f"items.id >= {first} AND items.id < {min(first + SLICE_IDS, int(below))}")
        branches.append(query.where(in_slice, *matches).order_by(Item.id.desc()).limit(rows))
    return branches[0] if len(branches) == 1 else union_all(*branches).limit(rows)


def _older_than(query: Select[Any], words: list[str], below: int, limit: int) -> Select[Any]:
    """The ``limit`` newest rows of ``query`` with ids below ``below`` that hold every word,
    through the archive-wide trigram indexes; written out as _in_slices explains."""
    matches = [or_(*(contains(field, word, written_out=True) for field in (Item.title, Item.origin, Item.body))) for word in words]
    return query.where(text(f"items.id < {int(below)}"), *matches).order_by(Item.id.desc()).limit(_written(limit))


def _written(limit: int) -> Any:
    """A LIMIT written into the statement, not bound (see _in_slices)."""
    return literal_column(str(int(limit)))


@contextmanager
def _through_indexes_only(session: Session) -> Iterator[None]:
    """Within the block, PostgreSQL reads rows only through a bitmap of index matches. The
    search over all older items is made because few matches are expected there; a planner
    whose statistics hold the term as common walked the primary key back through every item
    instead (263 ms at 10⁵ items for 484 matches)."""
    settings = ("enable_seqscan", "enable_indexscan")
    for name in settings:
        session.execute(text(f"SET LOCAL {name} = off"))
    try:
        yield
    finally:
        for name in settings:
            session.execute(text(f"RESET {name}"))


def ranked_by_title(query: Select[Any], ids: list[int], words: list[str]) -> Select[Any]:
    """The rows of ``query`` with these ids, best first by the title's similarity to the query:
    only the kept matches are scored (every match of a term in 0.7 % of 10⁶ items: 58 ms against 25)."""
    kept = Item.id == any_(bindparam("kept_ids", ids, type_=ARRAY(Integer)))  # one array, not a parameter per id
    return query.where(kept).order_by(-func.similarity(Item.title, " ".join(words)), Item.id.desc())


def slice_index_sql(number: int, concurrently: bool = False) -> str:
    """The statement that indexes slice ``number`` of ids for search (PostgreSQL with pg_trgm)."""
    first = number * SLICE_IDS
    how = "CONCURRENTLY " if concurrently else ""
    return (f"CREATE INDEX {how}IF NOT EXISTS {SLICE_INDEX_PREFIX}{number} ON items USING gin ({SEARCH_TEXT_SQL} gin_trgm_ops) "
            f"WITH (gin_pending_list_limit = {PENDING_LIST_KB}) WHERE id >= {first} AND id < {first + SLICE_IDS}")


def add_slice_indexes(url: str) -> list[str]:
    """Index each slice of ids not yet indexed, up to the one after the newest item's, so items
    stored until the next call land in an indexed slice; return the names built. PostgreSQL
    with pg_trgm only (elsewhere nothing to do). Built CONCURRENTLY: a crawl storing meanwhile
    is not held up, even when a slice already holds items. A build that failed half-way leaves
    an invalid index, which is built again."""
    engine = get_engine(url)
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if conn.scalar(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")) is None:
            return []
        valid = dict(conn.execute(text(
            "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = 'items'::regclass AND c.relname LIKE :prefix"), {"prefix": SLICE_INDEX_PREFIX + "%"}).all())
        newest = conn.scalar(text("SELECT max(id) FROM items")) or 0
        built = []
        for number in range(newest // SLICE_IDS + 2):
            name = f"{SLICE_INDEX_PREFIX}{number}"
            if valid.get(name):
                continue
            if name in valid:
                conn.execute(text(f"DROP INDEX CONCURRENTLY IF EXISTS {name}"))
            conn.execute(text(slice_index_sql(number, concurrently=True)))
            built.append(name)
        return built
