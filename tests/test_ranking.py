"""Ranking follows the editors: what they picked before (in the workspace) and what the report
cited (imported issues) raises the relevance score of new items of the same host and category;
a database where nobody chose anything scores exactly as before (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from desk import issues
from desk.tagging import Tagger, load_taxonomy, picks
from storage.db import ensure_schema, transaction
from storage.models import Item, Source, User

ROOT = Path(__file__).resolve().parent.parent
TOPICS = ROOT / "watchlists" / "topics.yml"
REPORTS = ROOT / "tests" / "fixtures" / "reports"
NOW = datetime(2024, 6, 27, 12, tzinfo=timezone.utc)
PUBLISHED = datetime(2024, 6, 26, 9, tzinfo=timezone.utc)
TITLE = "我国科学家研制出新型超导量子芯片"
BODY = "近日，研究团队在超导量子计算领域取得新进展。"
# Two outlets that topics.yml gives the same (default) authority: only the editors tell them apart.
PICKED = "https://www.stdaily.com/index/kejixinwen/202406/t{n}.html"
OTHER = "https://www.jjckb.cn/2024-06/26/c_{n}.htm"


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger(load_taxonomy(TOPICS), now=lambda: NOW)


def _store(session, source: Source, url: str, tagger: Tagger) -> Item:  # type: ignore[no-untyped-def]
    result = tagger.tag(TITLE, BODY, source=source.name, url=url, published_at=PUBLISHED)
    item = Item(source_id=source.id, url=url, canonical_url=url, title=TITLE, body=BODY, published_at=PUBLISHED,
                content_hash=url[-20:].rjust(64, "0"), topics=result.to_dict(), score=result.score)
    session.add(item)
    session.flush()
    return item


def test_an_editors_picks_of_one_source_raise_its_new_item_above_an_equal_one(database_url: str, tagger: Tagger) -> None:
    from scheduler.web import data

    ensure_schema(database_url)
    resolve = tagger.taxonomy.resolve
    with transaction(database_url) as session:
        assert picks.current(session, resolve).empty
        stdaily, jjckb = Source(name="stdaily"), Source(name="jjckb")
        editor = User(username="editor", password_hash="x", feed_token="t" * 32)
        session.add_all([stdaily, jjckb, editor])
        session.flush()
        cats = {c.id: c for c in data.categories(TOPICS)}
        for n in range(3):
            data.record_triage(session, _store(session, stdaily, PICKED.format(n=n), tagger), editor, {"decision": "pick"}, cats)
        data.record_triage(session, _store(session, jjckb, OTHER.format(n=0), tagger), editor, {"decision": "skip"}, cats)
    with transaction(database_url) as session:
        signal = picks.current(session, resolve)  # the triage made the cached count stale
    new = {url: tagger.tag(TITLE, BODY, source=name, url=url, published_at=PUBLISHED, picks=signal)
           for name, url in (("stdaily", PICKED.format(n=9)), ("jjckb", OTHER.format(n=9)))}
    picked, other = new[PICKED.format(n=9)], new[OTHER.format(n=9)]
    assert picked.category == other.category and picked.confidence == other.confidence
    assert picked.score_parts["authority"] == other.score_parts["authority"]
    assert picked.score > other.score
    assert picked.score_parts["picks"] > other.score_parts["picks"]
    assert picked.score_parts["picks_source"] > other.score_parts["picks_source"]  # the source is what tells them apart
    assert picked.score_parts["picks_category"] == other.score_parts["picks_category"] > 0
    explained = picked.explain()
    assert "editors' past picks" in explained and "of its source" in explained and "of its category" in explained


def test_the_explanation_names_every_part_the_editors_reach_the_score_by(database_url: str, tagger: Tagger) -> None:
    """Source and category through the pick signal, and the learned model (fitted on what the
    editors filed) through the confidence."""
    from desk.tagging import learned

    ensure_schema(database_url)
    resolve = tagger.taxonomy.resolve
    with transaction(database_url) as session:
        issues.store(session, issues.parse_report((REPORTS / "2023-06-21.txt").read_text(encoding="utf-8"), "2023-06-21.txt"))
    with transaction(database_url) as session:
        model, signal = learned.current_model(session, resolve), picks.current(session, resolve)
    url = "https://www.ndrc.gov.cn/xxgk/zcfb/tz/202406/t1.html"
    result = tagger.tag(TITLE, BODY, source="ndrc", url=url, published_at=PUBLISHED, model=model, picks=signal)
    parts = result.score_parts
    assert parts["picks"] == pytest.approx((parts["picks_source"] + parts["picks_category"]) / 2, abs=0.001) and parts["picks_source"] > 0
    explained = result.explain()
    assert "rules with the learned model, " in explained
    assert f"of its source {parts['picks_source']:.2f}, of its category {parts['picks_category']:.2f}" in explained
    assert "rules alone" in tagger.tag(TITLE, BODY, url=url, published_at=PUBLISHED).explain()


def test_with_no_picks_the_score_is_what_it_was(database_url: str, tagger: Tagger) -> None:
    ensure_schema(database_url)
    with transaction(database_url) as session:
        signal = picks.current(session, tagger.taxonomy.resolve)
    assert signal.empty and signal.value(PICKED.format(n=1), "ict") is None
    for url, source in ((PICKED.format(n=1), "stdaily"), ("https://www.most.gov.cn/a.html", "most"), (None, None)):
        before = tagger.tag(TITLE, BODY, source=source, url=url, published_at=PUBLISHED)
        after = tagger.tag(TITLE, BODY, source=source, url=url, published_at=PUBLISHED, picks=signal)
        assert after.to_dict() == before.to_dict() and "picks" not in after.score_parts
        assert "past picks" not in after.explain()


def test_imported_issues_count_the_hosts_and_categories_they_cite(database_url: str, tagger: Tagger) -> None:
    ensure_schema(database_url)
    resolve = tagger.taxonomy.resolve
    with transaction(database_url) as session:
        issues.store(session, issues.parse_report((REPORTS / "2023-06-21.txt").read_text(encoding="utf-8"), "2023-06-21.txt"))
    with transaction(database_url) as session:
        signal = picks.current(session, resolve)
    cited = signal.value("https://www.ndrc.gov.cn/xxgk/zcfb/tz/202401/t1.html", None)
    never = signal.value("https://www.example-outlet.cn/a.html", None)
    assert cited is not None and never == 0.0 < cited
    assert signal.value(None, "region") > signal.value(None, "basic_research")  # 지역 stories, no 기초연구 in that issue


def test_the_daemon_reranks_stored_candidates_once_the_editors_choose(database_url: str, tagger: Tagger) -> None:
    """Candidates stored before a pick were scored without it: the daemon's rescore job weighs
    the week's candidates again when the signal changed, and reads nothing more when it did not."""
    from common.settings import get_settings
    from scheduler import jobs
    from scheduler.web import data

    ensure_schema(database_url)
    config = get_settings(database_url=database_url, watchlists=ROOT / "watchlists")
    with transaction(database_url) as session:
        stdaily, jjckb = Source(name="stdaily"), Source(name="jjckb")
        editor = User(username="editor", password_hash="x", feed_token="t" * 32)
        session.add_all([stdaily, jjckb, editor])
        session.flush()
        waiting = [_store(session, source, url.format(n=9), tagger) for source, url in ((stdaily, PICKED), (jjckb, OTHER))]
        for item in waiting:
            item.first_seen_at = NOW - timedelta(days=1)
        ids = [item.id for item in waiting]
        assert waiting[0].score == waiting[1].score
    assert jobs.rescore(config, NOW) == 0  # nobody chose anything: the scores stand
    with transaction(database_url) as session:
        cats = {c.id: c for c in data.categories(TOPICS)}
        source = session.get(Source, stdaily.id)
        for n in range(3):
            data.record_triage(session, _store(session, source, PICKED.format(n=n), tagger), session.get(User, editor.id), {"decision": "pick"}, cats)
    assert jobs.rescore(config, NOW) >= 2
    with transaction(database_url) as session:
        picked, other = (session.get(Item, item_id) for item_id in ids)
        assert picked.score > other.score and picked.topics["score"] == picked.score
        assert picked.topics["score_parts"]["picks_source"] > other.topics["score_parts"]["picks_source"]
        assert picked.topics["category"] == other.topics["category"]  # weighed again, not tagged again
    assert jobs.rescore(config, NOW) == 0  # the signal did not change since


def test_one_pick_is_not_a_certainty() -> None:
    signal = picks.PickSignal()
    signal.add("stdaily.com", "ict", True, 2.0)
    assert 0 < signal.value("https://www.stdaily.com/a.html", "ict") < 0.5  # smoothed by PRIOR
    assert picks.host_name("https://WWW.stdaily.com/a") == picks.host_name("https://stdaily.com/b") == "stdaily.com"
