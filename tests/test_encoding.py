"""Decoding per the evidence: a page that is partly UTF-8 and partly GBK is read right in both
parts, and what was done is logged — built from constructed bytes, then through a real crawl."""

from __future__ import annotations

from pathlib import Path

from scrapy.http import HtmlResponse
from sqlalchemy import select

from conftest import Radar, expected_articles
from crawler.extract.encoding import MIXED, decide_encoding, decode
from crawler.extract import extract_article
from crawler.replay import FakeInternet, fault
from storage.db import transaction
from storage.models import CrawlRun, Item

UTF8_PARAGRAPH = "科技部发布关于加快人工智能创新发展的通知，具体内容详见附件。"
GBK_PARAGRAPH = "这一段转载自GBK编码的文件：国家发展改革委印发方案，推进科技创新。"


def page(*paragraphs: bytes, charset: str = "utf-8") -> bytes:
    head = f'<html><head><meta charset="{charset}"><title>测试</title></head><body><div class="article"><h1>混合编码的测试文章</h1>'
    return head.encode("ascii", "xmlcharrefreplace") + b"".join(b"<p>" + p + b"</p>" for p in paragraphs) + b"</div></body></html>"


def test_a_utf8_page_with_one_gbk_paragraph_keeps_both_readable() -> None:
    body = page(*[UTF8_PARAGRAPH.encode()] * 4, GBK_PARAGRAPH.encode("gbk"), UTF8_PARAGRAPH.encode())
    assert decide_encoding(body, "text/html; charset=utf-8") == MIXED
    text = decode(body, "text/html; charset=utf-8")
    assert text.count(UTF8_PARAGRAPH) == 5 and GBK_PARAGRAPH in text and "\ufffd" not in text
    # The crawl's path: Scrapy decodes with the name the middleware gives it.
    assert GBK_PARAGRAPH in HtmlResponse("https://example.cn/", body=body, encoding=MIXED).text
    article = extract_article("https://example.cn/a.html", body, {"content-type": "text/html; charset=utf-8"}, None)
    assert UTF8_PARAGRAPH in article.body and GBK_PARAGRAPH in article.body


def test_a_gbk_page_with_one_utf8_paragraph_keeps_both_readable_too() -> None:
    body = page(*[GBK_PARAGRAPH.encode("gbk")] * 4, UTF8_PARAGRAPH.encode(), charset="gb2312")
    text = decode(body, "text/html")
    assert text.count(GBK_PARAGRAPH) == 4 and UTF8_PARAGRAPH in text and "\ufffd" not in text


def test_pages_in_one_encoding_are_decoded_as_before() -> None:
    gbk = page(*[GBK_PARAGRAPH.encode("gbk")] * 6, charset="gb2312")
    assert decide_encoding(gbk, "text/html") == "gb18030" and decide_encoding(gbk) == "gb18030"
    assert decode(gbk).count(GBK_PARAGRAPH) == 6
    utf8 = page(*[UTF8_PARAGRAPH.encode()] * 6, charset="gb2312")  # lying meta: the bytes win
    assert decide_encoding(utf8, "text/html") == "utf-8"
    # A GBK page whose two-byte runs happen to be valid UTF-8 (中 between ASCII is not, 茅 is:
    # c3 a9) is still GBK: two bytes are no evidence.
    stray = page(*[GBK_PARAGRAPH.encode("gbk")] * 3, b"x \xc3\xa9 x")
    assert decide_encoding(stray, "text/html") == "gb18030" and "x 茅 x" in decode(stray, "text/html")


def test_a_crawled_page_in_two_encodings_is_stored_readable_and_the_run_says_so(
    radar: Radar, internet: FakeInternet, sites: Path, tmp_path: Path, database_url: str
) -> None:
    victim = expected_articles("ndrc")[0]["url"]
    original = (sites / victim.removeprefix("https://")).read_bytes()
    assert original.decode("utf-8")  # the recorded page is UTF-8
    mixed = tmp_path / "mixed.html"
    marker = "</p>".encode()
    mixed.write_bytes(original.replace(marker, marker + b"<p>" + GBK_PARAGRAPH.encode("gbk") + b"</p>", 1))
    internet.inject(victim, fault("replace", str(mixed)))
    result = radar("-v", "run", "--source", "ndrc")
    with transaction(database_url) as session:
        item = session.scalar(select(Item).where(Item.canonical_url == victim))
        run = session.scalars(select(CrawlRun)).one()
        assert GBK_PARAGRAPH in item.body and "\ufffd" not in item.body
        assert expected_articles("ndrc")[0]["title"] == item.title
        assert run.stats["radar/encoding_mixed"] == 1
    assert "decoded those as GB18030" in result.stderr
