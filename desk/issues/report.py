"""What an issue of the weekly report is made of, as the parser gives it and `store` keeps it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


class ReportParseError(ValueError):
    """The input is not an issue of the weekly report, or cannot be read as one."""


@dataclass
class Reference:
    """A source an issue cites: the title of a Chinese article and its URL."""

    title: str  # as cited, usually Chinese; "" when the issue gives only the URL
    url: str
    outlet: str | None = None
    date: dt.date | None = None


@dataclass
class Story:
    """One numbered story of a section such as 정책동향, with the sources it cites."""

    section: str  # as the issue names it: 특집기사 / 정책동향 / 기술동향 …
    category: str | None  # from CONTENTS: 기술전략, 지역, ICT, … (None when CONTENTS has none)
    number: int | None
    headline: str  # Korean, as printed above the story (CONTENTS sometimes words it differently)
    subheadline: str | None = None  # the ■ line without its trailing date
    event_date: dt.date | None = None  # the ■ line's "(6.13)", given the year
    # Every body line in order, captions and table rows included; bullet marks removed, note
    # marks (* ※) kept, a bullet the PDF wrapped onto a second line joined again.
    summary: list[str] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)  # the 참고자료 block
    figure_credits: list[str] = field(default_factory=list)  # "* 출처: …" under figures, each once


@dataclass
class Brief:
    """One item of 단신동향: a headline, a ■ line, two bullets, `출처: <outlet> (MM.DD)`, a URL."""

    headline: str
    outlet: str | None = None
    date: dt.date | None = None
    url: str | None = None
    references: list[Reference] = field(default_factory=list)  # anything cited beyond `url`
    number: int | None = None
    subheadline: str | None = None
    summary: list[str] = field(default_factory=list)


@dataclass
class Report:
    """One issue: its stories and briefs, and whatever the parser could not place."""

    published: dt.date
    title: str
    stories: list[Story]
    briefs: list[Brief]
    unplaced: list[str]  # input lines the parser could not attribute (stripped), CONTENTS entries without a story
    source_file: str | None = None
    overview: list[str] = field(default_factory=list)  # the 요약 page, one line per story
    colophon: dict[str, str] = field(default_factory=dict)  # 발행일, 발행인, 발행기관, 발행처
