"""Source health: turn a run's counters into ok / degraded / broken, with the reason in words.

An empty result is an error, not "no news today" (RSSHub's habit): a list page that yields
fewer entries than expected, or a rule that matched nothing on a run where it had a chance,
means the site changed or served an anti-bot page — the source is broken from that run on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from common.dates import parse_duration
from crawler.watchlist import SourceBase

OK, DEGRADED, BROKEN = "ok", "degraded", "broken"
RULE_KEY = re.compile(r"^radar/rule/(?P<rule>.+)/tries$")


@dataclass
class Health:
    state: str
    problems: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str | None:
        return "; ".join(self.problems) or None


def assess(source: SourceBase, stats: dict, status: str, last_new: datetime | None, now: datetime) -> Health:
    """Judge one finished run of ``source`` from its Scrapy stats (``radar/*`` keys)."""
    broken: list[str] = []
    degraded: list[str] = []
    raised = stats.get("radar/exceptions", 0)
    if status == "failed":
        broken.append(f"no list page could be read ({stats.get('radar/last_error', 'unknown error')})" if raised
                      else f"no list page could be fetched ({stats.get('radar/last_error', 'unknown error')})")
    elif raised and not stats.get("radar/extracted", 0):
        broken.append(f"{raised} page(s) raised {stats.get('radar/last_exception')} and no article was extracted")
    if stats.get("radar/thin_lists"):
        broken.append(f"{stats.get('radar/thin_list', 'a list page')} (expected at least {source.expect.min_entries}): layout changed or an anti-bot page was served")
    detected = stats.get("radar/detected")  # list rules failed, detection found the entries
    if detected:
        degraded.append(str(detected))
    for rule, tries, hits in _rules(stats):
        if detected and rule.startswith("list."):
            continue  # said once above, with what detection found
        if hits == 0 and int(stats.get(f"radar/rule/{rule}/rescued", 0)) >= tries:
            degraded.append(f"rule `{rule}` matched nothing ({tries} tries){_selector(source, rule)}; generic extraction filled the field")
        elif hits == 0 and _must_match(source, rule):
            broken.append(f"rule `{rule}` matched nothing ({tries} tries){_selector(source, rule)}")
        elif hits < tries:
            degraded.append(f"rule `{rule}` matched {hits} of {tries}{_selector(source, rule)}")
    errors = stats.get("radar/errors", 0)
    if errors and status != "failed":
        degraded.append(f"{errors} error(s); last: {stats.get('radar/last_error', '?')}")
    silence = parse_duration(source.expect.max_silence)
    if last_new is not None and now - last_new > silence:
        degraded.append(f"stale: nothing new since {last_new:%Y-%m-%d} (more than {source.expect.max_silence})")
    if broken:
        return Health(BROKEN, broken + degraded)
    if degraded:
        return Health(DEGRADED, degraded)
    return Health(OK)


def _rules(stats: dict) -> list[tuple[str, int, int]]:
    found = []
    for key, tries in sorted(stats.items()):
        match = RULE_KEY.match(key)
        if match and tries:
            rule = match.group("rule")
            found.append((rule, int(tries), int(stats.get(f"radar/rule/{rule}/hits", 0))))
    return found


def _must_match(source: SourceBase, rule: str) -> bool:
    required = source.expect.must_match
    return rule in required if required is not None else True


def _selector(source: SourceBase, rule: str) -> str:
    declared = source.rules().get(rule)
    return f": `{declared.select}`" if declared else ""


