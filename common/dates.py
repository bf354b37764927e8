"""The one date parser: the formats Chinese sites print, made timezone-aware.

A page that gives no offset is in China Standard Time; that is what its editors meant.
A page that gives only a day yields a :class:`DayDate` (midnight China time that knows it
is a day), so the day is stored and shown as a day — never as ``00:00`` turned into another
zone's ``01:00``. :func:`format_published` is the one place a publication time is written
for editors (CLI, digest, workspace, exports).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")
log = logging.getLogger(__name__)
# Dates a Chinese news page can honestly carry (fixed bounds: no clock read here). Anything
# outside — year 9999 in a hostile feed — is unknown, not clamped to something that looks real.
EARLIEST, LATEST = datetime(1949, 1, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc)

# Publication times are shown in the publisher's zone, the day its page states.
PUBLISHED_ZONE = "CST"
DAY, TIME = "day", "time"  # the precision of a published date, as stored in items.published_precision


class DayDate(datetime):
    """A date that gives only the day: midnight China time, marked so the day stays a day."""


# Year, month, day separated by - / . 年 月 (日); then an optional time, possibly glued on
# with a dash (gov.cn's "2024-04-22-10:30:00") or "T".
_DATE_TIME = re.compile(
    r"(?P<y>(?:19|20)\d{2})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s*[T\s-]?\s*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{1,2})(?:\s*[:：分]\s*(?P<S>\d{1,2})(?:\.\d+)?)?)?"
    r"(?P<tz>\s*(?:Z|[+-]\d{2}:?\d{2}))?"
)
_COMPACT = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})(?P<m>[01]\d)(?P<d>[0-3]\d)(?!\d)")
_EPOCH = re.compile(r"^\s*(\d{10})(\d{3})?\s*$")


def parse_date(text: str | int | float | None, *, default_tz: ZoneInfo = CHINA) -> datetime | None:
    """Return the first date found in ``text`` as an aware datetime, or None.

    Accepts ISO 8601, ``2023/6/13 10:14:39``, ``2023年06月13日 10:30``, ``2024-04-22-10:30:00``,
    compact ``20230613`` and Unix timestamps (seconds or milliseconds).
    """
    if text is None or text == "":
        return None
    if isinstance(text, (int, float)):
        return _from_epoch(float(text))
    epoch = _EPOCH.match(text)
    if epoch:
        return _from_epoch(float(epoch.group(1)))
    match = _DATE_TIME.search(text)
    if match:
        return _build(match, default_tz)
    compact = _COMPACT.search(text)
    if compact:
        return _build(compact, default_tz)
    return None


def _build(match: re.Match[str], default_tz: ZoneInfo) -> datetime | None:
    groups = match.groupdict()
    if not groups.get("H"):
        try:
            return DayDate(int(groups["y"]), int(groups["m"]), int(groups["d"]), tzinfo=default_tz)
        except ValueError:
            return None
    try:
        value = datetime(
            int(groups["y"]),
            int(groups["m"]),
            int(groups["d"]),
            int(groups.get("H") or 0),
            int(groups.get("M") or 0),
            int(groups.get("S") or 0),
        )
    except ValueError:
        return None
    tz = (groups.get("tz") or "").strip()
    if not tz:
        return value.replace(tzinfo=default_tz)
    if tz == "Z":
        return value.replace(tzinfo=timezone.utc)
    sign = 1 if tz[0] == "+" else -1
    digits = tz[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return value.replace(tzinfo=timezone(sign * offset))


def _from_epoch(seconds: float) -> datetime | None:
    if seconds > 1e11:  # milliseconds
        seconds /= 1000
    if not 0 < seconds < 4e9:
        return None
    return datetime.fromtimestamp(seconds, tz=CHINA)


def has_time(text: str) -> bool:
    """Whether ``text`` states a time of day, not just a date."""
    match = _DATE_TIME.search(text)
    return bool(match and match.group("H"))


def plausible(value: datetime | None) -> datetime | None:
    """``value`` when it lies between 1949 and 2100, else None (logged)."""
    if value is not None and not EARLIEST <= value < LATEST:
        log.warning("date %s is out of range (%d–%d): treated as unknown", value.isoformat(), EARLIEST.year, LATEST.year - 1)
        return None
    return value


def precision_of(value: datetime | None) -> str | None:
    """``day`` for a date parsed without a time of day, ``time`` otherwise (None: no date)."""
    if value is None:
        return None
    return DAY if isinstance(value, DayDate) else TIME


def day_only(text: str) -> DayDate | None:
    """The day of a ``YYYY-MM-DD``-like text as a :class:`DayDate`, whatever time it carries
    (for tools such as htmldate that pad a bare day with ``00:00:00``)."""
    found = parse_date(text)
    return DayDate(found.year, found.month, found.day, tzinfo=CHINA) if found else None


def format_published(value: datetime | None, precision: str | None) -> str:
    """A publication time as editors read it: ``2019-09-25`` for a day, ``2019-09-25 23:59 CST``
    for a time (China time, the zone the page itself states). ``—`` when there is none."""
    if value is None:
        return "—"
    local = value.astimezone(CHINA)
    if precision == DAY:
        return f"{local:%Y-%m-%d}"
    return f"{local:%Y-%m-%d %H:%M} {PUBLISHED_ZONE}"



_DURATION = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta | None:
    """``30m``, ``12h``, ``2d``, ``1w`` as a timedelta; None when ``text`` is not one. Watchlist
    schedules and silences, `--since` and the daemon's intervals all read durations here."""
    match = _DURATION.match(str(text).strip())
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))}) if match else None
