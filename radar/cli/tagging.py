"""Topic tags: `crawl tag` (tag an item or ad-hoc text, and explain why) and `crawl retag`
(tag every stored item again after watchlists/topics.yml changed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from common.settings import Settings
from radar.cli._common import database, err, out, settings

if TYPE_CHECKING:
    from desk.tagging import Tagger


def tag(
    key: Annotated[Optional[str], typer.Argument(help="A stored item (id or URL) to explain; or use --title / --jsonl.")] = None,
    title: Annotated[Optional[str], typer.Option(help="Tag this ad-hoc title (nothing is stored).")] = None,
    body: Annotated[str, typer.Option(help="Body text to go with --title.")] = "",
    source: Annotated[Optional[str], typer.Option("--source", "-s", help="Source name, for source priors.")] = None,
    jsonl: Annotated[Optional[Path], typer.Option(help="Tag many: one JSON object per line (title, body, source, url).", exists=True)] = None,
    explain: Annotated[bool, typer.Option("--explain", help="Show which rules matched.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Tag text with the report's sections and categories (watchlists/topics.yml).

    `crawl tag --explain ID` explains a stored item; `crawl tag --title 广东省… --json` tags
    ad-hoc text; `crawl tag --jsonl FILE` tags many, printing one JSON result per line.
    """
    from desk.retagging import tag_records

    config = settings()
    tagger = _tagger(config)
    if jsonl:
        for result in tag_records(tagger, jsonl.read_text(encoding="utf-8").splitlines()):
            print(json.dumps(result, ensure_ascii=False))
        return
    if title is None and key is None:
        err.print("Give an item (id or URL), --title TEXT, or --jsonl FILE.")
        raise typer.Exit(2)
    if title is None:
        from common.urls import canonical_url
        from storage import queries
        from storage.db import transaction

        with transaction(database(config)) as session:
            item = queries.get_item(session, key if key.isdigit() else canonical_url(key))
            if item is None:
                err.print(f"No stored item {key!r}.")
                raise typer.Exit(1)
            title, body, source, url = item.title, item.body, item.source.name, item.url
    else:
        url = None
    result = tagger.tag(title, body, source=source, url=url)
    if as_json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        out.print(result.explain() if explain or key else json.dumps(result.to_dict(), ensure_ascii=False, indent=2), markup=False, highlight=False)


def retag(source: Annotated[Optional[str], typer.Option("--source", "-s")] = None) -> None:
    """Re-tag stored items after watchlists/topics.yml changed."""
    from desk.retagging import retag_stored
    from storage.db import transaction

    config = settings()
    tagger = _tagger(config)
    with transaction(database(config)) as session:
        retagged = retag_stored(session, tagger, source)
    out.print(f"Re-tagged {retagged.total} item(s); {retagged.changed_category} changed category.")


def _tagger(config: Settings) -> Tagger:
    """The tagger of the configured topics file, or exit code 2 when there is none."""
    from crawler.pipelines import load_tagger

    tagger = load_tagger(str(config.topics_file))
    if tagger is None:
        err.print(f"No topics file at {config.topics_file}.")
        raise typer.Exit(2)
    return tagger  # type: ignore[no-any-return]
