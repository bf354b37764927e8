"""The operator's tools tell the truth: what `crawl` prints is what is stored or configured,
whatever brackets crawled text and selectors contain, and bad input gets one clear line."""

from __future__ import annotations

import hashlib
import shlex
import socket
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import Radar, free_port
from storage.db import ensure_schema, get_engine, transaction
from storage.models import CrawlRun, Item, OutboxMessage, Source

HOSTILE_TITLE = "关于[/bold]印发 [red]x[/red] 的通知"
HOSTILE_ORIGIN = "[bold]新华社"
HOSTILE_BODY = "第一条 [/] 正文 [link=http://evil]点击[/link]"


def store_hostile_item(database_url: str) -> int:
    """An item as a hostile site could make the crawler store it: brackets everywhere."""
    ensure_schema(database_url)
    now = datetime.now(timezone.utc)
    with transaction(database_url) as session:
        source = Source(name="ndrc", label="国家发展改革委", kind="html_list", health="broken",
                        last_error="rule `article.title` matched nothing: `meta[name=ArticleTitle]::attr(content)`")
        session.add(source)
        session.flush()
        session.add(CrawlRun(source_id=source.id, started_at=now - timedelta(minutes=5), finished_at=now, status="ok"))
        item = Item(source_id=source.id, url="https://www.ndrc.gov.cn/a[1].html", canonical_url="https://www.ndrc.gov.cn/a[1].html",
                    title=HOSTILE_TITLE, origin=HOSTILE_ORIGIN, body=HOSTILE_BODY, published_at=now - timedelta(hours=1),
                    first_seen_at=now, content_hash=hashlib.sha256(HOSTILE_BODY.encode()).hexdigest(),
                    verdict_reason="[dim]no earlier story")
        session.add(item)
        session.flush()
        return item.id


def test_crawled_titles_with_markup_are_printed_verbatim(radar: Radar, database_url: str) -> None:
    item_id = store_hostile_item(database_url)
    for command in (("items",), ("items", "--new"), ("diff", "--since", "2d")):
        shown = radar(*command).stdout
        assert HOSTILE_TITLE in shown, command
        assert HOSTILE_ORIGIN in shown or command[0] == "diff"
    assert "[dim]no earlier story" in radar("diff", "--since", "2d").stdout
    shown = radar("show", str(item_id)).stdout
    assert HOSTILE_TITLE in shown and HOSTILE_ORIGIN in shown and HOSTILE_BODY in shown
    assert "https://www.ndrc.gov.cn/a[1].html" in shown


def test_sources_and_status_show_selectors_and_outbox_titles_verbatim(radar: Radar, database_url: str) -> None:
    store_hostile_item(database_url)
    with transaction(database_url) as session:
        session.add(OutboxMessage(kind="alert", dedupe_key="x", title="[cnst-radar] ndrc is broken", body_text="",
                                  body_markdown="", body_html="", last_error="[Errno 111] refused"))
    status = radar("status").stdout
    assert "'[cnst-radar] ndrc is broken'" in status and "[Errno 111] refused" in status
    assert "meta[name=ArticleTitle]::attr(content)" in status.replace("\n", "")
    assert "meta[name=ArticleTitle]::attr(content)" in radar("sources").stdout


def test_doctor_shows_the_selectors_as_written(radar: Radar) -> None:
    shown = radar("doctor", "--source", "ndrc").stdout
    assert "xpath://ul[contains(concat(' ', normalize-space(@class), ' '), ' u-list ')]/li[a]" in shown
    assert "meta[name=ArticleTitle]::attr(content)" in shown
    assert "meta[name=PubDate]::attr(content)" in shown


# -- the database URL -------------------------------------------------------------------
def crawl(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "radar", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=180)


@pytest.mark.parametrize("kind", ["unparseable", "refused", "unwritable", "no-driver"])
def test_a_bad_database_url_is_one_line_naming_it_with_exit_code_2(base_env: dict[str, str], tmp_path: Path, kind: str) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    url = {
        "unparseable": "radar.sqlite",
        "refused": f"postgresql://radar:s3cret@127.0.0.1:{free_port()}/radar",
        "unwritable": f"sqlite:///{tmp_path / 'a-file' / 'radar.sqlite'}",  # a file where a directory must be
        "no-driver": "mysql://radar:s3cret@127.0.0.1/radar",
    }[kind]
    for command in (("items",), ("run", "--source", "ndrc"), ("status",)):
        result = crawl(base_env | {"RADAR_DATABASE_URL": url}, tmp_path, *command)
        assert result.returncode == 2, (command, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr
        assert "s3cret" not in result.stderr and url.replace("s3cret", "***") in result.stderr


def test_read_only_commands_neither_lock_nor_write_a_current_database(base_env: dict[str, str], tmp_path: Path) -> None:
    database = tmp_path / "radar.sqlite"
    item_id = store_hostile_item(f"sqlite:///{database}")
    get_engine(f"sqlite:///{database}").dispose()  # checkpoint: everything is in the main file
    Path(f"{database}.migrate-lock").unlink(missing_ok=True)
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    # mode=ro: SQLite itself refuses any write, so each command passing proves it wrote nothing.
    env = base_env | {"RADAR_DATABASE_URL": f"sqlite:///file:{database}?mode=ro&uri=true"}
    for command in (("items",), ("show", str(item_id)), ("sources",), ("status",), ("digest", "--dry-run")):
        result = crawl(env, tmp_path, *command)
        assert result.returncode == 0, (command, result.stdout, result.stderr)
    assert HOSTILE_TITLE in crawl(env, tmp_path, "items").stdout
    assert not Path(f"{database}.migrate-lock").exists()  # the lock is for migrations only
    assert not (tmp_path / "file:").exists()  # the URI form is not mistaken for a relative path
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before


# -- the fake internet, for source authors -------------------------------------------------
def test_the_fake_internet_on_a_taken_port_says_so_in_one_line(base_env: dict[str, str], tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "crawler.replay", "--port", str(port)], env=base_env, cwd=tmp_path,
                                capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [f"port {port} on 127.0.0.1 is already in use (another fake internet?): choose a free one with --port N"]


# -- finding the demo again -------------------------------------------------------------
def in_a_fresh_shell(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``command`` as a user would paste it into a new terminal: no venv on PATH."""
    fresh = {k: v for k, v in env.items() if not k.startswith(("RADAR_DATABASE_URL", "VIRTUAL_ENV"))} | {"PATH": "/usr/bin:/bin"}
    return subprocess.run(["bash", "-c", command], env=fresh, cwd=cwd, capture_output=True, text=True, timeout=180)


def test_items_on_an_empty_default_database_points_at_the_demo_database(base_env: dict[str, str], tmp_path: Path) -> None:
    env = base_env | {"RADAR_DATA_DIR": str(tmp_path / "data")}
    demo = tmp_path / "data" / "demo.sqlite"
    item_id = store_hostile_item(f"sqlite:///{demo}")
    shown = crawl(env, tmp_path, "items").stdout
    assert f"The demo's database is sqlite:///{demo}" in shown
    suggestion = shown.strip().splitlines()[-1].strip()
    assert suggestion.startswith("RADAR_DATABASE_URL=") and suggestion.endswith(" items")
    assert HOSTILE_TITLE in in_a_fresh_shell(suggestion, tmp_path, env).stdout
    assert str(item_id) in in_a_fresh_shell(suggestion.replace(" items", f" show {item_id}"), tmp_path, env).stdout


def test_the_hint_names_the_venv_script_when_it_is_not_on_path(base_env: dict[str, str], tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "crawl"
    if not script.exists():
        pytest.skip("no `crawl` script next to this Python (not installed in a venv)")
    env = base_env | {"RADAR_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    store_hostile_item(f"sqlite:///{tmp_path / 'data' / 'demo.sqlite'}")
    venv = script.parent.parent
    result = subprocess.run([str(script), "items"], env=env, cwd=venv.parent, capture_output=True, text=True, timeout=180)
    suggestion = result.stdout.strip().splitlines()[-1].strip()
    assert f" {venv.name}/bin/crawl items" in suggestion or f" {script} items" in suggestion, suggestion
    assert HOSTILE_TITLE in in_a_fresh_shell(suggestion, venv.parent, env).stdout


def test_demo_piped_into_head_ends_when_head_does(base_env: dict[str, str], tmp_path: Path) -> None:
    env = base_env | {"RADAR_DATA_DIR": str(tmp_path / "data")}
    crawl_demo = f"{shlex.quote(sys.executable)} -m radar demo"
    # The deadline is generous on purpose: it only tells "ends" from "hangs for minutes".
    result = subprocess.run(["bash", "-c", f"{crawl_demo} | head -5; echo \"statuses ${{PIPESTATUS[*]}}\""],
                            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=400)
    lines = result.stdout.splitlines()
    assert len(lines) == 6 and lines[0].startswith("Fake internet on"), result.stdout
    crawl_status, head_status = lines[-1].split()[1:]
    assert head_status == "0" and crawl_status in ("0", "141"), lines[-1]  # 141: ended as by SIGPIPE
    assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr


def test_closing_the_connection_pool_gives_up_waiting_only_on_connections_still_open() -> None:
    from twisted.internet.defer import Deferred, gatherResults

    from crawler.download import stop_waiting

    # The pool's Deferred fired, but its waiter had not resumed when the one-second timer came due.
    closed = gatherResults([])
    stop_waiting(closed)  # Scrapy's timer called closed.callback here: AlreadyCalledError
    hanging: Deferred[None] = Deferred()
    stop_waiting(hanging)
    assert hanging.called


def test_commands_that_do_not_crawl_do_not_load_scrapy() -> None:
    """Scrapy and Twisted cost ~0.5 s of every command's start; reading the watchlists (what
    `crawl issues import`, `crawl check` and `crawl sources` do) needs neither."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys; sys.argv = ['crawl', 'issues', 'import']\n"
         "import radar.cli, crawler.watchlist, crawler.coverage, desk.issues\n"
         "print(sorted({name.split('.')[0] for name in sys.modules} & {'scrapy', 'twisted'}))"],
        capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
