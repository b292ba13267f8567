"""Pytest fixtures for the emulator (registered as the ``stack_auth`` pytest11 entry point).

This module imports nothing optional at import time: starlette, uvicorn and pyjwt load inside the fixtures.

* ``stack_emulator``: a fresh :class:`~stack_auth.testing.Emulator` per test (seed 0, default project ``internal``
  with the local development keys);
* ``stack_emulator_url``: that emulator served over a loopback socket; the base URL (``http://127.0.0.1:PORT``);
* ``stack_server_app`` / ``stack_client_app``: async apps on ``stack_emulator``, in-process (no socket), closed after
  the test (async fixtures: mark the test ``@pytest.mark.anyio``);
* ``stack_sync_server_app`` / ``stack_sync_client_app``: sync apps on ``stack_emulator_url``.

::

    @pytest.mark.anyio
    async def test_signup_creates_a_user(stack_server_app, stack_emulator):
        await my_code.sign_up(stack_server_app, "a@example.com")
        assert stack_emulator.stats.count("POST /users") == 1

    def test_legacy_view(stack_sync_server_app):
        assert stack_sync_server_app.users.get("00000000-0000-4000-8000-000000000000") is None
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from stack_auth import AsyncStackClientApp, AsyncStackServerApp, StackClientApp, StackServerApp
    from stack_auth.testing.emulator import Emulator


@pytest.fixture
def stack_emulator() -> Iterator[Emulator]:
    """A fresh emulator for this test."""
    from stack_auth.testing.emulator import Emulator

    emulator = Emulator(seed=0)
    yield emulator
    emulator.webhooks.close()  # ends the delivery threads of the endpoints the test added, if any


@pytest.fixture
def stack_emulator_url(stack_emulator: Emulator) -> Iterator[str]:
    """``stack_emulator`` served by uvicorn on 127.0.0.1 (a free port) for the duration of the test."""
    with stack_emulator.serve() as url:
        yield url


@pytest.fixture
async def stack_server_app(stack_emulator: Emulator) -> AsyncIterator[AsyncStackServerApp]:
    """An ``AsyncStackServerApp`` on ``stack_emulator`` through ``httpx.ASGITransport`` (no socket)."""
    from stack_auth import AsyncStackServerApp
    from stack_auth.testing.apps import in_process_app

    async with in_process_app(stack_emulator, AsyncStackServerApp) as app:
        yield app


@pytest.fixture
async def stack_client_app(stack_emulator: Emulator) -> AsyncIterator[AsyncStackClientApp]:
    """An ``AsyncStackClientApp`` on ``stack_emulator`` through ``httpx.ASGITransport``, with a token store of its
    own (a sign-in in one test never shows in the next: the process-wide ``"memory"`` store is left alone)."""
    from stack_auth import AsyncStackClientApp, TokenStore
    from stack_auth.testing.apps import in_process_app

    async with in_process_app(stack_emulator, AsyncStackClientApp, token_store=TokenStore()) as app:
        yield app


@pytest.fixture
def stack_sync_server_app(stack_emulator: Emulator, stack_emulator_url: str) -> Iterator[StackServerApp]:
    """A ``StackServerApp`` on ``stack_emulator`` over a loopback socket."""
    from stack_auth import StackServerApp

    with StackServerApp(
        project_id=stack_emulator.project_id,
        secret_server_key=stack_emulator.secret_server_key,
        base_url=stack_emulator_url,
    ) as app:
        yield app


@pytest.fixture
def stack_sync_client_app(stack_emulator: Emulator, stack_emulator_url: str) -> Iterator[StackClientApp]:
    """A ``StackClientApp`` on ``stack_emulator`` over a loopback socket, with a token store of its own."""
    from stack_auth import StackClientApp, TokenStore

    with StackClientApp(
        project_id=stack_emulator.project_id,
        publishable_client_key=stack_emulator.publishable_client_key,
        base_url=stack_emulator_url,
        token_store=TokenStore(),
    ) as app:
        yield app
