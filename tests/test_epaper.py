"""E-paper editions (issue 14): a list URL may name the edition date, `{edition:%Y%m/%d}`, and a
crawl reads today's and yesterday's edition in China time, "today" being the caller's clock.
The e-paper fixture sites are reconstructions from public evidence (see each one's _site.yml);
they live in tests/fixtures/epaper, not crawler/sites, because their pages are dated: the demo
and test_crawl's end-to-end run use the real clock, so only a crawl at a fixed time can read them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from sqlalchemy import select

from common.dates import CHINA
from common.yamlfile import WatchlistError
from conftest import FIXTURES, Radar
from crawler.watchlist import load_source
from storage.db import transaction
from storage.models import Item
from test_crawl import assert_matches

ROOT = Path(__file__).resolve().parent.parent
PEOPLE_PAPER = ROOT / "watchlists" / "sources" / "people_paper.yml"
# Ground truth for e-paper sources, one NAME.yml each, in the form of tests/fixtures/expected.
EXPECTED = FIXTURES / "epaper" / "expected"
# 01:30 UTC on 30 November is 09:30 in Beijing: the editions of the 30th and the 29th.
RUN_AT = datetime(2026, 11, 30, 1, 30, tzinfo=timezone.utc)
CRAWL_AT = (
    "from datetime import datetime; from common.settings import get_settings; "
    "from crawler.run import RunOptions, crawl; from crawler.watchlist import configured_sources; "
    "config = get_settings(); chosen = [s for s in configured_sources(config) if s.name == {name!r}]; "
    "print(crawl(chosen, config, RunOptions(now=datetime.fromisoformat({now!r})))[0].status)"
)
DOCTOR_AT = (
    "from datetime import datetime; from common.settings import get_settings; "
    "from crawler.doctor import diagnose; from crawler.watchlist import configured_sources; "
    "config = get_settings(); chosen = [s for s in configured_sources(config) if s.name == 'people_paper']; "
    "print(chr(10).join(diagnose(chosen[0], config, now=datetime.fromisoformat({now!r}))))"
)
BASE = "name: paper\nlabel: Paper\nhomepage: https://paper.example.cn/\nkind: html_list\nlists:\n  - url: {url}\n"


def write(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "paper.yml"
    path.write_text(BASE.format(url=url), encoding="utf-8")
    return path


def test_a_dated_list_url_names_today_and_yesterday_in_china_time() -> None:
    source = load_source(PEOPLE_PAPER)
    layout = "https://paper.people.com.cn/rmrb/pc/layout"
    assert source.list_urls(RUN_AT) == [f"{layout}/202611/30/node_01.html", f"{layout}/202611/29/node_01.html"]
    # 23:30 UTC on 30 November is already 1 December in Beijing; a new month, too.
    late = datetime(2026, 11, 30, 23, 30, tzinfo=timezone.utc)
    assert source.list_urls(late) == [f"{layout}/202612/01/node_01.html", f"{layout}/202611/30/node_01.html"]


def test_a_dated_list_needs_the_callers_time_and_an_undated_one_does_not(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs the run's time"):
        load_source(PEOPLE_PAPER).list_urls(None)
    with pytest.raises(ValueError, match="timezone"):
        load_source(PEOPLE_PAPER).list_urls(datetime(2026, 11, 30, 9, 30))
    plain = load_source(write(tmp_path, "https://paper.example.cn/list.html"))
    assert plain.list_urls(None) == ["https://paper.example.cn/list.html"]


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("https://paper.example.cn/{edition:%Y-%m-%d %H}/a.html", "strftime codes"),
        ("https://paper.example.cn/{date}/a.html", "brace outside an edition placeholder"),
        ("https://paper.example.cn/{edition:}/a.html", "brace outside an edition placeholder"),
        ("https://{edition:%d}.example.cn/a.html", "not the host"),
    ],
)
def test_a_malformed_edition_placeholder_is_refused_naming_file_and_field(tmp_path: Path, url: str, complaint: str) -> None:
    with pytest.raises(WatchlistError) as refused:
        load_source(write(tmp_path, f"'{url}'"))
    message = str(refused.value)
    assert "paper.yml:" in message and "field `lists.0.url`" in message and complaint in message


def crawl_at_run_time(radar: Radar, name: str) -> None:
    """Crawl source ``name`` as at RUN_AT (in a child, as `crawl` would) and require it ends ok."""
    done = subprocess.run([sys.executable, "-c", CRAWL_AT.format(name=name, now=RUN_AT.isoformat())], env=radar.env,
                          cwd=radar.cwd, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0 and done.stdout.strip().splitlines()[-1] == "ok", done.stderr[-2000:]


def test_the_people_paper_is_crawled_for_both_editions_without_the_editors_credit(
    radar: Radar, sites: Path, database_url: str
) -> None:
    shutil.copytree(FIXTURES / "epaper" / "paper.people.com.cn", sites / "paper.people.com.cn")
    crawl_at_run_time(radar, "people_paper")
    with transaction(database_url) as session:
        items = {item.canonical_url: item for item in session.scalars(select(Item))}
    content = "https://paper.people.com.cn/rmrb/pc/content/202611"
    assert sorted(items) == sorted(
        f"{content}/{day}/content_{number}.html" for day, number in
        [("30", 30123401), ("30", 30123402), ("29", 30122901), ("29", 30122902)]
    )
    first = items[f"{content}/30/content_30123401.html"]
    assert first.title == "国务院常务会议部署加快推进科技成果转化"
    assert first.published_at is not None and first.published_at.astimezone(CHINA).date().isoformat() == "2026-11-30"
    assert "加强基础研究" in first.body and "var x" not in first.body
    assert items[f"{content}/29/content_30122902.html"].published_at.astimezone(CHINA).date().isoformat() == "2026-11-29"


def test_the_doctor_reads_the_edition_of_the_callers_day(radar: Radar, sites: Path) -> None:
    shutil.copytree(FIXTURES / "epaper" / "paper.people.com.cn", sites / "paper.people.com.cn")
    done = subprocess.run([sys.executable, "-c", DOCTOR_AT.format(now=RUN_AT.isoformat())], env=radar.env, cwd=radar.cwd,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "layout/202611/30/node_01.html" in done.stdout and "content_30123401.html" in done.stdout


@pytest.mark.parametrize("name", sorted(p.stem for p in EXPECTED.glob("*.yml")))
def test_each_epaper_is_crawled_for_both_editions_as_its_expectations_say(
    radar: Radar, sites: Path, database_url: str, name: str
) -> None:
    expected = yaml.safe_load((EXPECTED / f"{name}.yml").read_text(encoding="utf-8"))
    for host in {urlsplit(entry["url"]).hostname for entry in expected}:
        shutil.copytree(FIXTURES / "epaper" / host, sites / host)
    crawl_at_run_time(radar, name)
    with transaction(database_url) as session:
        items = {item.canonical_url: item for item in session.scalars(select(Item))}
    assert sorted(items) == sorted(entry["url"] for entry in expected)
    for entry in expected:
        assert_matches(items[entry["url"]], entry)
