"""Finding the article entries of a list page without selectors.

A column page of a government CMS or a news portal is, for our purpose, one repeated block:
the same element (an `li`, a `tr`, a `div`) many times over, each holding one link to an
article, a headline-length text and usually a date. Around it sit navigation, side menus,
pagers and footers: links too, but short, site-wide, and grouped differently.

So detection works in four steps, each a plain heuristic (facts learnt from public list
extraction work — GNE's list extractor groups links by their repeated ancestor path;
trafilatura's link extraction drops boilerplate containers; newspaper scores URLs by shape):
1. links that may be articles: they match the source's ``article_url`` when it has one;
   otherwise links of the same site (registrable domain) with a known CMS article shape (TRS
   ``t20230526_1.html``, ``content_1.htm``, Jpaas ``art_….html``, people.cn ``c1004-1.html`` …)
   or with a headline-length text and a URL that does not name a column (``/yw/``, ``index.html``);
2. links inside navigation, headers, footers and side menus are dropped;
3. links are grouped by the shape of their path (tags and first classes); each link's *entry*
   is its highest ancestor holding no other link of its group, and a group whose links sit
   inside another group's entries (an item's source, tag or comment count) is dropped;
4. the groups that look like lists (several entries, headline-length texts) are kept: the
   dated ones when some are dated, else the largest with the groups inside its container.

Measured on real saved list pages and on the fixture sites' reconstructions by
``bench/autolist_eval.py`` (tests/fixtures/lists/labels.yml holds the hand labels).

The title is the ``title=`` attribute or the link text, whichever is fuller; the date is the
first date-looking text in the entry, else the date a TRS URL carries.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from lxml import html

from common.dates import parse_date
from crawler.listings import Entry
from common.text import clean_inline, parse_html

# The last path segment of an article on the CMSs Chinese government sites and media run.
ARTICLE_SHAPES = re.compile(
    r"""(?x)
    ^t\d{8}_\d+\.s?html?$              # TRS: t20230526_186326.html
    | ^content_\d+\.s?html?$           # TRS / gov.cn: content_6954630.htm
    | ^art_[0-9a-f_]{8,}\.html?$       # Jpaas / Hanweb: art_<hex>.html, art_<col>_<id>.html
    | ^post_\d+\.html?$                # Guangdong's CMS: post_4436219.html
    | ^c\d+-\d+\.html?$                # people.cn: c1004-40256221.html
    | ^c_\d{6,}\.html?$                # xinhua / jjckb: c_1310778207.htm
    | ^\d{5,}\.s?html?$                # plain numeric ids: 5715884.html, 523456.shtm
    | ^[0-9a-f]{32}\.s?html?$          # Shanghai's CMS: <32 hex>.html
    | ^[0-9a-f]{32}/c\.html?$          # xinhua, jjckb: 20240613/<32 hex>/c.html
    """
)
COLUMN_PAGE = re.compile(r"^(?:(?:index|default|list|node|more)(?:[_-]\w+)?\.\w+)?$", re.IGNORECASE)  # last path segment
BOILERPLATE = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|menu|submenu|header|footer|foot|crumbs?|breadcrumbs?|sidebar|side|topbar|"
    r"copyright|share|friendlinks?|pager|pagination|search|login|banner)(?:$|[\s_-])",
    re.IGNORECASE,
)
BOILERPLATE_TAGS = {"nav", "header", "footer", "aside", "select", "option"}  # not `form`: ASP.NET wraps whole pages in one
DATE_TEXT = re.compile(
    r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?"
)
TRS_DAY = re.compile(r"/t((?:19|20)\d{6})_\d+\.")
SECOND_LEVEL = {"com", "net", "org", "gov", "edu", "ac"}  # under a country code: most.gov.cn, sina.com.cn
MIN_HEADLINE = 6  # characters: a Chinese headline is rarely shorter; "更多", "详情" always are
MIN_ENTRIES = 2  # a list without an article_url must repeat at least this often to count


@dataclass
class Detection:
    """What detection found on one page, and why (for `crawl doctor` and the health reason)."""

    entries: list[Entry] = field(default_factory=list)
    candidates: int = 0  # article-looking links before grouping
    groups: int = 0  # list containers kept
    reason: str = ""


def detect_entries(page: str | html.HtmlElement, base_url: str, article_url: str | None = None) -> Detection:
    """The article entries of a list page, found without selectors."""
    root = parse_html(page) if isinstance(page, str) else page
    links = [a for a in _article_links(root, base_url, article_url) if not _in_boilerplate(a)]
    groups = _group_by_container(links)
    lists = [g for g in groups.values() if _looks_like_list(g, strict=article_url is None)]
    if not lists and groups and article_url is not None:
        lists = list(groups.values())  # the pattern already vouches for every link
    kept = _main_lists([[_found(anchor, entry, base_url) for anchor, entry in group] for group in lists])
    entries = _unique(found.entry for group in kept for found in group)
    reason = f"{len(entries)} entries in {len(kept)} list block(s) from {len(links)} article-looking link(s)"
    return Detection(entries, len(links), len(kept), reason)


def _article_links(root: html.HtmlElement, base_url: str, article_url: str | None) -> list[html.HtmlElement]:
    """Links that may be articles: those matching ``article_url`` when there is one; else links
    on the same site that have a CMS article shape or a headline-length text (most sites' article
    URLs have no shape we know: ``2020/7/2-<hex>.html``, an uploaded PDF, a news portal's ids)."""
    pattern = re.compile(article_url) if article_url else None
    site = _site_of(base_url)
    found = []
    for anchor in root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        url = urljoin(base_url, href)
        anchor.set("data-radar-url", url)
        if pattern is not None:
            if pattern.match(url):
                found.append(anchor)
        elif _site_of(url) == site and (looks_like_article(url) or (len(_title(anchor)) >= MIN_HEADLINE and not _looks_like_column(url))):
            found.append(anchor)
    return found


def looks_like_article(url: str) -> bool:
    """Whether ``url`` has the shape of a CMS article: its last path segment, or its last two
    (``<32 hex>/c.html``), match a known article shape."""
    last_two = "/".join(urlsplit(url).path.rsplit("/", 2)[-2:])
    return bool(ARTICLE_SHAPES.match(last_two.rsplit("/", 1)[-1]) or ARTICLE_SHAPES.match(last_two))


def _looks_like_column(url: str) -> bool:
    """Whether ``url`` names a column or a home page (``/yw/``, ``index.html``, ``node_2.htm``,
    ``list_3.html``) rather than an article: menus name columns with headline-long texts too."""
    parts = urlsplit(url)
    return not parts.query and bool(COLUMN_PAGE.match(parts.path.rsplit("/", 1)[-1]))


def _site_of(url: str) -> str:
    """The registrable part of a host, roughly: www.most.gov.cn and most.gov.cn are one site, and
    so are news.163.com and dy.163.com (a portal's columns list articles of its other hosts)."""
    labels = (urlsplit(url).hostname or "").lower().split(".")
    keep = 3 if len(labels) >= 3 and labels[-2] in SECOND_LEVEL and len(labels[-1]) == 2 else 2
    return ".".join(labels[-keep:])


def _in_boilerplate(anchor: html.HtmlElement) -> bool:
    for element in anchor.iterancestors():
        if element.tag in BOILERPLATE_TAGS:
            return True
        marks = f"{element.get('class') or ''} {element.get('id') or ''}"
        if BOILERPLATE.search(marks):
            return True
    return False


Group = list[tuple[html.HtmlElement, html.HtmlElement]]  # (anchor, its entry) in page order


def _group_by_container(links: list[html.HtmlElement]) -> dict[str, Group]:
    """Links grouped by the *shape* of their path (tags and first classes, no positions): the
    headline links of one list share it even when the list is split into several `ul` blocks
    or one table per row (ScienceNet). Each link's entry is its highest ancestor holding no
    other link of its group; a group whose links sit inside another group's entries is a
    field of those entries (the author, a tag, a comment count) and is dropped when the other
    group's texts are longer, as headlines are."""
    shapes: dict[str, list[html.HtmlElement]] = defaultdict(list)
    for anchor in links:
        shapes[_path_shape(anchor)].append(anchor)
    groups = {shape: list(zip(anchors, _entries_of(anchors))) for shape, anchors in shapes.items()}
    fields = _fields(list(groups.values()))
    return {shape: group for shape, group in groups.items() if id(group) not in fields}


def _entries_of(anchors: list[html.HtmlElement]) -> list[html.HtmlElement]:
    """Each anchor's highest ancestor holding no anchor of ``anchors`` to another URL. A lone
    link has no sibling to bound it, so its entry is its parent (not half the page, whose
    dates are not its own)."""
    if len(anchors) == 1:
        parent = anchors[0].getparent()
        return [parent if parent is not None and parent.tag not in ("body", "html") else anchors[0]]
    urls_under: dict[html.HtmlElement, set[str | None]] = defaultdict(set)
    for anchor in anchors:
        for parent in anchor.iterancestors():
            urls_under[parent].add(anchor.get("data-radar-url"))
    entries = []
    for anchor in anchors:
        entry = anchor
        for parent in anchor.iterancestors():
            if parent.tag in ("body", "html") or len(urls_under[parent]) > 1:
                break
            entry = parent
        entries.append(entry)
    return entries


def _fields(groups: list[Group]) -> set[int]:
    """The ids of the groups most of whose links sit inside the entries of a group with longer
    texts (of at least MIN_ENTRIES entries: a lone link's entry spans half the page)."""
    owners: dict[html.HtmlElement, list[int]] = defaultdict(list)
    lengths = {id(group): _mean_title(group) for group in groups}
    for group in groups:
        if len(group) >= MIN_ENTRIES:
            for _, entry in group:
                owners[entry].append(id(group))
    fields = set()
    for group in groups:
        inside: dict[int, int] = defaultdict(int)
        for anchor, _ in group:
            holders = {owner for e in anchor.iterancestors() for owner in owners.get(e, ())}
            for owner in holders:
                inside[owner] += 1
        if any(owner != id(group) and lengths[owner] > lengths[id(group)] and count * 2 > len(group) for owner, count in inside.items()):
            fields.add(id(group))
    return fields


def _mean_title(group: Group) -> float:
    return sum(len(_title(anchor)) for anchor, _ in group) / len(group)


def _path_shape(element: html.HtmlElement) -> str:
    """The tags from the root down to ``element``, each with its first class: later classes are
    left out, as CMSs mark the first or the current item of a list with one more class
    (``news_article news_first``, ``item on``)."""
    steps = [element, *element.iterancestors()]
    return "/".join(f"{e.tag}.{' '.join((e.get('class') or '').split()[:1])}" for e in reversed(steps))


def _looks_like_list(group: Group, strict: bool) -> bool:
    headlines = [t for t in (_title(anchor) for anchor, _ in group) if len(t) >= MIN_HEADLINE]
    return len(headlines) >= (MIN_ENTRIES if strict else 1) and len(headlines) * 2 >= len(group)


def _main_lists(groups: list[list[Found]]) -> list[list[Found]]:
    """The column's own list blocks. A column page dates its entries; a "most read" ranking
    or a related-links box beside it doesn't. So when some block is dated, every dated block
    stays (an archive block of the same column too) and undated ones go. When none is (a news
    portal's feed), the largest block is the list, with the blocks inside its container (the
    feed's items of another layout); the blocks elsewhere are side boxes."""
    dated = [g for g in groups if _dated_share(g) >= 0.5]
    if dated or not groups:
        return dated
    largest = max(groups, key=len)
    container = _common_ancestor([found.row for found in largest])
    return [g for g in groups if g is largest or all(container in found.row.iterancestors() for found in g)]


def _common_ancestor(elements: list[html.HtmlElement]) -> html.HtmlElement:
    shared = [*elements[0].iterancestors()]
    for element in elements[1:]:
        ancestors = set(element.iterancestors())
        shared = [e for e in shared if e in ancestors]
    return shared[0]


def _dated_share(group: list[Found]) -> float:
    return sum(found.dated for found in group) / len(group)


def _title(anchor: html.HtmlElement) -> str:
    text = clean_inline(anchor.text_content())
    attribute = clean_inline(anchor.get("title") or "")
    return attribute if len(attribute) > len(text) else text


@dataclass
class Found:
    entry: Entry
    dated: bool  # a date stands in the entry's own text (not only in its URL)
    row: html.HtmlElement  # the entry's element on the page


def _found(anchor: html.HtmlElement, element: html.HtmlElement, base_url: str) -> Found:
    url = anchor.get("data-radar-url") or urljoin(base_url, anchor.get("href") or "")
    rest = clean_inline(element.text_content()).replace(clean_inline(anchor.text_content()), " ")
    shown = DATE_TEXT.search(rest)
    date = parse_date(shown.group(0)) if shown else None
    if date is None and (day := TRS_DAY.search(url)):
        date = parse_date(day.group(1))  # TRS URLs carry the day: t20230526_186326.html
    return Found(Entry(url=url, title=_title(anchor) or None, date=date), dated=shown is not None and date is not None, row=element)


def _unique(entries: Iterable[Entry]) -> list[Entry]:
    seen: set[str] = set()
    kept = []
    for entry in entries:
        if entry.url not in seen and len(entry.title or "") >= 2:
            seen.add(entry.url)
            kept.append(entry)
    return kept
