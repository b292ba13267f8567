"""P5: importing the SDK vs ``import httpx``, each in fresh interpreters (median of many), import time only.

The target is on ``import stack_auth`` (the package: errors, models, lazily loaded app names). The first use of each
app class (``from stack_auth import AsyncStackServerApp`` / ``StackServerApp``), what an application really pays, is
shown beside it as context: it adds attrs (about 18 ms here, the model library the design requires) and httpx itself.
"""

from __future__ import annotations

import subprocess
import sys

from benchmarks.common import Result, Sizes, check, median

CODE = "import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
BASELINE = "import httpx"
STATEMENTS = (
    "import stack_auth",
    "from stack_auth import AsyncStackServerApp",
    "from stack_auth import StackServerApp",
)


def import_seconds(statement: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", CODE.format(statement=statement)], capture_output=True, text=True, check=True
    )
    return float(done.stdout)


def run(sizes: Sizes) -> list[Result]:
    statements = (BASELINE, *STATEMENTS)
    for statement in statements:
        import_seconds(statement)  # bytecode caches written
    times: dict[str, list[float]] = {s: [] for s in statements}
    for _ in range(sizes.import_repeats):
        for statement in statements:
            times[statement].append(import_seconds(statement))
    theirs = median(times[BASELINE])
    results = []
    for statement in STATEMENTS:
        ratio = median(times[statement]) / theirs
        targeted = statement == "import stack_auth"
        results.append(
            Result(
                "P5",
                f"`{statement}` vs `{BASELINE}`, fresh interpreter (median of {sizes.import_repeats})",
                f"{ratio:.2f}x ({median(times[statement]) * 1000:.0f} ms vs {theirs * 1000:.0f} ms)",
                "<= 1.3x" if targeted else "",
                check(ratio <= 1.3, sizes) if targeted else None,
            )
        )
    return results
