"""The issue import's title lookup (issue 19): the search index names the items holding enough
of a cited title's trigrams. These tests check the count on the fixture issues' own titles
reprinted the ways outlets reprint them, and the index query on both backends."""

from __future__ import annotations

import random

from sqlalchemy import select

from conftest import FIXTURES
from desk import issues, similarity
from desk.issues import lookup
from storage import search
from storage.db import ensure_schema, transaction
from storage.models import Item, Source

REPORTS = sorted((FIXTURES / "reports").glob("*.txt"))


def _cited_titles() -> list[str]:
    titles = []
    for path in REPORTS:
        report = issues.parse_report(issues.read_report_text(path), str(path))
        refs = [r for s in report.stories for r in s.references] + [r for b in report.briefs for r in b.references]
        titles += [r.title for r in refs if r.title]
    return sorted(set(titles))


def _s2t(text: str) -> str:
    import opencc

    return opencc.OpenCC("s2t").convert(text)


def _reprints(title: str, rng: random.Random) -> dict[str, str]:
    """How outlets reprint a headline: names and dates at the ends, a character or two changed
    inside, a space or full-width digits, traditional characters."""
    inside = [n for n, char in enumerate(title) if char.isalnum()][2:-2] or [0]
    a, b = sorted(rng.sample(inside, 2)) if len(inside) > 1 else (inside[0], inside[0])
    cut = max(int(len(title) * 0.8), 1)
    return {
        "outlet": "【科技日报】" + title + "（2024年6月28日）",
        "shortened": title[:cut],
        "trimmed": title[len(title) - cut:],
        "one changed": title[:a] + "新" + title[a + 1:],
        "two changed": title[:a] + "新" + title[a + 1:b] + "国" + title[b + 1:],
        "one dropped": title[:a] + title[a + 1:],
        "spaced": title[:b] + " " + title[b:],
        "full-width": title.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"}),
        "traditional": _s2t(title),
    }


def _held(groups: list[list[str]], text: str) -> int:
    """What the index counts: the groups any of whose spellings occurs in the text, ignoring case."""
    text = text.lower()
    return sum(any(spelling in text for spelling in group) for group in groups)


def test_every_reprint_that_matches_holds_the_trigrams_its_lookup_requires() -> None:
    rng, checked = random.Random(19), 0
    for title in _cited_titles():
        key = similarity.title_key(title)
        groups = lookup.trigram_groups(title)
        for kind, reprint in _reprints(title, rng).items():
            if similarity.titles_match(key, similarity.title_key(reprint)):
                checked += 1
                assert _held(groups, reprint) >= lookup.required(len(key), len(groups)), (kind, title, reprint)
                assert _held(groups, reprint) >= lookup.required_in_lead(len(key), len(groups)), (kind, title, reprint)
    assert checked > 200  # the fixtures' titles, reprinted: most variants still match


def test_trigrams_stay_within_runs_of_letters_and_carry_the_traditional_spelling() -> None:
    groups = lookup.trigram_groups("科技部：发展规划 AI")
    assert ["科技部"] in groups
    assert ["发展规", "發展規"] in groups and ["展规划", "展規劃"] in groups
    assert not any(len(spelling) != 3 or "部发" in spelling for group in groups for spelling in group)


def test_the_index_names_the_items_holding_enough_trigrams_leaving_out_the_commonest(database_url: str) -> None:
    ensure_schema(database_url)
    cited = "国务院关于印发新一代人工智能发展规划的通知"
    texts = {"the story": ("【新华社】" + cited, "正文"), "its lead": ("转载", "国务院关于印发新一代人工智能发展规划的通知\n正文"),
             "another notice": ("国务院关于印发节能减排工作方案的通知", "正文"), "unrelated": ("无关标题", "正文")}
    texts |= {f"common {n}": (f"第{n}号的通知", "正文") for n in range(12)}
    with transaction(database_url) as session:
        source = Source(name="lookup")
        session.add(source)
        session.flush()
        session.add_all(Item(source_id=source.id, url=f"https://x.example/{n}", canonical_url=f"https://x.example/{n}", title=title,
                             body=body, content_hash=str(n)) for n, (title, body) in enumerate(texts.values()))
    groups = lookup.trigram_groups(cited)
    with transaction(database_url) as session:
        names = dict(session.execute(select(Item.id, Item.url)).all())
        found = search.sharing_trigrams(session, groups, in_title=len(groups) - 3, in_body=len(groups) - 3, common=10)
        everything = search.sharing_trigrams(session, groups, in_title=1, in_body=len(groups), common=10)
        whole = search.sharing_trigrams(session, groups, in_title=len(groups), in_body=len(groups), common=10)
    kinds = dict(zip((f"https://x.example/{n}" for n in range(len(texts))), texts))
    assert {kinds[names[i]] for i in found} == {"the story", "its lead"}
    assert {kinds[names[i]] for i in everything} == set(texts) - {"unrelated"}  # 的通知 is read when nothing else may be required
    assert {kinds[names[i]] for i in whole} == {"the story", "its lead"}
