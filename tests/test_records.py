"""Lists kept as records inside a script (Hanweb column pages): `records:` on an html_list source."""

from __future__ import annotations

from pathlib import Path

from parsel import Selector

from crawler.kinds.records import record_fragment
from crawler.listings import RuleTally
from crawler.watchlist import load_sources

HANWEB_PAGE = """<html><body>
<ul class="nav"><li><a href="/col/col2/index.html">工作动态</a><span>2025-06-01</span></li></ul>
<div class="default_pgContainer"></div>
<script type="text/xml"><datastore><recordset>
<record><![CDATA[<li><a href="/art/2025/6/10/art_1_2.html" title="第二条">第二条</a><span>2025-06-10</span></li>]]></record>
<record>
  <![CDATA[<li><a href="/art/2025/6/9/art_1_1.html" title="第一条&amp;附件">第一条</a><span>2025-06-09</span></li>]]>
</record>
</recordset></datastore></script>
<script>var unrelated = "<li>not a record</li>";</script>
</body></html>"""

SOURCE = """\
name: hanweb
label: Hanweb
homepage: https://kjt.example.gov.cn/
kind: html_list
lists: [https://kjt.example.gov.cn/col/col1/index.html]
{records}list:
  entry: li
  title: "a::attr(title)"
  date: "span::text"
  article_url: '^https://kjt\\.example\\.gov\\.cn/art/\\d{{4}}/\\d{{1,2}}/\\d{{1,2}}/art_1_\\d+\\.html$'
expect:
  min_entries: 1
"""


class Page:
    """A fetched list page, as the spider and the doctor hand it to a kind."""

    def __init__(self, url: str, text: str):
        self.url, self.text, self.body = url, text, text.encode("utf-8")
        self.selector = Selector(text=text)


def _source(tmp_path: Path, records: str | None):
    line = f"records: {records!r}\n" if records else ""
    (tmp_path / "hanweb.yml").write_text(SOURCE.format(records=line), encoding="utf-8")
    return load_sources(tmp_path)[0]


def test_the_records_in_a_script_become_one_fragment_in_page_order() -> None:
    fragment = record_fragment(Selector(text=HANWEB_PAGE), "script")
    assert fragment is not None
    assert fragment.css("li a::attr(href)").getall() == ["/art/2025/6/10/art_1_2.html", "/art/2025/6/9/art_1_1.html"]
    assert fragment.css("li a::attr(title)").getall()[1] == "第一条&附件"  # a record is HTML: entities decoded
    assert record_fragment(Selector(text="<html><body><ul><li>x</li></ul></body></html>"), "script") is None


def test_a_source_with_records_reads_them_and_nothing_else_on_the_page(tmp_path: Path) -> None:
    source = _source(tmp_path, "script")
    tally = RuleTally()
    listing = source.read_list(Page(source.lists[0].url, HANWEB_PAGE), source.lists[0].url, tally)
    assert [(e.url, e.title, e.date.day) for e in listing.entries] == [
        ("https://kjt.example.gov.cn/art/2025/6/10/art_1_2.html", "第二条", 10),
        ("https://kjt.example.gov.cn/art/2025/6/9/art_1_1.html", "第一条&附件", 9),
    ]
    assert listing.detected is None
    assert tally.hits["list.records"] == 1


def test_without_records_the_same_rules_see_only_the_pages_own_list(tmp_path: Path) -> None:
    source = _source(tmp_path, None)
    listing = source.read_list(Page(source.lists[0].url, HANWEB_PAGE), source.lists[0].url, RuleTally())
    assert all("/art/" not in e.url for e in listing.entries)


def test_a_page_without_its_record_store_finds_nothing_and_says_which_rule_failed(tmp_path: Path) -> None:
    source = _source(tmp_path, "script")
    page = HANWEB_PAGE.split('<script type="text/xml">')[0] + "</body></html>"
    tally = RuleTally()
    assert source.read_list(Page(source.lists[0].url, page), source.lists[0].url, tally).entries == []
    assert (tally.tries["list.records"], tally.hits["list.records"]) == (1, 0)


def test_the_doctor_says_how_many_records_the_store_held(tmp_path: Path) -> None:
    source = _source(tmp_path, "script")
    page = Page(source.lists[0].url, HANWEB_PAGE)
    explained = source.explain_list(page, lambda url, referer: (page, ""))
    assert "2 element(s) in the page's record store" in explained.lines[0]
    assert [e.url.rsplit("/", 1)[1] for e in explained.found] == ["art_1_2.html", "art_1_1.html"]


DATAPROXY_ANSWER = """<?xml version="1.0" encoding="UTF-8"?>
<datastore><nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1"></a>]]></nextgroup>
<recordset>
<record><![CDATA[<li><a href="/art/2025/6/10/art_1_2.html" title="第二条">第二条</a><span>2025-06-10</span></li>]]></record>
<record><![CDATA[<li><a href="/art/2025/6/9/art_1_1.html" title="第一条">第一条</a><span>2025-06-09</span></li>]]></record>
</recordset></datastore>"""


def test_the_records_of_a_dataproxy_answer_are_read_as_a_document_of_their_own() -> None:
    for text in (DATAPROXY_ANSWER, DATAPROXY_ANSWER.split("\n", 1)[1]):  # with and without the XML declaration
        for parsed_as in ("html", "xml"):  # as the site labels it: text/html or text/xml
            fragment = record_fragment(Selector(text=text, type=parsed_as), "recordset", text)
            assert fragment is not None
            assert fragment.css("li a::attr(href)").getall() == ["/art/2025/6/10/art_1_2.html", "/art/2025/6/9/art_1_1.html"]
    assert record_fragment(Selector(text=HANWEB_PAGE), "recordset", HANWEB_PAGE) is None  # a column page keeps them in a script
