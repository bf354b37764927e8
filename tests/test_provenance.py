"""Every source states where its URL, selectors and article markup come from (issue 14), and the
rules of the corrected sources work on the tree lxml builds, not on a browser's."""

import json
import re
from pathlib import Path

import pytest
from parsel import Selector

from conftest import ROOT, Radar
from crawler.kinds.html_list import html_entries
from crawler.watchlist import WatchlistError, load_source, load_sources

SOURCES = ROOT / "watchlists" / "sources"
SITES = ROOT / "crawler" / "sites"

BASE = """\
name: example
label: 示例
homepage: https://www.example.gov.cn/
kind: html_list
lists:
  - https://www.example.gov.cn/news/
list:
  entry: "ul li"
"""

PROVENANCE = """\
provenance:
  checked: 2026-11-29
  list_url: the column is linked from the homepage
  selectors: ul li in a public scraper
  article: TRS meta tags
  evidence:
    - kind: {kind}
      where: someone/scraper spiders/example.py
      date: {date}
      shows: list URL and rows
  inferred:
    - encoding UTF-8
"""


def write(tmp_path: Path, text: str, name: str = "example.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_provenance_block_loads_and_counts_as_verified_with_independent_evidence(tmp_path: Path) -> None:
    source = load_source(write(tmp_path, BASE + PROVENANCE.format(kind="public-scraper", date="2026-05")))
    assert source.provenance is not None and source.provenance.verified
    assert source.provenance.evidence[0].date == "2026-05" and source.provenance.inferred == ["encoding UTF-8"]


@pytest.mark.parametrize("kind", ["inference", "public-url"])
def test_evidence_that_shows_no_markup_is_not_verified(tmp_path: Path, kind: str) -> None:
    source = load_source(write(tmp_path, BASE + PROVENANCE.format(kind=kind, date="2026")))
    assert source.provenance is not None and not source.provenance.verified


@pytest.mark.parametrize(
    "kind, date, line, field, message",
    [
        ("rumour", "2026", 15, "provenance.evidence.0.kind", "public-scraper"),
        ("public-scraper", "last spring", 17, "provenance.evidence.0.date", "YYYY, YYYY-MM or YYYY-MM-DD"),
    ],
)
def test_a_bad_evidence_entry_names_its_line_and_field(tmp_path: Path, kind: str, date: str, line: int, field: str, message: str) -> None:
    with pytest.raises(WatchlistError) as caught:
        load_source(write(tmp_path, BASE + PROVENANCE.format(kind=kind, date=date)))
    assert f"example.yml:{line}: field `{field}`" in str(caught.value) and message in str(caught.value)


def test_a_block_without_evidence_is_refused(tmp_path: Path) -> None:
    text = BASE + "provenance:\n  checked: 2026-11-29\n  list_url: x\n  selectors: y\n  article: z\n  evidence: []\n"
    with pytest.raises(WatchlistError, match="field `provenance.evidence`"):
        load_source(write(tmp_path, text))


def test_every_enabled_shipped_source_has_a_provenance_block() -> None:
    enabled = [s for s in load_sources(SOURCES) if s.enabled]
    missing = [s.name for s in enabled if s.provenance is None]
    assert not missing, f"no provenance block: {missing}"
    assert all(s.provenance.checked.year >= 2026 for s in enabled)  # type: ignore[union-attr]


def test_sources_marks_unverified_ones_and_evidence_lists_the_blocks(radar: Radar, watchlists: Path) -> None:
    write(watchlists / "sources", BASE.replace("example", "guessed") + PROVENANCE.format(kind="inference", date="2026"), "guessed.yml")
    write(watchlists / "sources", BASE.replace("example", "bare"), "bare.yml")
    rows = {r["name"]: r for r in json.loads(radar("sources", "--json").stdout)}
    assert rows["ndrc"]["verified"] and not rows["guessed"]["verified"] and not rows["bare"]["verified"]
    radar.env["COLUMNS"] = "300"  # one table row per line
    table = radar("sources").stdout
    assert "guessed (unverified)" in table and "ndrc (unverified)" not in table
    listed = radar("sources", "--evidence").stdout
    assert "ndrc — checked 2026-11-29" in listed and "[rsshub-route]" in listed
    assert "guessed unverified (no independent markup evidence)" in listed and "bare unverified: no provenance block" in listed
    blocks = json.loads(radar("sources", "--evidence", "--json").stdout)
    assert blocks["bare"] is None and blocks["hubei_kjt"]["evidence"][0]["kind"] == "public-scraper"


def test_check_refuses_a_broken_provenance_block(radar: Radar, watchlists: Path) -> None:
    write(watchlists / "sources", BASE + PROVENANCE.format(kind="public-scraper", date="soon"))
    result = radar("check", check=False)
    assert result.returncode == 1 and "field `provenance.evidence.0.date`" in result.stderr


def test_sciencenet_list_rules_find_the_rows_with_or_without_a_tbody() -> None:
    """lxml keeps the source's markup; browsers insert <tbody>. The rules must not care."""
    source = next(s for s in load_sources(SOURCES) if s.name == "sciencenet")
    served = (SITES / "news.sciencenet.cn" / "indexyaowen-1.aspx").read_text(encoding="utf-8")
    assert "<tbody>" not in served
    as_browser = re.sub(r"(<table[^>]*>)", r"\1<tbody>", served).replace("</table>", "</tbody></table>")
    assert "<tbody>" in as_browser
    url = "https://news.sciencenet.cn/indexyaowen-1.aspx"
    plain = html_entries(Selector(text=served), url, source.list)  # type: ignore[attr-defined]
    with_tbody = html_entries(Selector(text=as_browser), url, source.list)  # type: ignore[attr-defined]
    assert len(plain) >= 5 and [e.url for e in plain] == [e.url for e in with_tbody]
    assert all(e.date is not None for e in plain)


def test_demo_help_calls_the_fixture_sites_reconstructions_not_recordings(radar: Radar) -> None:
    text = " ".join(radar("demo", "--help").stdout.split())
    assert "reconstructions of the real sites" in text and "recorded copies" not in text
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "recorded copies" not in readme and "reconstructions, not recordings" in readme
