"""The issue's lines, one at a time: cleaning, what a line looks like, dates and URLs in it.

PDF extraction decides much of this: it wraps URLs and bullets onto the next line, keeps tabs
in table rows, and prints dates as "(6.13)" without a year.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from common.dates import parse_date
from common.text import clean_inline


_HTML_TAG = re.compile(r"</?(?:p|ul|ol|li|br|span|div|strong|b|em|i|sup|sub)\b[^>]*>", re.IGNORECASE)
# Bullet marks, stripped from text. ■ too: a second key point inside a story is body text.
BULLET = re.compile(r"^(?:(?:[-–—](?=\s)|[•●○◦▶▷►☑☞✓✔▪·➢❍◎◇■◼□◆])\s*)+")
MARKER = re.compile(r"^[■◼□◆]\s*")  # the key-point line under a headline
REFERENCE_MARK = re.compile(r"^(?:[-•]\s*)?[☑☞]")  # used for cited sources only
URL = re.compile(r"<?(https?://[^\s<>]+)>?")
_TRAILING_URL = re.compile(r"<?https?://[^\s<>]*$")
_URL_PIECE = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+>?")
_COMPLETE_URL = re.compile(r"\.(?:s?html?|pdf|php|aspx?|jsp)$|/$")
_NOT_A_PIECE = re.compile(r"\d{1,3}|[IVX]+")  # a story number or section numeral, never a URL tail
_MONTH_DAY = (
    r"(?:(?P<y>(?:19|20)\d{2})\s*[.．/\-]\s*)?(?P<m>1[0-2]|0?[1-9])\s*[.．/월]\s*(?P<d>3[01]|[12]\d|0?[1-9])\s*일?"
)
TRAILING_DATE = re.compile(rf"\s*[(（]\s*{_MONTH_DAY}\s*(?:[~∼～\-–][^)）]*)?[)）]\s*$")
SOURCE = re.compile(r"(?:[*※]\s*)?출\s*처\s*[:：]\s*(?P<rest>.*)")
CREDIT = re.compile(r"(?:[*※]\s*)?(?:출\s*처|자\s*료|Source|来源|出处)\s*[:：]\s*(?P<credit>.+)", re.IGNORECASE)
REFS_HEAD = re.compile(r"[<〈\[【]?\s*(?:참\s*고\s*자\s*료|참고\s*문헌)\s*[>〉\]】:：]?")
CONTENTS_HEAD = re.compile(r"CONTENTS|목\s*차", re.IGNORECASE)
OVERVIEW_HEAD = re.compile(r"요\s*약|Summary", re.IGNORECASE)
ROMAN = r"(?:[IVX]{1,4}|[Ⅰ-Ⅻ])"
_SECTION_NAME = r"(?:[가-힣]{1,6}\s?(?:동향|기사)|특집|단신)"
_NUMBERED_SECTION = re.compile(rf"(?:\d{{1,2}}|{ROMAN})\s*[.．)]?\s*({_SECTION_NAME})")  # "1. 특집기사", "II 단신동향"
_KNOWN_SECTION = re.compile(r"특집기사|특집|정책\s?동향|기술\s?동향|산업\s?동향|단신\s?동향|단신")
ITEM_NUMBER = re.compile(r"(?P<n>\d{1,2})[.．]?(?:\s+(?P<headline>.+))?")
_LETTER = re.compile(r"[A-Za-z가-힣\u3400-\u9fff]")
BOILERPLATE = re.compile(
    r"CHINA|SCIENCE|KOSTEC|KOREA-CHINA SCIENCE\s*&?|TECHNOLOGY COOPERATION CENTER|"
    r"Korea-China Science & Technology Cooperation Center|한중과학기술협력센터|본 보고서는 .+",
    re.IGNORECASE,
)
# "| 발 행 일 | 2023. 6. 21" or "발행일: …"; the separator keeps "발행일로부터 …" in the body.
COLOPHON_FIELD = re.compile(r"\|?\s*(?P<key>발\s*행\s*(?:일|인|처|기\s*관))\s*[|:：]\s*(?P<value>.*)")


@dataclass(frozen=True)
class Line:
    raw: str  # as extracted; tabs kept because they tell table rows from story numbers
    text: str  # markup removed, whitespace collapsed


def clean_markup(raw: str) -> str:
    return clean_inline(_HTML_TAG.sub(" ", raw).replace("**", ""))


def prepare_lines(text: str) -> list[Line]:
    """Non-blank lines with markup removed and URLs that extraction split joined again."""
    raws = _join_broken_urls([raw.rstrip() for raw in text.lstrip("\ufeff").splitlines()])
    lines = [Line(raw, clean_markup(raw)) for raw in raws]
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


def strip_bullet(text: str) -> str:
    return BULLET.sub("", text).strip()


def is_bullet(text: str) -> bool:
    return bool(BULLET.match(text))


def url_only(text: str) -> str | None:
    match = URL.fullmatch(text)
    return match.group(1) if match else None


def unbracket(text: str) -> str:
    return URL.sub(lambda match: match.group(1), text)


def split_trailing_date(text: str) -> tuple[str, re.Match[str] | None]:
    match = TRAILING_DATE.search(text)
    return (text[: match.start()].strip(), match) if match else (text, None)


def resolve_month_day(match: re.Match[str] | None, published: dt.date | None) -> dt.date | None:
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


def full_date(text: str) -> dt.date | None:
    """`2023. 6. 21`, `2024. 6. 28.`, `2023년 6월 21일` … via the project's one date parser."""
    parsed = parse_date(text.replace("년", ".").replace("월", ".").replace("일", ""))
    return parsed.date() if parsed else None


def is_title(text: str) -> bool:
    return "과학기술정책주간동향" in re.sub(r"[\s/]", "", text)


def unslashed_title(text: str) -> str:
    return re.sub(r"(?<=[가-힣])/(?=[가-힣])", "", text)  # the cover spaces it as 주/간/동/향


def looks_like_headline(line: Line) -> bool:
    text = line.text
    return (
        "\t" not in line.raw
        and len(text) >= 4
        and bool(_LETTER.search(text))
        and not is_bullet(text)
        and not MARKER.match(text)
        and not URL.fullmatch(text)
        and not REFS_HEAD.fullmatch(text)
        and not SOURCE.fullmatch(text)
        and not text.startswith(("*", "※", "〈", "<"))
    )


def is_wrapped(line: Line) -> bool:
    """Plain text: no bullet, note mark, caption bracket, "1)" heading or table row ("3 …")."""
    text = line.text
    return "\t" not in line.raw and bool(re.match(r"[\w'‘\"“]", text)) and not re.match(r"\d{1,2}(?:[).]|\s)", text)


def section_name(text: str) -> str | None:
    """`1. 특집기사`, `II 단신동향`, or a known name alone; spaces dropped (`정책 동향`)."""
    match = _NUMBERED_SECTION.fullmatch(text)
    if match:
        return match.group(1).replace(" ", "")
    return text.replace(" ", "") if _KNOWN_SECTION.fullmatch(text) else None


_CJK = r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef“”]"  # Chinese characters and full-width punctuation


def join_title(parts: list[str]) -> str:
    """Wrapped Chinese needs no space at the join; wrapped Latin or Korean does."""
    title = ""
    for part in parts:
        chinese_seam = re.search(_CJK + "$", title) or re.match(_CJK, part)
        title = f"{title}{part}" if chinese_seam or not title else f"{title} {part}"
    return title
