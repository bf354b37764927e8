"""Runtime configuration: environment variables prefixed ``RADAR_`` and an optional ``radar.toml``.

Nothing needs to be set for the default path to work: the database is a SQLite file in a
data directory that is created on first use, and the watchlists are the project's own.
"""

from __future__ import annotations

import ipaddress
import multiprocessing
import os
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_USER_AGENT = (
    "cnst-radar/0.1 (+https://github.com/cnst-radar; monitoring public S&T policy news; "
    "polite crawler, obeys robots.txt)"
)


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "cnst-radar"


def _default_crawl_start() -> str:
    return "fork" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str | None) -> list[Network]:
    """``10.0.0.0/8, 192.168.1.5`` → networks; raises ValueError naming the bad entry."""
    networks = []
    for part in re.split(r"[\s,]+", text or ""):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"{part!r} is not an IP network (use e.g. 10.0.0.0/8 or 192.168.1.5)") from None
    return networks



class Settings(BaseSettings):
    """All knobs an operator can turn. Read once per process via :func:`get_settings`."""

    model_config = SettingsConfigDict(env_prefix="RADAR_", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str | None = None
    watchlists: Path = PROJECT_ROOT / "watchlists"
    proxy: str | None = None
    # Networks the crawler may reach although they are not public (loopback, private, link-local…),
    # e.g. "172.16.0.0/12" for feed mirrors on a compose network. Default: none (see crawler/netguard.py).
    allow_private_networks: str = ""
    # A feed mirror's URL template naming a WeChat account by {id} (微信号) and/or {biz} (__biz),
    # e.g. "http://rsshub:1200/wechat/sogou/{id}": every account of watchlists/wechat.yml that
    # knows those fields becomes a feed source (crawler/wechat.py). Unset: none does.
    wechat_mirror: str | None = None
    user_agent: str = DEFAULT_USER_AGENT
    timezone: str = "Asia/Seoul"
    # Politeness defaults; a source's YAML may tighten them. `polite=False` drops every delay
    # (sources' own included) — only for the loopback fake internet: demo, tests, benchmarks.
    polite: bool = True
    download_delay: float = 1.0
    concurrency_per_domain: int = 2
    autothrottle: bool = True
    download_timeout: float = 30.0
    log_level: str = "INFO"
    # The daemon: who gets what, and when.
    notify: str | None = None  # Apprise URLs, separated by spaces or commas
    apprise_config: str | None = None  # or an Apprise YAML config file (URLs with tags)
    digest_time: str = "08:30"  # local time (RADAR_TIMEZONE) of the daily digest
    weekly_digest: str | None = None  # e.g. "fri 15:00": a weekly digest before the report's deadline
    digest_when_empty: bool = False  # send a short "nothing new" note instead of skipping
    retention_days: int = 90
    # Raw pages (the fetched HTML, for re-extraction) of items fetched longer ago are dropped;
    # the extracted item stays. The largest table by far: without this the database grows for ever.
    raw_retention_days: int = 30
    crawl_on_start: bool = False  # a new daemon crawls every source at once instead of after one interval
    # How the daemon starts a crawl child: "fork" from a server that imported the crawl code once
    # (scheduler/warm_start.py; the default where the platform has a fork server), or "spawn" a
    # fresh `python -m radar run`, paying Python's and Scrapy's start-up every time.
    crawl_start: Literal["fork", "spawn"] = Field(default_factory=_default_crawl_start)  # type: ignore[assignment]
    status_addr: str = "127.0.0.1:9180"  # the daemon's /healthz and /metrics; empty to disable
    # Scrapyd nodes (base URLs, separated by spaces or commas) that crawl for the daemon: each due
    # crawl goes to the least busy one (scheduler/scrapyd.py). Empty: a local child process.
    scrapyd_urls: str = ""
    scrapyd_poll_seconds: float = 2.0  # how often the daemon asks a node whether its crawl has finished
    leader_poll_seconds: float = 5.0  # how often a standby daemon tries to take the lead (and the leader checks it holds it)
    # The editor workspace (`crawl web`, or the daemon when web_addr is set, e.g. 127.0.0.1:8080).
    web_addr: str | None = None
    web_secret: str | None = None  # the session key; default: one generated in data_dir
    web_proxy_fix: bool = False  # behind an https proxy: trust its X-Forwarded-* headers
    web_admins: str = ""  # user names, separated by spaces or commas, who may add sources from the workspace

    @field_validator("allow_private_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)  # a typo must stop the process, not silently allow nothing
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Precedence: explicit arguments > environment > radar.toml > defaults.
        # RADAR_CONFIG is read here, not when this module is imported: a crawl forked from the warm
        # server (scheduler/warm_start.py) imported it long before, under another environment.
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, os.environ.get("RADAR_CONFIG", "radar.toml")))

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'radar.sqlite'}"

    @property
    def effective_proxy(self) -> str | None:
        """RADAR_PROXY wins; otherwise the standard variables every HTTP tool honours."""
        if self.proxy:
            return self.proxy
        for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
            if os.environ.get(name):
                return os.environ[name]
        return None

    @property
    def scrapyd_nodes(self) -> list[str]:
        """RADAR_SCRAPYD_URLS as a list of base URLs without a trailing slash."""
        return [url.rstrip("/") for url in re.split(r"[\s,]+", self.scrapyd_urls) if url]

    @property
    def sources_dir(self) -> Path:
        return self.watchlists / "sources"

    @property
    def topics_file(self) -> Path:
        return self.watchlists / "topics.yml"


def get_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
