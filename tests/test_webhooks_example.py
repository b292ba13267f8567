"""examples/webhooks_fastapi.py end to end: the emulator (over a loopback socket) sends its webhooks to the example
served by uvicorn on 127.0.0.1, and the example's SQLite tables end equal to the emulator's state.

The project makes no personal teams: Stack announces no membership for a team's creator, so a receiver cannot
mirror those from events alone (the example's docstring says so); here every membership comes from an API call.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from apps import load_example, server_app_kwargs

from stack_auth import AsyncStackServerApp
from stack_auth.testing import Emulator
from stack_auth.testing.server import ServerThread


class LosingAnswers:
    """ASGI wrapper: the deliveries ``lose`` picks reach the example (and are applied), but their answers are lost
    and replaced by a 500, so the sender retries deliveries the example already applied. Records each answer."""

    def __init__(self, app: Any, lose: Callable[[str], bool]) -> None:
        self.app, self.lose = app, lose
        self.answers: list[tuple[str, int, bytes]] = []  # (delivery id, status the example gave, its body)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        delivery_id = dict(scope["headers"]).get(b"svix-id", b"").decode()
        sent: list[dict[str, Any]] = []

        async def keep(message: dict[str, Any]) -> None:
            sent.append(message)

        await self.app(scope, receive, keep)
        status = next(m["status"] for m in sent if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        self.answers.append((delivery_id, status, body))
        if self.lose(delivery_id):
            sent = [
                {"type": "http.response.start", "status": 500, "headers": [(b"content-length", b"0")]},
                {"type": "http.response.body", "body": b""},
            ]
        for message in sent:
            await send(message)


def failing(mode: str) -> Callable[[str], bool]:
    """Which answers to lose: none, the first two (two attempts of the first delivery), or the first answer to each
    of the first two deliveries."""
    requests: list[str] = []

    def lose(delivery_id: str) -> bool:
        first_time = delivery_id not in requests
        requests.append(delivery_id)
        if mode == "first two requests":
            return len(requests) <= 2
        if mode == "first two deliveries once":
            return first_time and len(set(requests)) <= 2
        return False

    return lose


@pytest.fixture
def receiver_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "mirror.sqlite3"
    monkeypatch.setenv("WEBHOOKS_DB", str(db))
    return db


def serve_example(db: Path, mode: str = "none") -> tuple[LosingAnswers, ServerThread]:
    example = load_example("webhooks_fastapi.py")
    wrapped = LosingAnswers(example.app, failing(mode))
    server = ServerThread(wrapped, "127.0.0.1", 0)
    server.start()
    return wrapped, server


@pytest.fixture
def emu() -> Iterator[Emulator]:
    e = Emulator(create_personal_team=False)
    e.webhooks.retry_schedule = (0.05, 0.1, 0.2, 0.4)
    yield e
    e.webhooks.close()


def mirror(db: Path) -> dict[str, set[tuple[Any, ...]]]:
    with sqlite3.connect(db) as conn:
        return {
            table: set(conn.execute(f"SELECT * FROM {table}"))
            for table in ("users", "teams", "team_members", "team_permissions")
        }


async def emulator_state(emu: Emulator, app: AsyncStackServerApp) -> dict[str, set[tuple[Any, ...]]]:
    users = {(u["id"], u["primary_email"], u["display_name"], json.dumps(u["server_metadata"])) for u in emu.users()}
    teams = {(t["id"], t["display_name"]) for t in emu.teams()}
    members = {(t, u) for t, _ in teams for u in emu.team_members(t)}
    permissions = {(t, u, p.id) for t, u in members for p in await app.teams.list_permissions(t, u, recursive=False)}
    return {"users": users, "teams": teams, "team_members": members, "team_permissions": permissions}


@pytest.mark.parametrize(
    ("mode", "first_statuses", "second_statuses"),
    [
        ("none", [200], [200]),
        ("first two requests", [500, 500, 200], [200]),
        ("first two deliveries once", [500, 200], [500, 200]),
    ],
)
async def test_the_example_mirrors_the_emulator(
    anyio_backend: str,
    emu: Emulator,
    receiver_db: Path,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
    first_statuses: list[int],
    second_statuses: list[int],
) -> None:
    wrapped, server = serve_example(receiver_db, mode)
    try:
        secret = emu.webhooks.add_endpoint(f"{server.url}/webhooks/stack")
        monkeypatch.setenv("STACK_WEBHOOK_SECRET", secret)  # what StackWebhook reads, per request
        with emu.serve() as base_url:
            async with AsyncStackServerApp(**server_app_kwargs(emu), base_url=base_url) as app:
                ada = await app.users.create(primary_email="ada@example.com", display_name="Ada")
                bob = await app.users.create(primary_email="bob@example.com", server_metadata={"plan": "pro"})
                team = await app.teams.create(display_name="Engines")
                await app.teams.add_member(team.id, ada.id)
                await app.teams.add_member(team.id, bob.id)
                await app.teams.grant_permission(team.id, bob.id, "$update_team")
                await app.users.update(ada.id, display_name="Ada Lovelace")
                await app.users.delete(bob.id)
                await emu.webhooks.aflush(30)
                expected = await emulator_state(emu, app)
    finally:
        server.stop()

    assert mirror(receiver_db) == expected
    assert expected["users"] == {(ada.id, "ada@example.com", "Ada Lovelace", "null")}
    assert expected["team_members"] == {(team.id, ada.id)}
    assert expected["team_permissions"] == {(team.id, ada.id, "team_member")}

    deliveries = emu.webhooks.deliveries
    assert [d.state for d in deliveries] == ["delivered"] * len(deliveries)
    assert [a.status for a in deliveries[0].attempts] == first_statuses
    assert [a.status for a in deliveries[1].attempts] == second_statuses
    # Every delivery applied exactly once: the retries of the first one were recognised by their delivery id.
    applied = [d for d, status, body in wrapped.answers if json.loads(body) == {"applied": True}]
    assert sorted(applied) == sorted(d.id for d in deliveries)
    skipped = [d for d, status, body in wrapped.answers if json.loads(body) == {"applied": False}]
    assert skipped == [d.id for d in deliveries[:2] for _ in d.attempts[1:]]
    with sqlite3.connect(receiver_db) as conn:
        assert sorted(row[0] for row in conn.execute("SELECT id FROM deliveries")) == sorted(d.id for d in deliveries)


def test_the_example_refuses_an_unsigned_delivery(receiver_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx

    monkeypatch.setenv("STACK_WEBHOOK_SECRET", "whsec_" + "a" * 32)
    _, server = serve_example(receiver_db)
    try:
        body = b'{"type": "user.deleted", "data": {"id": "x", "teams": []}}'
        headers = {"svix-id": "msg_forged", "svix-timestamp": "1700000000", "svix-signature": "v1,Zm9yZ2Vk"}
        r = httpx.post(f"{server.url}/webhooks/stack", content=body, headers=headers, timeout=10)
    finally:
        server.stop()
    assert r.status_code == 400
    assert r.json() == {"detail": "no svix-signature matches this body, id and timestamp for this secret"}
    assert all(rows == set() for rows in mirror(receiver_db).values())
