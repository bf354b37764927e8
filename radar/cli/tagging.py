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
    from desk.tagging.model import TaggingModel
    from desk.tagging.picks import PickSignal


def tag(
    key: Annotated[Optional[str], typer.Argument(help="A stored item (id or URL) to explain; or use --title / --jsonl.")] = None,
    title: Annotated[Optional[str], typer.Option(help="Tag this ad-hoc title (nothing is stored).")] = None,
    body: Annotated[str, typer.Option(help="Body text to go with --title.")] = "",
    source: Annotated[Optional[str], typer.Option("--source", "-s", help="Source name, for source priors.")] = None,
    jsonl: Annotated[Optional[Path], typer.Option(help="Tag many: one JSON object per line (title, body, source, url).", exists=True)] = None,
    explain: Annotated[bool, typer.Option("--explain", help="Show which rules matched, who decided (rules / model / both) and the past stories it resembles.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Tag text with the report's sections and categories (watchlists/topics.yml).

    `crawl tag --explain ID` explains a stored item; `crawl tag --title 广东省… --json` tags
    ad-hoc text; `crawl tag --jsonl FILE` tags many, printing one JSON result per line.
    Once issues are imported, the learned model joins the rules (README, "Verdicts and tags").
    """
    from desk.retagging import tag_records

    config = settings()
    tagger = _tagger(config)
    if jsonl is None and title is None and key is None:
        err.print("Give an item (id or URL), --title TEXT, or --jsonl FILE.")
        raise typer.Exit(2)
    (model, picks), stored = _model_and_item(config, tagger, key if title is None and jsonl is None else None)
    if jsonl:
        for result in tag_records(tagger, jsonl.read_text(encoding="utf-8").splitlines(), model, picks):
            print(json.dumps(result, ensure_ascii=False))
        return
    if stored is not None:
        title, body, source, url = stored
    else:
        url = None
    result = tagger.tag(title or "", body, source=source, url=url, model=model, picks=picks)
    if as_json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        out.print(result.explain() if explain or key else json.dumps(result.to_dict(), ensure_ascii=False, indent=2), markup=False, highlight=False)


def _model_and_item(
    config: Settings, tagger: Tagger, key: str | None,
) -> tuple[tuple[TaggingModel | None, PickSignal], tuple[str, str, str, str] | None]:
    """The learned model (None before any issue is imported) and the editors' past choices,
    and, when ``key`` names a stored item, its title, body, source name and URL; exit code 1
    when it names none."""
    from common.urls import canonical_url
    from desk.tagging import picks
    from desk.tagging.learned import current_model
    from storage import queries
    from storage.db import transaction

    with transaction(database(config)) as session:
        learned = current_model(session, tagger.taxonomy.resolve), picks.current(session, tagger.taxonomy.resolve)
        if key is None:
            return learned, None
        item = queries.get_item(session, key if key.isdigit() else canonical_url(key))
        if item is None:
            err.print(f"No stored item {key!r}.")
            raise typer.Exit(1)
        return learned, (item.title, item.body, item.source.name, item.url)


def retag(source: Annotated[Optional[str], typer.Option("--source", "-s")] = None) -> None:
    """Retrain the learned model on imported issues and editors' decisions, then re-tag stored
    items (after watchlists/topics.yml changed, or to apply what was learned)."""
    from desk.retagging import retag_stored
    from desk.tagging import picks
    from desk.tagging.learned import current_model, retrain
    from storage.db import transaction

    config = settings()
    tagger = _tagger(config)
    with transaction(database(config)) as session:
        fit = retrain(session, tagger.taxonomy.resolve)
        retagged = retag_stored(session, tagger, source, current_model(session), picks.current(session, tagger.taxonomy.resolve))
    out.print(f"Model retrained on {fit.examples} example(s). Re-tagged {retagged.total} item(s); {retagged.changed_category} changed category.")


def _tagger(config: Settings) -> Tagger:
    """The tagger of the configured topics file, or exit code 2 when there is none."""
    from crawler.pipelines import load_tagger

    tagger = load_tagger(str(config.topics_file))
    if tagger is None:
        err.print(f"No topics file at {config.topics_file}.")
        raise typer.Exit(2)
    return tagger  # type: ignore[no-any-return]
