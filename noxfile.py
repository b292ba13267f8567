"""Developer sessions: ``nox -s tests lint typecheck gen-sync bench``."""

from __future__ import annotations

import os

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    """The whole suite, async tests on asyncio and trio."""
    session.install("-e", ".[dev]")
    session.run("pytest", *session.posargs)


@nox.session
def conformance(session: nox.Session) -> None:
    """Schemathesis against the emulator, with a bigger budget than the suite's smoke run (a few minutes)."""
    session.install("-e", ".[dev]")
    examples = os.environ.get("STACK_CONFORMANCE_EXAMPLES", "40")
    session.run(
        "pytest",
        "-q",
        "tests/test_conformance_schemathesis.py",
        *session.posargs,
        env={"STACK_CONFORMANCE_EXAMPLES": examples},
    )


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff==0.17.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("mypy", "--strict", "stack_auth")


@nox.session(name="gen-sync")
def gen_sync(session: nox.Session) -> None:
    """Regenerate stack_auth/_sync from stack_auth/_async (and the error classes from known-errors.json)."""
    session.run("python", "scripts/gen_errors.py", external=True)
    session.run("python", "scripts/gen_sync.py", external=True)


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmark harness (ratios against raw aiohttp, raw httpx and requests); ``-- --full`` for full sizes."""
    session.install("-e", ".[dev]")
    session.run("python", "-m", "benchmarks", *session.posargs)
