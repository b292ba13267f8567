"""P5: start-up. Importing the SDK vs ``import httpx``, and whole commands vs ``python -c "import httpx"``.

- Import time in a fresh interpreter (median of many): ``import stack_auth`` (the package: errors, models, lazily
  loaded app names) has the target; ``from stack_auth import StackServerApp`` (the sync API, built on httpx) is shown
  beside it as context.
- Whole processes, start to exit, as a shell runs them: ``stack-auth --help`` (argparse help must not import the HTTP
  stack) and ``python -c "from stack_auth import AsyncStackServerApp"`` (the async API imports neither httpx nor
  aiohttp until an app is built), against ``python -c "import httpx"``. Measured as the CPU time (user + system) the
  operating system accounts to each finished child, which a loaded machine disturbs far less than wall time; the
  commands run in turn (A, B, A, B, ...) so that a drift in the machine's speed hits both.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from benchmarks.common import Result, Sizes, check, median

CODE = "import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
BASELINE = "import httpx"
STATEMENTS = ("import stack_auth", "from stack_auth import StackServerApp")

BASELINE_COMMAND = [sys.executable, "-c", "import httpx"]
COMMANDS = {
    "`stack-auth --help`": [sys.executable, "-m", "stack_auth", "--help"],
    '`python -c "from stack_auth import AsyncStackServerApp"`': [
        sys.executable,
        "-c",
        "from stack_auth import AsyncStackServerApp",
    ],
}
COMMAND_TARGET = 1.1


def import_seconds(statement: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", CODE.format(statement=statement)], capture_output=True, text=True, check=True
    )
    return float(done.stdout)


def process_cpu_seconds(command: list[str]) -> float:
    """User + system CPU seconds of one run of ``command``, as the kernel accounts them to the reaped child."""
    if not hasattr(os, "wait4"):  # not on POSIX: wall time instead
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        return time.perf_counter() - started
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, command)
    return usage.ru_utime + usage.ru_stime


def run(sizes: Sizes) -> list[Result]:
    return import_rows(sizes) + command_rows(sizes)


def import_rows(sizes: Sizes) -> list[Result]:
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


def command_rows(sizes: Sizes) -> list[Result]:
    commands = {"baseline": BASELINE_COMMAND, **COMMANDS}
    for command in commands.values():
        process_cpu_seconds(command)  # bytecode caches written
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(sizes.import_repeats):
        for name, command in commands.items():
            times[name].append(process_cpu_seconds(command))
    theirs = median(times["baseline"])
    results = []
    for name in COMMANDS:
        ours = median(times[name])
        results.append(
            Result(
                "P5",
                f'{name} vs `python -c "import httpx"`, whole process, CPU time (median of {sizes.import_repeats})',
                f"{ours / theirs:.2f}x ({ours * 1000:.0f} ms vs {theirs * 1000:.0f} ms)",
                f"<= {COMMAND_TARGET}x",
                check(ours / theirs <= COMMAND_TARGET, sizes),
            )
        )
    return results
