"""The issue import's title lookup (issue 19): the search index names the items holding enough
of a cited title's trigrams. These tests check the count on the fixture issues' own titles
reprinted the ways outlets reprint them, and the index query on both backends."""

from __future__ import annotations

import random

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from conftest import FIXTURES, module_at, sql_sent
from desk import issues, similarity, verdicts
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
                weighed, in_title, in_lead = lookup.asked(title, len(key))
                assert _held(weighed, reprint) >= max(in_title, in_lead), (kind, title, reprint)
                assert lookup.headline_letters(reprint) <= lookup.most_lead_letters(len(key)), (kind, title, reprint)
    assert checked > 200  # the fixtures' titles, reprinted: most variants still match


def test_trigrams_stay_within_runs_of_letters_and_carry_the_traditional_spelling() -> None:
    groups = lookup.trigram_groups("科技部：发展规划 AI")
    assert ["科技部"] in groups
    assert ["发展规", "發展規"] in groups and ["展规划", "展規劃"] in groups
    assert not any(len(spelling) != 3 or "部发" in spelling for group in groups for spelling in group)


def _store(database_url: str, texts: dict[str, tuple[str, str]]) -> None:
    ensure_schema(database_url)
    with transaction(database_url) as session:
        source = Source(name="lookup")
        session.add(source)
        session.flush()
        session.add_all(Item(source_id=source.id, url=f"https://x.example/{n}", canonical_url=f"https://x.example/{n}", title=title,
                             body=body, content_hash=str(n)) for n, (title, body) in enumerate(texts.values()))


def _kinds(session: Session, texts: dict[str, tuple[str, str]], ids: set[int] | None) -> set[str]:
    names = dict(session.execute(select(Item.id, Item.url)).all())
    kinds = dict(zip((f"https://x.example/{n}" for n in range(len(texts))), texts))
    return {kinds[names[i]] for i in ids or ()}


CITED = "国务院关于印发新一代人工智能发展规划的通知"


def test_the_index_names_the_items_holding_enough_trigrams_leaving_out_the_commonest(database_url: str) -> None:
    texts = {"the story": ("【新华社】" + CITED, "正文"), "its lead": ("转载", "\u3000\u3000" + CITED + "\n正文"),
             "another notice": ("国务院关于印发节能减排工作方案的通知", "正文"),
             "unrelated": ("无关标题", "正文"), "deep in the body": ("转载", "正文" * 70 + CITED)}
    texts |= {f"common {n}": (f"第{n}号的通知", "正文") for n in range(12)}
    _store(database_url, texts)
    groups = lookup.trigram_groups(CITED)
    with transaction(database_url) as session:
        found = search.sharing_trigrams(session, groups, in_title=len(groups) - 3, in_lead=len(groups) - 3, common=10)
        one = search.sharing_trigrams(session, groups, in_title=1, in_lead=len(groups), common=10)
        whole = search.sharing_trigrams(session, groups, in_title=len(groups), in_lead=len(groups), common=10)
        assert _kinds(session, texts, found.all()) == {"the story", "its lead"}  # a body is asked in its lead only
        assert _kinds(session, texts, found.in_title) == {"the story"}  # each named by the side that holds the title
        assert _kinds(session, texts, found.in_lead) == {"its lead"}
        # One required: 的通知, in more than 10 items, is left out, and one uncommon trigram required.
        assert _kinds(session, texts, one.all()) == {"the story", "its lead", "another notice"}
        assert _kinds(session, texts, whole.all()) == {"the story", "its lead"}


def test_the_trigrams_left_out_as_common_are_counted_in_what_the_uncommon_ones_name(database_url: str) -> None:
    # 的通知 is common (12 items): the uncommon trigrams name every text holding len − 4 of them,
    # but a match holds len − 3 of all; a text cut before 展规划 holds only len − 4 (none of 的通知).
    cut = CITED[:CITED.index("展规划") + 2]
    texts = {"the story": (CITED, "正文"), "cut short": (cut, "正文"), "its lead cut short": ("转载", cut + "\n正文")}
    texts |= {f"common {n}": (f"第{n}号的通知", "正文") for n in range(12)}
    _store(database_url, texts)
    groups = lookup.trigram_groups(CITED)
    assert _held(groups, cut) == len(groups) - 4
    with transaction(database_url) as session:
        found = search.sharing_trigrams(session, groups, in_title=len(groups) - 3, in_lead=len(groups) - 3, common=10)
        assert _kinds(session, texts, found.in_title) == {"the story"}
        assert found.in_lead == set()


def test_postgresql_asks_only_the_leads_whose_first_line_may_be_the_title(database_url: str) -> None:
    # A long first paragraph may quote the whole title, but a lead matches only a title of about
    # its length; PostgreSQL counts each first line's letters in an index (migration 0018).
    quoting = "据新华社报道，" + CITED + "，明确了到二〇三〇年我国人工智能理论、技术与应用总体达到世界领先水平的目标。"
    texts = {"its headline": ("转载", CITED + "\n正文"), "a paragraph quoting it": ("转载", quoting + "\n正文")}
    _store(database_url, texts)
    groups, key = lookup.trigram_groups(CITED), similarity.title_key(CITED)
    longest = lookup.most_lead_letters(len(key))
    assert lookup.headline_letters(CITED) <= longest < lookup.headline_letters(quoting)
    with transaction(database_url) as session:
        found = search.sharing_trigrams(session, groups, in_title=len(groups), in_lead=len(groups) - 3, lead_letters=longest)
        if search.backend(session) == "pg_trgm":
            counted = session.execute(select(text(search.HEADLINE_LETTERS_SQL)).select_from(text("item_leads")).order_by(text("item_id")))
            assert list(counted.scalars()) == [lookup.headline_letters(CITED + "\n正文"), lookup.headline_letters(quoting)]
            assert _kinds(session, texts, found.in_lead) == {"its headline"}
        else:  # SQLite's lead index holds no such count: the quoting lead is confirmed and dropped in Python
            assert _kinds(session, texts, found.in_lead) == {"its headline", "a paragraph quoting it"}


def test_migration_0018_indexes_the_letters_the_lookup_counts() -> None:
    from storage.db import MIGRATIONS

    migration = module_at(MIGRATIONS / "versions" / "0018_headline_letters.py")
    assert migration.HEADLINE_LETTERS_SQL == search.HEADLINE_LETTERS_SQL.replace("item_leads.lead", "lead")


def test_a_trigram_in_several_cited_titles_is_counted_once(database_url: str) -> None:
    texts = {"the story": ("【新华社】" + CITED, "正文"), "another notice": ("国务院关于印发节能减排工作方案的通知", "正文")}
    _store(database_url, texts)
    notice, plan = lookup.trigram_groups("国务院关于印发节能减排工作方案的通知"), lookup.trigram_groups(CITED)
    counted = search.Counted()
    with transaction(database_url) as session:
        with sql_sent(database_url) as first:
            search.sharing_trigrams(session, notice, len(notice), len(notice), counted=counted)
        assert counted.counts[("title", ("的通知",))] == 2 and counted.counts[("lead", ("的通知",))] == 0
        assert len(counted.counts) == 2 * len(notice)
        with sql_sent(database_url) as again:
            search.sharing_trigrams(session, notice, len(notice), len(notice), counted=counted)
        assert len(again) == len(first) - 2  # neither field's trigrams are counted again
        search.sharing_trigrams(session, plan, 1, 1, counted=counted)
    shared = {tuple(group) for group in notice} & {tuple(group) for group in plan}  # 国务院 … 于印发, 的通知
    assert len(shared) == 6 and len(counted.counts) == 2 * (len(notice) + len(plan) - len(shared))


def test_postgresql_estimates_how_common_a_trigram_is_from_runs_spread_over_the_archive(database_url: str, monkeypatch) -> None:
    texts = {f"old {n}": (f"旧闻{n}", "正文") for n in range(6)}
    texts |= {f"new {n}": (f"第{n}号的通知", "\u3000的通知") for n in range(4)}
    _store(database_url, texts)
    monkeypatch.setattr(search, "SAMPLE", 5)
    monkeypatch.setattr(search, "SAMPLE_RUNS", 5)  # runs of one item: every second item
    counted = search.Counted()
    with transaction(database_url) as session:  # the estimate reads the items alike on either backend
        # Far from ``common`` (1,000 items), the estimates are kept, not counted.
        assert counted.of(session, "pg_trgm", "title", [["的通知"], ["旧闻"], ["号的通", "號的通"]], common=1000) == [4, 6, 4]
        assert counted.of(session, "pg_trgm", "lead", [["的通知"], ["正文"]], common=1000) == [4, 6]
        # 第1号 is in one item, outside the sample: estimated 0, and counted where 0 is near ``common``.
        assert search.Counted().of(session, "pg_trgm", "title", [["第1号"]], common=1000) == [0]
        assert search.Counted().of(session, "pg_trgm", "title", [["第1号"]], common=1) == [1]
    monkeypatch.setattr(search, "SAMPLE", 10)
    with transaction(database_url) as session:  # an archive no larger than the sample is read whole
        assert search.Counted().of(session, "pg_trgm", "title", [["的通知"], ["旧闻"]], common=1000) == [4, 6]


def test_a_title_whose_every_trigram_is_common_keeps_its_count(database_url: str) -> None:
    texts = {"the story": ("人工智能发展规划", "正文"), "near": ("人工智能发展", "正文"), "unrelated": ("无关标题", "正文")}
    for n in range(12):  # every trigram of the title in more than 10 items, two at a time
        texts |= {f"ai {n}": (f"人工智能{n}", "正文"), f"growth {n}": (f"智能发展{n}", "正文"), f"plan {n}": (f"发展规划{n}", "正文")}
    _store(database_url, texts)
    groups = lookup.trigram_groups("人工智能发展规划")
    with transaction(database_url) as session:
        three = search.sharing_trigrams(session, groups, in_title=3, in_lead=len(groups), common=10)
        five = search.sharing_trigrams(session, groups, in_title=5, in_lead=len(groups), common=10)
        assert _kinds(session, texts, three.all()) == {"the story", "near"}  # counted in SQL, not a union of 37
        assert _kinds(session, texts, five.all()) == {"the story"}


def test_digits_alone_have_no_weight_and_lower_the_count() -> None:
    title = "《消费端碳排放研究报告（2024）》发布"
    key = similarity.title_key(title)
    everything = lookup.trigram_groups(title)
    groups, in_title, in_lead = lookup.asked(title, len(key))
    assert ["202"] in everything and ["024"] in everything
    assert groups == [group for group in everything if group not in (["202"], ["024"])]
    assert in_title == max(lookup.required(len(key), len(everything)) - 2, 1)
    assert in_lead == max(in_title, (len(groups) + 1) // 2) == 4  # half of the eight with weight
    assert lookup.asked("2024", 4)[0] == [["202"], ["024"]]  # digits only: nothing else to ask


def test_the_lead_index_follows_the_bodies(database_url: str) -> None:
    texts = {"edited": ("转载", "正文"), "deleted": ("转载", CITED)}
    _store(database_url, texts)
    groups = lookup.trigram_groups(CITED)
    with transaction(database_url) as session:
        items = {item.url.rsplit("/", 1)[-1]: item for item in session.scalars(select(Item))}
        items["0"].body = " " + CITED + "\n正文"
        session.delete(items["1"])
    with transaction(database_url) as session:
        found = search.sharing_trigrams(session, groups, in_title=len(groups), in_lead=len(groups))
        assert _kinds(session, texts, found.all()) == {"edited"}
        items = list(session.scalars(select(Item)))
        items[0].body = "正文"
    with transaction(database_url) as session:
        assert search.sharing_trigrams(session, groups, in_title=1, in_lead=1).all() == set()


def test_upgrading_to_0014_gives_postgresql_a_lead_for_each_stored_body(database_url: str) -> None:
    from sqlalchemy import text

    from storage.db import upgrade

    bodies = {"blanks first": "\u3000\u3000 " + CITED + "\n正文", "long": "长" * 200, "empty": ""}
    upgrade(database_url, "0013")
    with transaction(database_url) as session:
        source = Source(name="lookup")
        session.add(source)
        session.flush()
        for n, body in enumerate(bodies.values()):  # the 0013 schema: through the table, as stored then
            session.execute(Item.__table__.insert().values(source_id=source.id, url=f"https://x.example/{n}",
                                                           canonical_url=f"https://x.example/{n}", body=body, content_hash=str(n)))
    ensure_schema(database_url)
    with transaction(database_url) as session:
        if session.get_bind().dialect.name == "postgresql":
            stored = dict(session.execute(text(f"SELECT body, lead FROM items JOIN {search.LEAD_TABLE} ON item_id = id")).all())
            assert stored == {body: body.lstrip()[:search.LEAD_INDEXED] for body in bodies.values()}
        groups = lookup.trigram_groups(CITED)
        found = search.sharing_trigrams(session, groups, in_title=len(groups), in_lead=len(groups))
        assert _kinds(session, {name: ("", body) for name, body in bodies.items()}, found.all()) == {"blanks first"}


def test_the_lead_the_search_asks_is_the_expression_migration_0013_indexed() -> None:
    from storage.db import MIGRATIONS

    migration = module_at(MIGRATIONS / "versions" / "0013_lead_index.py")
    assert migration.lead_of("items.body") == search.LEAD_SQL
    assert migration.BLANKS == "".join(c for c in map(chr, range(0x110000)) if c.isspace())
    assert search.LEAD_INDEXED == migration.LEAD_CHARS == verdicts.LEAD_CHARS
