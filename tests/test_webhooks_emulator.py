"""The emulator's webhooks: what Stack sends for each change, signed as Svix signs, in order, retried, never blocking.

Deliveries go to a real HTTP receiver on 127.0.0.1 (the standard library's server, in a thread), which records
every request exactly as it arrived; signatures are checked here with a hand-computed HMAC.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from apps import server_app_kwargs
from emulator_helpers import client_for, spec_dir

from stack_auth import AsyncStackServerApp
from stack_auth.testing import Emulator, in_process_app
from stack_auth.testing.openapi import load_document, validate_webhook

try:
    from .test_webhooks_verify import hand_sign
except ImportError:  # tests/ run as a directory, not a package
    from test_webhooks_verify import hand_sign  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that records each POST; ``answer`` picks the status of each (by order)."""

    def __init__(self, answer: Callable[[int], int] = lambda n: 204) -> None:
        self.received: list[Received] = []
        self.answer = answer
        self.release = threading.Event()
        self.release.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.release.wait(10)
                receiver.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.answer(len(receiver.received)))
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # keep stderr clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/stack"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def emu() -> Iterator[Emulator]:
    e = Emulator()
    e.webhooks.retry_schedule = (0.01, 0.02, 0.04)
    yield e
    e.webhooks.close()


def assert_signed(received: Received, secret: str) -> None:
    h = received.headers
    assert h["content-type"] == "application/json"
    assert h["svix-id"].startswith("msg_") and len(h["svix-id"]) == 31
    assert abs(int(h["svix-timestamp"]) - time.time()) < 60
    key = base64.b64decode(secret.removeprefix("whsec_"))
    assert h["svix-signature"] == hand_sign(key, h["svix-id"], h["svix-timestamp"], received.body)


async def test_sdk_changes_arrive_as_the_events_stack_sends(
    anyio_backend: str, emu: Emulator, receiver: Receiver
) -> None:
    secret = emu.webhooks.add_endpoint(receiver.url)
    async with in_process_app(emu, AsyncStackServerApp) as app:
        ada = await app.users.create(primary_email="ada@example.com", display_name="Ada")
        team = await app.teams.create(display_name="T", creator_user_id=ada.id)
        bob = await app.users.create(display_name="Bob")
        await app.teams.add_member(team.id, bob.id)
        await app.teams.grant_permission(team.id, bob.id, "$read_members")
        await app.teams.revoke_permission(team.id, bob.id, "$read_members")
        await app.users.update(bob.id, display_name="Bobby", server_metadata={"plan": "pro"})
        await app.teams.update(team.id, display_name="T2")
        await app.teams.remove_member(team.id, bob.id)
        await app.users.delete(ada.id)
        await app.teams.delete(team.id)
    await emu.webhooks.aflush(10)

    deliveries = emu.webhooks.deliveries
    personal_ada, personal_bob = (t["id"] for t in emu.teams() if t["display_name"] != "T2")
    assert [(d.event_type, d.payload["data"].get("id"), d.state) for d in deliveries] == [
        ("team.created", personal_ada, "delivered"),  # Stack: the personal team first (no membership event) ...
        ("user.created", ada.id, "delivered"),  # ... then the user, as it was before that team
        ("team.created", team.id, "delivered"),  # the creator's membership is not announced either
        ("team.created", personal_bob, "delivered"),
        ("user.created", bob.id, "delivered"),
        ("team_membership.created", None, "delivered"),
        ("team_permission.created", "team_member", "delivered"),  # the default member permission
        ("team_permission.created", "$read_members", "delivered"),
        ("team_permission.deleted", "$read_members", "delivered"),
        ("user.updated", bob.id, "delivered"),
        ("team.updated", team.id, "delivered"),
        ("team_membership.deleted", None, "delivered"),
        ("team_membership.deleted", None, "delivered"),  # ada's teams, oldest first ...
        ("team_membership.deleted", None, "delivered"),
        ("user.deleted", ada.id, "delivered"),  # ... then the user with them
        ("team.deleted", team.id, "delivered"),
    ]
    data = [d.payload["data"] for d in deliveries]
    assert data[1]["selected_team_id"] is None and data[1]["selected_team"] is None
    assert data[1]["primary_email"] == "ada@example.com"
    assert data[5] == {"team_id": team.id, "user_id": bob.id}
    assert data[7] == {"id": "$read_members", "user_id": bob.id, "team_id": team.id}
    assert (data[9]["display_name"], data[9]["server_metadata"], data[9]["selected_team_id"]) == (
        "Bobby",
        {"plan": "pro"},
        personal_bob,
    )
    assert data[10]["display_name"] == "T2"
    assert data[12:14] == [{"team_id": personal_ada, "user_id": ada.id}, {"team_id": team.id, "user_id": ada.id}]
    assert data[14] == {"id": ada.id, "teams": [{"id": personal_ada}, {"id": team.id}]}

    # What the receiver got is exactly what was recorded, once each, in order, signed for its secret.
    assert [r.headers["svix-id"] for r in receiver.received] == [d.id for d in deliveries]
    assert [r.body for r in receiver.received] == [d.body for d in deliveries]
    for r in receiver.received:
        assert_signed(r, secret)
        assert r.payload["type"] == r.payload["type"].strip() and set(r.payload) == {"type", "data"}


async def test_payloads_pass_the_webhook_schemas_read_as_nullable(
    anyio_backend: str, emu: Emulator, receiver: Receiver
) -> None:
    emu.webhooks.add_endpoint(receiver.url)
    async with in_process_app(emu, AsyncStackServerApp) as app:
        user = await app.users.create(display_name="x")  # no email: null fields the documents call strings
        other = await app.users.create(primary_email="o@example.com", client_metadata={"k": [1]})
        team = await app.teams.create(display_name="T", profile_image_url="https://example.com/t.png")
        await app.teams.add_member(team.id, other.id)
        await app.teams.grant_permission(team.id, other.id, "team_admin")
        await app.teams.revoke_permission(team.id, other.id, "team_admin")
        await app.users.update(user.id, display_name="y")
        await app.teams.update(team.id, server_metadata={"a": 1})
        await app.teams.remove_member(team.id, other.id)
        await app.users.delete(user.id)
        await app.teams.delete(team.id)
    await emu.webhooks.aflush(10)
    doc = load_document(spec_dir() / "openapi-webhooks.json")
    seen = set()
    for d in emu.webhooks.deliveries:
        assert validate_webhook(doc, d.event_type, d.payload) == [], d.event_type
        seen.add(d.event_type)
    assert seen == set(doc["webhooks"])  # every documented event was exercised


async def test_user_data_is_the_server_read_the_api_answers(
    anyio_backend: str, emu: Emulator, receiver: Receiver
) -> None:
    emu.webhooks.add_endpoint(receiver.url)
    async with client_for(emu) as c:
        created = await c.post("/api/v1/users", json={"primary_email": "a@example.com"}, headers=emu.headers())
        user_id = created.json()["id"]
        updated = await c.patch(f"/api/v1/users/{user_id}", json={"display_name": "A"}, headers=emu.headers())
        team = await c.post("/api/v1/teams", json={"display_name": "T"}, headers=emu.headers())
    await emu.webhooks.aflush(10)
    by_type = {d.event_type: d.payload["data"] for d in emu.webhooks.deliveries}
    assert by_type["user.created"] == created.json()
    assert by_type["user.updated"] == updated.json()
    assert by_type["team.created"] == team.json()


def test_a_failing_receiver_gets_bounded_retries_then_the_next_delivery(emu: Emulator) -> None:
    receiver = Receiver(answer=lambda n: 503 if n <= 4 else 200)
    try:
        emu.webhooks.retry_schedule = (0.05, 0.1, 0.2)
        emu.webhooks.add_endpoint(receiver.url)
        emu.create_team("first")
        emu.create_team("second")
        emu.webhooks.flush(10)
    finally:
        receiver.close()
    first, second = emu.webhooks.deliveries
    assert first.state == "failed"
    assert [a.status for a in first.attempts] == [503, 503, 503, 503]  # 1 + one per delay of the schedule
    gaps = [b.at - a.at for a, b in zip(first.attempts, first.attempts[1:], strict=False)]
    assert all(gap >= delay for gap, delay in zip(gaps, (0.05, 0.1, 0.2), strict=True)), gaps
    assert second.state == "delivered" and [a.status for a in second.attempts] == [200]
    ids = [r.headers["svix-id"] for r in receiver.received]
    assert ids == [first.id] * 4 + [second.id]  # one delivery at a time, in order; the id kept across retries
    assert len({r.headers["svix-timestamp"] + r.headers["svix-signature"] for r in receiver.received}) >= 2


def test_order_is_kept_while_the_first_delivery_is_retried(emu: Emulator) -> None:
    receiver = Receiver(answer=lambda n: 500 if n <= 2 else 204)
    try:
        emu.webhooks.add_endpoint(receiver.url)
        for name in ("a", "b", "c"):
            emu.create_team(name)
        emu.webhooks.flush(10)
    finally:
        receiver.close()
    names = [r.payload["data"]["display_name"] for r in receiver.received]
    assert names == ["a", "a", "a", "b", "c"]
    assert [[a.status for a in d.attempts] for d in emu.webhooks.deliveries] == [[500, 500, 204], [204], [204]]


def test_the_api_never_waits_for_a_receiver(emu: Emulator, receiver: Receiver) -> None:
    receiver.release.clear()  # the receiver hangs until released
    emu.webhooks.add_endpoint(receiver.url)
    with emu.serve() as url:
        started = time.monotonic()
        for i in range(3):
            r = httpx.post(f"{url}/api/v1/teams", json={"display_name": f"t{i}"}, headers=emu.headers(), timeout=5)
            assert r.status_code == 201
        elapsed = time.monotonic() - started
        assert elapsed < 2, elapsed
        with pytest.raises(TimeoutError, match="3 webhook deliveries still pending"):
            emu.webhooks.flush(timeout=0.2)
        receiver.release.set()
        emu.webhooks.flush(10)
    assert [d.state for d in emu.webhooks.deliveries] == ["delivered"] * 3


def test_each_endpoint_gets_its_copy_with_its_own_secret_and_only_its_projects_events(emu: Emulator) -> None:
    one, two, other = Receiver(), Receiver(), Receiver()
    try:
        project = emu.add_project("other-project")
        s1 = emu.webhooks.add_endpoint(one.url)
        s2 = emu.webhooks.add_endpoint(two.url, "whsec_" + base64.b64encode(b"k" * 32).decode())
        s3 = emu.webhooks.add_endpoint(other.url, project_id=project.project_id)
        assert s2 == "whsec_" + base64.b64encode(b"k" * 32).decode()
        assert len({s1, s2, s3}) == 3 and all(len(base64.b64decode(s[6:])) == 24 for s in (s1, s3))
        emu.create_team("mine")
        emu.create_team("theirs", project_id=project.project_id)
        emu.webhooks.flush(10)
    finally:
        for r in (one, two, other):
            r.close()
    assert [r.payload["data"]["display_name"] for r in one.received + two.received] == ["mine", "mine"]
    assert [r.payload["data"]["display_name"] for r in other.received] == ["theirs"]
    assert one.received[0].headers["svix-id"] != two.received[0].headers["svix-id"]
    assert_signed(one.received[0], s1)
    assert_signed(two.received[0], s2)
    assert_signed(other.received[0], s3)
    assert [d.project_id for d in emu.webhooks.deliveries] == [emu.project_id] * 2 + ["other-project"]


@pytest.mark.parametrize(("receiver_state", "error"), [("closed", "ConnectError"), ("hanging", "ReadTimeout")])
def test_no_answer_fails_the_attempt_and_records_why(
    emu: Emulator, receiver: Receiver, receiver_state: str, error: str
) -> None:
    if receiver_state == "closed":
        receiver.close()  # nothing listens on its port any more
    else:
        receiver.release.clear()  # it reads the request, then answers only after the attempt timed out
        emu.webhooks.attempt_timeout = 0.2
    emu.webhooks.retry_schedule = (0.01,)
    emu.webhooks.add_endpoint(receiver.url)
    emu.create_team("t")
    emu.webhooks.flush(10)
    (delivery,) = emu.webhooks.deliveries
    assert delivery.state == "failed"
    assert [(a.status, (a.error or "").split(":")[0]) for a in delivery.attempts] == [(None, error)] * 2


def test_without_endpoints_nothing_is_recorded_and_bad_urls_are_refused(emu: Emulator) -> None:
    emu.create_user(display_name="quiet")
    assert emu.webhooks.deliveries == []
    for url in ("ftp://127.0.0.1/x", "127.0.0.1:8000/x", "http:///x"):
        with pytest.raises(ValueError, match="http"):
            emu.webhooks.add_endpoint(url)
    for secret in ("whsec_", "whsec_not base64!", "plain words"):
        with pytest.raises(ValueError, match="whsec_ followed by base64"):
            emu.webhooks.add_endpoint("http://127.0.0.1:9/x", secret)


def test_reset_keeps_the_endpoints(emu: Emulator, receiver: Receiver) -> None:
    emu.webhooks.add_endpoint(receiver.url)
    emu.reset()
    emu.create_team("after reset")
    emu.webhooks.flush(10)
    assert [r.payload["data"]["display_name"] for r in receiver.received] == ["after reset"]


def test_the_control_api_adds_endpoints_flushes_and_lists_deliveries(emu: Emulator, receiver: Receiver) -> None:
    with emu.serve() as url:
        control = f"{url}/__emulator__/webhooks"
        added = httpx.post(control, json={"url": receiver.url}, timeout=10)
        assert added.status_code == 201
        secret = added.json()["secret"]
        assert added.json() == {"url": receiver.url, "secret": secret}
        team = httpx.post(f"{url}/api/v1/teams", json={"display_name": "t"}, headers=emu.headers(), timeout=10)
        assert httpx.post(f"{control}/flush", json={"timeout": 10}, timeout=20).json() == {"success": True}
        listed = httpx.get(control, timeout=10).json()["deliveries"]
        assert httpx.post(control, json={"url": "ftp://x"}, timeout=10).status_code == 400
        assert httpx.post(control, json={}, timeout=10).json() == {"error": '"url" (a string) is required'}
    (delivery,) = listed
    assert delivery["id"] == receiver.received[0].headers["svix-id"]
    assert (delivery["event_type"], delivery["state"], delivery["url"]) == ("team.created", "delivered", receiver.url)
    assert delivery["payload"] == {"type": "team.created", "data": team.json()}
    assert [a["status"] for a in delivery["attempts"]] == [204]
    assert_signed(receiver.received[0], secret)


def test_the_cli_delivers_to_webhook_and_prints_its_secret(receiver: Receiver) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "stack_auth.testing", "--port", "0", "--webhook", receiver.url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(7)]
        url = lines[0].rsplit(" ", 1)[1].strip()
        webhook_line = lines[6].split()
        assert webhook_line[:2] == ["webhook:", receiver.url]
        secret = webhook_line[3]
        headers = Emulator().headers()  # the CLI's default project and keys
        r = httpx.post(f"{url}/api/v1/teams", json={"display_name": "from the CLI"}, headers=headers, timeout=10)
        assert r.status_code == 201
        deadline = time.monotonic() + 10
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.01)
        (got,) = receiver.received
        assert got.payload == {"type": "team.created", "data": r.json()}
        assert_signed(got, secret)
    finally:
        proc.terminate()
        assert proc.wait(timeout=20) == 0


def test_the_cli_refuses_a_bad_webhook_url() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "stack_auth.testing", "--port", "0", "--webhook", "nowhere"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "a webhook endpoint must be an http(s) URL" in done.stderr
    assert "Traceback" not in done.stderr


def test_sync_calls_over_a_socket_are_delivered_too(emu: Emulator) -> None:
    """A user created and deleted with the sync API over a socket: the events Stack sends for both."""
    from stack_auth import StackServerApp

    receiver = Receiver()
    try:
        emu.webhooks.add_endpoint(receiver.url)
        with emu.serve() as url, StackServerApp(**server_app_kwargs(emu), base_url=url) as app:
            user = app.users.create(display_name="sync")
            app.users.delete(user.id)
        emu.webhooks.flush(10)
    finally:
        receiver.close()
    assert [r.payload["type"] for r in receiver.received] == [
        "team.created",
        "user.created",
        "team_membership.deleted",
        "user.deleted",
    ]
