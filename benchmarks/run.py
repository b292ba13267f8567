"""Run the benchmarks and print one table: ``python -m benchmarks [--full | --smoke] [--only P1,P3] [--readme]``."""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from benchmarks import auth_verify, cpu, fanout, imports, pagination, rate_limited
from benchmarks.common import DEFAULT, FULL, SMOKE, Result, Sizes

BENCHMARKS: dict[str, Callable[[Sizes], list[Result]]] = {
    "P1": cpu.run,
    "P2": rate_limited.run,
    "P3": fanout.run_fanout,
    "P4": pagination.run,
    "P5": imports.run,
    "P6": auth_verify.run,
    "Q": fanout.run_queue,
}
README = Path(__file__).resolve().parent.parent / "README.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--full", action="store_true", help="the issue's full sizes (P4: 100,000 users; slower)")
    size.add_argument("--smoke", action="store_true", help="tiny sizes: the harness runs, timings mean nothing")
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(BENCHMARKS)}")
    parser.add_argument("--readme", action="store_true", help="write the table into README.md (## Benchmarks)")
    args = parser.parse_args(argv)
    sizes = FULL if args.full else SMOKE if args.smoke else DEFAULT
    chosen = [b.strip().upper() for b in args.only.split(",")] if args.only else list(BENCHMARKS)
    unknown = [b for b in chosen if b not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)} (choose from {', '.join(BENCHMARKS)})")

    results: list[Result] = []
    for name in chosen:
        started = time.perf_counter()
        print(f"running {name} ({sizes.name} sizes)...", file=sys.stderr, flush=True)
        results += BENCHMARKS[name](sizes)
        print(f"  {name} took {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)

    table = markdown_table(results)
    print(f"\n{machine()}\n\n{table}")
    judged = [r for r in results if r.met is not None]
    print(f"\ntargets met: {sum(bool(r.met) for r in judged)}/{len(judged)}")
    if args.readme:
        write_readme(table, sizes, chosen)
    return 0 if all(r.met is not False for r in results) else 1


def markdown_table(results: list[Result]) -> str:
    mark = {True: "yes", False: "**NO**", None: ""}
    lines = ["| | benchmark | measured | target | met |", "|---|---|---|---|---|"]
    lines += [f"| {r.id} | {r.what} | {r.measured} | {r.target} | {mark[r.met]} |" for r in results]
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        names = re.findall(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = names[0].strip() if names else cpu
    except OSError:
        pass
    return (
        f"Machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {date.today().isoformat()}"
    )


def write_readme(table: str, sizes: Sizes, chosen: list[str]) -> None:
    command = "python -m benchmarks" + (" --full" if sizes is FULL else "")
    if len(chosen) < len(BENCHMARKS):
        command += f" --only {','.join(chosen)}"
    section = (
        "## Benchmarks\n\n"
        f"`{command}` (nox: `nox -s bench`); ratios are measured side by side in one run, servers in a separate "
        "process over loopback. P1/P3/Q use a trivial aiohttp server answering a real `users.get` body; P2/P4/P6 the "
        "emulator.\n\n"
        f"{machine()}\n\n{table}\n"
    )
    text = README.read_text() if README.exists() else ""
    match = re.search(r"^## Benchmarks\n.*?(?=^## |\Z)", text, re.S | re.M)
    if match:
        text = text[: match.start()] + section + ("\n" + text[match.end() :] if text[match.end() :] else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    README.write_text(text)
    print(f"wrote the table into {README}", file=sys.stderr)
