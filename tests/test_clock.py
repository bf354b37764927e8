"""The date-bomb of issue 12 cannot come back: the tests whose outcome depends on "now" (what is
due, what is new since when) run again in a pytest subprocess whose clock is a year ahead or
several years back. libfaketime shifts the clock of that process and of every process it
starts (the `crawl` commands, the SMTP server); the PostgreSQL server keeps the real one,
which is fine because every timestamp we store comes from our side.

RADAR_TEST_REQUIRE_FAKETIME=1 (CI) turns a missing libfaketime (Debian: `faketime`) into a
failure instead of a skip.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, timezone
from glob import glob
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = next(iter(sorted(glob("/usr/lib/*/faketime/libfaketimeMT.so.1") + glob("/usr/lib/faketime/libfaketimeMT.so.1"))), None)
# Delivery by a pinned clock (backoff, retries to one channel) and by the real one (`crawl
# digest --send`), on both databases: enough to catch an outbox row due by the wrong clock.
TIME_SENSITIVE = ["tests/test_daemon.py", "-k", "channel_down_three_times or retried_to_that_channel_only or digest_send_delivers_one"]
PAST = date(2021, 3, 1)
CLOCKS = {"a year ahead": "+365d", "back in 2021": f"-{(date.today() - PAST).days}d"}


def faked(clock: str) -> dict[str, str]:
    if LIBRARY is None:
        if os.environ.get("RADAR_TEST_REQUIRE_FAKETIME") == "1":
            pytest.fail("RADAR_TEST_REQUIRE_FAKETIME=1 but libfaketime is not installed (apt-get install faketime)")
        pytest.skip("libfaketime is not installed (apt-get install faketime): the shifted-clock runs are skipped")
    # The monotonic clock is shifted by the same constant, so durations and timeouts stay right.
    # (FAKETIME_DONT_FAKE_MONOTONIC=1 would be neater, but with it libfaketime 0.9.10 makes
    # Python's time.sleep fail with EINVAL.)
    return os.environ | {"LD_PRELOAD": LIBRARY, "FAKETIME": clock}


@pytest.mark.parametrize("clock", CLOCKS.values(), ids=CLOCKS.keys())
def test_time_sensitive_tests_pass_under_a_shifted_clock(clock: str) -> None:
    env = faked(clock)
    year = subprocess.run([sys.executable, "-c", "import datetime; print(datetime.date.today().year)"],
                          env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert year != str(datetime.now(timezone.utc).year), "libfaketime did not shift the clock"  # else this tests nothing
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TIME_SENSITIVE],
                            env=env, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, f"under FAKETIME={clock}:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
    assert " passed" in result.stdout.strip().splitlines()[-1], result.stdout[-2000:]
