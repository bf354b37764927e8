"""Tagging throughput (desk.tagging.Tagger on 2–5 KB bodies) and digest building/rendering
(scheduler.digest.build + render) for thousands of candidates."""

from __future__ import annotations

import json
import random
import os
import sys
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

# bench/ goes last on the path: bench/incremental.py must not shadow Twisted's `incremental` package.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]

from harness import WATCHLISTS, cleanup, temp_dir  # noqa: E402


def _texts(rng: random.Random, count: int, low: int, high: int) -> list[tuple[str, str]]:
    from fixture import sentence_pool, title_pool

    sentences, titles = sentence_pool(), title_pool()
    out = []
    for i in range(count):
        want, parts, size = rng.randint(low, high), [], 0
        while size < want:  # UTF-8 bytes: ~3 per Chinese character
            paragraph = "".join(rng.choice(sentences) for _ in range(rng.randint(2, 4)))
            parts.append(paragraph)
            size += len(paragraph.encode("utf-8")) + 1
        out.append((f"{rng.choice(titles)}（{i}）", "\n".join(parts)))
    return out


def tagging(quick: bool) -> dict:
    from desk.tagging import Tagger, load_taxonomy, tokenizer

    rng = random.Random(3)
    start = time.perf_counter()
    taxonomy = load_taxonomy(WATCHLISTS / "topics.yml")
    tagger = Tagger(taxonomy, now=lambda: datetime(2024, 1, 1, tzinfo=timezone.utc))
    build = time.perf_counter() - start
    start = time.perf_counter()
    tokenizer()  # jieba's dictionary, loaded on the first ambiguous hit
    jieba = time.perf_counter() - start
    rows = {}
    hosts = ["www.most.gov.cn", "www.sz.gov.cn", "news.sciencenet.cn", "www.stdaily.com", "mp.weixin.qq.com"]
    for label, (low, high), count in (("2–5 KB", (2048, 5120), 300 if quick else 3000), ("15–30 KB", (15360, 30720), 50 if quick else 300)):
        texts = _texts(rng, count, low, high)
        tagger.tag(*texts[0], source="most", url="https://www.most.gov.cn/a.html")
        cpu = time.process_time()
        wall = time.perf_counter()
        for i, (title, body) in enumerate(texts):
            tagger.tag(title, body, source=None, url=f"https://{hosts[i % len(hosts)]}/a/{i}.html", published_at=datetime(2023, 12, 30, tzinfo=timezone.utc))
        cpu = time.process_time() - cpu
        wall = time.perf_counter() - wall
        mean_bytes = sum(len(b.encode("utf-8")) for _, b in texts) / count
        mean_chars = sum(len(b) for _, b in texts) / count
        rows[label] = {
            "items": count, "mean_body_bytes": round(mean_bytes), "mean_body_chars": round(mean_chars),
            "items_per_second": round(count / cpu, 1), "cpu_ms_per_item": round(cpu * 1000 / count, 3),
            "wall_ms_per_item": round(wall * 1000 / count, 3),
        }
    return {"taxonomy_load_and_build_s": round(build, 3), "jieba_load_s": round(jieba, 3), "bodies": rows}


def digest(quick: bool) -> dict:
    from desk.tagging import Tagger, load_taxonomy
    from scheduler import digest as digests
    from storage.db import ensure_schema, get_engine, transaction
    from storage.models import Item, Source

    count = 1000 if quick else 5000
    tmp = temp_dir("digest")
    try:
        url = f"sqlite:///{tmp / 'digest.sqlite'}"
        ensure_schema(url)
        rng = random.Random(4)
        tagger = Tagger(load_taxonomy(WATCHLISTS / "topics.yml"))
        texts = _texts(rng, count, 2048, 5120)
        now = datetime(2024, 1, 2, 0, 0, tzinfo=timezone.utc)
        start = time.perf_counter()
        with transaction(url) as session:
            sources = [Source(name=f"source{i}", label=f"来源{i} (출처{i})", kind="html_list", health="broken" if i == 3 else "ok",
                              last_error="rule `list.entry` matched nothing" if i == 3 else None) for i in range(27)]
            session.add_all(sources)
            session.flush()
            for i, (title, body) in enumerate(texts):
                result = tagger.tag(title, body, url=f"https://www.most.gov.cn/a/{i}.html")
                session.add(Item(
                    source_id=sources[i % 27].id, url=f"https://www.most.gov.cn/a/{i}.html", canonical_url=f"https://www.most.gov.cn/a/{i}.html",
                    title=title, body=body, content_hash=f"{i:064x}", published_at=now - timedelta(hours=rng.randint(1, 100)),
                    first_seen_at=now - timedelta(hours=rng.randint(1, 48)), topics=result.to_dict(), score=result.score, status="new",
                ))
        setup = time.perf_counter() - start
        tz = ZoneInfo("Asia/Seoul")
        timings: dict[str, float] = {}
        for attempt in range(2):  # the second pass is warm (templates compiled, pages cached)
            with transaction(url) as session:
                start = time.perf_counter()
                built = digests.build(session, now, tz, "digest", "editors")
                timings[f"build_s_{attempt}"] = time.perf_counter() - start
                start = time.perf_counter()
                message = digests.render(built, tag="editors")
                timings[f"render_s_{attempt}"] = time.perf_counter() - start
        tracemalloc.start()
        with transaction(url) as session:
            digests.render(digests.build(session, now, tz, "digest", "editors"), tag="editors")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        get_engine(url).dispose()
    finally:
        cleanup(tmp)
    return {
        "candidates": count, "entries": len(built.entries), "groups": len(built.groups), "setup_s": round(setup, 1),
        "build_s": round(timings["build_s_1"], 3), "render_s": round(timings["render_s_1"], 3),
        "build_cold_s": round(timings["build_s_0"], 3), "render_cold_s": round(timings["render_s_0"], 3),
        "html_kb": round(len(message.html.encode()) / 1024), "text_kb": round(len(message.text.encode()) / 1024),
        "markdown_kb": round(len(message.markdown.encode()) / 1024), "peak_python_alloc_mb": round(peak / 2**20, 1),
    }


def run(quick: bool) -> dict:
    return {"tagging": tagging(quick), "digest": digest(quick)}


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), ensure_ascii=False, indent=1))
