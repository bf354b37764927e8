"""Run `python -m radar ARGS` (the `crawl` command) under pyinstrument and write its hotspots as JSON.

Usage: python bench/_profile_crawl.py OUT.json crawl-args...   (used by bench/pipeline.py)

Self time is summed per function over the whole call tree; time the reactor spends idle
waiting for the network (selectors/epoll) is reported apart, not as a hotspot.
"""

from __future__ import annotations

import json
import os
import re
import runpy
import sys
from pathlib import Path

IDLE = ("selectors.py", "threading.py")
PROJECT = ("crawler/", "storage/", "scheduler/", "radar/", "common/", "desk/")
ROOT = str(Path(__file__).resolve().parent.parent) + "/"  # this checkout: its files are the project's


def _where(frame) -> str:  # type: ignore[no-untyped-def]
    path = frame.file_path or ""
    found = re.search(r"site-packages/([^/]+)", path)
    if found:
        return found.group(1).split(".")[0]
    for part in PROJECT:
        if f"/{part}" in path:
            return part.rstrip("/") + "/" + Path(path).stem
    if "/lib/python" in path:
        return "stdlib/" + Path(path).stem
    return path or "?"


def _short(frame) -> str:  # type: ignore[no-untyped-def]
    path = frame.file_path or "?"
    for marker in ("site-packages/", ROOT, "/lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{frame.function} ({path}:{frame.line_no})"


def analyse(root) -> dict:  # type: ignore[no-untyped-def]
    self_time: dict[str, float] = {}
    inclusive: dict[str, float] = {}
    packages: dict[str, float] = {}
    idle = 0.0
    total = root.time

    def walk(frame, active: frozenset) -> None:  # type: ignore[no-untyped-def]
        nonlocal idle
        if frame.is_synthetic:  # "[self]" / "[await]" leaves: already in their parent's total_self_time
            return
        key = _short(frame)
        if any((frame.file_path or "").endswith(name) for name in IDLE):
            idle += frame.time  # the reactor (or a thread) waiting: not work
            return
        own = frame.total_self_time
        self_time[key] = self_time.get(key, 0.0) + own
        packages[_where(frame)] = packages.get(_where(frame), 0.0) + own
        if key not in active and any((frame.file_path or "").startswith(ROOT + p) for p in PROJECT):
            inclusive[key] = inclusive.get(key, 0.0) + frame.time
        for child in frame.children:
            walk(child, active | {key})

    sys.setrecursionlimit(100000)
    walk(root, frozenset())
    busy = total - idle

    def top(table: dict[str, float], n: int) -> list[dict]:
        return [{"where": k, "seconds": round(v, 3), "percent": round(100 * v / busy, 1) if busy else 0.0}
                for k, v in sorted(table.items(), key=lambda kv: -kv[1])[:n]]

    return {
        "total_seconds": round(total, 3), "idle_seconds": round(idle, 3), "busy_seconds": round(busy, 3),
        "self": top(self_time, 25), "inclusive_project": top(inclusive, 25), "packages": top(packages, 15),
    }


def main() -> None:
    from pyinstrument import Profiler

    here = str(Path(__file__).resolve().parent)  # bench/incremental.py would shadow Twisted's `incremental`
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]

    out = Path(sys.argv[1])
    sys.argv = ["crawl", *sys.argv[2:]]
    profiler = Profiler(interval=0.001, async_mode="disabled")
    profiler.start()
    try:
        runpy.run_module("radar", run_name="__main__", alter_sys=True)
    except SystemExit:
        pass
    finally:
        profiler.stop()
    session = profiler.last_session
    result = analyse(session.root_frame())
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1))
    out.with_suffix(".txt").write_text(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()
