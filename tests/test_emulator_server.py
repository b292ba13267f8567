"""Serving over real loopback sockets: ``Emulator.serve``, ``python -m stack_auth.testing``, the pytest plugin."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import jwt
import pytest

from stack_auth import StackServerApp
from stack_auth.errors import RequiresCustomEmailServer
from stack_auth.testing import DEFAULT_PROJECT_ID, DEFAULT_SECRET_SERVER_KEY, Emulator

ROOT = Path(__file__).parents[1]


def test_serve_yields_a_loopback_url_and_stops_cleanly() -> None:
    emu = Emulator(seed=2)
    with emu.serve() as url:
        assert url.startswith("http://127.0.0.1:")
        r = httpx.post(f"{url}/api/v1/users", json={"display_name": "Over TCP"}, headers=emu.headers())
        assert r.status_code == 201
        user = r.json()
        r = httpx.get(f"{url}/api/v1/users/{user['id']}", headers=emu.headers())
        assert r.json()["selected_team"]["display_name"] == "Over TCP's Team"
        tokens = emu.create_session(user["id"])
        assert jwt.decode(tokens["access_token"], options={"verify_signature": False})["iss"].startswith(url)
        me = httpx.get(f"{url}/api/v1/users/me", headers=emu.headers("client", access_token=tokens["access_token"]))
        assert me.status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/__emulator__/health", timeout=2)
    assert not [t for t in threading.enumerate() if t.name.startswith("stack-emulator")]


def test_issuer_follows_the_served_url() -> None:
    emu = Emulator(seed=2)
    user = emu.create_user(display_name="I")
    with emu.serve() as url:
        r = httpx.post(f"{url}/api/v1/auth/sessions", json={"user_id": user["id"]}, headers=emu.headers())
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    assert claims["iss"] == f"{url}/api/v1/projects/internal"


def test_fifty_threads_same_email_exactly_one_wins() -> None:
    emu = Emulator(seed=2)
    body = {"primary_email": "threads@example.com", "primary_email_auth_enabled": True, "password": "pw-threads"}
    with emu.serve() as url, httpx.Client(base_url=url, limits=httpx.Limits(max_connections=50)) as client:
        barrier = threading.Barrier(50)

        def create(_: int) -> int:
            barrier.wait(timeout=10)
            return client.post("/api/v1/users", json=body, headers=emu.headers()).status_code

        with ThreadPoolExecutor(50) as pool:
            statuses = sorted(pool.map(create, range(50)))
        # Python-side inspection runs while the server is still up (thread-safe state).
        assert emu.emails().count("threads@example.com") == 1
    assert statuses == [201] + [409] * 49
    assert emu.stats.count("POST /users") == 50


def test_control_api_over_http_drives_faults() -> None:
    emu = Emulator(seed=2)
    with emu.serve() as url:
        httpx.post(f"{url}/__emulator__/faults", json={"next_html_error": {"route": "GET /users"}})
        r = httpx.get(f"{url}/api/v1/users", headers=emu.headers())
        assert r.status_code == 502
        assert "<html>" in r.text
        stats = httpx.get(f"{url}/__emulator__/stats").json()
        assert stats["routes"]["GET /users"]["faults"] == {"scripted": 1}


def _start_cli(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "stack_auth.testing", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put("")

    threading.Thread(target=pump, daemon=True).start()
    try:
        first = lines.get(timeout=30)
    except queue.Empty:
        proc.kill()
        raise
    assert "listening on http://127.0.0.1:" in first, first
    proc.lines = lines  # type: ignore[attr-defined]
    return proc, first.rsplit(" ", 1)[1].strip()


def _rest(proc: subprocess.Popen[str]) -> str:
    out = []
    lines: queue.Queue[str] = proc.lines  # type: ignore[attr-defined]
    while True:
        try:
            line = lines.get(timeout=10)
        except queue.Empty:
            break
        if not line:
            break
        out.append(line)
    return "".join(out)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_serves_and_stops_on_signal(sig: signal.Signals) -> None:
    proc, url = _start_cli("--project-id", "cli-project", "--secret-server-key", "cli-key", "--seed", "3")
    try:
        headers = {
            "x-stack-project-id": "cli-project",
            "x-stack-access-type": "server",
            "x-stack-secret-server-key": "cli-key",
        }
        r = httpx.post(f"{url}/api/v1/users", json={"display_name": "CLI"}, headers=headers, timeout=10)
        assert r.status_code == 201
        proc.send_signal(sig)
        assert proc.wait(timeout=20) == 0
        output = _rest(proc)
        assert "cli-key" in output
        assert "stopped" in output
        assert "Traceback" not in output
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_pytest_plugin_imports_nothing_optional() -> None:
    code = (
        "import sys, stack_auth.testing.pytest_plugin, stack_auth.testing\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('starlette', 'uvicorn', 'jwt', 'cryptography')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


def test_pytest_plugin_fixtures(tmp_path: Path) -> None:
    (tmp_path / "test_uses_plugin.py").write_text(
        textwrap.dedent("""
        import httpx

        def test_fixtures(stack_emulator, stack_emulator_url):
            r = httpx.get(stack_emulator_url + "/api/v1/users", headers=stack_emulator.headers())
            assert r.status_code == 200 and r.json()["items"] == []
            assert stack_emulator.stats.count("GET /users") == 1

        def test_fresh_per_test(stack_emulator):
            assert stack_emulator.user_count() == 0
            stack_emulator.create_user(display_name="x")
    """)
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:stack_auth",
            "-p",
            "stack_auth.testing.pytest_plugin",
            str(tmp_path / "test_uses_plugin.py"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_cli_configures_items_vault_stores_and_the_email_server() -> None:
    proc, url = _start_cli("--item", "credits=user", "--data-vault-store", "secrets", "--email-server", "shared")
    try:
        headers = {
            "x-stack-project-id": DEFAULT_PROJECT_ID,
            "x-stack-access-type": "server",
            "x-stack-secret-server-key": DEFAULT_SECRET_SERVER_KEY,
        }
        with StackServerApp(
            project_id=DEFAULT_PROJECT_ID, secret_server_key=DEFAULT_SECRET_SERVER_KEY, base_url=url
        ) as app:
            user = app.users.create(primary_email="cli@example.com")
            assert app.payments.try_decrease_item_quantity("credits", 1, user_id=user.id) is False
            assert app.payments.get_item("credits", user_id=user.id).display_name == "credits"
            r = httpx.post(f"{url}/api/v1/data-vault/stores/secrets/get", json={"hashed_key": "h"}, headers=headers)
            assert r.headers["x-stack-known-error"] == "DATA_VAULT_STORE_HASHED_KEY_DOES_NOT_EXIST"
            with pytest.raises(RequiresCustomEmailServer):
                app.emails.send(user_ids=[user.id], subject="s", html="<p>s</p>")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.returncode == 0
