"""Leave one issue out, for bench/tagging_eval.py (which says what it measures and what was
tried): the labelled stories as folds, the examples a fold's model learns from, each fold's
titles tagged by rules, model and both, and the printed figures and confusion tables."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from desk.tagging import Tagger, Taxonomy
from desk.tagging.learned import korean_text, story_examples
from desk.tagging.model import Example, TaggingModel

METHODS = ("rules", "model", "combined")
ROOT = Path(__file__).resolve().parent.parent


def _canonical(url: str) -> str:
    try:
        from common.urls import canonical_url

        return canonical_url(url)
    except Exception:
        return url


def expected_category(tax: Taxonomy, name: str | None) -> str | None:
    """The category id the editors' CONTENTS name stands for; a name topics.yml does not know
    stays as "?name": the tagger can never give it, so its titles count as misses."""
    if not name:
        return None
    return tax.resolve(name) or f"?{name}"


def label(tax: Taxonomy, category: str | None) -> str:
    """How a category is printed: its Korean label, or the unknown CONTENTS name as given."""
    return (tax.label(category) or category) if category else "(none)"


def confusion(tax: Taxonomy, rows: list[dict[str, Any]]) -> str:
    labelled = [r for r in rows if r["expected"]]
    truth = [c for c in tax.categories if any(r["expected"] == c for r in labelled)]
    truth += sorted({r["expected"] for r in labelled} - set(truth))  # names topics.yml lacks ("?name")
    predicted = [c for c in tax.categories if any(r["category"] == c for r in labelled)]
    if any(r["category"] is None for r in labelled):
        predicted.append(None)
    counts = Counter((r["expected"], r["category"]) for r in labelled)
    name = lambda c: label(tax, c)  # noqa: E731
    width = max(len(name(c)) for c in truth) + 2
    cols = [name(c)[:7] for c in predicted]
    lines = ["editors ↓ / tagger →".ljust(width) + " ".join(f"{c:>7}" for c in cols) + "   n"]
    for t in truth:
        cells = " ".join(f"{(counts[(t, p)] or '.'):>7}" for p in predicted)
        lines.append(name(t).ljust(width) + cells + f"  {sum(counts[(t, p)] for p in predicted):>2}")
    return "\n".join(lines)

# ─── leave one issue out ──────────────────────────────────────────────────────────────────────


def stories_from_reports(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """The stories of report issues (files, or folders of them) as `crawl issues import` reads
    them, in report_stories.yml's shape: issue, number (in order within the issue), section,
    category (as CONTENTS prints it), headline, and the subhead import also learns from.
    References without a Chinese title are left out: the tagger is given titles. An issue
    given twice (its .txt and its .pdf) is read once."""
    from desk.issues import issue_files, parse_report, read_report_text

    stories: list[dict[str, Any]] = []
    read: dict[str, Path] = {}
    for file in issue_files(paths):
        report = parse_report(read_report_text(file), str(file))
        issue = report.published.isoformat()
        if issue in read:
            print(f"({file}: issue {issue} was read from {read[issue]} already; skipped)", file=sys.stderr)
            continue
        read[issue] = file
        for number, story in enumerate(report.stories, 1):
            stories.append({
                "issue": issue, "number": number, "section": story.section, "category": story.category,
                "headline": story.headline, "subheadline": story.subheadline or "",
                "references": [{"title": r.title, "url": r.url} for r in story.references if r.title],
            })
    return stories


def labelled_stories(tax: Taxonomy, stories: list[dict[str, Any]], kostec: Path | None) -> list[dict[str, Any]]:
    """Every categorised story as {fold, category, headline, korean, refs: [(title, url)]} (korean:
    the headline and, where the issue was read from its file, the subhead): the issues (fold =
    issue), then the KOSTEC items when their file exists (fold = the issue
    they came from, else the month of their first reference)."""
    found = []
    for story in stories:
        category = expected_category(tax, story["category"])
        if category:
            korean = korean_text(story["headline"], story.get("subheadline"))  # what import learns from
            found.append({"fold": str(story["issue"]), "category": category, "headline": story["headline"], "korean": korean,
                          "refs": [(r["title"], r["url"]) for r in story["references"]]})
    if kostec is not None and kostec.is_file():
        loaded = yaml.safe_load(kostec.read_text(encoding="utf-8")) or []
        entries = loaded.get("items", []) if isinstance(loaded, dict) else loaded
        before = len(found)
        for item in entries:
            category = tax.resolve(str(item.get("category") or ""))
            refs = [(r.get("title") or "", r.get("url") or "") for r in item.get("references") or [] if r.get("title")]
            if category is None or not refs:
                continue
            first = str((item.get("references") or [{}])[0].get("date") or "")
            fold = str(item.get("issue") or item.get("date") or first)[:7] or "undated"
            headline = item.get("headline") or ""
            found.append({"fold": f"kostec {fold}", "category": category, "headline": headline, "korean": headline, "refs": refs})
        print(f"({kostec.name}: {len(found) - before} of {len(entries)} items have a known category and a cited title)", file=sys.stderr)
    return found


def fold_examples(stories: list[dict[str, Any]], bodies: dict[str, dict[str, Any]]) -> list[Example]:
    """What `crawl issues import` would teach the model: each story's Korean headline, and each
    cited title with the cited article's body where it is recorded (crawler/sites/)."""
    examples: list[Example] = []
    for story in stories:
        if story["category"].startswith("?"):  # import does not learn from a category topics.yml lacks
            continue
        cited = [(t, bodies.get(_canonical(u), {}).get("body", "")) for t, u in story["refs"]]
        examples += story_examples(story["category"], story["korean"], cited, f"{story['fold']}: {story['headline']}", group=story["fold"])
    return examples


def leave_one_out(
    tagger: Tagger, labelled: list[dict[str, Any]], hosts: dict[str, str], bodies: dict[str, dict[str, Any]],
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, float], dict[str, tuple[int, int]]]:
    """Per fold: fit the model on every other fold (it calibrates itself on those alone), then
    tag each distinct reference title of this fold (title, URL, source name) by rules alone,
    model alone, and both. Also, per fold: the model's calibration (the factor its
    log-probabilities are tempered by), and the rules' record on the training issues (titles
    right, titles), which gives the combined second choice (desk/tagging/record.py)."""
    rows: dict[str, list[dict[str, Any]]] = {m: [] for m in METHODS}
    shares: dict[str, float] = {}
    records: dict[str, tuple[int, int]] = {}
    for fold in sorted({s["fold"] for s in labelled}):
        model = TaggingModel.fit(fold_examples([s for s in labelled if s["fold"] != fold], bodies))
        shares[fold] = model.sharpness
        record = tagger.record_of(model)
        records[fold] = (record.right, len(record))
        for story in (s for s in labelled if s["fold"] == fold):
            for title, url in dict(story["refs"]).items():
                source = hosts.get(urlsplit(url).hostname or "")
                rules = tagger.tag(title, url=url, source=source)
                combined = tagger.tag(title, url=url, source=source, model=model)
                predicted = model.predict(title)
                rankings = {
                    "rules": [c for c, _ in rules.categories],
                    "model": [c for c, _ in predicted],
                    "combined": [c for c, _ in combined.learned.blended] if combined.learned else [c for c, _ in combined.categories],
                }
                chosen = {"rules": rules.category, "model": (rankings["model"] or [None])[0], "combined": combined.category}
                for method in METHODS:
                    rows[method].append({
                        "fold": fold, "title": title, "expected": story["category"], "category": chosen[method],
                        "ranked": rankings[method][:3], "top1": chosen[method] == story["category"],
                        "top2": story["category"] in list(dict.fromkeys([chosen[method], *rankings[method]]))[:2],
                        "decided_by": combined.decided_by, "model_p": predicted[0][1] if predicted else 0.0,
                        "second_by_record": bool(combined.learned and combined.learned.second),
                    })
    return rows, shares, records


def loo_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(rows)
    return {"items": n, "top1": sum(r["top1"] for r in rows) / n if n else 0.0, "top2": sum(r["top2"] for r in rows) / n if n else 0.0,
            "top1_count": sum(r["top1"] for r in rows), "top2_count": sum(r["top2"] for r in rows),
            "model_mean_p": sum(r["model_p"] for r in rows) / n if n else 0.0}


def per_fold(loo: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, dict[str, int]]]:
    """Each held-out fold's titles right first and within two, and how many, per method."""
    found: dict[str, dict[str, dict[str, int]]] = {}
    for method in METHODS:
        for row in loo[method]:
            counts = found.setdefault(row["fold"], {}).setdefault(method, {"top1": 0, "top2": 0, "items": 0})
            counts["top1"] += row["top1"]
            counts["top2"] += row["top2"]
            counts["items"] += 1
    return dict(sorted(found.items()))


def print_leave_one_out(taxonomy: Taxonomy, figures: dict[str, Any], loo: dict[str, list[dict[str, Any]]], stories: int, issues: str, kostec: Path) -> None:
    extra = f" + {kostec.relative_to(ROOT) if kostec.is_relative_to(ROOT) else kostec}" if kostec.is_file() else " (no KOSTEC items file)"
    print("\nLEAVE ONE ISSUE OUT — the model never sees the issue it is tested on; the rules were tuned on the three sample issues")
    print(f"labelled: {stories} stories in {figures['folds']} folds ({issues}{extra}); per distinct reference title, title+url")
    for method in METHODS:
        f = figures[method]
        print(f"  {method:<9} top-1 {f['top1']:.0%} ({f['top1_count']}/{f['items']})   top-2 {f['top2']:.0%} ({f['top2_count']}/{f['items']})")
    print("  each fold held out (top-1, top-2 of its titles):")
    for fold, methods in figures["per_fold"].items():
        print(f"    {fold:<12} " + "   ".join(f"{m} {c['top1']}, {c['top2']} of {c['items']}" for m, c in methods.items()))
    print(f"  calibration: the model's mean probability for its first choice is {figures['model']['model_mean_p']:.0%}, "
          f"its top-1 accuracy {figures['model']['top1']:.0%} (equal when calibrated; above it, overconfident)")
    print("  the model's calibration (its log-probabilities tempered by), measured by each fold's model on its own training issues: "
          + ", ".join(f"{fold} ×{share:.2f}" for fold, share in figures["text_share"].items()))
    print("  the rules' record on each fold's training issues (it picks the combined second choice; in-sample: the rules were tuned on them): "
          + ", ".join(f"{fold} {right}/{total}" for fold, (right, total) in figures["rules_record"].items())
          + f"; second choice by the record on {sum(r['second_by_record'] for r in loo['combined'])} of {len(loo['combined'])} titles")
    print("  combined decided by: " + ", ".join(f"{k} {v}" for k, v in sorted(figures["decided_by"].items())))
    for method in ("model", "combined"):
        print(f"\nconfusion, leave one out, {method} (rows: editors' category, columns: {method}):")
        print(confusion(taxonomy, loo[method]))
    print("\nmisses, leave one out, combined (~: the editors' category second; first three of the ranking):")
    for r in loo["combined"]:
        if not r["top1"]:
            ranked = ", ".join(label(taxonomy, c) for c in r["ranked"])
            print(f"  {'~' if r['top2'] else '✗'} {r['fold']:<12} want {label(taxonomy, r['expected']):<8} {r['title'][:40]}  | {ranked}")
