"""What the watchlists cover of what past issues cite, for `crawl issues coverage`: the
crawler's own judgement (crawler.coverage) applied to the imported issues and stored items."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.orm import Session

from crawler import coverage
from crawler.watchlist import SourceBase
from storage import queries


@dataclass(frozen=True)
class CoverageReport:
    issues: list[coverage.IssueCoverage]  # one per imported issue, oldest first
    missed: list[coverage.MissedColumn]  # unwatched columns, most cited first

    def total(self) -> dict[str, Any]:
        """Over all issues: non-WeChat URLs cited, those in a watched column, and the share."""
        cited, watched = sum(i.cited for i in self.issues), sum(i.watched for i in self.issues)
        return {"cited": cited, "watched": watched, "share": round(watched / cited, 3) if cited else 0.0}

    def to_dict(self) -> dict[str, Any]:
        return {"issues": [i.to_dict() for i in self.issues], "total": self.total(),
                "missed_columns": [asdict(c) for c in self.missed]}


def measure(session: Session, sources: Sequence[SourceBase], published: list[dt.date] | None = None) -> CoverageReport:
    """Coverage of the imported issues published on these days (all when None); no issues
    found gives a report with none."""
    cited = [(day, coverage.citations(structure)) for day, structure in queries.issue_structures(session, published)]
    seen = queries.first_seen(session, {key for _, citations in cited for c in citations for key in coverage.stored_keys(c.url, sources)})
    issues = [coverage.judge(day, citations, sources, seen) for day, citations in cited]
    return CoverageReport(issues, coverage.missed_columns(issues, sources))
