"""The crawler fetches only what a source names, never the server's own network — through the
fake internet (proxy) and without any proxy, over real HTTP on loopback — and says why a fetch
it gave up on failed."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import Radar, expected_articles
from test_web import Web, csrf, web  # noqa: F401 - the workspace fixture
from common.settings import parse_networks
from crawler.netguard import AddressGuard, follows, keeps_entry, literal_address
from crawler.replay import FakeInternet, fault
from common.urls import canonical_url
from crawler.watchlist import load_source
from storage.db import transaction
from storage.models import CrawlRun, Item, Source

HOSTILE = "www.hostile.test"


def article_html(title: str) -> str:
    body = "这是一篇用于测试的文章正文，内容足够长以便提取器识别。" * 8
    return (
        f'<html><head><meta charset="utf-8"><title>{title}</title><meta name="PubDate" content="2024-05-01 10:00"></head>'
        f'<body><div class="article"><h1>{title}</h1><p>发布时间：2024-05-01</p><p>{body}</p></div></body></html>'
    )


def list_html(links: list[str]) -> str:
    items = "".join(f'<li><a href="{link}">{link}</a></li>' for link in links)
    return f'<html><head><meta charset="utf-8"><title>列表</title></head><body><ul class="list">{items}</ul></body></html>'


@dataclass
class LocalSite:
    """A plain HTTP server on a loopback address: pages by path, redirects, and who asked for what."""

    host: str
    pages: dict[str, str] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    port: int = 0

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"


@contextmanager
def serving(site: LocalSite) -> Iterator[LocalSite]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            site.hits[self.path] += 1
            if self.path in site.redirects:
                self.send_response(302)
                self.send_header("Location", site.redirects[self.path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = site.pages.get(self.path)
            status = 200 if body is not None else 404
            data = (body or "not found").encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer((site.host, 0), Handler)
    server.daemon_threads = True
    site.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


def add_source(watchlists: Path, name: str, list_url: str, article_url: str | None = None) -> None:
    pattern = f"\n  article_url: '{article_url}'" if article_url else ""
    (watchlists / "sources" / f"{name}.yml").write_text(
        f"name: {name}\nlabel: {name}\nhomepage: {list_url}\nkind: html_list\nlists: ['{list_url}']\n"
        f"list:\n  entry: 'ul.list li'\n  link: 'a::attr(href)'{pattern}\n",
        encoding="utf-8",
    )


def stored_urls(database_url: str) -> set[str]:
    with transaction(database_url) as session:
        return set(session.scalars(select(Item.canonical_url)))


def runs_by_source(database_url: str) -> dict[str, CrawlRun]:
    with transaction(database_url) as session:
        rows = session.execute(select(Source.name, CrawlRun).join(CrawlRun, CrawlRun.source_id == Source.id).order_by(CrawlRun.id))
        return {name: run for name, run in rows}


# -- through the proxy (the fake internet) -----------------------------------------------
def test_through_the_proxy_a_list_cannot_send_the_crawler_to_loopback_or_off_site(
    radar: Radar, internet: FakeInternet, sites: Path, watchlists: Path, database_url: str
) -> None:
    with serving(LocalSite("127.0.0.1")) as secret:
        site = sites / HOSTILE
        site.mkdir()
        cas_article = expected_articles("cas")[0]["url"]  # a real page, but another source's
        links = [f"{secret.origin}/secret", f"https://{HOSTILE}/a1.html", f"https://{HOSTILE}/r1.html", f"https://{HOSTILE}/r2.html"]
        (site / "index.html").write_text(list_html(links), encoding="utf-8")
        (site / "a1.html").write_text(article_html("测试文章一"), encoding="utf-8")
        internet.inject(f"https://{HOSTILE}/r1.html", fault("redirect", f"{secret.origin}/secret2"))
        internet.inject(f"https://{HOSTILE}/r2.html", fault("redirect", cas_article))
        add_source(watchlists, "hostile", f"https://{HOSTILE}/")  # no article_url: same-site links only

        result = radar("run", "--source", "hostile")

        assert not secret.hits and not internet.requests_to("127.0.0.1"), (secret.hits, internet.hits)
        assert stored_urls(database_url) == {f"https://{HOSTILE}/a1.html"}, result.stdout
        run = runs_by_source(database_url)["hostile"]
        assert run.status == "ok" and run.stats["radar/refused"] == 2, run.stats  # both redirects
        assert "refused http://127.0.0.1" in result.stderr and "redirected from" in result.stderr


def test_a_redirect_from_an_allowed_article_to_loopback_is_refused(
    radar: Radar, internet: FakeInternet, database_url: str
) -> None:
    expected = expected_articles("ndrc")
    with serving(LocalSite("127.0.0.1")) as secret:
        internet.inject(expected[0]["url"], fault("redirect", f"{secret.origin}/internal?db_password=1"))
        internet.inject(expected[1]["url"], fault("redirect", "http://[::ffff:127.0.0.1]/"))
        radar("run", "--source", "ndrc")
        assert not secret.hits and not internet.requests_to("127.0.0.1") and not internet.requests_to("::ffff:127.0.0.1")
    items = stored_urls(database_url)
    assert expected[0]["url"] not in items and expected[1]["url"] not in items
    assert {e["url"] for e in expected[2:]} <= items
    assert runs_by_source(database_url)["ndrc"].stats["radar/refused/address"] == 2


# -- without a proxy: names are resolved, addresses judged -------------------------------
@pytest.fixture
def local_sites() -> Iterator[tuple[LocalSite, LocalSite, LocalSite]]:
    """The source's own site (127.0.0.1), a secret service (127.0.0.2), another port of 127.0.0.1."""
    with serving(LocalSite("127.0.0.1")) as own, serving(LocalSite("127.0.0.2")) as secret, serving(LocalSite("127.0.0.1")) as other:
        yield own, secret, other


def test_without_a_proxy_only_the_allowed_loopback_site_is_reached(
    radar_env: dict[str, str], tmp_path: Path, watchlists: Path, database_url: str, local_sites: tuple[LocalSite, LocalSite, LocalSite]
) -> None:
    own, secret, other = local_sites
    for name in ("loose", "plain"):
        own.pages[f"/{name}/list.html"] = list_html([
            f"{own.origin}/{name}/a.html",
            f"{secret.origin}/secret",  # another address: not allowed
            f"{other.origin}/other",  # the allowed address, another port: not the source's site
            f"{own.origin}/{name}/r1.html",
            f"{own.origin}/{name}/r2.html",
        ])
        own.pages[f"/{name}/a.html"] = article_html(f"测试文章 {name}")
        own.redirects[f"/{name}/r1.html"] = f"{secret.origin}/secret-by-redirect"
        own.redirects[f"/{name}/r2.html"] = f"{other.origin}/other-by-redirect"
    # `loose` names the secret service in its article_url: only the address check stands in the way.
    add_source(watchlists, "loose", f"{own.origin}/loose/list.html", rf"^http://127\.0\.0\.[12]:({own.port}|{secret.port})/")
    add_source(watchlists, "plain", f"{own.origin}/plain/list.html")
    radar = Radar(env=radar_env | {"RADAR_ALLOW_PRIVATE_NETWORKS": "127.0.0.1/32"}, cwd=tmp_path)

    result = radar("run", "--source", "loose", "--source", "plain")

    assert not secret.hits and not other.hits, (secret.hits, other.hits)
    assert stored_urls(database_url) == {canonical_url(f"{own.origin}/{name}/a.html") for name in ("loose", "plain")}, result.stdout
    runs = runs_by_source(database_url)
    assert runs["loose"].status == "ok" and runs["plain"].status == "ok"
    # loose: the secret link and both redirects; plain follows same-site links only, so: both redirects.
    assert (runs["loose"].stats["radar/refused"], runs["loose"].stats["radar/refused/address"]) == (3, 2), runs["loose"].stats
    assert (runs["plain"].stats["radar/refused"], runs["plain"].stats["radar/refused/address"]) == (2, 1), runs["plain"].stats


def test_without_a_proxy_a_loopback_list_needs_the_operators_allowance(
    radar_env: dict[str, str], tmp_path: Path, watchlists: Path, database_url: str, local_sites: tuple[LocalSite, LocalSite, LocalSite]
) -> None:
    own = local_sites[0]
    own.pages["/list.html"] = list_html([f"{own.origin}/a.html"])
    add_source(watchlists, "plain", f"{own.origin}/list.html")
    result = Radar(env=radar_env, cwd=tmp_path)("run", "--source", "plain", check=False)
    assert result.returncode == 1 and not own.hits
    run = runs_by_source(database_url)["plain"]
    assert run.status == "failed" and "loopback address" in run.error_summary and "RADAR_ALLOW_PRIVATE_NETWORKS" in run.error_summary


# -- why a fetch failed ------------------------------------------------------------------
REASONS = [
    ("redirect_loop", None, "max redirections"),
    ("gzip_bomb", 30, "exceeded DOWNLOAD_MAXSIZE"),
    ("huge", 50, "larger than download max size"),
]


@pytest.mark.parametrize("kind, value, reason", REASONS, ids=[k for k, _, _ in REASONS])
def test_a_fetch_scrapy_gave_up_on_is_recorded_with_scrapys_reason(
    radar: Radar, internet: FakeInternet, database_url: str, kind: str, value: object, reason: str
) -> None:
    victim = expected_articles("ndrc")[0]["url"]
    internet.inject(victim, fault(kind, value))
    radar("run", "--source", "ndrc")
    run = runs_by_source(database_url)["ndrc"]
    assert run.status == "partial" and reason in run.error_summary and victim in run.error_summary, run.error_summary
    with transaction(database_url) as session:
        assert reason in session.scalar(select(Source.last_error).where(Source.name == "ndrc"))


# -- the rules themselves ----------------------------------------------------------------
def test_addresses_are_judged_by_what_they_resolve_to_and_literal_forms_are_seen_through() -> None:
    resolved = {"intranet.example": ["10.1.2.3"], "public.example": ["93.184.216.34"], "mixed.example": ["93.184.216.34", "127.0.0.1"]}
    calls: list[str] = []

    def resolver(host: str) -> list:
        calls.append(host)
        return [literal_address(a) for a in resolved.get(host, [])]

    guard = AddressGuard(parse_networks("10.0.0.0/8"), resolver)
    assert guard.refusal("intranet.example", proxied=False) is None  # allowed explicitly
    assert "loopback" in guard.refusal("mixed.example", proxied=False)  # any bad address refuses
    assert guard.refusal("mixed.example", proxied=True) is None  # the proxy resolves names
    for literal in ("127.0.0.1", "2130706433", "0x7f.1", "[::1]", "::ffff:127.0.0.1", "169.254.169.254", "0.0.0.0", "localhost", "db.localhost"):
        assert guard.refusal(literal, proxied=True), literal
    assert guard.refusal("public.example", proxied=False) is None
    assert guard.refusal("unresolvable.example", proxied=False) is None  # fails later as a DNS error
    guard.refusal("mixed.example", proxied=False)
    assert calls.count("mixed.example") == 1  # cached per host for the run
    with pytest.raises(ValueError, match="'10.0.0.0/88' is not an IP network"):
        parse_networks("10.0.0.0/88")


def test_a_source_without_article_url_follows_only_its_own_hosts(tmp_path: Path) -> None:
    path = tmp_path / "s.yml"
    path.write_text(
        "name: s\nlabel: s\nhomepage: https://a.example/\nkind: html_list\nlists: [https://a.example/news/]\n"
        "allowed_hosts: [b.example]\nlist: {entry: li, link: 'a::attr(href)'}\n"
    )
    source = load_source(path)
    assert follows("https://a.example/1.html", source) and follows("http://a.example/2.html", source)
    assert follows("https://b.example/3.html", source)  # allowed explicitly
    assert not follows("https://a.example:8443/1.html", source) and not follows("https://evil.example/", source)
    assert not follows("javascript:alert(1)", source) and not follows("file:///etc/passwd", source)


# -- the doctor: the source's own pages only, fetched as a crawl fetches them -------------
def test_the_web_doctor_refuses_a_url_off_the_source_and_fetches_its_own_through_scrapy(
    web: Web, internet: FakeInternet
) -> None:
    client = web.client()
    page = client.get("/sources/ndrc")
    with serving(LocalSite("127.0.0.1")) as secret:
        for url in (f"{secret.origin}/", "https://www.ndrc.gov.cn.evil.example/", "https://www.cas.cn/"):
            refused = client.post("/sources/ndrc/doctor", data={"csrf_token": csrf(page.text), "url": url})
            assert refused.status_code == 400 and "is not a page of ndrc" in refused.text, (url, refused.text)
        assert not secret.hits and not internet.requests_to("127.0.0.1") and not internet.requests_to("www.cas.cn")
    second = "https://www.ndrc.gov.cn/xxgk/zcfb/tz/index_1.html"
    doctor = client.post("/sources/ndrc/doctor", data={"csrf_token": csrf(page.text), "url": second})
    assert doctor.status_code == 200 and f"1. List page {second}" in doctor.text and "HTTP 200" in doctor.text
    # Scrapy's path, not urllib's: robots.txt is asked first, as in a crawl.
    assert internet.hits["www.ndrc.gov.cn/robots.txt"] >= 1 and internet.hits["www.ndrc.gov.cn/xxgk/zcfb/tz/index_1.html"] == 1


def test_the_cli_doctor_refuses_other_hosts_and_a_redirect_off_the_source(radar: Radar, internet: FakeInternet) -> None:
    result = radar("doctor", "--source", "ndrc", "--url", "http://169.254.169.254/latest/meta-data/", check=False)
    assert result.returncode == 2 and "is not a page of ndrc" in result.stderr
    with serving(LocalSite("127.0.0.1")) as secret:
        internet.inject("https://www.ndrc.gov.cn/xxgk/zcfb/tz/", fault("redirect", f"{secret.origin}/admin"))
        out = radar("doctor", "--source", "ndrc").stdout
        assert not secret.hits and not internet.requests_to("127.0.0.1")
    assert "RefusedRequest: refused" in out and "loopback address" in out and "could not be fetched" in out


def test_a_full_text_feed_keeps_entries_it_never_fetches_and_an_article_feed_only_its_own(tmp_path: Path) -> None:
    path = tmp_path / "f.yml"
    text = "name: f\nlabel: f\nhomepage: https://feeds.example/\nkind: feed\nlists: [https://feeds.example/a.xml]\nfeed: {content: %s}\n"
    path.write_text(text % "feed")
    assert keeps_entry("https://elsewhere.example/1.html", load_source(path))  # read from the feed, not fetched
    path.write_text(text % "article")
    assert not keeps_entry("https://elsewhere.example/1.html", load_source(path))
    assert keeps_entry("https://feeds.example/1.html", load_source(path))
