"""Shared fixtures: a database per backend, the fake internet, and a way to run `crawl`.

Every end-to-end test runs the real `crawl` command in a subprocess (Scrapy's reactor runs
once per process, exactly as in production) and reaches the recorded sites only through
the proxy setting. PostgreSQL is used when RADAR_TEST_POSTGRES_URL names a server we may
create databases on; CI sets it, and RADAR_TEST_REQUIRE_POSTGRES=1 turns a missing server
into a failure instead of a skip.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from sqlalchemy import create_engine, text

from crawler.replay import SITES, FakeInternet
from storage.db import get_engine

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
POSTGRES = os.environ.get("RADAR_TEST_POSTGRES_URL")


def pytest_report_header() -> str:
    return f"databases under test: sqlite{', postgresql' if POSTGRES else ' (no RADAR_TEST_POSTGRES_URL: postgresql skipped)'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'radar.sqlite'}"
        return
    if not POSTGRES:
        if os.environ.get("RADAR_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail("RADAR_TEST_REQUIRE_POSTGRES=1 but RADAR_TEST_POSTGRES_URL is not set")
        pytest.skip("no PostgreSQL server (set RADAR_TEST_POSTGRES_URL)")
    with _new_postgres_database() as url:
        yield url


@contextmanager
def _new_postgres_database() -> Iterator[str]:
    """A fresh database on the test server, dropped afterwards."""
    name = f"radar_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        get_engine(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sites(tmp_path: Path) -> Path:
    """A private copy of the recorded sites, so a test may add or change pages."""
    copy = tmp_path / "sites"
    shutil.copytree(SITES, copy)
    return copy


@pytest.fixture
def internet(sites: Path) -> Iterator[FakeInternet]:
    with FakeInternet(sites) as fake:
        yield fake


@pytest.fixture
def watchlists(tmp_path: Path) -> Path:
    copy = tmp_path / "watchlists"
    shutil.copytree(ROOT / "watchlists", copy)
    return copy


@dataclass
class Radar:
    """Runs `crawl` as a user would, against this test's database, watchlists and internet."""

    env: dict[str, str]
    cwd: Path
    calls: list[list[str]] = field(default_factory=list)

    def __call__(self, *args: str, check: bool = True, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "radar", *args]
        self.calls.append(command)
        result = subprocess.run(command, env=self.env, cwd=self.cwd, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"`crawl {' '.join(args)}` exited {result.returncode}\n{result.stdout}\n{result.stderr}")
        return result

    def json(self, *args: str) -> object:
        return json.loads(self(*args, "--json").stdout)

    def popen(self, *args: str) -> subprocess.Popen[str]:
        command = [sys.executable, "-m", "radar", *args]
        return subprocess.Popen(command, env=self.env, cwd=self.cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def base_env(tmp_path: Path, watchlists: Path) -> dict[str, str]:
    """An environment with nothing of the developer's: own home, own watchlists, no proxy."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RADAR_") and k.lower() not in ("http_proxy", "https_proxy")}
    # The one setting kept: RADAR_CRAWL_START=spawn runs the daemon's tests with plain crawl children.
    env |= {k: v for k, v in os.environ.items() if k == "RADAR_CRAWL_START"}
    return env | {
        "HOME": str(tmp_path / "home"),
        "XDG_DATA_HOME": str(tmp_path / "home" / "data"),
        "RADAR_WATCHLISTS": str(watchlists),
        "RADAR_POLITE": "false",  # no delays against the loopback fake internet
        "RADAR_CONFIG": str(tmp_path / "no-radar.toml"),
        "RADAR_STATUS_ADDR": "",  # tests that want the endpoint give it a free port
        "PYTHONWARNINGS": "ignore",
    }


@pytest.fixture
def radar_env(base_env: dict[str, str], database_url: str) -> dict[str, str]:
    return base_env | {"RADAR_DATABASE_URL": database_url}


@pytest.fixture
def radar(radar_env: dict[str, str], internet: FakeInternet, tmp_path: Path) -> Radar:
    return Radar(env=radar_env | {"RADAR_PROXY": internet.address}, cwd=tmp_path)


def module_at(path: Path) -> ModuleType:
    """The Python file at ``path`` (a bench script, a migration) loaded as a module, registered
    under its file's stem: dataclasses look their module up while it loads."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def expected_articles(source: str) -> list[dict]:
    """Hand-written ground truth for a source's fixture site."""
    return yaml.safe_load((FIXTURES / "expected" / f"{source}.yml").read_text(encoding="utf-8"))


def source_names() -> list[str]:
    return sorted(p.stem for p in (FIXTURES / "expected").glob("*.yml"))


def add_ndrc_article(sites: Path, stem: str, title: str) -> str:
    """Publish a new notice on the recorded NDRC site: an article file and a list entry."""
    folder = sites / "www.ndrc.gov.cn" / "xxgk" / "zcfb" / "tz"
    template = sorted((folder).glob("2*/t*.html"))[0]
    old_title = re.search(r'<meta name="ArticleTitle" content="([^"]+)"', template.read_text(encoding="utf-8")).group(1)
    month = folder / "209912"
    month.mkdir(exist_ok=True)
    (month / f"{stem}.html").write_text(template.read_text(encoding="utf-8").replace(old_title, title), encoding="utf-8")
    index = folder / "index.html"
    html = index.read_text(encoding="utf-8")
    entry = f'<li><a href="./209912/{stem}.html" target="_blank" title="{title}">{title}</a><span>2099/12/31</span></li>\n'
    index.write_text(html.replace('<ul class="u-list">', '<ul class="u-list">\n' + entry, 1), encoding="utf-8")
    return f"https://www.ndrc.gov.cn/xxgk/zcfb/tz/209912/{stem}.html"


@contextmanager
def sql_sent(database_url: str) -> Iterator[list[str]]:
    """The SQL statements sent on ``database_url``'s engine while the block runs, in order."""
    from sqlalchemy import event

    sent: list[str] = []

    def record(conn, cursor, statement, *rest) -> None:  # type: ignore[no-untyped-def]
        sent.append(statement)

    engine = get_engine(database_url)
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def free_port() -> int:
    """A TCP port on loopback that nothing listens on (for servers that need one given)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
