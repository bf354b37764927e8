"""`crawl demo`: the whole pipeline in a minute, its data kept apart from real data."""

import re
import subprocess
from pathlib import Path

from conftest import Radar


def test_demo_crawls_every_source_into_a_separate_database(base_env: dict[str, str], tmp_path: Path) -> None:
    env = base_env | {"RADAR_DATA_DIR": str(tmp_path / "data")}
    demo = Radar(env=env, cwd=tmp_path)
    result = demo("demo")
    demo_db = tmp_path / "data" / "demo.sqlite"
    assert demo_db.exists() and not (tmp_path / "data" / "radar.sqlite").exists()
    assert f"Demo database: sqlite:///{demo_db}" in result.stdout
    assert "Latest stored items" in result.stdout
    # The hint works pasted into a fresh shell: no venv on PATH, no RADAR_DATABASE_URL set.
    hint = next(line for line in result.stdout.splitlines() if line.startswith("Explore it:"))
    items = hint.removeprefix("Explore it:").split("   ·   ")[0].strip()
    assert items.startswith(f"RADAR_DATABASE_URL=sqlite:///{demo_db} ") and items.endswith(" items")
    fresh = {k: v for k, v in env.items() if k != "RADAR_DATABASE_URL"} | {"PATH": "/usr/bin:/bin"}
    explored = subprocess.run(["bash", "-c", items], env=fresh, cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert explored.returncode == 0 and "item(s)" in explored.stdout and not re.search(r"(?<!\d)0 item\(s\)", explored.stdout)
    assert " failed " not in result.stdout and "partial" not in result.stdout
    again = demo("demo")
    assert "Nothing new this time" in again.stdout


def test_demo_uses_radar_database_url_when_it_is_set(radar_env: dict[str, str], tmp_path: Path, database_url: str) -> None:
    result = Radar(env=radar_env, cwd=tmp_path)("demo")
    assert f"Demo database: {database_url}" in result.stdout
