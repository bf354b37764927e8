"""Logging set-up: Rich on a terminal, one JSON object per line elsewhere (containers, CI)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

LIBRARIES = ("scrapy", "twisted", "trafilatura", "htmldate", "filelock", "alembic", "apscheduler", "py.warnings", "jieba")


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", ...}``; a record's ``radar`` extra (a dict of
    counters, say) is merged in, so one crawl run is one line a log pipeline can parse."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry |= getattr(record, "radar", {}) or {}
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(verbosity: int, console=None) -> None:  # type: ignore[no-untyped-def]
    """-v: each stored item and each run; -vv: debug, libraries included."""
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(verbosity, 2)]
    if sys.stderr.isatty():
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(console=console, show_path=False)
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
    if verbosity < 2:
        # Libraries chatter at INFO (and Scrapy resets levels when it starts): keep their warnings only.
        handler.addFilter(lambda record: record.levelno >= logging.WARNING or not record.name.startswith(LIBRARIES))
    logging.basicConfig(level=level, format="%(message)s", handlers=[handler], force=True)


def at_least_info() -> None:
    """Services (the daemon) log what they do without being asked to."""
    root = logging.getLogger()
    root.setLevel(min(root.level, logging.INFO))
