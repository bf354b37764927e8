"""The workspace's sessions and accounts against a hostile user: sessions end on the server,
`next` never leaves the site, the login lock holds against look-alike names, removed users and
old feed tokens stop working, and behind an https proxy `crawl web` (waitress itself) sees the
real client and scheme."""

from __future__ import annotations

import http.client
import time
from pathlib import Path
from urllib.parse import unquote

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from conftest import Radar, free_port
from scheduler.web.auth import LoginThrottle
from storage.db import transaction
from storage.models import Item, Source, User
from test_web import PASSWORD, Web, csrf, web  # noqa: F401 - `web` is a fixture

COOKIE = "radar_session"


def replaying(web: Web, cookie: str) -> FlaskClient:
    """Another browser sending a saved copy of a session cookie (a stolen cookie)."""
    thief = web.app.test_client()
    thief.set_cookie(COOKIE, cookie)
    return thief


def add_item(database_url: str) -> int:
    with transaction(database_url) as session:
        source = Source(name="example", label="Example")
        session.add(source)
        session.flush()
        item = Item(source_id=source.id, url="https://example.org/a", canonical_url="https://example.org/a",
                    title="一条新闻", content_hash="0" * 64)
        session.add(item)
        session.flush()
        return item.id


def feed_tokens(radar: Radar) -> dict[str, str]:
    return {u["username"]: u["feed_token"] for u in radar.json("users", "list", "--tokens")}


# -- sessions end on the server --------------------------------------------------------
def test_a_cookie_copied_before_logout_stops_working_for_reads_and_writes(web: Web) -> None:
    item_id = add_item(web.database_url)
    client = web.client("kim")
    token = csrf(client.get("/").text)
    saved = client.get_cookie(COOKIE).value
    assert replaying(web, saved).get("/").status_code == 200  # the copy works while the session lives
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    read = replaying(web, saved).get("/")
    assert read.status_code == 302 and read.location.startswith("/login")
    write = replaying(web, saved).post(f"/items/{item_id}/triage", json={"decision": "pick"}, headers={"X-CSRFToken": token})
    assert write.status_code == 401
    assert web.triage_rows() == []
    assert web.client("kim").get("/").status_code == 200  # logging in again works


def test_password_change_rotation_and_removal_end_sessions_and_feed_access(radar: Radar, web: Web) -> None:
    radar("users", "add", "kim", "--password", PASSWORD)
    radar("users", "add", "lee", "--password", PASSWORD)
    item_id = add_item(web.database_url)
    anonymous = web.app.test_client()

    def feed(token: str) -> int:
        return anonymous.get(f"/feeds/watch.atom?token={token}").status_code

    first = feed_tokens(radar)["kim"]
    assert feed(first) == 200
    radar("users", "rotate-token", "kim")
    second = feed_tokens(radar)["kim"]
    assert second != first and feed(first) == 403 and feed(second) == 200

    client = web.client("kim")
    assert client.get("/").status_code == 200
    assert "sessions ended" in radar("users", "passwd", "kim", "--password", "a new password").stdout
    assert client.get("/").status_code == 302  # the open session ended
    third = feed_tokens(radar)["kim"]
    assert third != second and feed(second) == 403 and feed(third) == 200

    login = web.app.test_client()
    page = login.get("/login")
    assert login.post("/login", data={"username": "kim", "password": "a new password", "csrf_token": csrf(page.text)}).status_code == 302
    token = csrf(login.get("/").text)
    assert login.post(f"/items/{item_id}/triage", json={"decision": "pick"}, headers={"X-CSRFToken": token}).status_code == 200

    removed = radar("users", "remove", "kim").stdout
    assert "history is kept" in removed
    assert login.get("/").status_code == 302 and feed(third) == 403
    page = login.get("/login")
    refused = login.post("/login", data={"username": "kim", "password": "a new password", "csrf_token": csrf(page.text)})
    assert refused.status_code == 401
    assert list(feed_tokens(radar)) == ["lee"]
    assert [row.user.username for row in web.triage_rows()] == ["kim"]  # the history keeps its author

    assert "removed user lee" in radar("users", "remove", "lee").stdout
    with transaction(web.database_url) as session:
        assert session.scalar(select(User).where(User.username == "lee")) is None  # no history: gone
    missing = radar("users", "remove", "nobody", check=False)
    assert missing.returncode == 1 and "no user 'nobody'" in missing.stderr
    assert radar("users", "rotate-token", "kim", check=False).returncode == 1
    radar("users", "add", "kim", "--password", PASSWORD)  # the name may come back
    assert web.client("kim").get("/").status_code == 200


# -- next= -----------------------------------------------------------------------------
@pytest.mark.parametrize("target", ["/%09/evil.example", "/%0a/evil.example", "/%0d%0a/x", "/%5c/evil.example",
                                    "%09//evil.example", "//evil.example", "/\\evil.example", "https://evil.example/",
                                    "/%20/evil.example", "/%00/x", "/%e3%80%80/evil.example"])
def test_next_never_leads_off_the_site(web: Web, target: str) -> None:
    refused = 400 if "%00" in target else None  # a NUL in any parameter is refused outright
    client = web.client("kim")
    answer = client.get(f"/login?next={target}")
    assert answer.status_code == refused or (answer.status_code == 302 and answer.location == "/")
    fresh = web.app.test_client()  # the form's hidden field, posted by someone logging in
    page = fresh.get("/login")
    posted = fresh.post("/login", data={"username": "kim", "password": PASSWORD, "csrf_token": csrf(page.text), "next": unquote(target)})
    assert posted.status_code == refused or (posted.status_code == 302 and posted.location == "/")


def test_next_keeps_a_local_path(web: Web) -> None:
    client = web.client("kim")
    assert client.get("/login?next=/draft%3Fweek%3D2024-W23").location == "/draft?week=2024-W23"


# -- the login lock --------------------------------------------------------------------
@pytest.mark.parametrize("variant", ["kim\t", " kim", "kim\u3000", "ｋｉｍ", "KIM"])
def test_a_padded_or_look_alike_name_counts_against_the_same_lock(radar: Radar, database_url: str, tmp_path: Path, variant: str) -> None:
    from common.settings import get_settings
    from scheduler.web import create_app

    env = {k.removeprefix("RADAR_").lower(): v for k, v in radar.env.items() if k.startswith("RADAR_") and k != "RADAR_CONFIG"}
    config = get_settings(**(env | {"data_dir": str(tmp_path / "data")}))
    web = Web(create_app(config, SECRET_KEY="test-secret", LOGIN_THROTTLE=LoginThrottle(clock=lambda: 0.0)), database_url)
    web.user("kim")

    def attempt(username: str, password: str, address: str) -> int:
        browser = web.app.test_client()
        page = browser.get("/login", environ_base={"REMOTE_ADDR": address})
        return browser.post("/login", environ_base={"REMOTE_ADDR": address},
                            data={"username": username, "password": password, "csrf_token": csrf(page.text)}).status_code

    # Each guess from another address: only the per-name lock can stop them.
    assert [attempt("kim", f"guess-{n}", f"10.0.0.{n}") for n in range(5)] == [401] * 5
    assert attempt(variant, PASSWORD, "10.0.1.1") == 429
    assert attempt("kim", PASSWORD, "10.0.1.2") == 429


def test_a_padded_name_logs_in_as_the_same_user(web: Web) -> None:
    web.user("kim")
    browser = web.app.test_client()
    page = browser.get("/login")
    assert browser.post("/login", data={"username": "kim\t", "password": PASSWORD, "csrf_token": csrf(page.text)}).status_code == 302


# -- behind a proxy, through waitress --------------------------------------------------
def _request(port: int, method: str, path: str, headers: dict[str, str], body: str | None = None) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    response.text = response.read().decode()  # type: ignore[attr-defined]
    connection.close()
    return response


def _wait_for(port: int, server) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            _request(port, "GET", "/login", {})
            return
        except OSError:
            assert server.poll() is None, server.communicate()
            time.sleep(0.2)
    raise AssertionError("`crawl web` did not start")


def test_crawl_web_behind_a_proxy_sees_the_scheme_and_each_clients_address(radar: Radar) -> None:
    port = free_port()
    radar.env["RADAR_WEB_PROXY_FIX"] = "1"
    server = radar.popen("web", "--port", str(port))
    try:
        _wait_for(port, server)
        https = _request(port, "GET", "/login", {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"})
        assert "Secure" in https.getheader("Set-Cookie")
        plain = _request(port, "GET", "/login", {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "http"})
        assert "Secure" not in plain.getheader("Set-Cookie")

        def attempt(client: str, username: str) -> int:
            page = _request(port, "GET", "/login", {"X-Forwarded-For": client})
            cookie = page.getheader("Set-Cookie").split(";")[0]
            form = f"username={username}&password=wrong-password&csrf_token={csrf(page.text)}"
            return _request(port, "POST", "/login", {"X-Forwarded-For": client, "Cookie": cookie,
                                                      "Content-Type": "application/x-www-form-urlencoded"}, form).status

        assert [attempt("203.0.113.7", f"user{n}") for n in range(5)] == [401] * 5
        assert attempt("203.0.113.7", "user9") == 429  # this client is locked out ...
        assert attempt("198.51.100.2", "park") == 401  # ... another editor behind the same proxy is not
    finally:
        server.terminate()
        server.communicate(timeout=30)
