"""Shared fixtures: both anyio backends, the emulator in-process and over a real loopback socket, ready apps."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from apps import server_app_kwargs

from stack_auth import AsyncStackClientApp, AsyncStackServerApp, StackClientApp, StackServerApp
from stack_auth.testing import Emulator, in_process_app

#: What the tests read of Stack's API, kept in the repository (``scripts/gen_test_data.py`` writes it).
DATA = Path(__file__).resolve().parent / "data"
SAMPLES_PATH = DATA / "real-samples" / "samples.json"


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def samples() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SAMPLES_PATH.read_text())
    return data


@pytest.fixture
def emulator() -> Emulator:
    return Emulator()


@pytest.fixture
def served(emulator: Emulator) -> Iterator[str]:
    """The emulator behind uvicorn on 127.0.0.1: the base URL."""
    with emulator.serve() as base_url:
        yield base_url


@pytest.fixture(params=["in-process", "loopback"])
async def app(request: pytest.FixtureRequest, emulator: Emulator) -> AsyncIterator[AsyncStackServerApp]:
    """An async server app on the emulator: through httpx.ASGITransport, and over a real socket (our own pool)."""
    if request.param == "in-process":
        async with in_process_app(emulator, AsyncStackServerApp) as in_process:
            yield in_process
    else:
        with emulator.serve() as base_url:
            async with AsyncStackServerApp(**server_app_kwargs(emulator), base_url=base_url) as over_socket:
                yield over_socket


@pytest.fixture
def sync_app(emulator: Emulator, served: str) -> Iterator[StackServerApp]:
    with StackServerApp(**server_app_kwargs(emulator), base_url=served) as app:
        yield app


@pytest.fixture
async def client_app(app: AsyncStackServerApp, emulator: Emulator) -> AsyncIterator[AsyncStackClientApp]:
    """A client app (no token store: calls pass ``tokens=``) beside ``app``: over the same socket, or in-process."""
    if app.base_url.startswith("http://127.0.0.1"):
        async with AsyncStackClientApp(
            project_id=emulator.project_id,
            publishable_client_key=emulator.publishable_client_key,
            base_url=app.base_url,
            token_store=None,
        ) as over_socket:
            yield over_socket
    else:
        async with in_process_app(emulator, AsyncStackClientApp, token_store=None) as in_process:
            yield in_process


@pytest.fixture
def sync_client_app(emulator: Emulator, served: str) -> Iterator[StackClientApp]:
    """A sync client app (no token store) on the served emulator."""
    with StackClientApp(
        project_id=emulator.project_id,
        publishable_client_key=emulator.publishable_client_key,
        base_url=served,
        token_store=None,
    ) as client:
        yield client
