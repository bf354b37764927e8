"""Past issues of the weekly report 중국 과학기술 정책 주간동향, read back into structure.

The monitor imports past issues so that a crawled article can be recognised as already
covered: the Chinese titles and URLs an issue cites, its Korean headlines and event dates.
Issues reach us as text extracted from PDF (or as .docx), so the layout is only roughly
stable. Between issues the bullets change (-, •, ●, ☑, ☞, ○, ▶), a story number sits on its
own line or before its headline, the ■ line may lack its ■ or its date, CONTENTS repeats a
category or lists one per story, and PDF extraction breaks URLs across lines.

One pass over the cleaned lines with a small state machine does the work. Whatever it cannot
place ends up in Report.unplaced, never dropped; only text that is no report at all raises.
Known furniture (cover banner, disclaimer, running title) is recognised and skipped.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from common.dates import parse_date
from common.text import clean_inline


class ReportParseError(ValueError):
    """The input is not an issue of the weekly report, or cannot be read as one."""


@dataclass
class Reference:
    title: str  # as cited, usually Chinese; "" when the issue gives only the URL
    url: str
    outlet: str | None = None
    date: dt.date | None = None


@dataclass
class Story:
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
    published: dt.date
    title: str
    stories: list[Story]
    briefs: list[Brief]
    unplaced: list[str]  # input lines the parser could not attribute (stripped), CONTENTS entries without a story
    source_file: str | None = None
    overview: list[str] = field(default_factory=list)  # the 요약 page, one line per story
    colophon: dict[str, str] = field(default_factory=dict)  # 발행일, 발행인, 발행기관, 발행처


# --- reading files -------------------------------------------------------------------------


def read_report_text(path: Path) -> str:
    """The text of an issue saved as .txt (UTF-8, BOM tolerated), .pdf or .docx (str works too)."""
    path = Path(path)
    readers = {".txt": _txt_text, ".text": _txt_text, ".pdf": _pdf_text, ".docx": _docx_text}
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise ReportParseError(f"{path}: cannot read '{path.suffix or 'no extension'}' files; give a .txt, .pdf or .docx")
    return reader(path)


def _txt_text(path: Path) -> str:
    data = path.read_bytes()
    encoding = "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"  # Windows editors
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise ReportParseError(f"{path}: not UTF-8 text ({error})") from error


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader  # imported here: only PDF imports pay for it

    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def _docx_text(path: Path) -> str:
    import docx  # imported here: only .docx imports pay for it
    from docx.table import Table

    lines: list[str] = []
    for block in docx.Document(str(path)).iter_inner_content():  # paragraphs and tables in order
        if isinstance(block, Table):
            lines.extend(_docx_table_rows(block))
        else:
            lines.append(block.text)
    return "\n".join(lines)


def _docx_table_rows(table) -> list[str]:
    """One tab-separated line per row, as PDF extraction gives them (tabs mark table rows)."""
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) not in seen:  # a merged cell comes back once per column it spans
                seen.add(id(cell._tc))
                cells.append(" ".join(cell.text.split()))
        rows.append("\t".join(cells))
    return rows


# --- line patterns -----------------------------------------------------------------------

_HTML_TAG = re.compile(r"</?(?:p|ul|ol|li|br|span|div|strong|b|em|i|sup|sub)\b[^>]*>", re.IGNORECASE)
# Bullet marks, stripped from text. ■ too: a second key point inside a story is body text.
_BULLET = re.compile(r"^(?:(?:[-–—](?=\s)|[•●○◦▶▷►☑☞✓✔▪·➢❍◎◇■◼□◆])\s*)+")
_MARKER = re.compile(r"^[■◼□◆]\s*")  # the key-point line under a headline
_REFERENCE_MARK = re.compile(r"^(?:[-•]\s*)?[☑☞]")  # used for cited sources only
_URL = re.compile(r"<?(https?://[^\s<>]+)>?")
_TRAILING_URL = re.compile(r"<?https?://[^\s<>]*$")
_URL_PIECE = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+>?")
_COMPLETE_URL = re.compile(r"\.(?:s?html?|pdf|php|aspx?|jsp)$|/$")
_NOT_A_PIECE = re.compile(r"\d{1,3}|[IVX]+")  # a story number or section numeral, never a URL tail
_MONTH_DAY = (
    r"(?:(?P<y>(?:19|20)\d{2})\s*[.．/\-]\s*)?(?P<m>1[0-2]|0?[1-9])\s*[.．/월]\s*(?P<d>3[01]|[12]\d|0?[1-9])\s*일?"
)
_TRAILING_DATE = re.compile(rf"\s*[(（]\s*{_MONTH_DAY}\s*(?:[~∼～\-–][^)）]*)?[)）]\s*$")
_SOURCE = re.compile(r"(?:[*※]\s*)?출\s*처\s*[:：]\s*(?P<rest>.*)")
_CREDIT = re.compile(r"(?:[*※]\s*)?(?:출\s*처|자\s*료|Source|来源|出处)\s*[:：]\s*(?P<credit>.+)", re.IGNORECASE)
_REFS_HEAD = re.compile(r"[<〈\[【]?\s*(?:참\s*고\s*자\s*료|참고\s*문헌)\s*[>〉\]】:：]?")
_CONTENTS_HEAD = re.compile(r"CONTENTS|목\s*차", re.IGNORECASE)
_OVERVIEW_HEAD = re.compile(r"요\s*약|Summary", re.IGNORECASE)
_ROMAN = r"(?:[IVX]{1,4}|[Ⅰ-Ⅻ])"
_SECTION_NAME = r"(?:[가-힣]{1,6}\s?(?:동향|기사)|특집|단신)"
_NUMBERED_SECTION = re.compile(rf"(?:\d{{1,2}}|{_ROMAN})\s*[.．)]?\s*({_SECTION_NAME})")  # "1. 특집기사", "II 단신동향"
_KNOWN_SECTION = re.compile(r"특집기사|특집|정책\s?동향|기술\s?동향|산업\s?동향|단신\s?동향|단신")
_ITEM_NUMBER = re.compile(r"(?P<n>\d{1,2})[.．]?(?:\s+(?P<headline>.+))?")
_LETTER = re.compile(r"[A-Za-z가-힣\u3400-\u9fff]")
_BOILERPLATE = re.compile(
    r"CHINA|SCIENCE|KOSTEC|KOREA-CHINA SCIENCE\s*&?|TECHNOLOGY COOPERATION CENTER|"
    r"Korea-China Science & Technology Cooperation Center|한중과학기술협력센터|본 보고서는 .+",
    re.IGNORECASE,
)
# "| 발 행 일 | 2023. 6. 21" or "발행일: …"; the separator keeps "발행일로부터 …" in the body.
_COLOPHON_FIELD = re.compile(r"\|?\s*(?P<key>발\s*행\s*(?:일|인|처|기\s*관))\s*[|:：]\s*(?P<value>.*)")


@dataclass(frozen=True)
class _Line:
    raw: str  # as extracted; tabs kept because they tell table rows from story numbers
    text: str  # markup removed, whitespace collapsed


def _clean(raw: str) -> str:
    return clean_inline(_HTML_TAG.sub(" ", raw).replace("**", ""))


def _prepare(text: str) -> list[_Line]:
    """Non-blank lines with markup removed and URLs that extraction split joined again."""
    raws = _join_broken_urls([raw.rstrip() for raw in text.lstrip("\ufeff").splitlines()])
    lines = [_Line(raw, _clean(raw)) for raw in raws]
    return [line for line in lines if line.text]


def _join_broken_urls(raws: list[str]) -> list[str]:
    joined: list[str] = []
    for raw in raws:
        if joined and _continues_url(joined[-1].strip(), raw.strip()):
            joined[-1] = joined[-1].rstrip() + raw.strip()
        else:
            joined.append(raw)
    return joined


def _continues_url(previous: str, piece: str) -> bool:
    """Whether `piece`, on the very next line, is the rest of the URL `previous` ends with.

    Only an adjacent line counts: PDF extraction wraps without a blank line in between.
    An opened `<` settles it; otherwise the URL must look unfinished and the piece URL-ish.
    """
    url = _TRAILING_URL.search(previous)
    if not url or not piece or not _URL_PIECE.fullmatch(piece) or _NOT_A_PIECE.fullmatch(piece):
        return False
    if url.group(0).startswith("<"):
        return True
    return not _COMPLETE_URL.search(url.group(0)) and bool(re.search(r"[\d/?=&%_.\-]", piece))


def _strip_bullet(text: str) -> str:
    return _BULLET.sub("", text).strip()


def _is_bullet(text: str) -> bool:
    return bool(_BULLET.match(text))


def _url_only(text: str) -> str | None:
    match = _URL.fullmatch(text)
    return match.group(1) if match else None


def _unbracket(text: str) -> str:
    return _URL.sub(lambda match: match.group(1), text)


def _split_date(text: str) -> tuple[str, re.Match[str] | None]:
    match = _TRAILING_DATE.search(text)
    return (text[: match.start()].strip(), match) if match else (text, None)


def _resolve(match: re.Match[str] | None, published: dt.date | None) -> dt.date | None:
    """A printed month and day as a date: the year that puts it nearest the issue.

    A January issue citing "(12.28)" means last December, not this one.
    """
    if match is None or published is None:
        return None
    month, day = int(match["m"]), int(match["d"])
    years = [int(match["y"])] if match["y"] else [published.year - 1, published.year, published.year + 1]
    candidates = []
    for year in years:
        try:
            candidates.append(dt.date(year, month, day))
        except ValueError:
            pass
    return min(candidates, key=lambda day_: abs(day_ - published), default=None)


def _full_date(text: str) -> dt.date | None:
    """`2023. 6. 21`, `2024. 6. 28.`, `2023년 6월 21일` … via the project's one date parser."""
    parsed = parse_date(text.replace("년", ".").replace("월", ".").replace("일", ""))
    return parsed.date() if parsed else None


def _is_title(text: str) -> bool:
    return "과학기술정책주간동향" in re.sub(r"[\s/]", "", text)


def _title(text: str) -> str:
    return re.sub(r"(?<=[가-힣])/(?=[가-힣])", "", text)  # the cover spaces it as 주/간/동/향


def _looks_like_headline(line: _Line) -> bool:
    text = line.text
    return (
        "\t" not in line.raw
        and len(text) >= 4
        and bool(_LETTER.search(text))
        and not _is_bullet(text)
        and not _MARKER.match(text)
        and not _URL.fullmatch(text)
        and not _REFS_HEAD.fullmatch(text)
        and not _SOURCE.fullmatch(text)
        and not text.startswith(("*", "※", "〈", "<"))
    )


def _is_wrapped(line: _Line) -> bool:
    """Plain text: no bullet, note mark, caption bracket, "1)" heading or table row ("3 …")."""
    text = line.text
    return "\t" not in line.raw and bool(re.match(r"[\w'‘\"“]", text)) and not re.match(r"\d{1,2}(?:[).]|\s)", text)


def _similarity(a: str, b: str) -> float:
    """How alike two headlines read, punctuation and spacing aside (they vary freely)."""
    a, b = (re.sub(r"[\W_]+", "", text) for text in (a, b))
    return difflib.SequenceMatcher(None, a, b).ratio()


# --- CONTENTS ----------------------------------------------------------------------------


@dataclass
class _Entry:
    section: str | None
    category: str | None
    headline: str
    raw: str


def _section_name(text: str) -> str | None:
    """`1. 특집기사`, `II 단신동향`, or a known name alone; spaces dropped (`정책 동향`)."""
    match = _NUMBERED_SECTION.fullmatch(text)
    if match:
        return match.group(1).replace(" ", "")
    return text.replace(" ", "") if _KNOWN_SECTION.fullmatch(text) else None


def _is_category(text: str) -> bool:
    """A bare, short, unpunctuated line in CONTENTS names the category of what follows."""
    return len(text) <= 15 and not re.search(r"[,，'‘’\"“”()]", text)


def _align(entries: list[_Entry], stories: list[Story]) -> dict[int, int]:
    """Which CONTENTS entry (value) describes which story (key).

    The same number of each: order decides, as it does for a reader (CONTENTS often words a
    headline differently). Otherwise the order-keeping pairing with the most similar
    headlines, so one missing entry does not shift every category after it.
    """
    if len(entries) == len(stories):
        return {i: i for i in range(len(stories))}
    return _similar_pairs([[_similarity(s.headline, e.headline) for e in entries] for s in stories])


def _similar_pairs(score: list[list[float]], floor: float = 0.4) -> dict[int, int]:
    """Order-keeping pairs of rows and columns with the largest total score (each ≥ floor)."""
    rows, columns = len(score), len(score[0]) if score else 0
    best = [[0.0] * (columns + 1) for _ in range(rows + 1)]
    for i in range(rows - 1, -1, -1):
        for j in range(columns - 1, -1, -1):
            pair = score[i][j] + best[i + 1][j + 1] if score[i][j] >= floor else 0.0
            best[i][j] = max(best[i + 1][j], best[i][j + 1], pair)
    pairs, i, j = {}, 0, 0
    while i < rows and j < columns:
        if score[i][j] >= floor and best[i][j] == score[i][j] + best[i + 1][j + 1]:
            pairs[i], i, j = j, i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return pairs


# --- the parser --------------------------------------------------------------------------


class _Parser:
    """Walks the lines once. States: preamble, contents, front, overview, body, colophon."""

    def __init__(self, lines: list[_Line], published: dt.date | None) -> None:
        self.lines = lines
        self.published = published
        self.state = "preamble"
        self.title = ""
        self.unplaced: list[str] = []
        self.overview: list[str] = []
        self.colophon: dict[str, str] = {}
        self.colophon_key: str | None = None
        self.entries: list[_Entry] = []
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
        self.wrap_target: list[str] | None = None  # the list whose last line was a bullet
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

    def _furniture(self, line: _Line) -> bool:
        """Page furniture and block headings: they change state, never content."""
        text = line.text
        if _is_title(text) or _BOILERPLATE.fullmatch(text):
            self.title = self.title or (_title(text) if _is_title(text) else "")
            if self.state == "contents":  # the cover's banner follows CONTENTS
                self.state = "front"
            return True
        if colophon_field := _COLOPHON_FIELD.fullmatch(text):
            self._enter("colophon")
            self.colophon_key = re.sub(r"\s", "", colophon_field["key"])
            self.colophon[self.colophon_key] = colophon_field["value"].strip(" |")
            return True
        for state, heading in (("contents", _CONTENTS_HEAD), ("overview", _OVERVIEW_HEAD)):
            if heading.fullmatch(text):
                self._enter(state)
                return True
        return False

    def _enter(self, state: str) -> None:
        self._close_item()
        self.state = state

    # CONTENTS

    def _contents_line(self, line: _Line) -> None:
        text = line.text
        section = _section_name(text)
        if section:
            self.contents_section, self.contents_category = section, None
            return
        body = re.sub(r"^\d{1,2}[.．]?\s+", "", _strip_bullet(text))  # "01 headline" variants
        combined = re.fullmatch(r"(?P<category>[^•|,'‘’\"“”]{1,15}?)\s*[•|]\s*(?P<headline>.+)", body)
        if combined:  # "- 기술전략** • headline": category and headline on one line
            self.contents_category = combined["category"].strip()
            body = combined["headline"].strip()
        elif not _is_bullet(text) and _is_category(text):
            self.contents_category = text
            return
        self.entries.append(_Entry(self.contents_section, self.contents_category, body, line.raw.strip()))

    # sections and items

    def _section_header(self, i: int) -> tuple[str, int] | None:
        """A section's name and the lines its heading takes: "II" may stand above the name."""
        text = self.lines[i].text
        following = self.lines[i + 1].text if i + 1 < len(self.lines) else ""
        if re.fullmatch(rf"{_ROMAN}[.．]?", text) and re.fullmatch(r"[가-힣]{2,8}(?: [가-힣]{1,6})?", following):
            return following.replace(" ", ""), 2
        name = _section_name(text)
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
        match = _ITEM_NUMBER.fullmatch(line.text)
        if not match or "\t" in line.raw or not self._number_fits(match["n"]):
            return None
        number, token = int(match["n"]), match["n"]
        if match["headline"] is not None:
            same_line = _Line(line.raw, match["headline"])
            return (number, token, same_line.text, 1) if _looks_like_headline(same_line) else None
        following = self.lines[i + 1] if i + 1 < len(self.lines) else None
        if following is None or not _looks_like_headline(following):
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
        if following is None or not _MARKER.match(following.text) or not _looks_like_headline(line):
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

    def _dispatch(self, line: _Line) -> None:
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

    def _story_line(self, story: Story, line: _Line) -> None:
        text = line.text
        if self.phase == "head":
            self.phase = "body"
            if _MARKER.match(text) or (not _is_bullet(text) and _TRAILING_DATE.search(text)):
                story.subheadline, date_match = _split_date(_MARKER.sub("", text))
                story.event_date = _resolve(date_match, self.published)
                return
        if _REFS_HEAD.fullmatch(text):
            self.phase = "refs"
        elif _REFERENCE_MARK.match(text) and self.phase == "body":  # sources cited without heading
            self.phase = "refs"
            self._reference_line(story.references, line)
        elif credit := _CREDIT.fullmatch(_strip_bullet(text)):
            if (value := _unbracket(credit["credit"]).strip()) not in story.figure_credits:
                story.figure_credits.append(value)
        elif self.phase == "refs":
            self._reference_line(story.references, line)
        else:
            self._add_text(story.summary, line)

    def _brief_line(self, brief: Brief, line: _Line) -> None:
        text = line.text
        if self.phase == "head":
            self.phase = "body"
            if _MARKER.match(text) or not (_is_bullet(text) or _SOURCE.fullmatch(text) or _URL.fullmatch(text)):
                brief.subheadline = _MARKER.sub("", text)
                return
        source = _SOURCE.fullmatch(_strip_bullet(text))
        url = _url_only(text)
        if _REFS_HEAD.fullmatch(text):
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

    def _add_text(self, target: list[str], line: _Line) -> None:
        """A body line; a plain line right after a bullet is that bullet wrapped by the PDF."""
        if target and target is self.wrappable and _is_wrapped(line):
            target[-1] = f"{target[-1]} {line.text}"
            self.wrap_target = target
            return
        target.append(_strip_bullet(line.text))
        self.wrap_target = target if _is_bullet(line.text) else None

    def _brief_source(self, brief: Brief, rest: str) -> None:
        """`과학망 (05.31)`, `과학망（05.31）`, optionally followed by the URL itself."""
        url = _URL.search(rest)
        if url:
            brief.url, rest = url.group(1), rest[: url.start()].strip()
        rest, date_match = _split_date(rest)
        brief.outlet = rest or None
        brief.date = _resolve(date_match, self.published)
        self.phase = "source"

    def _reference_line(self, references: list[Reference], line: _Line) -> None:
        """A cited title (bullet ☑, ☞, - …), its URL on the same or a later line."""
        url = _URL.search(line.text)
        title = _strip_bullet(_URL.sub("", line.text)).strip()
        if url and title:  # title and URL on one line; an earlier title without URL is orphaned
            self.unplaced.extend(self.pending)
            self.pending = []
            references.append(Reference(title, url.group(1)))
        elif url:
            references.append(Reference(_join_title([_strip_bullet(_clean(raw)) for raw in self.pending]), url.group(1)))
            self.pending = []
        elif self.pending and not _is_bullet(line.text):
            self.pending.append(line.raw.strip())  # a long title wrapped onto a second line
        else:
            self.unplaced.extend(self.pending)
            self.pending = [line.raw.strip()] if title else []


_CJK = r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef“”]"  # Chinese characters and full-width punctuation


def _join_title(parts: list[str]) -> str:
    """Wrapped Chinese needs no space at the join; wrapped Latin or Korean does."""
    title = ""
    for part in parts:
        chinese_seam = re.search(_CJK + "$", title) or re.match(_CJK, part)
        title = f"{title}{part}" if chinese_seam or not title else f"{title} {part}"
    return title


def _same_section(body: str, contents: str | None) -> bool:
    return bool(body and contents) and (body.startswith(contents) or contents.startswith(body))


def _categorise(stories: list[Story], entries: list[_Entry]) -> list[str]:
    """Give each story its CONTENTS category; return the raw CONTENTS lines left unmatched.

    Entries are paired within their section when CONTENTS names sections, else in one run.
    A section may be named shorter in one place than the other (특집 / 특집기사).
    """
    by_section = any(entry.section for entry in entries)
    used: set[int] = set()
    for section in dict.fromkeys(entry.section if by_section else None for entry in entries):
        group = [k for k, entry in enumerate(entries) if not by_section or entry.section == section]
        group_stories = [story for story in stories if not by_section or _same_section(story.section, section)]
        for s, e in _align([entries[k] for k in group], group_stories).items():
            group_stories[s].category = entries[group[e]].category
            used.add(group[e])
    return [entry.raw for k, entry in enumerate(entries) if k not in used]


def _publication_date(lines: list[_Line], source_file: str | None) -> dt.date | None:
    """The colophon's `발 행 일`; failing that, a date in the file's name (2023-06-21.txt)."""
    for line in lines:
        field_ = _COLOPHON_FIELD.fullmatch(line.text)
        if field_ and re.sub(r"\s", "", field_["key"]) == "발행일":
            found = _full_date(field_["value"])
            if found:
                return found
    named = re.search(r"(\d{4})[-_.]?(\d{2})[-_.]?(\d{2})", Path(source_file).name) if source_file else None
    return _full_date(".".join(named.groups())) if named else None


def parse_report(text: str, source_file: str | None = None) -> Report:
    """Parse the text of one issue. Raises ReportParseError when the text is no issue at all."""
    lines = _prepare(text)
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
    unmatched = _categorise(parser.stories, parser.entries)
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
