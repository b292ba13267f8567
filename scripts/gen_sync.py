"""Generate the sync API (``stack_auth/_sync``) from the async source (``stack_auth/_async``), unasync-style.

Every coroutine becomes a plain function, every async iterator and context manager its sync twin, and names with an
``Async`` prefix (or ``async_``) lose it: ``AsyncStackServerApp`` -> ``StackServerApp``, ``AsyncHttpBackend`` ->
``HttpBackend``, ``async_sleep`` -> ``sleep``. The twins of the few hand-written primitives live beside them
(``stack_auth/_concurrency.py``, ``stack_auth/_sync_http.py``).

    python scripts/gen_sync.py           # rewrite stack_auth/_sync
    python scripts/gen_sync.py --check   # exit 1 if stack_auth/_sync is stale (the test suite runs this)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "stack_auth" / "_async"
TARGET = ROOT / "stack_auth" / "_sync"

SUBSTITUTIONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), r)
    for p, r in [
        (r"\basync def\b", "def"),
        (r"\basync with\b", "with"),
        (r"\basync for\b", "for"),
        (r"\bawait ", ""),
        (r"\b__aenter__\b", "__enter__"),
        (r"\b__aexit__\b", "__exit__"),
        (r"\b__aiter__\b", "__iter__"),
        (r"\b__anext__\b", "__next__"),
        (r"\baclose\b", "close"),
        (r"\banext\(", "next("),
        (r"\bStopAsyncIteration\b", "StopIteration"),
        (r"\bAsync([A-Z]\w*)", r"\1"),
        (r"\basync_(\w+)", r"\1"),
        (r"\._async(?=[._\s]|$)", "._sync"),
    ]
]
FORBIDDEN = re.compile(r"^\s*(import|from)\s+(asyncio|anyio|trio)\b", re.M)


def strip_awaitable(text: str) -> str:
    """``Awaitable[X]`` -> ``X`` (with nested brackets)."""
    out = []
    i = 0
    while (j := text.find("Awaitable[", i)) != -1:
        out.append(text[i:j])
        k = j + len("Awaitable[")
        depth = 1
        start = k
        while depth:
            depth += {"[": 1, "]": -1}.get(text[k], 0)
            k += 1
        out.append(text[start : k - 1])
        i = k
    out.append(text[i:])
    return "".join(out)


def unasync(source: str, relative: str) -> str:
    if FORBIDDEN.search(source):
        raise SystemExit(f"stack_auth/_async/{relative} imports an event-loop library; use stack_auth._concurrency")
    text = strip_awaitable(source)
    text = re.sub(r"\bAwaitable, |, Awaitable\b", "", text)
    for pattern, replacement in SUBSTITUTIONS:
        text = pattern.sub(replacement, text)
    header = f"# GENERATED from stack_auth/_async/{relative} by scripts/gen_sync.py: edit the source, not this file.\n"
    return header + text


def generate() -> dict[Path, str]:
    """The sync files, by path, as they should be."""
    return {
        TARGET / path.relative_to(SOURCE): unasync(path.read_text(), path.relative_to(SOURCE).as_posix())
        for path in sorted(SOURCE.rglob("*.py"))
    }


def stale(expected: dict[Path, str]) -> list[str]:
    problems = [str(p.relative_to(ROOT)) for p, text in expected.items() if not p.exists() or p.read_text() != text]
    problems += [str(p.relative_to(ROOT)) + " (not generated)" for p in TARGET.rglob("*.py") if p not in expected]
    return problems


def main() -> int:
    expected = generate()
    if "--check" in sys.argv:
        problems = stale(expected)
        if problems:
            print("stack_auth/_sync is stale; run: python scripts/gen_sync.py\n  " + "\n  ".join(problems))
            return 1
        return 0
    for path in TARGET.rglob("*.py"):
        if path not in expected:
            path.unlink()
    for path, text in expected.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
