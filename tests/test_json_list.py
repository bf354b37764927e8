"""`kind: json_list` reads JSON and JSONP answers alike (CCTV's column data are JSONP, issue 14)."""

from __future__ import annotations

from crawler.kinds.json_list import JsonListRules, json_entries

RULES = JsonListRules(items="data.list", link="url", title="title", date="focus_date")
RECORD = '{"data":{"list":[{"url":"/2025/01/05/ARTIa.shtml","title":"t","focus_date":"2025-01-05 09:12:40"}]}}'


def test_a_jsonp_answer_is_read_like_the_json_inside_it() -> None:
    plain = json_entries(RECORD, "https://news.cctv.com/", RULES)
    for wrapped in (f"tech({RECORD})", f"tech({RECORD});\n", f"\ufeffjQuery_1.cb ( {RECORD} )"):
        assert json_entries(wrapped, "https://news.cctv.com/", RULES) == plain
    assert [e.url for e in plain] == ["https://news.cctv.com/2025/01/05/ARTIa.shtml"]


def test_neither_json_nor_jsonp_has_no_entries() -> None:
    assert json_entries("<html>tech(</html>", "https://news.cctv.com/", RULES) == []
    assert json_entries("tech({broken)", "https://news.cctv.com/", RULES) == []
