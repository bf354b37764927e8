"""Run every benchmark, print the figures and write bench/RESULTS.md and bench/results.json.

    python bench/run.py            # the full run (~15–25 minutes on 2 cores)
    python bench/run.py --quick    # a reduced version of each (every benchmark under a minute)
    python bench/run.py --only pipeline --only diff_scale

The full run adds scrapyd_throughput and takeover, which need a PostgreSQL server
(RADAR_BENCH_POSTGRES_URL or RADAR_TEST_POSTGRES_URL); no internet for any of them.

Generated data lives in temporary directories and is removed afterwards. The machine (CPU
model, cores, Python, date, load average) is recorded with every figure: compare figures
from one run only, since the machine is shared.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
# bench/ goes last on the path: bench/incremental.py must not shadow Twisted's `incremental` package.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]

from harness import machine, table  # noqa: E402

BENCHMARKS = ("pipeline", "incremental", "diff_scale", "tagging_digest", "daemon_idle", "scrapyd_throughput", "takeover")
# Full run only: each starts real daemons or Scrapyd nodes on loopback against PostgreSQL
# (RADAR_BENCH_POSTGRES_URL or RADAR_TEST_POSTGRES_URL; without one they report why, as a failure).
FULL_ONLY = ("scrapyd_throughput", "takeover")
HEADLINES = {  # results.json key → (benchmark, key in its result, unit, meaning)
    "pipeline_floor_ratio": ("pipeline", "pipeline_floor_ratio", "ratio", "crawl CPU per article ÷ trafilatura.extract CPU per article (target ≤ 1.0)"),
    "incremental_request_ratio": ("incremental", "incremental_request_ratio", "ratio", "full-crawl requests ÷ unchanged re-crawl requests, lists of real size (target ≥ 20)"),
    "diff_cost_growth": ("diff_scale", "diff_cost_growth", "ratio", "per-item diff cost at the largest archive ÷ at 10⁴"),
    "idle_rss_mb": ("daemon_idle", "idle_rss_mb", "MB", "daemon RSS while idle (median of samples)"),
    "idle_cpu_percent": ("daemon_idle", "idle_cpu_percent", "% of one core", "daemon CPU while idle"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="reduced sizes; every benchmark under a minute")
    parser.add_argument("--only", action="append", choices=BENCHMARKS, help="run only this benchmark (repeatable)")
    parser.add_argument("--report-only", action="store_true", help="rewrite RESULTS.md from results.json; run nothing")
    args = parser.parse_args()
    os.chdir(HERE.parent)
    if args.report_only:
        (HERE / "RESULTS.md").write_text(markdown(json.loads((HERE / "results.json").read_text())))
        print(f"wrote {HERE / 'RESULTS.md'}")
        return
    chosen = args.only or [name for name in BENCHMARKS if not (args.quick and name in FULL_ONLY)]
    info = machine()
    print(f"cnst-radar benchmarks ({'quick' if args.quick else 'full'}) on {info['cpu']}, {info['cores']} cores, "
          f"Python {info['python']}, {info['date']}, load {info['load_average']}", flush=True)
    results: dict[str, dict] = {}
    seconds: dict[str, float] = {}
    for name in chosen:
        print(f"\n== {name} ==", flush=True)
        started = time.perf_counter()
        try:
            results[name] = load(name).run(args.quick)
        except Exception as error:  # one broken benchmark must not hide the others
            traceback.print_exc()
            results[name] = {"error": f"{type(error).__name__}: {error}"}
        seconds[name] = round(time.perf_counter() - started, 1)
        results[name]["ran_at"] = machine()["date"]
        results[name]["mode"] = "quick" if args.quick else "full"
        results[name]["benchmark_seconds"] = seconds[name]
        results[name]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        print(summary(name, results[name]), flush=True)
        print(f"({name}: {seconds[name]} s)", flush=True)
    write(info, args.quick, results, chosen)


def load(name: str):  # type: ignore[no-untyped-def]
    """A benchmark module by file (``import incremental`` would find Twisted's package)."""
    spec = importlib.util.spec_from_file_location(f"radar_bench_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- presenting ------------------------------------------------------------------------
def summary(name: str, r: dict) -> str:
    if "error" in r:
        return f"FAILED: {r['error']}"
    if name == "pipeline":
        c = r["components_ms_per_article"]
        return "\n".join([
            f"{r['articles_stored']} of {r['articles_generated']} articles stored ({r['statuses']}); pages {r['mean_page_kb']} KB mean, {r['total_mb']} MB; {r['requests']} requests",
            f"crawl: {r['crawl_seconds']} s wall, {r['articles_per_second']} articles/s, CPU {r['crawl_cpu_seconds']} s = {r['cpu_ms_per_article']} ms/article "
            f"(fixed {r['fixed_cpu_seconds']} s; marginal {r['marginal_cpu_ms_per_article']} ms/article), peak RSS {r['peak_rss_mb']} MB",
            f"trafilatura.extract alone: {r['trafilatura_cpu_ms_per_article']} ms/article",
            f"pipeline_floor_ratio = {r['pipeline_floor_ratio']} (marginal {r['marginal_floor_ratio']})",
            "stages (ms/article): " + ", ".join(f"{k} {v}" for k, v in c.items()),
            *([f"top self-time hotspots (profiled crawl of {r['profile']['articles']} articles):"]
              + [f"  {h['percent']:5.1f}%  {h['seconds']:7.2f} s  {h['where']}" for h in r["profile"]["self"][:10]] if "profile" in r else []),
        ])
    if name == "incremental":
        return "\n".join(
            f"{label}: {v['sources']} sources, {v['list_urls']} list URLs: full crawl {v['full_requests']} requests (+{v['full_robots_requests']} robots.txt) "
            f"in {v['full_seconds']} s; unchanged re-crawl {v['incremental_requests']} (+{v['incremental_robots_requests']} robots.txt) "
            f"in {v['incremental_seconds']} s; ratio {v['ratio']}"
            for label, v in (("recorded", r["recorded"]), ("volume", r["volume"]))
        ) + f"\nincremental_request_ratio = {r['incremental_request_ratio']} (recorded lists: {r['incremental_request_ratio_recorded']}, {r['requests_per_list_url']} requests per list URL)"
    if name == "diff_scale":
        lines = [f"{s['archive']:>9,} archived: {s['items_per_second']:6.1f} items/s, {s['per_item_ms']:7.2f} ms/item (CPU {s['cpu_per_item_ms']:.2f}), "
                 f"duplicate() {s['stages_ms']['duplicate']:.2f} ms, peak RSS {s['peak_rss_mb']} MB, reprints found {s['reprints_detected']}"
                 for s in r["sizes"]]
        n = r["naive"]
        lines.append(f"diff_cost_growth = {r['diff_cost_growth']} ({r['diff_cost_growth_basis']}); duplicate() lookup growth {r['duplicate_lookup_growth']}")
        lines.append(f"naive all-pairs at {n['archive']:,}: Python {n['python_all_pairs_ms_per_item']} ms/item ({n['naive_python_over_lsh']}× LSH duplicate()), "
                     f"numpy {n['numpy_all_pairs_ms_per_item']} ms/item")
        cov = r["covered_with_references"]
        lines.append(f"covered() with {cov['references']:,} report references: {cov['covered_ms_per_item']} ms/item")
        return "\n".join(lines)
    if name == "tagging_digest":
        t, d = r["tagging"], r["digest"]
        lines = [f"Tagger: {label}: {row['items_per_second']} items/s ({row['cpu_ms_per_item']} ms/item CPU, mean {row['mean_body_bytes']} B)"
                 for label, row in t["bodies"].items()]
        lines.append(f"digest of {d['candidates']:,} candidates: build {d['build_s']} s, render {d['render_s']} s (cold {d['build_cold_s']} + {d['render_cold_s']} s), HTML {d['html_kb']} KB")
        return "\n".join(lines)
    if name == "daemon_idle":
        return (f"daemon idle over {r['window_s']} s: RSS {r['idle_rss_mb']} MB (max {r['idle_rss_max_mb']}), CPU {r['idle_cpu_percent']} % of a core; "
                f"ready in {r['startup_s']} s ({r['startup_cpu_s']} s CPU); SIGTERM exit {r['sigterm_exit_code']} in {r['sigterm_stop_s']} s")
    if name == "scrapyd_throughput":
        return "\n".join(f"{row['nodes']} node(s): {row['sources']} sources in {row['wall_s']} s, {row['sources_per_min']} sources/min, {row['items_per_s']} items/s"
                         for row in r["rounds"]) + f"\nspeed-up with 2 nodes on one machine: {r['speedup_2_nodes']}×"
    if name == "takeover":
        return f"{r['handovers']} hand-overs (poll {r['poll_s']} s): median {r['takeover_median_s']} s, max {r['takeover_max_s']} s ({r['takeover_s']})"
    return json.dumps(r)[:500]


def write(info: dict, quick: bool, results: dict, chosen: list[str]) -> None:
    data = {"machine": info, "mode": "quick" if quick else "full", "benchmarks": results}
    for key, (bench, field, unit, meaning) in HEADLINES.items():
        value = results.get(bench, {}).get(field)
        if value is not None:
            data[key] = {"value": value, "unit": unit, "meaning": meaning, "mode": data["mode"], "machine": info, "date": info["date"]}
    previous = {}
    if (HERE / "results.json").exists() and set(chosen) != set(BENCHMARKS):
        previous = json.loads((HERE / "results.json").read_text())  # --only: keep the other figures
        for name, value in previous.get("benchmarks", {}).items():
            data["benchmarks"].setdefault(name, value)
        for key in HEADLINES:
            if key not in data and key in previous:
                data[key] = previous[key]
    (HERE / "results.json").write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n")
    (HERE / "RESULTS.md").write_text(markdown(data))
    print(f"\nwrote {HERE / 'RESULTS.md'} and {HERE / 'results.json'}")


def _when(result: dict) -> str:
    return f" ({result.get('mode', '?')} run, {result['ran_at']})" if result.get("ran_at") else ""


def markdown(data: dict) -> str:
    info, b = data["machine"], data["benchmarks"]
    out = [
        "# cnst-radar benchmark results",
        "",
        f"Generated by `python bench/run.py{' --quick' if data['mode'] == 'quick' else ''}` — **{data['mode']} run**.",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info.get('memory_gb')} GB, Python {info['python']}, {info['platform']}; "
        f"{info['date']}; load average at start {info['load_average']} (a shared machine: compare ratios within one run).",
        "",
        "## Headline figures",
        "",
        table([[key, data[key]["value"], data[key]["unit"], data[key]["meaning"], f"{data[key]['mode']}, {data[key]['date']}"] for key in HEADLINES if key in data],
              ["metric", "value", "unit", "meaning", "run"]),
    ]
    if "pipeline" in b and "error" not in b["pipeline"]:
        r = b["pipeline"]
        out += [
            "", "## 1. Pipeline cost per article" + _when(r), "",
            f"Synthetic NDRC (TRS) and ScienceNet pages built from the recorded templates: {r['articles_generated']} articles, "
            f"{r['mean_page_kb']} KB mean ({r['total_mb']} MB), {r['list_pages']} list pages of {r['per_list_page']}. "
            "`python -m radar run` through the fake internet, RADAR_POLITE=false; CPU of the crawl process from wait4, peak RSS from /proc VmHWM samples.",
            "",
            table([
                ["articles stored", f"{r['articles_stored']} {r['statuses']}"],
                ["requests", r["requests"]],
                ["crawl wall time", f"{r['crawl_seconds']} s ({r['articles_per_second']} articles/s)"],
                ["crawl CPU", f"{r['crawl_cpu_seconds']} s (user {r['crawl_cpu_user_seconds']}, system {r['crawl_cpu_system_seconds']})"],
                ["CPU per article", f"{r['cpu_ms_per_article']} ms"],
                ["fixed cost (a run that stores nothing)", f"{r['fixed_cpu_seconds']} s CPU, {r['fixed_seconds']} s wall, {r['fixed_peak_rss_mb']} MB"],
                ["marginal CPU per article", f"{r['marginal_cpu_ms_per_article']} ms"],
                ["peak RSS", f"{r['peak_rss_mb']} MB"],
                ["trafilatura.extract alone (same bytes, one process)", f"{r['trafilatura_cpu_ms_per_article']} ms/article"],
                ["**pipeline_floor_ratio**", f"**{r['pipeline_floor_ratio']}** (marginal: {r['marginal_floor_ratio']})"],
            ], ["figure", "value"]),
            "", "Our stages alone, same pages, warm, one process (ms/article CPU): " + "; ".join(f"{k} {v}" for k, v in r["components_ms_per_article"].items()) + f" ({r['components_note']}).",
        ]
        if "profile" in r:
            out += [
                "", f"### Hotspots (pyinstrument, crawl of {r['profile']['articles']} articles; {r['profile']['busy_seconds']} s sampled, {r['profile']['idle_seconds']} s idle in the reactor excluded)",
                "", "Top 10 by self time:", "",
                table([[i + 1, f"`{h['where']}`", h["seconds"], h["percent"]] for i, h in enumerate(r["profile"]["self"][:10])], ["#", "function", "self s", "% of busy"]),
                "", "Project functions by inclusive time:", "",
                table([[f"`{h['where']}`", h["seconds"], h["percent"]] for h in r["profile"]["inclusive_project"][:15]], ["function", "incl. s", "% of busy"]),
                "", "Self time by package:", "",
                table([[h["where"], h["seconds"], h["percent"]] for h in r["profile"]["packages"][:12]], ["package", "self s", "% of busy"]),
            ]
        if "fixed_profile" in r:
            f = r["fixed_profile"]
            out += [
                "", f"### Fixed cost of one crawl process (pyinstrument, a run that stores nothing: {f['busy_seconds']} s sampled)", "",
                "What every `crawl run` — and so every scheduled crawl the daemon starts — pays before its first article.", "",
                table([[f"`{h['where']}`", h["seconds"], h["percent"]] for h in f["inclusive_project"][:14]], ["function", "incl. s", "% of busy"]),
                "", "Self time by package: " + ", ".join(f"{h['where']} {h['seconds']} s" for h in f["packages"][:8]),
            ]
    if "incremental" in b and "error" not in b["incremental"]:
        r = b["incremental"]
        rec, vol = r["recorded"], r["volume"]
        out += [
            "", "## 2. Incremental run" + _when(r), "",
            "A full crawl into an empty database, then the same crawl with nothing changed. *Recorded*: every enabled source with a "
            f"recording ({rec['sources']} sources, {rec['list_urls']} list URLs; project watchlists over crawler/sites, which hold only a few "
            f"articles per list). *Volume*: NDRC and ScienceNet generated at real list size ({vol['per_page']} entries a page, "
            f"{vol['list_pages_generated']} list pages, {vol['mean_kb']} KB articles) and read with the sources' own max_pages / max_entries.",
            "",
            table([
                [label, v["full_requests"], v["full_robots_requests"], v["full_seconds"], v["incremental_requests"], v["incremental_robots_requests"],
                 v["incremental_seconds"], v["incremental_cpu_seconds"], v["requests_per_list_url"], v["ratio"]]
                for label, v in (("recorded", rec), ("volume", vol))
            ], ["scenario", "full requests", "robots.txt", "full wall s", "re-crawl requests", "robots.txt", "re-crawl wall s", "re-crawl CPU s", "per list URL", "ratio"]),
            "", f"**incremental_request_ratio = {r['incremental_request_ratio']}** (volume) · recorded: {r['incremental_request_ratio_recorded']} · "
            f"items stored {rec['items_stored']} · re-crawl statuses {rec['incremental_statuses']}",
            "", "Recorded, requests per host (full → re-crawl): " + ", ".join(f"{h} {a}→{c}" for h, (a, c) in rec["per_host"].items()),
        ]
        if rec["incremental_not_304"]:
            out += ["", "Sources that re-read a list in full on the unchanged run: " + "; ".join(rec["incremental_not_304"])]
    if "diff_scale" in b and "error" not in b["diff_scale"]:
        r = b["diff_scale"]
        out += [
            "", "## 3. Diff at scale" + _when(r), "",
            f"{r['new_items_per_size']} new items judged (the StorePipeline transaction + `desk.verdicts.judge`) against synthetic archives in SQLite. Archive model: {r['model']}.",
            "Generation: " + ", ".join(f"{g['size']:,} in {g['seconds']} s ({g['db_mb']} MB)" for g in r["generation"]) + ".",
            "",
            table([[f"{s['archive']:,}", s["items_per_second"], s["per_item_ms"], s["cpu_per_item_ms"], s["stages_ms"]["signature"], s["stages_ms"]["covered"],
                    s["stages_ms"]["duplicate"], s["stages_ms"]["index"], s["stages_ms"]["insert, flush, commit, rest"], s["p99_ms"], s["peak_rss_mb"], s["reprints_detected"]]
                   for s in r["sizes"]],
                  ["archive", "items/s", "ms/item (wall)", "CPU ms/item", "signature", "covered", "duplicate", "index", "insert+commit+rest", "p99 ms", "peak RSS MB", "reprints found"]),
            "", "Stage columns are ms per item (wall). Band-sharing rows met per lookup: "
            + ", ".join(f"{s['archive']:,}: {s.get('band_rows_per_item', '?')} rows → {s.get('candidates_per_item', '?')} candidates (cap {50})" for s in r["sizes"]) + ". "
            + "Reprints missed, and why: " + "; ".join(f"{s['archive']:,}: {s.get('reprint_misses') or 'none'}" for s in r["sizes"]) + ".",
            "", f"**diff_cost_growth = {r['diff_cost_growth']}** ({r['diff_cost_growth_basis']}); the band lookup alone (`duplicate()`) grew {r['duplicate_lookup_growth']}×.",
            "", f"Naive all-pairs at {r['naive']['archive']:,} archived ({r['naive']['sample']} items): every stored signature compared in Python "
            f"(`diff.similarity` + headline check, as `duplicate()` confirms) {r['naive']['python_all_pairs_ms_per_item']} ms/item = "
            f"{r['naive']['naive_python_over_lsh']}× the LSH `duplicate()` ({r['naive']['lsh_duplicate_ms_per_item']} ms); extrapolated to the largest archive "
            f"{r['naive']['naive_python_extrapolated_ms_at_largest']} ms/item. A vectorised numpy scan over an in-memory matrix: {r['naive']['numpy_all_pairs_ms_per_item']} ms/item "
            f"(+{r['naive']['numpy_load_ms']} ms to load the matrix once) — faster than the database lookup at this size, but linear: "
            f"~{r['naive'].get('naive_numpy_extrapolated_ms_at_largest', '?')} ms/item and a {r['naive'].get('numpy_matrix_mb_at_largest', '?')} MB matrix at the largest archive.",
            "", f"`covered()` with {r['covered_with_references']['references']:,} cited report references (~{r['covered_with_references']['references'] // 40} weekly issues): "
            f"**{r['covered_with_references']['covered_ms_per_item']} ms per item** (vs {r['sizes'][-1]['covered_ms_no_refs']} ms with none); whole judge path {r['covered_with_references']['per_item_ms']} ms/item.",
        ]
    if "tagging_digest" in b and "error" not in b["tagging_digest"]:
        t, d = b["tagging_digest"]["tagging"], b["tagging_digest"]["digest"]
        out += [
            "", "## 4. Tagging and digest" + _when(b["tagging_digest"]), "",
            f"Tagger built in {t['taxonomy_load_and_build_s']} s; jieba dictionary {t['jieba_load_s']} s (once per process).", "",
            table([[label, row["items"], row["mean_body_bytes"], row["mean_body_chars"], row["items_per_second"], row["cpu_ms_per_item"]] for label, row in t["bodies"].items()],
                  ["bodies", "items", "mean bytes", "mean chars", "items/s (CPU)", "CPU ms/item"]),
            "",
            table([[f"{d['candidates']:,}", d["entries"], d["groups"], d["build_s"], d["render_s"], f"{d['build_cold_s']} + {d['render_cold_s']}", d["html_kb"], d["text_kb"], d["peak_python_alloc_mb"]]],
                  ["candidates", "entries", "groups", "build s", "render s", "cold build + render s", "HTML KB", "text KB", "peak alloc MB"]),
        ]
    if "daemon_idle" in b and "error" not in b["daemon_idle"]:
        r = b["daemon_idle"]
        out += [
            "", "## 5. Daemon footprint" + _when(r), "",
            f"`python -m radar daemon`, temp SQLite, every project source scheduled ({r['persisted_jobs']} persisted jobs), sampled every second for {r['window_s']} s once the heartbeat was written.",
            "",
            table([
                ["idle_rss_mb (median)", r["idle_rss_mb"]], ["RSS max / growth over the window", f"{r['idle_rss_max_mb']} / {r['idle_rss_growth_mb']} MB"],
                ["idle_cpu_percent", f"{r['idle_cpu_percent']} % of one core ({r['idle_cpu_seconds']} s CPU)"],
                ["start-up", f"{r['startup_s']} s wall, {r['startup_cpu_s']} s CPU, {r['startup_rss_mb']} MB"], ["threads", r["threads"]],
                ["crawl children seen", r["crawl_children_seen"]], ["SIGTERM", f"exit {r['sigterm_exit_code']} in {r['sigterm_stop_s']} s"],
            ], ["figure", "value"]),
        ]
    for name, title in (("scrapyd_throughput", "6. Crawls on Scrapyd nodes"), ("takeover", "7. Standby takeover")):
        if name in b and "error" not in b[name]:
            out += ["", f"## {title}" + _when(b[name]), "", summary(name, b[name])]
    errors = {name: r["error"] for name, r in b.items() if "error" in r}
    if errors:
        out += ["", "## Failed benchmarks", ""] + [f"- {name}: {error}" for name, error in errors.items()]
    notes = HERE / "NOTES.md"
    if notes.exists():
        out += ["", notes.read_text(encoding="utf-8").strip()]
    out += ["", "Benchmark wall times: " + ", ".join(f"{name} {r.get('benchmark_seconds')} s" for name, r in b.items()), ""]
    return "\n".join(out)


if __name__ == "__main__":
    main()
