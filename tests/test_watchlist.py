"""A broken watchlist names the file, the line and the field — and `crawl check` says so."""

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
    message = problem(tmp_path, VALID.replace('  entry: "ul.u-list li"\n', ""))
    assert "field `list.entry`: missing" in message


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
