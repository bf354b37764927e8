"""The small shared pieces everything else relies on: URL identity, dates, encodings, NFKC."""

import random
import unicodedata
from datetime import datetime, timedelta, timezone

import pytest

from common.dates import CHINA, parse_date
from common.text import nfkc, written_form
from common.urls import canonical_url
from crawler.extract.encoding import decide_encoding, decode


@pytest.mark.parametrize(
    "url, canonical",
    [
        ("HTTPS://News.Sciencenet.CN:443/htmlnews/2023/6/502043.shtm#top", "https://news.sciencenet.cn/htmlnews/2023/6/502043.shtm"),
        ("http://www.cas.cn/syky/202406/t20240606_5020784.shtml?from=timeline", "https://www.cas.cn/syky/202406/t20240606_5020784.shtml"),
        ("https://baijiahao.baidu.com/s?id=1768&wfr=spider&for=pc", "https://baijiahao.baidu.com/s?id=1768"),
        ("https://x.cn/a?utm_source=wx&utm_medium=s&b=2&a=1", "https://x.cn/a?a=1&b=2"),
        ("https://mp.weixin.qq.com/s?__biz=MzA&mid=1&idx=1&sn=ab&chksm=zz&scene=21#wechat_redirect", "https://mp.weixin.qq.com/s?__biz=MzA&idx=1&mid=1&sn=ab"),
        ("http://www.ndrc.gov.cn:8080/x.html?spm=a.b.c", "https://www.ndrc.gov.cn:8080/x.html"),
        ("https://www.gov.cn", "https://www.gov.cn/"),
        # A single-page app's route names the article: kept, its query normalised like a URL's.
        ("https://epaper.stdaily.com/statics/technology-site/index.html#/home?isDetail=1&currentNewsId=ab12&from=x",
         "https://epaper.stdaily.com/statics/technology-site/index.html#/home?currentNewsId=ab12&isDetail=1"),
        ("https://x.cn/app#!/article/7", "https://x.cn/app#!/article/7"),
    ],
)
def test_canonical_url_drops_what_does_not_identify_an_article(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


@pytest.mark.parametrize("url", ["https://mp.weixin.qq.com/s?__biz=MzA5==&mid=1&idx=1&sn=ab",
                                 "https://epaper.stdaily.com/statics/technology-site/index.html#/home?isDetail=1&currentNewsId=ab12"
                                 "&currentVersionName=第01版：要闻&timeValue=2026-11-27"])
def test_canonical_url_is_idempotent(url: str) -> None:
    assert canonical_url(canonical_url(url)) == canonical_url(url)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2023/6/13 10:14:39", datetime(2023, 6, 13, 10, 14, 39, tzinfo=CHINA)),
        ("发布时间：2023年06月13日 10:30", datetime(2023, 6, 13, 10, 30, tzinfo=CHINA)),
        ("2024-04-22-10:30:00", datetime(2024, 4, 22, 10, 30, tzinfo=CHINA)),
        ("2024-06-06", datetime(2024, 6, 6, tzinfo=CHINA)),
        ("2024.06.06", datetime(2024, 6, 6, tzinfo=CHINA)),
        ("t20240606_5020784", datetime(2024, 6, 6, tzinfo=CHINA)),
        ("2023-06-13T02:30:00Z", datetime(2023, 6, 13, 2, 30, tzinfo=timezone.utc)),
        ("2023-06-13T10:30:00+08:00", datetime(2023, 6, 13, 10, 30, tzinfo=timezone(timedelta(hours=8)))),
        ("1581517074", datetime(2020, 2, 12, 22, 17, 54, tzinfo=CHINA)),
        ("no date here", None),
        ("2023-13-45", None),
    ],
)
def test_parse_date_reads_what_chinese_sites_print(text: str, expected: datetime | None) -> None:
    assert parse_date(text) == expected
    if expected is not None:
        assert parse_date(text).tzinfo is not None  # always aware


def test_page_declaring_gb2312_but_utf8_bytes_is_read_as_utf8() -> None:
    body = '<html><head><meta charset="gb2312"></head><body>科学网新闻</body></html>'.encode("utf-8")
    assert decide_encoding(body, "text/html; charset=gb2312") == "utf-8"
    assert "科学网新闻" in decode(body, "text/html; charset=gb2312")


def test_gbk_page_is_read_as_gb18030_even_when_the_header_claims_utf8() -> None:
    body = '<html><body>国家发展改革委关于印发通知</body></html>'.encode("gbk")
    assert decide_encoding(body, "text/html; charset=utf-8") == "gb18030"
    assert "国家发展改革委" in decode(body, "text/html; charset=utf-8")


def test_a_source_override_wins() -> None:
    assert decide_encoding("abc".encode(), None, "gbk") == "gb18030"


def test_bom_is_honoured_and_stripped() -> None:
    assert decode(b"\xef\xbb\xbf{}", "application/json") == "{}"


def test_nfkc_is_unicodedatas_nfkc() -> None:
    """Full-width forms mapped ahead must change nothing, combining marks after them included."""
    rng = random.Random(19)
    codes = [*range(0x20, 0x7F), *range(0x3000, 0x3040), *range(0xFF00, 0xFFF0), *range(0x4E00, 0x4E20),
             0x0301, 0x0308, 0x3099, 0x309A, 0x2460, 0xAC00, 0x1100, 0x1161, 0xFB01, 0x2126]
    texts = ["".join(chr(rng.choice(codes)) for _ in range(rng.randint(0, 12))) for _ in range(20_000)]
    texts += ["《消费端碳排放研究报告（2024）》发布", "Ａ\u0301", "\u3000\u3000正文：１２３"]
    assert [nfkc(text) for text in texts] == [unicodedata.normalize("NFKC", text) for text in texts]


def test_written_form_reads_a_pdfs_look_alikes_as_what_was_written() -> None:
    """Kangxi radicals and ligatures as NFKC folds them (⼾ as the simplified-Chinese font draws
    it), radicals of the supplement as the ideograph sharing their glyph; nothing else moves."""
    pdf = "⼈⼯智能 部⻔ 东数⻄算 ⼈⺠ ⽤⼾ https://ﬁnance.eastmoney.com/ ﬂ \u2329ʻ전정특신’\u232a"
    assert written_form(pdf) == "人工智能 部门 东数西算 人民 用户 https://finance.eastmoney.com/ fl 〈‘전정특신’〉"
    kangxi = "".join(map(chr, range(0x2F00, 0x2FD6))).replace("⼾", "")
    assert written_form(kangxi) == unicodedata.normalize("NFKC", kangxi)
    supplement = [chr(code) for code in range(0x2E80, 0x2EF4) if unicodedata.name(chr(code), "")]
    read = [written_form(radical) for radical in supplement]
    assert sum(r != s for r, s in zip(read, supplement)) == 89
    assert all(r == s or unicodedata.name(r).startswith("CJK UNIFIED IDEOGRAPH") for r, s in zip(read, supplement))
    plain = "《消费端碳排放研究报告（2024）》发布 Ａ\u3000한국어"
    assert written_form(plain) is plain
