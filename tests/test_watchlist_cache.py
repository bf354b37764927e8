"""configured_sources reads the watchlists again only when a file's bytes changed (issue 19: the
Sources page and the daemon ask on every request and job)."""

import os
from pathlib import Path

import pytest

from common.settings import get_settings
from crawler.watchlist import WatchlistError, configured_sources
from test_watchlist import VALID, write


def _config(tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "sources").mkdir(exist_ok=True)
    return get_settings(watchlists=tmp_path)


def test_unchanged_files_are_not_read_again(tmp_path: Path) -> None:
    config = _config(tmp_path)
    write(tmp_path / "sources", VALID)
    first, again = configured_sources(config), configured_sources(config)
    assert first == again and first[0] is again[0]  # the same frozen models: nothing re-parsed
    first.clear()  # each caller gets its own list
    assert [s.name for s in configured_sources(config)] == ["example"]


def test_an_edited_added_or_removed_file_is_read(tmp_path: Path) -> None:
    config = _config(tmp_path)
    path = write(tmp_path / "sources", VALID)
    configured_sources(config)
    write(tmp_path / "sources", VALID.replace("示例 (예시)", "示例二 (예시 2)"))
    assert configured_sources(config)[0].label == "示例二 (예시 2)"
    write(tmp_path / "sources", VALID.replace("name: example", "name: other"), "other.yml")
    assert sorted(s.name for s in configured_sources(config)) == ["example", "other"]
    path.unlink()
    assert [s.name for s in configured_sources(config)] == ["other"]


def test_same_size_rewrite_within_one_clock_tick_is_read(tmp_path: Path) -> None:
    config = _config(tmp_path)
    path = write(tmp_path / "sources", VALID)
    before = path.stat()
    configured_sources(config)
    write(tmp_path / "sources", VALID.replace("schedule: 2h", "schedule: 3h"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # a coarse clock gives both writes one time
    assert path.stat().st_size == before.st_size
    assert configured_sources(config)[0].schedule == "3h"


def test_a_broken_watchlist_fails_every_time(tmp_path: Path) -> None:
    config = _config(tmp_path)
    write(tmp_path / "sources", VALID.replace("name: example", "name: Bad Name"))
    for _ in range(2):
        with pytest.raises(WatchlistError, match="field `name`"):
            configured_sources(config)
