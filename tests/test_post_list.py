"""A list read by POST (issue 14): `method: POST` with a `form` or a JSON `body` on a list URL,
their strings naming the edition date as a list URL may, the date from the caller's clock.

The site crawled here is a made-up host in the shape of an e-paper API (a JSON list answering a
POST that names the day), built by the test; it stands for no real site."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select

from common.yamlfile import WatchlistError
from conftest import Radar
from crawler.kinds.list_request import FORM_TYPE, JSON_TYPE
from crawler.replay import FakeInternet
from crawler.watchlist import load_source
from storage.db import transaction
from storage.models import Item

# 01:30 UTC on 30 November is 09:30 in Beijing: the editions of the 30th and the 29th.
RUN_AT = datetime(2026, 11, 30, 1, 30, tzinfo=timezone.utc)
HEAD = "name: postlist\nlabel: A list read by POST\nhomepage: https://epaper.example.cn/\n"
JSON_SOURCE = HEAD + """kind: json_list
lists:
  - url: https://epaper.example.cn/api/list.json
    method: POST
    body: {code: KJRB, periodTime: "{edition:%Y-%m-%d}", page: 1}
list: {items: list, link: url, title: title}
"""
FORM_SOURCE = HEAD + """kind: html_list
lists:
  - url: https://epaper.example.cn/dataproxy.jsp?startrecord=1&endrecord=45
    method: POST
    form: {columnid: 75, webname: 国家知识产权局, strict: true}
list: {entry: li, link: "a::attr(href)"}
"""
CRAWL_AT = (
    "from datetime import datetime; from common.settings import get_settings; "
    "from crawler.run import RunOptions, crawl; from crawler.watchlist import configured_sources; "
    "config = get_settings(); chosen = [s for s in configured_sources(config) if s.name == 'postlist']; "
    "print(crawl(chosen, config, RunOptions(now=datetime.fromisoformat({now!r})))[0].status)"
)
DOCTOR_AT = (
    "from datetime import datetime; from common.settings import get_settings; "
    "from crawler.doctor import diagnose; from crawler.watchlist import configured_sources; "
    "config = get_settings(); chosen = [s for s in configured_sources(config) if s.name == 'postlist']; "
    "print(chr(10).join(diagnose(chosen[0], config, now=datetime.fromisoformat({now!r}))))"
)
ARTICLE = "<html><head><title>{title}</title></head><body><h1>{title}</h1><p>{text}</p></body></html>"


def write(folder: Path, text: str) -> Path:
    path = folder / "postlist.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_dated_json_body_names_each_edition_the_run_covers(tmp_path: Path) -> None:
    source = load_source(write(tmp_path, JSON_SOURCE))
    wanted = source.list_requests(RUN_AT)
    assert [(r.method, r.url) for r in wanted] == [("POST", "https://epaper.example.cn/api/list.json")] * 2
    assert [json.loads(r.payload()[0]) for r in wanted] == [
        {"code": "KJRB", "periodTime": day, "page": 1} for day in ("2026-11-30", "2026-11-29")
    ]
    assert {r.payload()[1] for r in wanted} == {JSON_TYPE}
    assert source.list_urls(RUN_AT) == ["https://epaper.example.cn/api/list.json"]
    with pytest.raises(ValueError, match="needs the run's time"):
        source.list_requests(None)


def test_a_form_is_sent_urlencoded_with_yaml_scalars_as_text(tmp_path: Path) -> None:
    [wanted] = load_source(write(tmp_path, FORM_SOURCE)).list_requests(None)
    payload, content_type = wanted.payload()
    assert content_type == FORM_TYPE
    assert parse_qs(payload.decode()) == {"columnid": ["75"], "webname": ["国家知识产权局"], "strict": ["true"]}


def test_a_plain_list_is_still_one_get(tmp_path: Path) -> None:
    plain = HEAD + "kind: html_list\nlists: [https://epaper.example.cn/list.html]\n"
    [wanted] = load_source(write(tmp_path, plain)).list_requests(None)
    assert (wanted.method, wanted.payload()) == ("GET", (b"", None))


@pytest.mark.parametrize(
    ("change", "field", "complaint"),
    [
        (("    method: POST\n", ""), "lists.0.body", "with `method: POST` only"),
        (("method: POST\n", "method: PUT\n"), "lists.0.method", "'GET' or 'POST'"),
        (('"{edition:%Y-%m-%d}"', '"{edition:%H}"'), "lists.0.body", "strftime codes"),
        (('"{edition:%Y-%m-%d}"', '"{date}"'), "lists.0.body", "brace outside an edition placeholder"),
        (("    body:", "    form: {a: b}\n    body:"), "lists.0.body", "not both"),
    ],
)
def test_a_bad_post_field_is_refused_naming_file_line_and_field(tmp_path: Path, change: tuple[str, str], field: str, complaint: str) -> None:
    with pytest.raises(WatchlistError) as refused:
        load_source(write(tmp_path, JSON_SOURCE.replace(*change)))
    message = str(refused.value)
    assert "postlist.yml:" in message and f"field `{field}`" in message and complaint in message, message


def test_a_post_list_is_crawled_for_both_editions_at_the_url_it_names_each_page_with_its_body(
    radar: Radar, sites: Path, internet: FakeInternet, watchlists: Path, database_url: str
) -> None:
    site = sites / "epaper.example.cn"
    (site / "api").mkdir(parents=True)
    (site / "a").mkdir()
    for page, numbers in (("list.json", (1, 2)), ("list_2.json", (3,))):
        records = [{"url": f"/a/{n}.html", "title": f"科技成果转化第{n}条"} for n in numbers]
        (site / "api" / page).write_text(json.dumps({"list": records}, ensure_ascii=False), encoding="utf-8")
    for n in (1, 2, 3):
        text = "加强基础研究，推动科技成果转化。" * 20
        (site / "a" / f"{n}.html").write_text(ARTICLE.format(title=f"科技成果转化第{n}条", text=text), encoding="utf-8")
    write(watchlists / "sources", JSON_SOURCE + "pagination: {url: 'list_{n}.json', first: 2, max_pages: 2}\n")

    done = subprocess.run([sys.executable, "-c", CRAWL_AT.format(now=RUN_AT.isoformat())], env=radar.env, cwd=radar.cwd,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0 and done.stdout.strip().splitlines()[-1] == "ok", done.stderr[-2000:]

    # Both editions' first pages, and each one's second page with the same body (their order is Scrapy's).
    posts = sorted((url, kind.split(";")[0], body) for url, kind, body in internet.posted)
    assert posts == sorted(
        (f"https://epaper.example.cn/api/{page}", "application/json", json.dumps({"code": "KJRB", "periodTime": day, "page": 1}, separators=(",", ":")).encode())
        for day in ("2026-11-30", "2026-11-29") for page in ("list.json", "list_2.json")
    )
    with transaction(database_url) as session:
        stored = sorted(item.canonical_url for item in session.scalars(select(Item)))
    assert stored == [f"https://epaper.example.cn/a/{n}.html" for n in (1, 2, 3)]


def test_cnipas_column_is_asked_for_by_the_form_public_scrapers_post() -> None:
    source = load_source(Path(__file__).resolve().parent.parent / "watchlists" / "sources" / "cnipa.yml")
    [wanted] = source.list_requests(None)
    assert (wanted.method, wanted.url) == ("POST", "https://www.cnipa.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=45&perpage=15")
    form = parse_qs(wanted.payload()[0].decode())
    assert form["columnid"] == ["75"] and form["webname"] == ["国家知识产权局"] and form["path"] == ["https://www.cnipa.gov.cn/"]
    assert source.enabled and source.records == "recordset"  # the answer is the record store itself (crawler/kinds/records.py)


def test_the_doctor_asks_for_a_post_list_as_the_crawl_does(radar: Radar, sites: Path, internet: FakeInternet, watchlists: Path) -> None:
    site = sites / "epaper.example.cn"
    (site / "api").mkdir(parents=True)
    (site / "api" / "list.json").write_text(json.dumps({"list": [{"url": "/a/1.html", "title": "一"}]}), encoding="utf-8")
    write(watchlists / "sources", JSON_SOURCE)
    doctor = DOCTOR_AT.format(now=RUN_AT.isoformat())
    done = subprocess.run([sys.executable, "-c", doctor], env=radar.env, cwd=radar.cwd, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "1 record(s) with a link" in done.stdout and "/a/1.html" in done.stdout, done.stdout
    [(url, kind, body)] = internet.posted[:1]  # the list; the article (missing here) is a GET
    assert url.endswith("/api/list.json") and kind.startswith("application/json")
    assert json.loads(body)["periodTime"] == "2026-11-30"  # today's edition in Beijing at the caller's time
