"""A broken watchlist names the file, the line and the field — and `crawl check` says so."""

import subprocess
import sys
from pathlib import Path

import pytest

from crawler.watchlist import WatchlistError, load_source, load_sources

VALID = """\
name: example
label: 示例 (예시)
homepage: https://www.example.gov.cn/
kind: html_list
schedule: 2h
lists:
  - https://www.example.gov.cn/news/
list:
  entry: "ul.u-list li"
  link: "a::attr(href)"
  date: {select: "span::text", regex: '(\\d{4}/\\d{2}/\\d{2})'}
pagination:
  url: "index_{n}.html"
  max_pages: 2
"""


def write(tmp_path: Path, text: str, name: str = "example.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problem(tmp_path: Path, text: str) -> str:
    with pytest.raises(WatchlistError) as caught:
        load_source(write(tmp_path, text))
    return str(caught.value)


def test_a_valid_file_loads_with_rule_shorthands(tmp_path: Path) -> None:
    source = load_source(write(tmp_path, VALID))
    assert source.name == "example" and source.kind == "html_list"
    assert source.list.entry.select == "ul.u-list li"
    assert source.list.date.regex == r"(\d{4}/\d{2}/\d{2})"
    assert source.lists[0].url == "https://www.example.gov.cn/news/"


def test_a_misspelled_field_is_named_with_its_line(tmp_path: Path) -> None:
    message = problem(tmp_path, VALID.replace("  link:", "  lnik:"))
    assert "example.yml:10: field `list.lnik`: unknown field" in message


def test_a_missing_required_field_is_reported(tmp_path: Path) -> None:
    # (`list.entry` is optional since a source may be read by detection alone.)
    message = problem(tmp_path, VALID.replace("homepage: https://www.example.gov.cn/\n", ""))
    assert "field `homepage`: missing" in message


def test_a_bad_schedule_explains_the_accepted_forms(tmp_path: Path) -> None:
    message = problem(tmp_path, VALID.replace("schedule: 2h", "schedule: every two hours"))
    assert "example.yml:5: field `schedule`" in message and "cron" in message


def test_an_invalid_regex_is_caught_before_any_crawl(tmp_path: Path) -> None:
    message = problem(tmp_path, VALID.replace("regex: '(", "regex: '(("))
    assert "example.yml:11: field `list.date.regex`: invalid regular expression" in message


def test_a_relative_list_url_is_refused(tmp_path: Path) -> None:
    message = problem(tmp_path, VALID.replace("  - https://www.example.gov.cn/news/", "  - /news/"))
    assert "example.yml:7: field `lists.0.url`: must be an absolute http(s) URL" in message


def test_an_unknown_kind_lists_the_known_ones(tmp_path: Path) -> None:
    message = problem(tmp_path, VALID.replace("kind: html_list", "kind: html"))
    assert "example.yml:4: field `kind`: unknown kind 'html'; use one of html_list, json_list, jpaas_list, feed" in message


def test_yaml_syntax_errors_point_at_the_line(tmp_path: Path) -> None:
    message = problem(tmp_path, VALID.replace('  link: "a::attr(href)"', '  link: "a::attr(href)'))
    assert "example.yml:" in message and "not valid YAML" in message


def test_ignoring_robots_txt_needs_a_reason(tmp_path: Path) -> None:
    message = problem(tmp_path, VALID + "politeness:\n  robots_txt: ignore\n")
    assert "field `politeness`: ignoring robots.txt needs a stated `reason`" in message


def test_all_problems_of_all_files_are_collected(tmp_path: Path) -> None:
    write(tmp_path, VALID.replace("name: example", "name: Bad Name"), "a.yml")
    write(tmp_path, VALID.replace("homepage:", "home:"), "b.yml")
    with pytest.raises(WatchlistError) as caught:
        load_sources(tmp_path)
    assert len(caught.value.problems) >= 2
    assert any("a.yml:1: field `name`" in p for p in caught.value.problems)
    assert any("b.yml:3: field `home`: unknown field" in p for p in caught.value.problems)


def test_duplicate_names_are_refused(tmp_path: Path) -> None:
    write(tmp_path, VALID, "a.yml")
    write(tmp_path, VALID, "b.yml")
    with pytest.raises(WatchlistError, match="already used"):
        load_sources(tmp_path)


def test_the_project_watchlists_are_valid() -> None:
    sources = load_sources(Path(__file__).resolve().parent.parent / "watchlists" / "sources")
    assert {"sciencenet", "cas", "ndrc"} <= {s.name for s in sources}


FEED = """\
name: example
label: 示例 (예시)
homepage: https://www.example.gov.cn/
kind: feed
lists:
  - https://www.example.gov.cn/feed.xml
feed:
  article_url: '^https://www\\.example\\.gov\\.cn/'
  content: article
article:
  title: "h1::text"
  body: {select: "div.content", regex: "(.*)"}
"""


def test_an_invalid_css_selector_is_caught_at_load_time(tmp_path: Path) -> None:
    message = problem(tmp_path, FEED.replace('"h1::text"', '"meta[name=ArticleTitle::attr(content)"'))
    assert "example.yml:11: field `article.title`: invalid CSS selector 'meta[name=ArticleTitle::attr(content)'" in message


def test_an_invalid_xpath_is_caught_with_the_line_of_its_key(tmp_path: Path) -> None:
    message = problem(tmp_path, VALID.replace('"ul.u-list li"', '"xpath://ul[@class=\'u-list\']/li["'))
    assert "example.yml:9: field `list.entry`: invalid XPath" in message
    message = problem(tmp_path, FEED.replace('"div.content"', '"xpath://div[@"'))
    assert "example.yml:12: field `article.body.select`: invalid XPath 'xpath://div[@'" in message


def test_invalid_drop_and_pagination_selectors_are_caught(tmp_path: Path) -> None:
    assert "field `article.drop.1`: invalid CSS selector" in problem(tmp_path, FEED + '  drop: ["style", "div[class"]\n')
    message = problem(tmp_path, VALID.replace('  url: "index_{n}.html"', '  next: "a.next:bogus::attr(href)"'))
    assert "example.yml:13: field `pagination.next`: invalid CSS selector" in message


def test_an_invalid_article_url_regex_is_caught_in_every_kind(tmp_path: Path) -> None:
    message = problem(tmp_path, FEED.replace("'^https://www\\.example\\.gov\\.cn/'", "'^https://(www\\.example'"))
    assert "example.yml:8: field `feed.article_url`: invalid regular expression" in message
    message = problem(tmp_path, VALID.replace('  link: "a::attr(href)"', '  link: "a::attr(href)"\n  article_url: "[a-"'))
    assert "example.yml:11: field `list.article_url`: invalid regular expression" in message


def test_errors_in_the_feed_block_name_the_dotted_path_and_line(tmp_path: Path) -> None:
    message = problem(tmp_path, FEED.replace("content: article", "content: fulltext"))
    assert "example.yml:9: field `feed.content`:" in message and "'article' or 'feed'" in message


def test_crawl_check_reports_bad_selectors_instead_of_ok(base_env: dict[str, str], tmp_path: Path, watchlists: Path) -> None:
    ndrc = watchlists / "sources" / "ndrc.yml"
    ndrc.write_text(ndrc.read_text(encoding="utf-8").replace('"div.TRS_Editor"', '"div.TRS_Editor[class"'), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "radar", "check"], env=base_env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "source(s) in" not in result.stdout
    assert "ndrc.yml:" in result.stderr and "field `article.body`: invalid CSS selector 'div.TRS_Editor[class'" in result.stderr
