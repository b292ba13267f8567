"""P5: ``import stack_auth`` vs ``import httpx``, each in fresh interpreters (median of many), import time only."""

from __future__ import annotations

import subprocess
import sys

from benchmarks.common import Result, Sizes, check, median

CODE = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def import_seconds(module: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", CODE.format(module=module)], capture_output=True, text=True, check=True
    )
    return float(done.stdout)


def run(sizes: Sizes) -> list[Result]:
    modules = ("stack_auth", "httpx")
    for module in modules:
        import_seconds(module)  # bytecode caches written
    times: dict[str, list[float]] = {m: [] for m in modules}
    for _ in range(sizes.import_repeats):
        for module in modules:
            times[module].append(import_seconds(module))
    ours, theirs = median(times["stack_auth"]), median(times["httpx"])
    return [
        Result(
            "P5",
            f"import time, fresh interpreter (median of {sizes.import_repeats})",
            f"{ours / theirs:.2f}x ({ours * 1000:.0f} ms vs httpx {theirs * 1000:.0f} ms)",
            "<= 1.3x",
            check(ours / theirs <= 1.3, sizes),
        )
    ]
