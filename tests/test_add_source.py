"""Saving a proposed watchlist (crawler/add_source.py), which `crawl sources add --write` and
the workspace's 저장 share: whole or not at all, never over a file, only what the loader accepts."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from common.settings import Settings, get_settings
from conftest import ROOT
from crawler.add_source import ProposalError, write
from crawler.propose import Proposal
from crawler.watchlist import load_sources


@pytest.fixture
def sources_dir(tmp_path: Path) -> Path:
    copy = tmp_path / "sources"
    shutil.copytree(ROOT / "watchlists" / "sources", copy)
    return copy


def config_of(sources_dir: Path, **overrides: object) -> Settings:
    """A configuration whose watchlists are ``sources_dir``'s folder."""
    return get_settings(watchlists=sources_dir.parent, **overrides)


def proposed(name: str) -> str:
    proposal = Proposal(name, "https://www.example.cn/news/", r"^https?://www\.example\.cn/news/t\d+\.html$", [], notes=["found 12 entries"])
    return yaml.safe_dump(proposal.watchlist(dt.date(2026, 11, 29)), allow_unicode=True, sort_keys=False)


def test_a_proposal_is_written_and_loads_beside_the_others(sources_dir: Path) -> None:
    target = write("example_news", proposed("example_news"), config_of(sources_dir))
    assert target == sources_dir / "example_news.yml"
    assert "example_news" in {s.name for s in load_sources(sources_dir)}
    assert [p.name for p in sources_dir.iterdir() if p.name.startswith(".")] == []  # no staged file left


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("most", "name: most\n", "exists already"),  # never over an existing file
        ("example_news", "name: [unclosed\n", "would not load"),
        ("example_news", proposed("example_news").replace("kind: html_list", "kind: telepathy"), "unknown kind"),
        ("example_news", proposed("other_name"), "named 'other_name'"),
        ("../escape", proposed("example_news"), "not a source name"),
    ],
)
def test_what_the_loader_refuses_is_not_written(sources_dir: Path, name: str, text: str, problem: str) -> None:
    before = sorted((p.name, p.read_bytes()) for p in sources_dir.iterdir())
    with pytest.raises(ProposalError, match=problem) as refused:
        write(name, text, config_of(sources_dir))
    assert ".part" not in str(refused.value)  # problems name the file that would have been written
    assert sorted((p.name, p.read_bytes()) for p in sources_dir.iterdir()) == before


def test_a_name_another_file_already_uses_is_refused(sources_dir: Path) -> None:
    (sources_dir / "most.yml").rename(sources_dir / "most_renamed.yml")  # still `name: most`
    with pytest.raises(ProposalError, match="already used by"):
        write("most", proposed("most"), config_of(sources_dir))
    assert not (sources_dir / "most.yml").exists()


def test_a_name_a_wechat_account_takes_through_the_mirror_is_refused(sources_dir: Path) -> None:
    shutil.copy(ROOT / "watchlists" / "wechat.yml", sources_dir.parent / "wechat.yml")
    config = config_of(sources_dir, wechat_mirror="http://wechat-mirror/feed/{biz}.xml")
    with pytest.raises(ProposalError, match="already used by .*wechat.yml"):
        write("wechat_anshun_jkq", proposed("wechat_anshun_jkq"), config)
    assert not (sources_dir / "wechat_anshun_jkq.yml").exists()
