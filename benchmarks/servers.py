"""Servers the benchmarks run in a subprocess (the client's CPU time is then the client's alone).

``python -m benchmarks.servers trivial [--latency S]``: an aiohttp server answering ``GET /api/v1/users/{id}`` with
a real user body (``users.get (server)`` of the captured samples), ``--latency`` seconds late, and
``POST /api/v1/user-api-keys/check`` with a real key (``user-api-keys.check valid``).

``python -m benchmarks.servers emulator [--users N]``: :class:`stack_auth.testing.Emulator` seeded with ``N`` users
(without personal teams), faults set through its control API (``/__emulator__/faults``).

Each prints its base URL on the first line of stdout and serves until its stdin is closed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

# ``users.get (server)`` from the captured samples of a real Stack backend.
USER_BODY: dict[str, Any] = {
    "requires_totp_mfa": False,
    "auth_with_email": True,
    "oauth_providers": [],
    "risk_scores": {"sign_up": {"bot": 0, "free_trial_abuse": 0}},
    "country_code": None,
    "restricted_by_admin_private_details": None,
    "restricted_by_admin_reason": None,
    "restricted_by_admin": False,
    "restricted_reason": None,
    "is_restricted": False,
    "is_anonymous": False,
    "last_active_at_millis": 1796035153238,
    "server_metadata": {"plan": "pro"},
    "client_read_only_metadata": None,
    "client_metadata": {"theme": "dark"},
    "passkey_auth_enabled": False,
    "otp_auth_enabled": False,
    "has_password": True,
    "signed_up_at_millis": 1796035153235,
    "profile_image_url": None,
    "selected_team_id": "3786e905-2c62-4a64-91fb-5b811ba126c3",
    "selected_team": {
        "id": "3786e905-2c62-4a64-91fb-5b811ba126c3",
        "display_name": "Sample User's Team",
        "profile_image_url": None,
        "created_at_millis": 1796035153269,
        "client_metadata": None,
        "client_read_only_metadata": None,
        "server_metadata": None,
    },
    "display_name": "Sample User",
    "primary_email_auth_enabled": True,
    "primary_email_verified": False,
    "primary_email": "sample-164024@example.com",
    "id": "f13bb909-5740-4a5e-b96d-1aa1c9c78159",
}
USER_ID = USER_BODY["id"]
# ``user-api-keys.check valid`` from the captured samples (the answer to a valid user API key).
API_KEY_BODY: dict[str, Any] = {
    "user_id": "746ad539-fd0d-42cc-95b2-6282e84170c6",
    "type": "user",
    "value": {"last_four": "28cd"},
    "is_public": False,
    "created_at_millis": 1796223748901,
    "description": "renamed user key",
    "id": "09282b61-998e-4206-81cc-16be656bb80c",
}
PROJECT_ID = "internal"
SECRET_SERVER_KEY = "this-secret-server-key-is-for-local-development-only"


def serve_trivial(latency: float) -> None:
    from aiohttp import web

    body = json.dumps(USER_BODY).encode()
    key_body = json.dumps(API_KEY_BODY).encode()
    headers = {"content-type": "application/json; charset=utf-8", "cache-control": "no-store, max-age=0"}

    async def get_user(request: web.Request) -> web.Response:
        if latency:
            await asyncio.sleep(latency)
        return web.Response(body=body, headers=headers)

    async def check_api_key(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=key_body, headers=headers)

    async def run() -> None:
        app = web.Application()
        app.router.add_get("/api/v1/users/{user_id}", get_user)
        app.router.add_post("/api/v1/user-api-keys/check", check_api_key)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        print(f"http://127.0.0.1:{port}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await runner.cleanup()

    asyncio.run(run())


def serve_emulator(users: int) -> None:
    from stack_auth.testing import Emulator

    emulator = Emulator(PROJECT_ID, secret_server_key=SECRET_SERVER_KEY, create_personal_team=False, seed=1)
    for i in range(users):
        emulator.create_user(primary_email=f"seed{i}@example.com", display_name=f"Seed {i}")
    with emulator.serve(http="h11") as base_url:
        print(base_url, flush=True)
        sys.stdin.read()


@contextlib.contextmanager
def server(kind: str, *args: str) -> Iterator[str]:
    """Start ``python -m benchmarks.servers KIND ARGS`` and yield its base URL; stop it on exit."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.servers", kind, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    try:
        line = proc.stdout.readline().strip()
        if not line.startswith("http://"):
            raise RuntimeError(f"the {kind} server did not start (exit status {proc.poll()})")
        yield line
    finally:
        proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.servers")
    sub = parser.add_subparsers(dest="kind", required=True)
    trivial = sub.add_parser("trivial")
    trivial.add_argument("--latency", type=float, default=0.0)
    emulator = sub.add_parser("emulator")
    emulator.add_argument("--users", type=int, default=0)
    args = parser.parse_args()
    if args.kind == "trivial":
        serve_trivial(args.latency)
    else:
        serve_emulator(args.users)


if __name__ == "__main__":
    threading.current_thread().name = "benchmark server"
    main()
