"""``python -m stack_auth demo``: a walk through users, teams, permissions, API keys and sessions on an embedded
emulator.

Starts :class:`stack_auth.testing.Emulator` in this process (served on 127.0.0.1 by uvicorn in a thread) and drives it
with the async API, then with the generated sync API, printing each step. Needs the ``testing`` extra.
"""

from __future__ import annotations

from datetime import timedelta

import anyio

from stack_auth import AsyncStackServerApp, StackServerApp
from stack_auth.errors import UserEmailAlreadyExists


def say(step: str, detail: object = "") -> None:
    print(f"  {step:<44} {detail}", flush=True)


async def async_tour(project_id: str, secret_server_key: str, base_url: str) -> None:
    print("async API (AsyncStackServerApp):")
    async with AsyncStackServerApp(
        project_id=project_id, secret_server_key=secret_server_key, base_url=base_url
    ) as app:
        ada = await app.users.create(
            primary_email="ada@example.com",
            password="correct horse battery staple",
            display_name="Ada",
            primary_email_auth_enabled=True,
            server_metadata={"plan": "pro"},
        )
        say("users.create", f"{ada.display_name} <{ada.primary_email}> id={ada.id}")
        try:
            await app.users.create(primary_email="ada@example.com", primary_email_auth_enabled=True)
        except UserEmailAlreadyExists as exc:
            say("users.create again (same email)", f"-> {type(exc).__name__}: {exc.message}")
        same = await app.users.get(ada.id)
        say("users.get", f"selected team: {same.selected_team.display_name if same and same.selected_team else None}")
        say("users.get (unknown id)", await app.users.get("00000000-0000-4000-8000-000000000000"))
        await app.users.update(ada.id, display_name=None)
        say("users.update display_name=None", "(None clears; omitted arguments are left alone)")
        team = await app.teams.create(display_name="Analytical Engines", creator_user_id=ada.id)
        say("teams.create", f"{team.display_name} id={team.id}")
        names = [t.display_name for t in await app.teams.list(user_id=ada.id)]
        say("teams.list(user_id=ada)", names)
        await permissions_tour(app, ada.id, team.id)
        await api_keys_tour(app, ada.id)
        tokens = await app.sessions.create(ada.id, expires_in=timedelta(hours=1))
        say("sessions.create", f"{tokens!r} (tokens never shown)")
        sessions = await app.sessions.list(ada.id)
        say("sessions.list", f"{len(sessions)} session(s)")
        await app.sessions.revoke(sessions[0].id, user_id=ada.id)
        say("sessions.revoke", f"{len(await app.sessions.list(ada.id))} left")
        await app.teams.delete(team.id)
        say("teams.delete", team.id)


async def permissions_tour(app: AsyncStackServerApp, user_id: str, team_id: str) -> None:
    """Project and team permissions, as the emulator's ``*_permissions`` options define them (see :func:`main`)."""
    await app.users.grant_permission(user_id, "admin")
    say("users.grant_permission 'admin'", f"has_permission -> {await app.users.has_permission(user_id, 'admin')}")
    say(
        "teams.has_permission '$delete_team'",
        f"{await app.teams.has_permission(team_id, user_id, '$delete_team')} (creator: team_admin contains it)",
    )
    await app.teams.grant_permission(team_id, user_id, "manage_secrets")
    held = await app.teams.has_permission(team_id, user_id, "read_secrets")
    say("teams.has_permission 'read_secrets'", f"{held} (manage_secrets contains it)")
    await app.users.revoke_permission(user_id, "admin")
    say("users.revoke_permission 'admin'", f"has_permission -> {await app.users.has_permission(user_id, 'admin')}")


async def api_keys_tour(app: AsyncStackServerApp, user_id: str) -> None:
    """A user API key: issued once with its secret, checked on each machine request, revoked for good."""
    key = await app.user_api_keys.create(user_id, description="CI")
    say("user_api_keys.create", f"key ...{key.last_four} (the full key is key.secret: shown once, never in repr)")
    secret = key.secret or ""
    checked = await app.user_api_keys.check(secret)
    say("user_api_keys.check", f"valid, user {checked.user_id if checked else None}")
    await app.user_api_keys.revoke(key.id)
    say("user_api_keys.revoke, then check", await app.user_api_keys.check(secret))


def sync_tour(project_id: str, secret_server_key: str, base_url: str) -> None:
    print("sync API (StackServerApp, generated from the async source):")
    with StackServerApp(project_id=project_id, secret_server_key=secret_server_key, base_url=base_url) as app:
        for n in range(3):
            app.users.create(primary_email=f"user{n}@example.com", primary_email_auth_enabled=True)
        emails = [u.primary_email for u in app.users.list(query="example.com", order_by="signed_up_at", limit=2)]
        say("users.list (pages of 2, iterated)", emails)
        for user in app.users.list():
            app.users.delete(user.id)
        say("users.delete every user", f"{sum(1 for _ in app.users.list())} left")


def main() -> int:
    try:
        from stack_auth.testing import Emulator
    except ImportError as exc:  # the testing extra is missing
        print(f"the demo needs the emulator: pip install 'stack-auth[testing]' ({exc})")
        return 1
    emulator = Emulator(
        project_permissions={"admin": []},
        team_permissions={"read_secrets": [], "manage_secrets": ["read_secrets"]},
    )
    with emulator.serve() as base_url:
        print(f"Stack emulator on {base_url} (project {emulator.project_id!r})")
        anyio.run(async_tour, emulator.project_id, emulator.secret_server_key, base_url)
        sync_tour(emulator.project_id, emulator.secret_server_key, base_url)
    print("done")
    return 0
