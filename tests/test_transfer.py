"""Backups and moves: what `crawl export` writes, `crawl import` restores — across databases."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from conftest import FIXTURES, POSTGRES, Radar
from storage.db import transaction
from storage.models import Item, ReportIssue


def snapshot(database_url: str) -> dict[str, tuple]:
    with transaction(database_url) as session:
        return {
            i.canonical_url: (i.title, i.published_at, i.origin, i.body, i.status, i.source.name, i.raw is not None)
            for i in session.scalars(select(Item))
        }


def test_export_then_import_into_another_database_loses_nothing(radar: Radar, database_url: str, tmp_path: Path) -> None:
    radar("issues", "import", *map(str, sorted((FIXTURES / "reports").glob("*.txt"))))
    radar("run", "--source", "ndrc", "--source", "sciencenet")
    dump = tmp_path / "backup.jsonl"
    assert "Exported" in radar("export", str(dump)).stdout
    kinds = [json.loads(line)["type"] for line in dump.read_text(encoding="utf-8").splitlines()]
    assert kinds.count("issue") == 3 and kinds.count("item") == len(snapshot(database_url))
    # Restore into a fresh database (SQLite → PostgreSQL when the suite runs on PostgreSQL).
    target = f"sqlite:///{tmp_path / 'restored.sqlite'}"
    restored = Radar(env=radar.env | {"RADAR_DATABASE_URL": target}, cwd=radar.cwd)
    out = restored("import", str(dump)).stdout
    assert "Imported" in out
    assert snapshot(target) == snapshot(database_url)
    with transaction(target) as session:
        assert len(session.scalars(select(ReportIssue)).all()) == 3
    again = restored("import", str(dump)).stdout  # idempotent
    assert f"{len(snapshot(database_url))} already stored" in again


def test_sqlite_export_imports_into_postgresql(radar: Radar, database_url: str, tmp_path: Path) -> None:
    if not database_url.startswith("sqlite"):
        return  # the reverse direction is covered above
    import pytest

    if not POSTGRES:
        pytest.skip("no PostgreSQL server")
    from conftest import _new_postgres_database  # noqa: PLC0415

    radar("run", "--source", "cas")
    dump = tmp_path / "move.jsonl"
    radar("export", str(dump))
    with _new_postgres_database() as target:
        Radar(env=radar.env | {"RADAR_DATABASE_URL": target}, cwd=radar.cwd)("import", str(dump))
        assert snapshot(target) == snapshot(database_url)


def test_a_corrupt_export_is_refused_and_imports_nothing(radar: Radar, database_url: str, tmp_path: Path) -> None:
    dump = tmp_path / "bad.jsonl"
    dump.write_text('{"type": "item", "canonical_url": "x"\n', encoding="utf-8")
    result = radar("import", str(dump), check=False)
    assert result.returncode == 1 and "line 1: not JSON" in result.stderr and "nothing was imported" in result.stderr
