"""Detection (crawler/autolist.py) on real saved list pages, against hand labels.

The pages and their labels are in tests/fixtures/lists/ (labels.yml says where each page came
from and how it was labelled); `python bench/autolist_eval.py` prints the same figures, and the
reconstructed fixture sites' pages beside them."""

from __future__ import annotations

from types import ModuleType

import pytest

from conftest import ROOT, module_at


def load_eval() -> ModuleType:
    return module_at(ROOT / "bench" / "autolist_eval.py")


EVAL = load_eval()
PAGES = EVAL.real_pages()


def test_there_are_enough_real_pages_and_every_one_says_where_it_came_from() -> None:
    import yaml

    labelled = yaml.safe_load((EVAL.LISTS / "labels.yml").read_text(encoding="utf-8"))
    assert len(PAGES) >= 8
    for page in labelled:
        assert page["origin"]["repository"] and page["origin"]["path"] and page["origin"]["commit"], page["file"]
        assert page["url_note"] and page["entries"], page["file"]


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
@pytest.mark.parametrize("mode", ["article_url", "none"])
def test_detection_finds_the_labelled_entries_of_a_real_list_page(page, mode: str) -> None:
    result = EVAL.score(page, page.article_url if mode == "article_url" else None)
    assert result.precision >= 0.9 and result.recall >= 0.9, (
        f"{page.name} ({mode}): precision {result.precision:.2f}, recall {result.recall:.2f} "
        f"({result.hits} of {result.found} found, {result.labelled} labelled)"
    )
