"""Shared helpers for the benchmarks: the machine, environments, measured child processes."""

from __future__ import annotations

import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SITES = ROOT / "crawler" / "sites"
WATCHLISTS = ROOT / "watchlists"
EXPECTED = ROOT / "tests" / "fixtures" / "expected"


def machine() -> dict:
    """CPU model, cores, Python and date: every figure is meaningless without them."""
    model = platform.processor() or "?"
    try:
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        model = found.group(1).strip() if found else model
    except OSError:
        pass
    try:
        import psutil

        memory_gb = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:  # pragma: no cover
        memory_gb = None
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def temp_dir(prefix: str) -> Path:
    """A fresh directory outside the repository (removed by :func:`cleanup`)."""
    return Path(tempfile.mkdtemp(prefix=f"radar-bench-{prefix}-"))


def cleanup(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def radar_env(home: Path, database_url: str, watchlists: Path, proxy: str | None = None, **extra: str) -> dict[str, str]:
    """The environment tests give `crawl` (tests/conftest.py base_env): nothing of the developer's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RADAR_") and k.lower() not in ("http_proxy", "https_proxy")}
    env |= {
        "HOME": str(home / "home"),
        "XDG_DATA_HOME": str(home / "home" / "data"),
        "RADAR_WATCHLISTS": str(watchlists),
        "RADAR_DATABASE_URL": database_url,
        "RADAR_POLITE": "false",
        "RADAR_CONFIG": str(home / "no-radar.toml"),
        "PYTHONWARNINGS": "ignore",
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    if proxy:
        env["RADAR_PROXY"] = proxy
    return env | extra


@dataclass
class Measured:
    """A finished child process: exit status, wall seconds, its own CPU and peak RSS (wait4)."""

    returncode: int
    seconds: float
    cpu_user: float
    cpu_system: float
    max_rss_mb: float
    stdout: str = ""
    stderr: str = ""
    samples: list = field(default_factory=list)

    @property
    def cpu(self) -> float:
        return self.cpu_user + self.cpu_system


def _peak_rss(pid: int, done: threading.Event, peak: list[int]) -> None:
    """Follow VmHWM (the peak RSS of the process's current address space) until ``done``.

    wait4's ru_maxrss is not used for memory: Linux folds the RSS of the address space the
    child had before exec — a copy of this (possibly large) benchmark process — into it."""
    status = Path(f"/proc/{pid}/status")
    while not done.wait(0.05):
        try:
            found = re.search(r"^VmHWM:\s+(\d+) kB", status.read_text(), re.M)
        except OSError:
            return
        if found:
            peak[0] = max(peak[0], int(found.group(1)))


def run_measured(command: list[str], env: dict[str, str], cwd: Path, timeout: float = 3600) -> Measured:
    """Run a command; CPU comes from wait4 (exactly that child and what it waited for,
    independent of other children of this process), peak RSS from /proc VmHWM samples."""
    out_path, err_path = cwd / f".out-{time.monotonic_ns()}", cwd / f".err-{time.monotonic_ns()}"
    with open(out_path, "w") as out, open(err_path, "w") as err:
        start = time.perf_counter()
        child = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=err)
        done, peak = threading.Event(), [0]
        watcher = threading.Thread(target=_peak_rss, args=(child.pid, done, peak), daemon=True)
        watcher.start()
        timer = threading.Timer(timeout, child.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(child.pid, 0)
        finally:
            timer.cancel()
            done.set()
        seconds = time.perf_counter() - start
    watcher.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    result = Measured(
        child.returncode, seconds, usage.ru_utime, usage.ru_stime, peak[0] / 1024,
        out_path.read_text(errors="replace"), err_path.read_text(errors="replace"),
    )
    out_path.unlink(missing_ok=True)
    err_path.unlink(missing_ok=True)
    return result


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def crawl_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "radar", *args]


def table(rows: list[list[object]], header: list[str]) -> str:
    """A Markdown table."""
    text = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    lines = ["| " + " | ".join(text[0]) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in text[1:]]
    return "\n".join(lines)


def fmt(value: float, digits: int = 2) -> str:
    return f"{value:,.{digits}f}"
