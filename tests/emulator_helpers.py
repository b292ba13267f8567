"""Helpers shared by the emulator's tests (``tests/test_emulator_*.py``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from stack_auth.testing import Emulator

#: The OpenAPI documents (trimmed) and real samples, kept in the repository (``scripts/gen_test_data.py``).
SPEC_DIR = Path(__file__).resolve().parent / "data"
BASE_URL = "http://testserver"


def spec_dir() -> Path:
    """The folder of the OpenAPI documents and real samples (a missing file fails the test that reads it)."""
    return SPEC_DIR


def samples(name: str = "samples.json") -> dict[str, Any]:
    """The real answers of ``real-samples/<name>`` (``samples.json`` or ``samples-wave2.json``)."""
    data: dict[str, Any] = json.loads((SPEC_DIR / "real-samples" / name).read_text(encoding="utf-8"))
    return data


@dataclass
class Recorded:
    method: str
    path: str
    access_type: str | None
    status: int
    headers: httpx.Headers
    body: bytes


class Recorder:
    """Keeps every answer a client received (an httpx response hook)."""

    def __init__(self) -> None:
        self.records: list[Recorded] = []

    async def __call__(self, response: httpx.Response) -> None:
        await response.aread()
        request = response.request
        self.records.append(
            Recorded(
                request.method,
                request.url.path,
                request.headers.get("x-stack-access-type"),
                response.status_code,
                response.headers,
                response.content,
            )
        )


@asynccontextmanager
async def client_for(emu: Emulator, recorder: Recorder | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to ``emu`` in-process."""
    hooks: dict[str, list[Any]] = {"response": [recorder]} if recorder is not None else {}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emu.asgi_app), base_url=BASE_URL, event_hooks=hooks
    ) as client:
        yield client


def known_error(response: httpx.Response) -> tuple[int, str, dict[str, Any]]:
    """(status, code, body) of a known-error answer, checking header/body agreement on the way."""
    body: dict[str, Any] = response.json()
    assert response.headers["x-stack-known-error"] == body["code"]
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert isinstance(body["error"], str)
    return response.status_code, body["code"], body


async def new_user(client: httpx.AsyncClient, emu: Emulator, **fields: Any) -> dict[str, Any]:
    r = await client.post("/api/v1/users", json=fields, headers=emu.headers("server"))
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


async def sign_in(client: httpx.AsyncClient, emu: Emulator, user_id: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/sessions", json={"user_id": user_id}, headers=emu.headers("server"))
    assert r.status_code == 200, r.text
    data: dict[str, str] = r.json()
    return data


def last_request(emu: Emulator, route: str = "*") -> tuple[str, str, dict[str, str], Any]:
    """(method, path, query, JSON body) of the last request the emulator received on ``route``."""
    record = emu.stats.requests(route)[-1]
    return record.method, record.path, record.query, record.body
