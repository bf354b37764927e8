"""Score article extractors against the hand-labelled pages in tests/fixtures/pages/.

Usage::

    python bench/extraction_eval.py [--json] [--verbose] [--only ours,trafilatura,gne]

Extractors compared:

* ``ours``        - ``crawler.extract.extract_article(url, body_bytes)``; skipped with a
                    message when the module cannot be imported.
* ``trafilatura`` - ``trafilatura.bare_extraction(html, url=url, with_metadata=True)``;
                    origin is the Document's ``author``, falling back to ``sitename``.
* ``gne``         - ``gne.GeneralNewsExtractor().extract(html)``; origin is its ``author``.
                    GNE is GPL: it is only compared against, never imported by the project,
                    and skipped with a message when it is not installed.

Every extractor that wants text gets the page decoded the same way (BOM, valid UTF-8,
declared charset, else GB18030) - several fixtures declare gb2312 but are UTF-8.

Scoring rules (labels.yml describes how the labels were made):

* strings are normalised with NFKC and runs of whitespace collapsed to one space;
* title: correct only if equal to the label after normalisation (strict: a ``<title>`` with a
  site suffix such as ``_网易新闻`` is wrong);
* published: the extracted value is converted to China time (UTC+8; a naive datetime or a
  string without zone is taken as China time) and compared at the label's precision - to the
  minute for "YYYY-MM-DD HH:MM" labels (an extracted value without a time is wrong), to the
  day for "YYYY-MM-DD" labels; a null label is correct only when nothing is extracted.
  "published (day)" repeats the check on the date part only, to separate wrong dates from
  missing times;
* origin: correct if the label (or one of its ``origin_alt`` values) is a substring of the
  extracted origin or vice versa; a null label is correct when the extractor returns nothing;
* body: correct if ``body_first`` starts within the first 400 characters of the extracted body
  and ``body_last`` ends within its last 400 characters. For this check all whitespace is
  removed from both sides, because extractors render the line breaks of clause-per-<p> pages
  (WeChat style) differently and the 400-character windows should count text, not layout.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "tests" / "fixtures" / "pages"
LABELS = PAGES / "labels.yml"
CHINA = timezone(timedelta(hours=8))
WINDOW = 400
FIELDS = ("title", "published", "published (day)", "origin", "body")

sys.path.insert(0, str(ROOT))  # run as a script from anywhere: make `crawler` importable


@dataclass
class Label:
    file: str
    url: str
    title: str
    published: str | None
    origin: str | None
    body_first: str
    body_last: str
    origin_alt: list[str] = field(default_factory=list)


@dataclass
class Extraction:
    title: str | None = None
    published: datetime | date | str | None = None
    origin: str | None = None
    body: str = ""


Extractor = Callable[[Label, bytes, str], Extraction]


# --- loading ---------------------------------------------------------------------------


def load_labels(path: Path = LABELS) -> list[Label]:
    known = set(Label.__dataclass_fields__)
    return [Label(**{k: v for k, v in entry.items() if k in known}) for entry in yaml.safe_load(path.read_text("utf-8"))]


def decode_page(raw: bytes) -> str:
    """Decode like the crawler does, so no extractor is judged on mojibake the others avoid."""
    try:
        from crawler.extract.encoding import decode
    except ImportError:  # the crawler package is not importable: same policy, minimal form
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("gb18030", errors="replace")
    return decode(raw)


# --- extractors --------------------------------------------------------------------------


def make_ours() -> Extractor:
    from crawler.extract import extract_article

    def run(label: Label, raw: bytes, html: str) -> Extraction:
        article = extract_article(label.url, raw)
        return Extraction(article.title, article.published_at, article.origin, article.body or "")

    return run


def make_trafilatura() -> Extractor:
    import trafilatura

    def run(label: Label, raw: bytes, html: str) -> Extraction:
        doc = trafilatura.bare_extraction(html, url=label.url, with_metadata=True)
        if doc is None:
            return Extraction()
        # Document in trafilatura 2.x; older versions return a dict.
        get = doc.get if isinstance(doc, dict) else lambda name: getattr(doc, name, None)
        return Extraction(get("title"), get("date"), get("author") or get("sitename"), get("text") or "")

    return run


def make_gne() -> Extractor:
    from gne import GeneralNewsExtractor

    extractor = GeneralNewsExtractor()

    def run(label: Label, raw: bytes, html: str) -> Extraction:
        result = extractor.extract(html)
        return Extraction(result.get("title"), result.get("publish_time"), result.get("author"), result.get("content") or "")

    return run


FACTORIES: dict[str, Callable[[], Extractor]] = {"ours": make_ours, "trafilatura": make_trafilatura, "gne": make_gne}


def load_extractors(names: list[str]) -> tuple[dict[str, Extractor], dict[str, str]]:
    """Build the requested extractors; the ones that cannot be imported are reported, not fatal."""
    ready: dict[str, Extractor] = {}
    skipped: dict[str, str] = {}
    for name in names:
        try:
            ready[name] = FACTORIES[name]()
        except ImportError as error:
            skipped[name] = f"skipped: cannot import ({error})"
    return ready, skipped


# --- normalisation -----------------------------------------------------------------------


def norm(text: str | None) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text or "")).strip()


def squeeze(text: str | None) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


DATE_TIME = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\D{0,3}?(\d{1,2})[:：时](\d{2}))?")


def to_china(value: datetime | date | str | None) -> tuple[str | None, bool]:
    """Render an extracted date as ("YYYY-MM-DD[ HH:MM]" in China time, has_time)."""
    if value is None or value == "":
        return None, False
    if isinstance(value, str):
        value = _parse_date_string(value)
        if value is None:
            return None, False
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(CHINA)
        return value.strftime("%Y-%m-%d %H:%M"), True
    return value.strftime("%Y-%m-%d"), False


def _parse_date_string(text: str) -> datetime | date | None:
    try:  # ISO strings may carry a zone that must be honoured
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        pass
    found = DATE_TIME.search(text)
    if not found:
        return None
    year, month, day, hour, minute = found.groups()
    try:
        if hour is None:
            return date(int(year), int(month), int(day))
        return datetime(int(year), int(month), int(day), int(hour), int(minute))
    except ValueError:
        return None


# --- scoring -----------------------------------------------------------------------------


def check_title(label: Label, got: Extraction) -> bool:
    return norm(got.title) == norm(label.title)


def check_published(label: Label, got: Extraction) -> bool:
    shown, has_time = to_china(got.published)
    if label.published is None:
        return shown is None
    if shown is None:
        return False
    if len(label.published) > 10:  # minute precision: a bare date is not enough
        return has_time and shown == label.published
    return shown[:10] == label.published


def check_published_day(label: Label, got: Extraction) -> bool:
    shown, _ = to_china(got.published)
    if label.published is None:
        return shown is None
    return shown is not None and shown[:10] == label.published[:10]


def check_origin(label: Label, got: Extraction) -> bool:
    extracted = norm(got.origin)
    if label.origin is None:
        return not extracted
    if not extracted:
        return False
    candidates = [norm(c) for c in [label.origin, *label.origin_alt]]
    return any(c in extracted or extracted in c for c in candidates)


def check_body(label: Label, got: Extraction) -> bool:
    body, first, last = squeeze(got.body), squeeze(label.body_first), squeeze(label.body_last)
    return first in body[: WINDOW + len(first)] and last in body[-(WINDOW + len(last)) :]


CHECKS: dict[str, Callable[[Label, Extraction], bool]] = {
    "title": check_title,
    "published": check_published,
    "published (day)": check_published_day,
    "origin": check_origin,
    "body": check_body,
}


def describe(field_name: str, label: Label, got: Extraction) -> str:
    """A one-line 'expected vs got' for the verbose failure list."""
    if field_name == "title":
        return f"want {label.title!r} got {got.title!r}"
    if field_name.startswith("published"):
        return f"want {label.published!r} got {to_china(got.published)[0]!r} (raw {str(got.published)[:40]!r})"
    if field_name == "origin":
        return f"want {label.origin!r} got {got.origin!r}"
    body = squeeze(got.body)
    return f"want {label.body_first[:20]!r}…{label.body_last[-20:]!r} got {body[:30]!r}…{body[-30:]!r} ({len(body)} chars)"


@dataclass
class Result:
    correct: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    failures: dict[str, list[str]] = field(default_factory=lambda: {f: [] for f in FIELDS})
    errors: list[str] = field(default_factory=list)


def evaluate(extractors: dict[str, Extractor], labels: list[Label]) -> dict[str, Result]:
    results = {name: Result() for name in extractors}
    for label in labels:
        raw = (PAGES / label.file).read_bytes()
        html = decode_page(raw)
        for name, run in extractors.items():
            try:
                got = run(label, raw, html)
            except Exception as error:  # one broken page must not hide the other scores
                results[name].errors.append(f"{label.file}: {type(error).__name__}: {error}")
                got = Extraction()
            for field_name, check in CHECKS.items():
                if check(label, got):
                    results[name].correct[field_name] += 1
                else:
                    results[name].failures[field_name].append(f"{label.file}: {describe(field_name, label, got)}")
    return results


# --- output ------------------------------------------------------------------------------


def print_table(results: dict[str, Result], total: int, skipped: dict[str, str]) -> None:
    names = list(results)
    width = 16
    print(f"{total} labelled pages in {PAGES.relative_to(ROOT)}")
    print(f"{'field':<{width}}" + "".join(f"{n:>{width}}" for n in names))
    for field_name in FIELDS:
        cells = [f"{results[n].correct[field_name]}/{total} {100 * results[n].correct[field_name] / total:3.0f}%" for n in names]
        print(f"{field_name:<{width}}" + "".join(f"{c:>{width}}" for c in cells))
    for name, reason in skipped.items():
        print(f"{name}: {reason}")
    for name in names:
        for error in results[name].errors:
            print(f"{name}: error on {error}")


def print_failures(results: dict[str, Result]) -> None:
    for name, result in results.items():
        print(f"\n== {name}: failures")
        for field_name in FIELDS:
            for line in result.failures[field_name]:
                print(f"  [{field_name}] {line}")


def summary(results: dict[str, Result], total: int, skipped: dict[str, str]) -> dict[str, Any]:
    return {
        "pages": total,
        "skipped": skipped,
        "extractors": {
            name: {
                "fields": {
                    f: {
                        "correct": r.correct[f],
                        "total": total,
                        "pct": round(100 * r.correct[f] / total, 1) if total else 0.0,
                        "failed_files": [line.split(":", 1)[0] for line in r.failures[f]],
                    }
                    for f in FIELDS
                },
                "errors": r.errors,
            }
            for name, r in results.items()
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print a machine-readable summary")
    parser.add_argument("--verbose", action="store_true", help="list the failures of each extractor")
    parser.add_argument("--only", default=",".join(FACTORIES), help="comma-separated extractors to run")
    args = parser.parse_args(argv)

    labels = load_labels()
    extractors, skipped = load_extractors([n.strip() for n in args.only.split(",") if n.strip()])
    results = evaluate(extractors, labels)
    if args.json:
        print(json.dumps(summary(results, len(labels), skipped), ensure_ascii=False, indent=2))
    else:
        print_table(results, len(labels), skipped)
        if args.verbose:
            print_failures(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
