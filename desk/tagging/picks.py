"""The editors' past choices as a ranking signal: how often stories of a host and of a category
were chosen — picked in the workspace or cited by an imported issue of the report — against
how often they were passed over (skipped in the workspace).

Each host and each category gets a smoothed rate, ``chosen / (chosen + skipped + PRIOR)``:
``PRIOR`` pseudo-items that nobody chose, so one pick does not make a host 100 % (a host
needs ``PRIOR`` worth of choices to reach one half). An editor's pick or skip counts
``learned.PICK_WEIGHT`` (this team's current habit, as for the model), a story of an issue
citing the host, or filed under the category, counts 1. The workspace's category is the
editor's override, else the category the item was tagged with; an issue's is its CONTENTS
category (briefs have none, but their hosts count). An item's signal is the mean of its
host's rate and its category's rate (0 for a host or category never chosen).

Hosts rather than source names, because an issue cites URLs: ``www.`` is dropped, so
``ndrc.gov.cn`` and ``www.ndrc.gov.cn`` are one host. The rates come from two queries (a row
per item of the newest ``learned.HABIT_WINDOW`` decided, a row per cited reference) and are
kept per process and database (desk/tagging/cache.py), as the learned model is; a new
triage row or a (re-)imported issue makes them stale. A database where nobody has chosen
anything gives no signal at all (:meth:`PickSignal.value` is None), so the relevance score
of a fresh install is exactly what it was without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.urls import host_of
from desk.tagging.cache import PerDatabase
from desk.tagging.learned import HABIT_WINDOW, PICK_WEIGHT, Resolve
from storage import queries
from storage.models import Item, ReportReference, ReportStory, Triage

PRIOR = 5.0  # pseudo-items nobody chose, per host and per category
CITATION_WEIGHT = 1.0  # one story of an imported issue

_signals: PerDatabase[PickSignal] = PerDatabase()  # fingerprint: the newest triage and issue rows


@dataclass
class _Count:
    chosen: float = 0.0
    passed: float = 0.0

    def rate(self) -> float:
        return self.chosen / (self.chosen + self.passed + PRIOR)


@dataclass
class PickSignal:
    """Chosen and passed-over counts per host and per category."""

    hosts: dict[str, _Count] = field(default_factory=dict)
    categories: dict[str, _Count] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.hosts and not self.categories

    def value(self, url: str | None, category: str | None) -> float | None:
        """The signal of an item from ``url`` tagged ``category``, in [0, 1); None when the
        database holds no choice at all."""
        parts = self.parts(url, category)
        return None if parts is None else parts["picks"]

    def parts(self, url: str | None, category: str | None) -> dict[str, float] | None:
        """The signal (``picks``: the mean of the two rates) and how often the editors chose
        stories of the item's host (``picks_source``) and of its category (``picks_category``),
        each 0 when never chosen; None when the database holds no choice at all."""
        if self.empty:
            return None
        host = self.hosts.get(host_name(url), _Count()).rate()
        cat = self.categories.get(category or "", _Count()).rate()
        return {"picks": round((host + cat) / 2, 3), "picks_source": round(host, 3), "picks_category": round(cat, 3)}

    def add(self, host: str, category: str | None, chosen: bool, weight: float) -> None:
        """Count one choice (``chosen``) or one pass of a story of ``host`` (see :func:`host_name`)
        and ``category`` ("" and None count for nothing)."""
        for key, table in ((host, self.hosts), (category, self.categories)):
            if key:
                count = table.setdefault(key, _Count())
                if chosen:
                    count.chosen += weight
                else:
                    count.passed += weight


def host_name(url: str | None) -> str:
    """The host a URL's story is counted under: lower case, without ``www.``."""
    host = host_of(url)
    return host[4:] if host.startswith("www.") else host


def gather(session: Session, resolve: Resolve) -> PickSignal:
    """Count the editors' current picks and skips (of the newest ``HABIT_WINDOW`` decided items,
    as the model does) and every story of every imported issue."""
    signal = PickSignal()
    latest = queries.current_triage_ids(HABIT_WINDOW)
    triaged = (select(Triage.decision, Triage.category_override, Item.url, Item.topics["category"].as_string())
               .join(Item, Item.id == Triage.item_id).where(Triage.id.in_(latest), Triage.decision.in_(("pick", "skip"))))
    for decision, override, url, tagged in session.execute(triaged):
        signal.add(host_name(url), resolve(override or tagged or ""), decision == "pick", PICK_WEIGHT)
    cited = select(ReportStory.id, ReportStory.category, ReportReference.url).join(ReportReference, ReportReference.story_id == ReportStory.id)
    hosts_of: dict[int, set[str]] = {}
    category_of: dict[int, str | None] = {}
    for story_id, category, url in session.execute(cited):
        hosts_of.setdefault(story_id, set()).add(host_name(url))
        category_of[story_id] = resolve(category or "")
    for story_id, hosts in hosts_of.items():  # a story citing two pages of one host counts once
        for host in hosts:
            signal.add(host, None, True, CITATION_WEIGHT)
        signal.add("", category_of[story_id], True, CITATION_WEIGHT)
    return signal


def current(session: Session, resolve: Resolve) -> PickSignal:
    """The signal of this database, counted once per process until a triage or an issue
    import changes what it counts."""
    return _signals.get(session, fingerprint(session), lambda: gather(session, resolve))


def fingerprint(session: Session) -> tuple[int | None, ...]:
    """What the signal counts, in three numbers (the newest triage row, the newest and the
    number of issue stories): when they are unchanged, so is the signal."""
    return tuple(session.execute(select(
        select(func.max(Triage.id)).scalar_subquery(),
        select(func.max(ReportStory.id)).scalar_subquery(),
        select(func.count(ReportStory.id)).scalar_subquery(),
    )).one())
