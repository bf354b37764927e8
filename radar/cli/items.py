"""Stored items: `crawl items` (the list), `crawl show` (one in full), `crawl diff` (recent
verdicts), and `crawl extract` (the extractor on a saved page, nothing stored)."""

from __future__ import annotations

import csv
import json
import shlex
import sys
import zlib
from pathlib import Path
from typing import Annotated, Optional
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from common.dates import PUBLISHED_ZONE, format_published
from common.markup import safe
from common.settings import Settings
from radar.cli._common import database, err, invocation, items_table, out, settings, since_option, watched_sources


def items(
    source: Annotated[Optional[str], typer.Option("--source", "-s", help="Only this source.")] = None,
    since: Annotated[Optional[str], typer.Option(help="First seen within (2d, 12h) or since a date.")] = None,
    new: Annotated[bool, typer.Option("--new", help="Only candidates for the report: `new` and `follow_up`.")] = False,
    status: Annotated[Optional[str], typer.Option(help="Only items with this verdict: new, follow_up, covered or duplicate.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="JSON array output.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV output.")] = False,
) -> None:
    """List stored items, newest first."""
    from storage import queries
    from storage.db import transaction

    config = settings()
    with transaction(database(config)) as session:
        found = queries.find_items(session, source=source, since=since_option(since), status="news" if new else status, limit=limit)
        if as_json:
            print(json.dumps([_item_dict(i) for i in found], ensure_ascii=False, indent=2))
        elif as_csv:
            writer = csv.DictWriter(sys.stdout, fieldnames=["id", "source", "published_at", "title", "origin", "url", "status"])
            writer.writeheader()
            for item in found:
                row = _item_dict(item)
                writer.writerow({k: row[k] for k in writer.fieldnames})
        else:
            items_table(found, config, title=f"{len(found)} item(s)")
            if not found and not config.database_url:
                _point_at_the_demo(config)


def _point_at_the_demo(config: Settings) -> None:
    """An empty default database after `crawl demo` puzzles: the demo wrote elsewhere."""
    if (config.data_dir / "demo.sqlite").exists():
        demo = f"sqlite:///{config.data_dir / 'demo.sqlite'}"
        out.print(safe(f"Nothing in the default database ({config.effective_database_url}). The demo's database is {demo}:\n"
                       f"  RADAR_DATABASE_URL={shlex.quote(demo)} {invocation()} items"), highlight=False)
    else:
        out.print(f"Nothing stored yet. `{safe(invocation())} demo` crawls recorded sites in a minute; `crawl run --all` the real ones.",
                  highlight=False)


def _item_dict(item, body: bool = False) -> dict:  # type: ignore[no-untyped-def]
    data = {
        "id": item.id,
        "source": item.source.name,
        "url": item.url,
        "canonical_url": item.canonical_url,
        "title": item.title,
        "published_at": item.published_at.astimezone(ZoneInfo("Asia/Shanghai")).isoformat() if item.published_at else None,
        "published_precision": item.published_precision,
        "published": format_published(item.published_at, item.published_precision),
        "first_seen_at": item.first_seen_at.isoformat(),
        "origin": item.origin,
        "status": item.status,
    }
    if body:
        data |= {"body": item.body, "extraction": item.extraction, "updated_at": item.updated_at.isoformat()}
    return data


def show(
    key: Annotated[str, typer.Argument(help="Item id or URL.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    raw: Annotated[bool, typer.Option("--raw", help="Print the stored raw HTML instead.")] = False,
) -> None:
    """Show one stored item in full: metadata and extracted text."""
    from common.urls import canonical_url
    from storage import queries
    from storage.db import transaction

    config = settings()
    with transaction(database(config)) as session:
        item = queries.get_item(session, key if key.isdigit() else canonical_url(key))
        if item is None:
            err.print(f"No stored item {key!r}. Try `crawl items` to see ids.")
            raise typer.Exit(1)
        if raw:
            sys.stdout.buffer.write(zlib.decompress(item.raw.body_zlib) if item.raw else b"")
            return
        data = _item_dict(item, body=True)
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for name in ("id", "source", "title", "published", "origin", "url", "canonical_url", "first_seen_at", "status", "extraction"):
        out.print(f"[bold]{name:>14}[/bold]  {safe(data[name])}", highlight=False)
    out.print()
    out.print(data["body"], markup=False, highlight=False)


def extract(
    file: Annotated[Path, typer.Argument(help="A saved HTML page.", exists=True, dir_okay=False)],
    url: Annotated[str, typer.Option(help="The page's URL (picks site rules; resolves links).")],
    source: Annotated[Optional[str], typer.Option("--source", "-s", help="Apply this source's article rules.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object: url, title, published_at, origin, body.")] = False,
) -> None:
    """Run the article extractor on a saved page — no network; the crawler's exact code path."""
    from crawler.extract import extract_article

    config = settings()
    rules = None
    if source:
        rules = next((s for s in watched_sources(config) if s.name == source), None)
        if rules is None:
            err.print(f"Unknown source {source!r}.")
            raise typer.Exit(2)
    article = extract_article(url, file.read_bytes(), None, rules)
    data = {
        "url": url,
        "title": article.title,
        "published_at": article.published_at.isoformat() if article.published_at else None,
        "origin": article.origin,
        "body": article.body,
        "provenance": article.provenance,
        "problems": article.problems,
        "unavailable": article.unavailable,
    }
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for name in ("title", "published_at", "origin", "provenance", "problems", "unavailable"):
        out.print(f"[bold]{name:>12}[/bold]  {safe(data[name])}", highlight=False)
    out.print()
    out.print(article.body, markup=False, highlight=False)


def diff_command(
    since: Annotated[str, typer.Option(help="First seen within (1d, 12h) or since a date.")] = "1d",
    source: Annotated[Optional[str], typer.Option("--source", "-s")] = None,
) -> None:
    """Show the verdict of each recent item: new, covered (already in an issue) or duplicate."""
    from storage import queries
    from storage.db import transaction

    config = settings()
    with transaction(database(config)) as session:
        found = queries.find_items(session, source=source, since=since_option(since), limit=1000)
        table = Table(title=f"{len(found)} item(s) since {since}")
        for column in ("id", "source", f"published ({PUBLISHED_ZONE})", "verdict", "title", "why"):
            table.add_column(column, overflow="fold")
        colours = {"new": "green", "follow_up": "cyan", "covered": "blue", "duplicate": "yellow"}
        for item in found:
            table.add_row(str(item.id), item.source.name, format_published(item.published_at, item.published_precision),
                          f"[{colours.get(item.status, 'white')}]{item.status}[/]", safe(item.title), safe(item.verdict_reason))
        out.print(table)
