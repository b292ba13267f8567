"""Emulator bugs the schemathesis run (``tests/test_conformance_schemathesis.py``) found, one plain test each."""

from __future__ import annotations

import pytest

from stack_auth.testing import Emulator

try:  # tests/ as a package (tests/__init__.py) or as plain modules
    from .emulator_helpers import client_for
except ImportError:
    from emulator_helpers import client_for  # type: ignore[no-redef]

pytestmark = pytest.mark.anyio


async def test_a_limit_written_with_a_fraction_of_zero_pages_like_the_integer(emulator: Emulator) -> None:
    """``limit=2.0`` passed validation (yup casts it to 2) and then crashed the handler: a 500."""
    emu = emulator
    for name in ("a", "b", "c"):
        emu.create_user(primary_email=f"{name}@example.com")
    async with client_for(emu) as client:
        r = await client.get("/api/v1/users", params={"limit": "2.0"}, headers=emu.headers())
    assert r.status_code == 200, r.text
    page = r.json()
    assert [u["primary_email"] for u in page["items"]] == ["a@example.com", "b@example.com"]
    assert page["pagination"]["next_cursor"] == emu.users()[2]["id"]


async def test_an_encoded_slash_stays_inside_its_path_parameter(emulator: Emulator) -> None:
    """``a%2Fb`` is one segment (Next.js decodes each parameter on its own): the route runs and judges the id.

    The emulator used to route the decoded path, where ``a/b`` is two segments: a 404 Stack never gives.
    """
    emu = emulator
    user = emu.create_user(primary_email="p@example.com")
    team = emu.create_team("T", creator_user_id=user["id"])
    path = f"/api/v1/team-permissions/{team['id']}/{user['id']}/a%2Fb"
    async with client_for(emu) as client:
        r = await client.post(path, json={}, headers=emu.headers())
    assert (r.status_code, r.headers["x-stack-known-error"]) == (400, "SCHEMA_ERROR")
    assert "params.permission_id must match" in r.json()["error"]
    seen = emu.stats.history[-1]
    assert seen.route == "POST /team-permissions/{team_id}/{user_id}/{permission_id}"
    assert seen.params == {"team_id": team["id"], "user_id": user["id"], "permission_id": "a/b"}


async def test_a_cli_login_with_a_huge_negative_lifetime_has_already_expired(emulator: Emulator) -> None:
    """``expires_in_millis: -3e228`` made a date no timestamp can show: a 500. Now the login is born expired."""
    emu = emulator
    body = {"expires_in_millis": -3.1256894132254435e228}
    async with client_for(emu) as client:
        r = await client.post("/api/v1/auth/cli", json=body, headers=emu.headers("client"))
        assert r.status_code == 200, r.text
        assert r.json()["expires_at"].startswith("1970-01-01")
        poll = await client.post(
            "/api/v1/auth/cli/poll", json={"polling_code": r.json()["polling_code"]}, headers=emu.headers("client")
        )
    assert poll.json()["status"] == "expired"
