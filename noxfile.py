"""Developer sessions: ``nox -s tests lint typecheck docs gen-sync api-snapshot bench``."""

from __future__ import annotations

import os

import nox

nox.options.sessions = ["tests", "lint", "typecheck", "docs"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
@nox.parametrize("http", ["httpx", "httpx2"])
def tests(session: nox.Session, http: str) -> None:
    """The whole suite on asyncio and trio, with httpx only or with httpx2 installed (then the SDK uses httpx2).

    ``nox -s tests`` runs both; ``nox -s "tests(http='httpx2')"`` one."""
    session.install("-e", ".[dev,httpx2]" if http == "httpx2" else ".[dev]")
    # tests/test_httpx_choice.py checks that the SDK really runs on the library this session is for.
    session.run("pytest", *session.posargs, env={"STACK_AUTH_TEST_HTTPX": http})


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
    # httpx2 too: tests/typing checks that either library's clients and timeouts type-check as app options.
    session.install("-e", ".[dev,httpx2]")
    session.run("mypy", "--strict", "stack_auth", "tests/typing")


@nox.session
def docs(session: nox.Session) -> None:
    """The API reference site (site/), strict: a public name without a docstring or a broken reference fails."""
    session.install("-e", ".[docs]")
    # NO_MKDOCS_2_WARNING: mkdocs-material's banner about its successor, printed on every build.
    session.run("mkdocs", "build", "--strict", *session.posargs, env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session(name="api-snapshot")
def api_snapshot(session: nox.Session) -> None:
    """Accept a change of the public API: rewrite the snapshot (tests/public-api.txt) from the source."""
    session.install("griffe>=1.7")
    session.run("python", "scripts/public_api.py")


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
