"""The benchmark harness runs end to end at tiny sizes, so it cannot rot (timings at these sizes mean nothing)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmarks_run_at_smoke_sizes() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| P") or line.startswith("| Q")]
    assert {row.split("|")[1].strip() for row in rows} == {"P1", "P2", "P3", "P4", "P5", "P6", "Q"}
    # Correctness is judged at any size: the rate-limited batch lost and duplicated nothing.
    [sdk_batch] = [row for row in rows if "bulk.create_users" in row]
    assert "0 failed, 0 duplicates" in sdk_batch
    assert sdk_batch.rstrip(" |").endswith("yes")


def test_unknown_benchmark_is_a_usage_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--only", "P9"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "unknown benchmark" in done.stderr
