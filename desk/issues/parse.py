"""The text of a past issue of 중국 과학기술 정책 주간동향, parsed back into its structure.

The monitor imports past issues so that a crawled article can be recognised as already
covered: the Chinese titles and URLs an issue cites, its Korean headlines and event dates.
Issues reach us as text extracted from PDF (or as .docx), so the layout is only roughly
stable. Between issues the bullets change (-, •, ●, ☑, ☞, ○, ▶), a story number sits on its
own line or before its headline, the ■ line may lack its ■ or its date, CONTENTS repeats a
category or lists one per story, and PDF extraction breaks URLs across lines.

One pass over the cleaned lines (desk/issues/lines.py) with a small state machine does the
work; the CONTENTS block then gives stories their categories (desk/issues/contents.py).
Whatever it cannot place ends up in Report.unplaced, never dropped; only text that is no
report at all raises. Known furniture (cover banner, disclaimer, running title) is
recognised and skipped.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from desk.issues.contents import ContentsEntry, categorise, is_category
from desk.issues.lines import (
    BOILERPLATE, COLOPHON_FIELD, CONTENTS_HEAD, CREDIT, ITEM_NUMBER, MARKER, OVERVIEW_HEAD, REFERENCE_MARK,
    REFS_HEAD, ROMAN, SOURCE, TRAILING_DATE, URL, Line, clean_markup, full_date, is_bullet, is_title, is_wrapped,
    join_title, looks_like_headline, prepare_lines, resolve_month_day, section_name, split_trailing_date,
    strip_bullet, unbracket, unslashed_title, url_only,
)
from desk.issues.report import Brief, Reference, Report, ReportParseError, Story


class _Parser:
    """Walks the lines once. States: preamble, contents, front, overview, body, colophon."""

    def __init__(self, lines: list[Line], published: dt.date | None) -> None:
        self.lines = lines
        self.published = published
        self.state = "preamble"
        self.title = ""
        self.unplaced: list[str] = []
        self.overview: list[str] = []
        self.colophon: dict[str, str] = {}
        self.colophon_key: str | None = None
        self.entries: list[ContentsEntry] = []
        self.contents_section: str | None = None
        self.contents_category: str | None = None
        self.stories: list[Story] = []
        self.briefs: list[Brief] = []
        self.section = ""
        self.fresh_section = False  # just after a section header: numbering may restart
        self.last_number: int | None = None
        self.padded: bool | None = None  # the issue writes "01", not "1": learnt from its first item
        self.item: Story | Brief | None = None
        self.phase = ""  # of the open item: head, body, refs, source
        self.pending: list[str] = []  # raw lines of a reference title still waiting for its URL
        self.wrap_target: list[str] | None = None  # the list whose last line is a bullet, wraps included
        self.wrappable: list[str] | None = None  # … as it was before the current line

    def run(self) -> None:
        i = 0
        while i < len(self.lines):
            i += self._step(i)
        self._close_item()

    def _step(self, i: int) -> int:
        line = self.lines[i]
        self.wrappable, self.wrap_target = self.wrap_target, None
        if self._furniture(line):
            return 1
        section = self._section_header(i)
        # CONTENTS names sections too; a heading followed by a numbered story is the body's.
        if self.state == "contents" and not (section and self._item_start(i + section[1])):
            self._contents_line(line)
            return 1
        if section:
            self._open_section(section[0])
            return section[1]
        start = self._item_start(i) or self._unnumbered_start(i)
        if start:
            number, token, headline, consumed = start
            self._open_item(number, token, headline)
            return consumed
        self._dispatch(line)
        return 1

    def _furniture(self, line: Line) -> bool:
        """Page furniture and block headings; True when ``line`` is one of them.

        Banner, disclaimer and running title are skipped (the first title line names the issue;
        after CONTENTS the banner ends it). A colophon field, CONTENTS or 요약 heading closes the
        open story and starts that block.
        """
        text = line.text
        if is_title(text) or BOILERPLATE.fullmatch(text):
            self.title = self.title or (unslashed_title(text) if is_title(text) else "")
            if self.state == "contents":  # the cover's banner follows CONTENTS
                self.state = "front"
            return True
        if colophon_field := COLOPHON_FIELD.fullmatch(text):
            self._enter("colophon")
            self.colophon_key = re.sub(r"\s", "", colophon_field["key"])
            self.colophon[self.colophon_key] = colophon_field["value"].strip(" |")
            return True
        for state, heading in (("contents", CONTENTS_HEAD), ("overview", OVERVIEW_HEAD)):
            if heading.fullmatch(text):
                self._enter(state)
                return True
        return False

    def _enter(self, state: str) -> None:
        self._close_item()
        self.state = state

    # CONTENTS

    def _contents_line(self, line: Line) -> None:
        text = line.text
        section = section_name(text)
        if section:
            self.contents_section, self.contents_category = section, None
            return
        body = re.sub(r"^\d{1,2}[.．]?\s+", "", strip_bullet(text))  # "01 headline" variants
        combined = re.fullmatch(r"(?P<category>[^•|,'‘’\"“”]{1,15}?)\s*[•|]\s*(?P<headline>.+)", body)
        if combined:  # "- 기술전략** • headline": category and headline on one line
            self.contents_category = combined["category"].strip()
            body = combined["headline"].strip()
        elif not is_bullet(text) and is_category(text):
            self.contents_category = text
            return
        self.entries.append(ContentsEntry(self.contents_section, self.contents_category, body, line.raw.strip()))

    # sections and items

    def _section_header(self, i: int) -> tuple[str, int] | None:
        """A section's name and the lines its heading takes: "II" may stand above the name."""
        text = self.lines[i].text
        following = self.lines[i + 1].text if i + 1 < len(self.lines) else ""
        if re.fullmatch(rf"{ROMAN}[.．]?", text) and re.fullmatch(r"[가-힣]{2,8}(?: [가-힣]{1,6})?", following):
            return following.replace(" ", ""), 2
        name = section_name(text)
        return (name, 1) if name else None

    def _open_section(self, name: str) -> None:
        self._close_item()
        self.state, self.section, self.fresh_section = "body", name, True

    def _item_start(self, i: int) -> tuple[int, str, str, int] | None:
        """A numbered story or brief: "02 headline", or "02" with the headline on the next line.

        Returns number, its printed form, headline and the number of lines taken.
        """
        if i >= len(self.lines):
            return None
        line = self.lines[i]
        match = ITEM_NUMBER.fullmatch(line.text)
        if not match or "\t" in line.raw or not self._number_fits(match["n"]):
            return None
        number, token = int(match["n"]), match["n"]
        if match["headline"] is not None:
            same_line = Line(line.raw, match["headline"])
            return (number, token, same_line.text, 1) if looks_like_headline(same_line) else None
        following = self.lines[i + 1] if i + 1 < len(self.lines) else None
        if following is None or not looks_like_headline(following):
            return None
        return number, token, following.text, 2

    def _number_fits(self, token: str) -> bool:
        """Story numbers run 01, 02, … and restart after a section header.

        The check keeps table rows ("4 신소재 …") and page numbers from opening a story.
        """
        number = int(token)
        if self.fresh_section or self.last_number is None:
            return True
        if self.padded and len(token) != 2:
            return False
        return token == "01" or self.last_number < number <= self.last_number + 2

    def _unnumbered_start(self, i: int) -> tuple[None, None, str, int] | None:
        """A headline without number: after a finished item, followed directly by a ■ line."""
        if self.state != "body" or (self.item is not None and self.phase not in ("refs", "source")):
            return None
        line = self.lines[i]
        following = self.lines[i + 1] if i + 1 < len(self.lines) else None
        if following is None or not MARKER.match(following.text) or not looks_like_headline(line):
            return None
        return None, None, line.text, 1

    def _open_item(self, number: int | None, token: str | None, headline: str) -> None:
        self._close_item()
        if number is not None and token is not None:
            self.last_number = number
            self.padded = len(token) == 2 if self.padded is None else self.padded
        self.state, self.fresh_section, self.phase = "body", False, "head"
        if "단신" in self.section:
            self.item = Brief(headline=headline, number=number)
            self.briefs.append(self.item)
        else:
            self.item = Story(section=self.section, category=None, number=number, headline=headline)
            self.stories.append(self.item)

    def _close_item(self) -> None:
        self.unplaced.extend(self.pending)  # a reference title that never got its URL
        self.pending = []
        self.item = None

    # lines inside states

    def _dispatch(self, line: Line) -> None:
        if self.state == "overview":
            self._add_text(self.overview, line)
        elif self.state == "colophon" and self.colophon_key:
            self.colophon[self.colophon_key] += "\n" + line.text  # the address runs over lines
        elif isinstance(self.item, Story):
            self._story_line(self.item, line)
        elif isinstance(self.item, Brief):
            self._brief_line(self.item, line)
        else:
            self.unplaced.append(line.raw.strip())

    def _story_line(self, story: Story, line: Line) -> None:
        text = line.text
        if self.phase == "head":
            self.phase = "body"
            if MARKER.match(text) or (not is_bullet(text) and TRAILING_DATE.search(text)):
                story.subheadline, date_match = split_trailing_date(MARKER.sub("", text))
                story.event_date = resolve_month_day(date_match, self.published)
                return
        if REFS_HEAD.fullmatch(text):
            self.phase = "refs"
        elif REFERENCE_MARK.match(text) and self.phase == "body":  # sources cited without heading
            self.phase = "refs"
            self._reference_line(story.references, line)
        elif credit := CREDIT.fullmatch(strip_bullet(text)):
            if (value := unbracket(credit["credit"]).strip()) not in story.figure_credits:
                story.figure_credits.append(value)
        elif self.phase == "refs":
            self._reference_line(story.references, line)
        else:
            self._add_text(story.summary, line)

    def _brief_line(self, brief: Brief, line: Line) -> None:
        text = line.text
        if self.phase == "head":
            self.phase = "body"
            if MARKER.match(text) or not (is_bullet(text) or SOURCE.fullmatch(text) or URL.fullmatch(text)):
                brief.subheadline = MARKER.sub("", text)
                return
        source = SOURCE.fullmatch(strip_bullet(text))
        url = url_only(text)
        if REFS_HEAD.fullmatch(text):
            self.phase = "refs"
        elif self.phase == "refs":
            self._reference_line(brief.references, line)
        elif source and self.phase != "source":
            self._brief_source(brief, source["rest"])
        elif url and brief.url is None:
            brief.url = url
        elif url:
            brief.references.append(Reference("", url, brief.outlet, brief.date))
        elif self.phase == "source":
            self.unplaced.append(line.raw.strip())  # text after the source line belongs nowhere
        else:
            self._add_text(brief.summary, line)

    def _add_text(self, target: list[str], line: Line) -> None:
        """A body line; a plain line right after a bullet is that bullet wrapped by the PDF."""
        if target and target is self.wrappable and is_wrapped(line):
            target[-1] = f"{target[-1]} {line.text}"
            self.wrap_target = target
            return
        target.append(strip_bullet(line.text))
        self.wrap_target = target if is_bullet(line.text) else None

    def _brief_source(self, brief: Brief, rest: str) -> None:
        """`과학망 (05.31)`, `과학망（05.31）`, optionally followed by the URL itself."""
        url = URL.search(rest)
        if url:
            brief.url, rest = url.group(1), rest[: url.start()].strip()
        rest, date_match = split_trailing_date(rest)
        brief.outlet = rest or None
        brief.date = resolve_month_day(date_match, self.published)
        self.phase = "source"

    def _reference_line(self, references: list[Reference], line: Line) -> None:
        """A cited title (bullet ☑, ☞, - …), its URL on the same or a later line."""
        url = URL.search(line.text)
        title = strip_bullet(URL.sub("", line.text)).strip()
        if url and title:  # title and URL on one line; an earlier title without URL is orphaned
            self.unplaced.extend(self.pending)
            self.pending = []
            references.append(Reference(title, url.group(1)))
        elif url:
            references.append(Reference(join_title([strip_bullet(clean_markup(raw)) for raw in self.pending]), url.group(1)))
            self.pending = []
        elif self.pending and not is_bullet(line.text):
            self.pending.append(line.raw.strip())  # a long title wrapped onto a second line
        else:
            self.unplaced.extend(self.pending)
            self.pending = [line.raw.strip()] if title else []


def _publication_date(lines: list[Line], source_file: str | None) -> dt.date | None:
    """The colophon's `발 행 일`; failing that, a date in the file's name (2023-06-21.txt)."""
    for line in lines:
        field_ = COLOPHON_FIELD.fullmatch(line.text)
        if field_ and re.sub(r"\s", "", field_["key"]) == "발행일":
            found = full_date(field_["value"])
            if found:
                return found
    named = re.search(r"(\d{4})[-_.]?(\d{2})[-_.]?(\d{2})", Path(source_file).name) if source_file else None
    return full_date(".".join(named.groups())) if named else None


def parse_report(text: str, source_file: str | None = None) -> Report:
    """Parse the text of one issue. Raises ReportParseError when the text is no issue at all."""
    lines = prepare_lines(text)
    published = _publication_date(lines, source_file)
    parser = _Parser(lines, published)
    parser.run()
    where = f"{source_file}: " if source_file else ""
    # Numbered lines alone prove nothing (Chinese articles have them too): a report has a
    # CONTENTS block or stories under its section headings.
    if not parser.entries and not any(story.section for story in parser.stories) and not parser.briefs:
        raise ReportParseError(
            f"{where}not an issue of 중국 과학기술 정책 주간동향: no CONTENTS block and no numbered stories "
            f"under a section heading such as 정책동향 (read {len(lines)} non-blank lines)"
        )
    if published is None:
        raise ReportParseError(f"{where}no publication date: no '발 행 일' line in the colophon and none in the file name")
    unmatched = categorise(parser.stories, parser.entries)
    return Report(
        published=published,
        title=parser.title,
        stories=parser.stories,
        briefs=parser.briefs,
        unplaced=[f"CONTENTS entry without story: {raw}" for raw in unmatched] + parser.unplaced,
        source_file=source_file,
        overview=parser.overview,
        colophon=parser.colophon,
    )
