"""Past issues of 주간동향 read back into stories, references and briefs.

The three real issues in tests/fixtures/reports/ come with expectations written by hand
(`<date>.expected.yml`); the variants below rewrite those issues the ways other issues and
other extractions differ, and must come out the same.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import re
from pathlib import Path
from typing import Any

import docx
import pytest
import yaml

from desk.issues import Brief, Report, ReportParseError, Story, parse_report, read_report_text

REPORTS = Path(__file__).resolve().parent / "fixtures" / "reports"
ISSUES = ["2023-06-21", "2023-08-04", "2024-06-28"]


def issue_text(issue: str) -> str:
    return (REPORTS / f"{issue}.txt").read_text(encoding="utf-8")


def expected(issue: str) -> dict[str, Any]:
    return yaml.safe_load((REPORTS / f"{issue}.expected.yml").read_text(encoding="utf-8"))


# --- comparing a parsed issue with its hand-written expectation -----------------------------


def differences(report: Report, want: dict[str, Any]) -> list[str]:
    """Every field where the parse and the expectation disagree, each named and shown."""
    problems: list[str] = []

    def check(where: str, got: Any, wanted: Any) -> None:
        if got != wanted:
            problems.append(f"{where}\n    parsed:   {got!r}\n    expected: {wanted!r}")

    check("published", report.published, want["published"])
    check("title", report.title, want["title"])
    check("unplaced", report.unplaced, want["unplaced"])
    check("number of 요약 lines", len(report.overview), want["overview_lines"])
    check("colophon", report.colophon, want["colophon"])
    check("story count", len(report.stories), len(want["stories"]))
    for k, (story, wanted) in enumerate(zip(report.stories, want["stories"]), 1):
        problems += story_differences(f"story #{k} ({wanted['headline']})", story, wanted)
    check("brief count", len(report.briefs), len(want["briefs"]))
    for k, (brief, wanted) in enumerate(zip(report.briefs, want["briefs"]), 1):
        problems += brief_differences(f"brief #{k} ({wanted['headline']})", brief, wanted)
    return problems


def story_differences(where: str, story: Story, want: dict[str, Any]) -> list[str]:
    got = {
        key: getattr(story, key)
        for key in ("section", "category", "number", "headline", "subheadline", "event_date", "figure_credits")
    }
    got["summary_first"] = story.summary[0] if story.summary else None
    got["summary_last"] = story.summary[-1] if story.summary else None
    got["references"] = [{"title": ref.title, "url": ref.url} for ref in story.references]
    problems = [
        f"{where}: {key}\n    parsed:   {got[key]!r}\n    expected: {want[key]!r}"
        for key in got
        if got[key] != want[key]
    ]
    problems += [f"{where}: summary lacks {line!r}" for line in want.get("summary_contains", []) if line not in story.summary]
    problems += [f"{where}: reference {ref} has outlet/date" for ref in story.references if ref.outlet or ref.date]
    return problems


def brief_differences(where: str, brief: Brief, want: dict[str, Any]) -> list[str]:
    got = {key: getattr(brief, key) for key in ("number", "headline", "subheadline", "summary", "outlet", "date", "url")}
    got["references"] = [{"title": ref.title, "url": ref.url} for ref in brief.references]
    return [f"{where}: {key}\n    parsed:   {got[key]!r}\n    expected: {want[key]!r}" for key in got if got[key] != want[key]]


def assert_matches(report: Report, want: dict[str, Any]) -> None:
    problems = differences(report, want)
    assert not problems, f"{len(problems)} field(s) differ:\n" + "\n".join(problems)


# --- the three real issues ----------------------------------------------------------------


@pytest.mark.parametrize("issue", ISSUES)
def test_each_issue_reads_as_an_editor_reads_it(issue: str) -> None:
    report = parse_report(issue_text(issue), source_file=f"{issue}.txt")
    assert report.source_file == f"{issue}.txt"
    assert_matches(report, expected(issue))


def test_figure_credits_never_become_references() -> None:
    report = parse_report(issue_text("2023-06-21"))
    cited = {ref.url for story in report.stories for ref in story.references}
    assert "https://mp.weixin.qq.com/s/m17vg5sNbuzB1F8g_bZu0A" in report.stories[0].figure_credits
    assert "https://mp.weixin.qq.com/s/m17vg5sNbuzB1F8g_bZu0A" not in cited
    assert not any("출처" in line for story in report.stories for line in story.summary)


# --- other shapes of the same issue ---------------------------------------------------------


def reshaped_2023_06_21() -> str:
    """2023-06-21 as another issue might print it, and another extraction might give it."""
    text = issue_text("2023-06-21")
    contents = "\n".join(
        [
            "1. 정책동향", "기술전략", "• 발전개혁위원회 외, 전문교육 산·학 융합 실행계획 발표",
            "지역", "• 선전시, 인공지능 고품질 발전 추진 방안 발표",
            "인재", "• 베이징, 외국인 고급인재 인정 표준 시범 추진",
            "혁신체계", "• 베이징, 국내 최초 '국제과학기술기구 본부 클러스터' 구축",
            "통계", "• '2022년 디지털중국 발전보고' 발표",
            "통계", "• 중국 인공지능 분야 국제경쟁력 분석",
        ]
    )  # one category per line, 통계 repeated, • bullets
    text = re.sub(r"(?s)(CONTENTS\n).*?(\n\n\n\n본 보고서는)", lambda m: m.group(1) + contents + m.group(2), text)
    text = re.sub(r"(?m)^- ☑ ", "☞ ", text)
    text = re.sub(r"(?m)^- ", "• ", text)
    text = re.sub(r"(?m)^ - ", "   ○ ", text)
    text = text.replace("02 선전시, 인공지능 고품질 발전 추진 방안 발표", "02\n\n선전시, 인공지능 고품질 발전 추진 방안 발표")
    text = text.replace("05 중국과학원 역학(力學)연구소", "05\n중국과학원 역학(力學)연구소")
    text = text.replace("연산력 플랫폼 구축(6.1)", "연산력 플랫폼 구축")  # story 02 loses its date
    text = text.replace("시범기업 달성(6.13)", "시범기업 달성（6.13）")
    text = text.replace("출처: 과학망 (05.31)", "출처：과학망（05.31）")
    text = text.replace("tz/202306/t20230613_1357505.html", "tz/20230\n6/t20230613_1357505.html")
    text = text.replace("<https://mp.weixin.qq.com/s/JC1yJf6gzmOWxxUdotXxFw>", "<https://mp.weixin.qq.com/s/JC1yJf6g\nzmOWxxUdotXxFw>")
    text = text.replace("&sn=28762a1d5bf654175c6568acdee76fa3", "&sn=28762a\n1d5bf654175c6568acdee76fa3")
    return text


def test_other_bullets_numbers_dates_and_broken_urls_read_the_same() -> None:
    text = reshaped_2023_06_21()
    assert "tz/20230\n6/t2023" in text and "\n05\n중국과학원" in text and "☞ 深圳" in text  # the rewrite took
    assert "CONTENTS\n1. 정책동향\n기술전략\n• 발전개혁위원회" in text
    want = copy.deepcopy(expected("2023-06-21"))
    want["stories"][1]["event_date"] = None
    assert_matches(parse_report(text), want)


def reshaped_2024_06_28() -> str:
    """2024-06-28 as pypdf gives it (no blank lines, no tabs, a running title, a wrapped title),
    with one story unnumbered and one citing its sources without the 참고자료 heading."""
    text = issue_text("2024-06-28")
    text = text.replace("03 중국과학원, '소비자", "중국과학원, '소비자")
    text = text.replace("참고자료\n\n- ☑ 关于印发", "- ☑ 关于印发")
    text = text.replace("高质量发展！财政部", "高质量发展！\n财政部")
    text = text.replace("\n1) 일반 프로젝트\n", "\n중국 과학기술 정책 주간동향\n1) 일반 프로젝트\n")  # page header
    return "\n".join(line.replace("\t", " ") for line in text.splitlines() if line.strip())


def test_a_story_without_number_and_text_without_blank_lines_read_the_same() -> None:
    text = reshaped_2024_06_28()
    assert "\n\n" not in text and "\t" not in text and "发展！\n财政部" in text and "03 중국과학원" not in text
    assert "참고자료\n- ☑ 关于印发" not in text
    want = copy.deepcopy(expected("2024-06-28"))
    want["stories"][2]["number"] = None
    assert_matches(parse_report(text), want)


def test_a_pdfs_look_alike_characters_are_read_as_what_was_written(tmp_path: Path) -> None:
    """Printed to PDF (Chromium 156, Noto Serif CJK) and read back by pypdf, 2024-06-28 came out
    with radicals for the ideographs drawn with the same glyph (⼈⼯智能, 部⻔, 东数⻄算) and an
    "fi" ligature in its URLs (ﬁnance.eastmoney.com): cited titles that no rule, stored title or
    URL matched; its ‘ came out as ʻ. Here those substitutions, with 〈〉 as the look-alikes the
    same fonts draw alike (U+2329, U+232A; 〈참고자료〉 heads a story's sources), in a .txt as if
    copied out of such a PDF."""
    look_alikes = str.maketrans({"人": "⼈", "工": "⼯", "高": "⾼", "门": "⻔", "民": "⺠", "西": "⻄", "自": "⾃", "大": "⼤",
                                 "‘": "\u02bb", "〈": "\u2329", "〉": "\u232a"})
    text = issue_text("2024-06-28").translate(look_alikes).replace("fi", "ﬁ")
    assert "⼈⼯智能" in text and "ﬁnance.eastmoney" in text and "\u2329" in text
    path = tmp_path / "2024-06-28.txt"
    path.write_text(text, encoding="utf-8")
    assert_matches(parse_report(read_report_text(path)), expected("2024-06-28"))


def test_contents_followed_directly_by_the_body_still_ends_there() -> None:
    """No cover banner, no 요약 page: CONTENTS ends where a section opens with a story."""
    text = issue_text("2024-06-28")
    start, end = text.index("\n\n\n\n본 보고서는"), text.index("\nI\n\n정책동향")
    want = expected("2024-06-28") | {"overview_lines": 0}
    assert_matches(parse_report(text[:start] + text[end:]), want)


def test_a_contents_entry_missing_leaves_the_other_categories_in_place() -> None:
    text = issue_text("2024-06-28").replace("- 생태환경부 등, '탄소 발자국 관리 체계 구축 방안' 발표\n", "")
    want = copy.deepcopy(expected("2024-06-28"))
    want["stories"][1]["category"] = None
    assert_matches(parse_report(text), want)


def test_dates_near_new_year_fall_in_the_right_year() -> None:
    def issue(published: str, event: str, source: str) -> Report:
        return parse_report(
            "중국 과학기술 정책 주/간/동/향\nCONTENTS\n1. 정책동향\n기술전략\n- 과기부, 정책 발표\n"
            f"I\n정책동향\n01 과기부, 정책 발표\n■ 정책 요지({event})\n- 내용\n"
            "참고자료\n- ☑ 科技部发布政策\nhttps://www.most.gov.cn/a.html\n"
            f"II\n단신동향\n01 단신 제목\n■ 요지\n- 내용\n출처: 과학망 ({source})\nhttps://news.sciencenet.cn/x.shtm\n"
            f"| 발 행 일 | {published}\n"
        )

    january = issue("2024. 1. 5", "12.28", "01.03")
    assert (january.stories[0].event_date, january.briefs[0].date) == (dt.date(2023, 12, 28), dt.date(2024, 1, 3))
    december = issue("2023년 12월 29일", "1.2", "12.30")
    assert (december.stories[0].event_date, december.briefs[0].date) == (dt.date(2024, 1, 2), dt.date(2023, 12, 30))


# --- what cannot be placed is reported ------------------------------------------------------


def test_lines_that_fit_nowhere_are_reported_not_dropped() -> None:
    text = issue_text("2024-06-28")
    text = text.replace("- 광둥성, 인공지능 산업 융합 발전 추진방안 수립\n", "- 광둥성, 인공지능 산업 융합 발전 추진방안 수립\n- 존재하지 않는 기사의 제목\n")
    text = text.replace("I\n\n정책동향\n\n01\n", "I\n\n정책동향\n\n편집자 주: 이번 호는 특별판입니다\n\n01\n")
    text = text.replace("참고자료\n\n- ☑ 关于印发", "참고자료\n\n- ☑ 没有链接的标题\n- ☑ 关于印发")
    report = parse_report(text)
    assert report.unplaced == [
        "CONTENTS entry without story: - 존재하지 않는 기사의 제목",
        "편집자 주: 이번 호는 특별판입니다",
        "- ☑ 没有链接的标题",
    ]
    assert_matches(report, expected("2024-06-28") | {"unplaced": report.unplaced})  # the rest is intact


def test_text_that_is_no_report_is_refused_with_the_reason() -> None:
    article = "三星 Galaxy S20 系列手机正式发布\n01\n今天凌晨，三星在美国旧金山举行发布会\n02 价格与上市时间\n■ 3月6日上市"
    for garbage in ["", "hello\nworld\n", article]:
        with pytest.raises(ReportParseError, match="not an issue of 중국 과학기술 정책 주간동향: no CONTENTS block and no numbered stories"):
            parse_report(garbage, source_file="junk.txt")


def test_publication_date_falls_back_to_the_file_name_and_is_required() -> None:
    text = issue_text("2023-06-21").replace("| 발 행 일 | 2023. 6. 21\n", "")
    assert parse_report(text, source_file="reports/2023-06-21.txt").published == dt.date(2023, 6, 21)
    with pytest.raises(ReportParseError, match="no publication date"):
        parse_report(text, source_file="issue.txt")


# --- reading files ----------------------------------------------------------------------------


def test_txt_with_byte_order_mark_reads_like_without(tmp_path: Path) -> None:
    path = tmp_path / "2023-08-04.txt"
    path.write_bytes("\ufeff".encode() + issue_text("2023-08-04").encode())
    assert read_report_text(path) == issue_text("2023-08-04")
    assert_matches(parse_report(read_report_text(path)), expected("2023-08-04"))


def write_docx(text: str, path: Path) -> None:
    """One paragraph per line; runs of tab-separated lines become a real Word table."""
    document = docx.Document()
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if "\t" not in lines[i]:
            document.add_paragraph(lines[i])
            i += 1
            continue
        rows = []
        while i < len(lines) and "\t" in lines[i]:
            rows.append(lines[i].split("\t"))
            i += 1
        table = document.add_table(rows=len(rows), cols=max(map(len, rows)))
        for cells, row in zip(rows, table.rows):
            for value, cell in zip(cells, row.cells):
                cell.text = value
    document.save(str(path))


@pytest.mark.parametrize("issue", ISSUES)
def test_a_docx_issue_reads_like_its_text(issue: str, tmp_path: Path) -> None:
    path = tmp_path / f"{issue}.docx"
    write_docx(issue_text(issue), path)
    from_docx = parse_report(read_report_text(path), source_file=path.name)
    from_txt = parse_report(issue_text(issue), source_file=path.name)
    assert dataclasses.asdict(from_docx) == dataclasses.asdict(from_txt)


def test_a_merged_word_table_cell_is_read_once(tmp_path: Path) -> None:
    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    for cell, value in zip(table.rows[0].cells, ["합계", "", "52,547"]):
        cell.text = value
    table.cell(0, 0).merge(table.cell(0, 1))
    for cell, value in zip(table.rows[1].cells, ["6", "680,030.00", "680,030.00"]):
        cell.text = value
    document.save(str(tmp_path / "table.docx"))
    assert read_report_text(tmp_path / "table.docx") == "합계\t52,547\n6\t680,030.00\t680,030.00"


def tiny_pdf(lines: list[str]) -> bytes:
    """A one-page PDF showing ASCII lines in Helvetica, built by hand (no writer library)."""
    shown = " ".join(f"({line}) '" for line in lines)
    stream = f"BT /F1 12 Tf 14 TL 72 740 Td {shown} ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_a_pdf_is_read_through_its_text_layer(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(tiny_pdf(["CONTENTS", "https://www.most.gov.cn/a.html"]))
    text = read_report_text(path)
    assert [line.strip() for line in text.splitlines() if line.strip()] == ["CONTENTS", "https://www.most.gov.cn/a.html"]


def test_other_file_types_are_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "2023-06-21.hwp"
    path.write_bytes(b"HWP Document File")
    with pytest.raises(ReportParseError, match=r"2023-06-21\.hwp: cannot read '\.hwp' files; give a \.txt, \.pdf or \.docx"):
        read_report_text(path)
