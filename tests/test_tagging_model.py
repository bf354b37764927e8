"""The learned tagging model: it learns from imported issues and from editors' triage with no
code change, lives in the database (SQLite and PostgreSQL alike), and the tagger says whether
rules, model or both decided."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from desk import issues
from desk.tagging import Tagger, load_taxonomy
from desk.tagging import learned
from desk.tagging.model import BODY_CHARS, Example, TaggingModel, _cosine, _shape, features
from storage.db import ensure_schema, transaction
from storage.models import Item, Source, User
from storage.models import TaggingModel as StoredModel

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "tests" / "fixtures" / "reports"
TOPICS = ROOT / "watchlists" / "topics.yml"


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger(load_taxonomy(TOPICS))


def import_issues(url: str, tagger: Tagger, *names: str) -> StoredModel:
    """What `crawl issues import` does: parse, store, retrain."""
    with transaction(url) as session:
        for name in names:
            issues.store(session, issues.parse_report((REPORTS / f"{name}.txt").read_text(encoding="utf-8"), f"{name}.txt"))
        return learned.retrain(session, tagger.taxonomy.resolve)


def test_importing_a_new_issue_changes_the_model(database_url: str, tagger: Tagger) -> None:
    ensure_schema(database_url)
    first = import_issues(database_url, tagger, "2023-06-21", "2023-08-04")
    with transaction(database_url) as session:
        before = learned.current_model(session)
    title = "中国科学院发布《消费端碳排放研究报告（2025）》"  # like a 2024-06-28 story (기초연구)
    assert before is not None and "basic_research" not in before.classes

    second = import_issues(database_url, tagger, "2024-06-28")
    with transaction(database_url) as session:
        after = learned.current_model(session)
    assert after is not None and second.id != first.id and second.examples > first.examples
    assert after.predict(title)[0][0] == "basic_research"
    nearest = after.nearest(title)[0]
    assert "2024-06-28" in nearest.example.origin and nearest.example.category == "basic_research"


def test_the_model_round_trips_through_the_database(database_url: str, tagger: Tagger) -> None:
    ensure_schema(database_url)
    stored = import_issues(database_url, tagger, "2023-06-21", "2023-08-04", "2024-06-28")
    with transaction(database_url) as session:
        fitted = TaggingModel.fit(learned.gather_examples(session, tagger.taxonomy.resolve))
    learned._models.clear()  # as a new process would
    with transaction(database_url) as session:
        loaded = learned.current_model(session)
    assert loaded is not None and len(loaded) == stored.examples == len(fitted)
    assert loaded.examples == fitted.examples
    for title in ("深圳出台人工智能高质量发展行动方案", "自然科学基金委发布2024年度报告", "我国突破二维半导体晶圆制备技术"):
        assert loaded.predict(title) == fitted.predict(title)
    with transaction(database_url) as session:
        assert learned.current_model(session) is loaded  # cached per process and row


def test_an_editors_override_retags_a_near_identical_new_item(database_url: str, tagger: Tagger) -> None:
    from scheduler.web import data

    ensure_schema(database_url)
    import_issues(database_url, tagger, "2023-06-21", "2023-08-04", "2024-06-28")
    seen = "工业和信息化部关于印发《人形机器人创新发展指导意见》的通知"
    new = "工业和信息化部印发《人形机器人创新发展指导意见》"
    unrelated = "工业和信息化部关于印发《工业互联网创新发展行动计划》的通知"  # alike in form only
    with transaction(database_url) as session:
        model = learned.current_model(session, tagger.taxonomy.resolve)
        assert tagger.tag(new, model=model).category == "strategy"  # a strong rule: 印发…指导意见
        item = _item(session, seen, tagger)
        editor = User(username="editor", password_hash="x", feed_token="t" * 32)
        session.add(editor)
        session.flush()
        cats = {c.id: c for c in data.categories(TOPICS)}
        data.record_triage(session, item, editor, {"decision": "pick", "category_override": "machinery"}, cats)
    with transaction(database_url) as session:
        model = learned.current_model(session, tagger.taxonomy.resolve)  # the triage made it stale: refitted
    result = tagger.tag(new, model=model)
    assert (result.category, result.section, result.decided_by) == ("machinery", "기술동향", "model")
    assert "editor's override" in result.explain()
    assert tagger.tag(unrelated, model=model).category == "strategy"


def _item(session, title: str, tagger: Tagger) -> Item:  # type: ignore[no-untyped-def]
    source = Source(name="miit")
    session.add(source)
    session.flush()
    result = tagger.tag(title)
    item = Item(source_id=source.id, url="https://www.miit.gov.cn/a.html", canonical_url="https://www.miit.gov.cn/a.html",
                title=title, body="", content_hash="0" * 64, topics=result.to_dict(), score=result.score)
    session.add(item)
    session.flush()
    return item


def test_explain_names_the_deciding_part_and_the_stories_it_resembles(tagger: Tagger) -> None:
    model = TaggingModel.fit([
        Example("region", zh="深圳出台人工智能高质量发展高水平应用行动方案", origin="issue 2023-06-21 #2: 선전시, 인공지능 고품질 발전 추진 방안 발표"),
        Example("statistics", zh="自然科学基金委发布2023年度报告", origin="issue 2024-06-28 #5"),
        Example("ict", zh="我国突破12英寸二维半导体晶圆批量制备技术", origin="issue 2023-08-04 #6"),
    ])
    by_rule = tagger.tag("工业和信息化部关于印发《人形机器人创新发展指导意见》的通知", model=model)
    assert by_rule.decided_by in ("rules", "both") and f"decided by: {by_rule.decided_by}" in by_rule.explain()
    both = tagger.tag("深圳出台人工智能高质量发展高水平应用行动方案", model=model)
    assert both.decided_by == "both" and both.category == "region"
    text = both.explain()
    assert "decided by: both" in text and "resembles:" in text and "issue 2023-06-21 #2" in text
    assert both.to_dict()["decided_by"] == "both" and both.to_dict()["model"][0][0] == "region"
    assert tagger.tag("深圳出台人工智能高质量发展高水平应用行动方案").decided_by == "rules"  # no model: rules alone


def test_the_model_covers_what_no_rule_names_and_stays_out_when_unsure(tagger: Tagger) -> None:
    model = TaggingModel.fit([
        Example("region", zh="AI+算力“国家队”! 9家获批科技部“国智牌照”", origin="issue 2023-08-04 #3"),
        Example("statistics", zh="数字中国发展报告(2022年)", origin="issue 2023-06-21 #5"),
    ])
    assert tagger.tag("国智牌照再添九家").category is None  # no rule names it: a brief, without a model
    covered = tagger.tag("国智牌照再添九家", model=model)
    assert (covered.category, covered.section, covered.decided_by) == ("region", "정책동향", "model")
    unsure = tagger.tag("今天天气很好", model=TaggingModel.fit([Example("region", zh="深圳"), Example("statistics", zh="报告")]))
    assert unsure.category is None and unsure.decided_by == "rules"


def test_old_fits_are_deleted_as_new_ones_are_stored(tmp_path: Path, tagger: Tagger) -> None:
    url = f"sqlite:///{tmp_path / 'radar.sqlite'}"
    ensure_schema(url)
    for _ in range(learned.KEPT_FITS + 2):
        newest = import_issues(url, tagger)
    with transaction(url) as session:
        kept = session.scalars(select(StoredModel.id).order_by(StoredModel.id)).all()
    assert len(kept) == learned.KEPT_FITS and kept[-1] == newest.id


def test_an_unreadable_stored_model_leaves_tagging_to_the_rules(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    url = f"sqlite:///{tmp_path / 'radar.sqlite'}"
    ensure_schema(url)
    with transaction(url) as session:
        session.add(StoredModel(examples=1, payload=b"not zlib", version=1))
    with transaction(url) as session:
        assert learned.current_model(session) is None and learned.current_model(session) is None
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1  # said once, not per item
    assert "unusable" in caplog.text and "crawl retag" in caplog.text


def test_what_is_not_a_stored_model_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="not a stored tagging model"):
        TaggingModel.from_payload(b"garbage")
    assert TaggingModel.fit([]).predict("任何标题") == []


def test_a_stored_model_of_the_first_format_reads_and_a_later_one_is_refused_by_format() -> None:
    import json
    import zlib

    def payload(fmt: int, example: dict) -> bytes:
        return zlib.compress(json.dumps({"format": fmt, "examples": [example]}).encode("utf-8"))

    first = TaggingModel.from_payload(payload(1, {"category": "region", "zh": "深圳出台行动方案"}))  # before `group`
    assert first.examples[0].group == ""
    with pytest.raises(ValueError, match="format 3"):
        TaggingModel.from_payload(payload(3, {"category": "region", "zh": "深圳", "field_of_later_code": 1}))


def test_crawl_tag_explains_with_the_model_after_issues_import(radar, database_url: str) -> None:  # type: ignore[no-untyped-def]
    imported = radar("issues", "import", *(str(p) for p in sorted(REPORTS.glob("*.txt")))).stdout
    assert "tagging model retrained on" in imported
    shown = radar("tag", "--title", "《消费端碳排放研究报告（2025）》发布", "--explain").stdout
    assert "decided by:" in shown and "resembles:" in shown and "2024-06-28" in shown
    assert "Model retrained on" in radar("retag").stdout


def test_korean_headlines_do_not_dilute_a_categorys_chinese_ngrams() -> None:
    chinese = [Example("region", zh="深圳出台人工智能行动方案", origin="s1"), Example("statistics", zh="自然科学基金委发布年度报告", origin="s2")]
    korean = Example("region", ko="선전시, 인공지능 고품질 발전 추진 방안 발표 " * 5, origin="s1")  # the same story's headline
    without, with_korean = TaggingModel.fit(chinese), TaggingModel.fit([*chinese, korean])
    for title in ("深圳发布人工智能方案", "基金委年度报告"):
        assert with_korean.predict(title) == without.predict(title)


def test_priors_count_decisions_not_cited_titles() -> None:
    many = [Example("region", zh=f"深圳出台第{n}个方案", origin="issue #1") for n in "一二三四五"]
    model = TaggingModel.fit([*many, Example("statistics", zh="年度报告", origin="issue #2")])
    assert dict(model.predict("")) == {"region": 0.5, "statistics": 0.5}  # nothing known: the priors, one story each


def test_a_few_shared_ngrams_make_the_model_lean_not_certain() -> None:
    model = TaggingModel.fit([
        Example("region", zh="深圳出台人工智能高质量发展高水平应用行动方案", origin="s1"),
        Example("statistics", zh="自然科学基金委发布2023年度报告", origin="s2"),
    ])
    top, p = model.predict("深圳发布行动方案")[0]  # 深圳, 行动方案 say region; 发布 says statistics
    assert top == "region" and 0.6 < p < 0.95  # Laplace and tempered: overlapping n-grams are not independent witnesses


def test_top_two_keeps_the_losing_sides_first_choice() -> None:
    from desk.tagging import blend
    from desk.tagging.model import Vote

    rules = [("tech_strategy", 10.0), ("enterprise", 6.0), ("region", 2.0)]
    vote = Vote([("statistics", 0.6), ("tech_strategy", 0.3), ("enterprise", 0.1)], None, known=5)
    blended = blend.decide(rules, 0.9, {}, vote)
    assert [c for c, _ in blended.ranked[:2]] == ["tech_strategy", "statistics"]  # rules decide, the model's first is second
    named = blend.decide(rules, 0.9, {"tech_strategy": 9.0}, vote)
    assert [c for c, _ in named.ranked[:2]] == ["tech_strategy", "statistics"]
    by_model = blend.decide(rules, 0.1, {}, Vote([("statistics", 0.9), ("region", 0.05), ("tech_strategy", 0.05)], None, known=5))
    assert [c for c, _ in by_model.ranked[:2]] == ["statistics", "tech_strategy"]  # the model decides, the rules' first is second
    unknown = blend.decide(rules, 0.9, {}, Vote([("statistics", 0.6), ("enterprise", 0.4)], None, known=0))
    assert [c for c, _ in unknown.ranked[:2]] == ["tech_strategy", "enterprise"]  # a model that knows no n-gram has no opinion


def test_a_model_without_an_example_of_the_rules_category_does_not_outvote_it() -> None:
    """Its probabilities are shared among the categories it has examples of: 90 % materials
    says nothing against ICT when it never saw an ICT story."""
    from desk.tagging import blend
    from desk.tagging.model import Vote

    rules = [("ict", 6.0), ("materials", 5.0)]
    unseen = blend.decide(rules, 0.3, {}, Vote([("materials", 0.9), ("region", 0.1)], None, known=5))
    assert (unseen.category, unseen.decided_by) == ("ict", "rules")
    assert [c for c, _ in unseen.ranked[:2]] == ["ict", "materials"]  # the model's first is second
    assert "no example of their category" in unseen.why
    seen = blend.decide(rules, 0.3, {}, Vote([("materials", 0.85), ("region", 0.1), ("ict", 0.05)], None, known=5))
    assert (seen.category, seen.decided_by) == ("materials", "model")  # with examples of both, it weighs in


def _issues(*stories: tuple[str, str, str]) -> list[Example]:
    return [Example(category, zh=title, origin=f"{issue}: {title}", group=issue) for issue, category, title in stories]


def test_the_model_trusts_its_text_as_far_as_held_out_issues_bear_it_out(tagger: Tagger) -> None:
    consistent = TaggingModel.fit(_issues(
        ("i1", "region", "深圳出台人工智能行动方案"), ("i1", "statistics", "基金委发布年度报告"),
        ("i2", "region", "深圳发布机器人行动方案"), ("i2", "statistics", "科技部发布统计年度报告"),
        ("i3", "region", "深圳印发低空经济行动方案"), ("i3", "statistics", "国家统计局发布年度报告"),
    ))
    assert consistent.sharpness == 1.0 and consistent.predict("深圳出台新能源行动方案")[0][0] == "region"
    # The same words filed under a different category in every issue: what the text says did
    # not hold on the issues held out, so the model hardly trusts it (its ranking unchanged).
    contradicting = _issues(
        ("i1", "region", "深圳出台行动方案"), ("i1", "statistics", "基金委年度报告"), ("i1", "statistics", "统计公报"),
        ("i2", "statistics", "深圳出台行动方案"), ("i2", "region", "基金委年度报告"), ("i2", "statistics", "统计公报"),
        ("i3", "statistics", "深圳出台行动方案"), ("i3", "statistics", "基金委年度报告"), ("i3", "region", "统计公报"),
    )
    tempered, as_fitted = TaggingModel.fit(contradicting), TaggingModel.fit(contradicting, calibrate=False)
    assert tempered.sharpness < 0.5
    assert [c for c, _ in tempered.predict("深圳出台行动方案")] == [c for c, _ in as_fitted.predict("深圳出台行动方案")]
    assert tempered.predict("深圳出台行动方案")[0][1] < as_fitted.predict("深圳出台行动方案")[0][1]
    assert f"tempered ×{tempered.sharpness:.2f}" in tagger.tag("深圳出台行动方案", model=tempered).explain()


def test_a_model_without_two_issues_to_measure_it_on_is_used_as_fitted() -> None:
    model = TaggingModel.fit([Example("region", zh="深圳出台行动方案", group="i1"), Example("statistics", zh="年度报告", group="i1")])
    assert model.sharpness == 1.0
    assert TaggingModel.from_payload(model.to_payload()).examples == model.examples  # the issue travels with the example


def test_the_editors_decision_found_by_ngram_is_the_most_similar_one() -> None:
    """vote() looks the editors' decisions up by n-gram instead of comparing the item with each;
    it must find the one a comparison with each finds (cosine of the same n-grams, first of equals)."""
    decisions = [
        Example("region", zh="深圳市发布人工智能产业行动方案", weight=3.0, origin="override 1"),
        Example("tech_strategy", zh="国务院印发新一代人工智能发展规划", body="规划提出到2030年人工智能理论领先", weight=3.0, origin="override 2"),
        Example("statistics", zh="2024年全国科技经费投入统计公报", weight=2.0, origin="pick 3"),
        Example("statistics", zh="2024年全国科技经费投入统计公报", weight=2.0, origin="pick 4"),  # its equal: the first wins
        Example("region", zh="上海市科技创新行动方案", weight=1.0, origin="issue history"),  # not an editor's decision
    ]
    model = TaggingModel.fit(decisions)
    editors = [e for e in decisions if e.weight > 1.5]
    cases = [("深圳发布人工智能行动方案", ""), ("全国科技经费投入统计公报发布", "国家统计局"), ("上海市科技创新行动方案", ""), ("无关的标题", "")]
    cases.append(("ＡＩ与5G：国务院印发人工智能规划", "人工智能、AI。" * 40 + "规划提出到2030年人工智能理论领先"))  # full-width, ASCII, a lead cut at BODY_CHARS
    for title, body in cases:
        query = _shape(features(title, body))
        best = max(((_cosine(query, _shape(features(e.zh, e.body))), e) for e in editors), key=lambda se: se[0])
        found = model.vote(title, body).editors
        if best[0] > 0:
            assert found is not None and found.example is best[1] and found.similarity == round(best[0], 3)
        else:
            assert found is None


def test_the_workspace_teaches_from_its_newest_decisions_and_reads_only_the_lead(database_url: str, tagger: Tagger) -> None:
    from storage.models import Triage

    ensure_schema(database_url)
    with transaction(database_url) as session:
        editor = User(username="editor", password_hash="x", feed_token="t" * 32)
        session.add(editor)
        source = Source(name="most")
        session.add(source)
        session.flush()
        items = []
        for n in range(3):
            url = f"https://www.most.gov.cn/{n}.html"
            item = Item(source_id=source.id, url=url, canonical_url=url, title=f"科技部通知{n}", body="政策" * 500,
                        content_hash=f"{n}" * 64, topics={"category": "strategy"})
            session.add(item)
            items.append(item)
        session.flush()
        for item in items + [items[0]]:  # the first item decided again, last: it is among the newest now
            session.add(Triage(item_id=item.id, decision="pick", user_id=editor.id))
            session.flush()
        examples = learned.workspace_examples(session, tagger.taxonomy.resolve, newest=2)
    assert [e.zh for e in examples] == ["科技部通知2", "科技部通知0"]
    assert all(len(e.body) == BODY_CHARS for e in examples)
