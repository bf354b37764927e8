"""Past issues of the weekly report: read from file, parsed into stories, stored and matched.

    read   a file (.txt, .pdf, .docx) → its text
    parse  that text → Report, with Story, Brief and Reference; ReportParseError
    store  a Report → the database; stored items it cites become `covered`
"""

from desk.issues.parse import Brief, Reference, Report, ReportParseError, Story, parse_report, read_report_text
from desk.issues.store import mark_covered, store

__all__ = [
    "Brief", "Reference", "Report", "ReportParseError", "Story",
    "mark_covered", "parse_report", "read_report_text", "store",
]
