"""The weekly draft as Markdown and as a Word document, in the report's structure:
CONTENTS by section and category, the stories with their 참고자료, then the 단신동향."""

from __future__ import annotations

import io
from datetime import datetime
from xml.etree import ElementTree as ET

from common.markup import md_quote, md_text, md_url
from scheduler.candidates import Entry
from scheduler.web.data import Draft

TITLE = "중국 과학기술 정책 주간동향"


def draft_title(draft: Draft) -> str:
    return f"{TITLE} — 초안 {draft.week} ({draft.start:%m.%d}–{draft.end:%m.%d})"


def markdown(draft: Draft) -> str:
    """Crawled titles, outlets, notes and URLs are escaped for Markdown (common/markup.py):
    nothing from a page or a note becomes markup, a link or a line outside its quote."""
    lines = [f"# {md_text(draft_title(draft))}", "", "## CONTENTS", ""]
    for section, categories in draft.sections:
        lines.append(f"### {md_text(section)}")
        lines.append("")
        for category, stories in categories:
            for story in stories:
                lines.append(f"- {md_text(category)} • {story.number:02d} {md_text(story.headline)}")
        lines.append("")
    if draft.briefs:
        lines += ["### 단신동향", ""]
        lines += [f"- {brief.number:02d} {md_text(brief.headline)}" for brief in draft.briefs]
        lines.append("")
    if draft.empty:
        lines += ["_이 주에 채택된 기사가 없습니다._", ""]
    for section, categories in draft.sections:
        lines += [f"## {md_text(section)}", ""]
        for category, stories in categories:
            lines += [f"### {md_text(category)}", ""]
            for story in stories:
                lines += [f"#### {story.number:02d} {md_text(story.headline)}", "", f"■ {md_text(story.outlet)} ({story.day})", ""]
                if story.note:
                    lines += [*md_quote(story.note, "메모: "), ""]
                lines += ["참고자료", ""]
                for ref in story.references:
                    lines += [f"- ☑ {md_text(ref.title)}", f"  {md_url(ref.url)}"]
                lines.append("")
    if draft.briefs:
        lines += ["## 단신동향", ""]
        for brief in draft.briefs:
            lines += [f"#### {brief.number:02d} {md_text(brief.headline)}", ""]
            if brief.note:
                lines += [*md_quote(brief.note, "메모: "), ""]
            lines += [f"출처: {md_text(brief.outlet)} ({brief.day})", "", md_url(brief.url), ""]
    return "\n".join(lines).rstrip() + "\n"


def docx(draft: Draft) -> bytes:
    from docx import Document
    from docx.shared import Pt

    document = Document()
    document.core_properties.title = draft_title(draft)
    document.add_heading(draft_title(draft), level=0)
    document.add_heading("CONTENTS", level=1)
    for section, categories in draft.sections:
        document.add_paragraph(section, style="Heading 3")
        for category, stories in categories:
            for story in stories:
                document.add_paragraph(f"{category} • {story.number:02d} {story.headline}", style="List Bullet")
    if draft.briefs:
        document.add_paragraph("단신동향", style="Heading 3")
        for brief in draft.briefs:
            document.add_paragraph(f"{brief.number:02d} {brief.headline}", style="List Bullet")
    if draft.empty:
        document.add_paragraph("이 주에 채택된 기사가 없습니다.")
    for section, categories in draft.sections:
        document.add_heading(section, level=1)
        for category, stories in categories:
            document.add_heading(category, level=2)
            for story in stories:
                document.add_heading(f"{story.number:02d} {story.headline}", level=3)
                document.add_paragraph(f"■ {story.outlet} ({story.day})")
                if story.note:
                    note = document.add_paragraph()
                    note.add_run(f"메모: {story.note}").italic = True
                document.add_paragraph("참고자료").runs[0].bold = True
                for ref in story.references:
                    paragraph = document.add_paragraph(style="List Bullet")
                    paragraph.add_run(f"☑ {ref.title}")
                    paragraph.add_run().add_break()
                    link = paragraph.add_run(ref.url)
                    link.font.size = Pt(9)
    if draft.briefs:
        document.add_heading("단신동향", level=1)
        for brief in draft.briefs:
            document.add_heading(f"{brief.number:02d} {brief.headline}", level=3)
            if brief.note:
                note = document.add_paragraph()
                note.add_run(f"메모: {brief.note}").italic = True
            document.add_paragraph(f"출처: {brief.outlet} ({brief.day})")
            document.add_paragraph(brief.url)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


ATOM = "http://www.w3.org/2005/Atom"


TAG = "tag:cnst-radar,2024:"  # RFC 4151: ids that no Host header, proxy or port can change


def item_tag(item_id: int) -> str:
    """An item's permanent Atom id: the same in every feed, under every address it is read at."""
    return f"{TAG}item:{item_id}"


def feed_tag(key: str) -> str:
    return f"{TAG}feed:{key}"


def atom(title: str, feed_id: str, self_url: str, site_url: str, entries: list[Entry], updated: datetime) -> bytes:
    """An Atom 1.0 feed built with ElementTree, so every text is escaped."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}title").text = title
    ET.SubElement(feed, f"{{{ATOM}}}id").text = feed_id
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = updated.isoformat()
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=self_url)
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", href=site_url)
    ET.SubElement(ET.SubElement(feed, f"{{{ATOM}}}author"), f"{{{ATOM}}}name").text = "cnst-radar"
    for entry in entries:
        item = entry.item
        node = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(node, f"{{{ATOM}}}title").text = item.title
        ET.SubElement(node, f"{{{ATOM}}}id").text = item_tag(item.id)
        ET.SubElement(node, f"{{{ATOM}}}link", rel="alternate", href=item.url)
        ET.SubElement(node, f"{{{ATOM}}}updated").text = item.updated_at.isoformat()
        if item.published_at:
            ET.SubElement(node, f"{{{ATOM}}}published").text = item.published_at.isoformat()
        ET.SubElement(ET.SubElement(node, f"{{{ATOM}}}author"), f"{{{ATOM}}}name").text = entry.source_label
        topics = item.topics or {}
        if topics.get("category_label"):
            ET.SubElement(node, f"{{{ATOM}}}category", term=topics.get("category") or "", label=topics["category_label"])
        summary = entry.lead
        if entry.watch_hits:
            summary = f"[{', '.join(entry.watch_hits)}] {summary}"
        ET.SubElement(node, f"{{{ATOM}}}summary").text = summary
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8")
