"""Past issues of the weekly report: read from file, parsed into stories, stored and matched.

    read      a file (.txt, .pdf, .docx) → its text
    parse     that text → a Report (lines: one line at a time; contents: the CONTENTS block)
    report    Report, Story, Brief, Reference, and ReportParseError when text is no issue
    store     a Report → the database; stored items it cites become `covered`
"""

from desk.issues.parse import parse_report
from desk.issues.read import REPORT_SUFFIXES, issue_files, read_report_text
from desk.issues.report import Brief, Reference, Report, ReportParseError, Story
from desk.issues.store import mark_covered, store

__all__ = [
    "REPORT_SUFFIXES", "Brief", "Reference", "Report", "ReportParseError", "Story",
    "issue_files", "mark_covered", "parse_report", "read_report_text", "store",
]
