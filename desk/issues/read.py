"""An issue's file as text: .txt (UTF-8 or UTF-16), .pdf through pypdf, .docx through python-docx."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from common.text import written_form
from desk.issues.report import ReportParseError

if TYPE_CHECKING:
    from docx.table import Table


def issue_files(paths: Iterable[Path]) -> list[Path]:
    """The issue files ``paths`` name: a file as given, a folder as the files in it that
    :func:`read_report_text` reads, by name. Raises ReportParseError for a path that does not
    exist and for a folder holding no such file."""
    files: list[Path] = []
    for path in paths:
        if not path.exists():
            raise ReportParseError(f"{path}: no such file or folder")
        if not path.is_dir():
            files.append(path)
            continue
        found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in REPORT_SUFFIXES)
        if not found:
            raise ReportParseError(f"{path}: a folder with no {', '.join(REPORT_SUFFIXES)} file in it")
        files += found
    return files


def read_report_text(path: Path | str) -> str:
    """The text of an issue saved as .txt or .text (UTF-8, or UTF-16 with its BOM), .pdf or .docx,
    as written: the radicals and ligatures a PDF's text layer gives for CJK characters and Latin
    letters (⼈⼯智能, ﬁnance) are read as those (:func:`common.text.written_form`), in every
    format, since a .txt may have been copied out of a PDF.

    Raises ReportParseError for any other suffix and for text that does not decode.
    """
    path = Path(path)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise ReportParseError(f"{path}: cannot read '{path.suffix or 'no extension'}' files; give a .txt, .pdf or .docx")
    return written_form(reader(path))


def _txt_text(path: Path) -> str:
    data = path.read_bytes()
    encoding = "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"  # Windows editors
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise ReportParseError(f"{path}: not UTF-8 text ({error})") from error


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader  # imported here: only PDF imports pay for it

    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def _docx_text(path: Path) -> str:
    import docx  # imported here: only .docx imports pay for it
    from docx.table import Table

    lines: list[str] = []
    for block in docx.Document(str(path)).iter_inner_content():  # paragraphs and tables in order
        if isinstance(block, Table):
            lines.extend(_docx_table_rows(block))
        else:
            lines.append(block.text)
    return "\n".join(lines)


def _docx_table_rows(table: Table) -> list[str]:
    """One tab-separated line per row, as PDF extraction gives them (tabs mark table rows)."""
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) not in seen:  # a merged cell comes back once per column it spans
                seen.add(id(cell._tc))
                cells.append(" ".join(cell.text.split()))
        rows.append("\t".join(cells))
    return rows


_READERS = {".txt": _txt_text, ".text": _txt_text, ".pdf": _pdf_text, ".docx": _docx_text}
REPORT_SUFFIXES = tuple(_READERS)  # what read_report_text reads: a folder of issues is these files
