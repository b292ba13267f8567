"""The issue's whole flow, against the emulator in-process and over a real loopback socket, on asyncio and trio,
and through the generated sync API."""

from __future__ import annotations

from datetime import timedelta

import pytest

from stack_auth import AsyncStackServerApp, StackServerApp
from stack_auth.errors import (
    ConflictError,
    InvalidArgumentError,
    TeamMembershipAlreadyExists,
    UserEmailAlreadyExists,
)
from stack_auth.models import Page, ServerUser

pytestmark = pytest.mark.anyio


async def test_whole_flow_async(app: AsyncStackServerApp) -> None:
    user = await app.users.create(
        primary_email="a@example.com",
        password="a-good-password",
        display_name="A",
        primary_email_verified=True,
        primary_email_auth_enabled=True,
        server_metadata={"plan": "pro"},
    )
    assert (user.primary_email, user.display_name, user.server_metadata) == ("a@example.com", "A", {"plan": "pro"})
    assert user.has_password and user.primary_email_verified

    same = await app.users.get(user.id)
    assert same is not None and same.id == user.id
    assert same.selected_team is not None  # the personal team the project creates on sign-up
    assert await app.users.get("00000000-0000-4000-8000-000000000000") is None

    with pytest.raises(UserEmailAlreadyExists) as dup:
        await app.users.create(primary_email="a@example.com", primary_email_auth_enabled=True)
    assert isinstance(dup.value, ConflictError) and dup.value.status == 409

    others = [await app.users.create(display_name=f"other {n}", primary_email=f"o{n}@example.com") for n in range(4)]
    found = [u.id async for u in app.users.list(query="example.com", order_by="signed_up_at", desc=True, limit=2)]
    assert found == [u.id for u in reversed([user, *others])]
    page = await app.users.list_page(limit=2, order_by="signed_up_at")
    assert isinstance(page, Page) and len(page.items) == 2 and page.next_cursor
    rest = await app.users.list_page(limit=10, cursor=page.next_cursor, order_by="signed_up_at")
    assert [u.id for u in (*page.items, *rest.items)] == [u.id for u in (user, *others)]
    assert rest.next_cursor is None

    updated = await app.users.update(user.id, display_name=None)
    assert updated.display_name is None and updated.server_metadata == {"plan": "pro"}  # omitted: left alone

    team = await app.teams.create(display_name="T", creator_user_id=user.id)
    member = others[0]
    await app.teams.add_member(team.id, member.id)
    with pytest.raises(TeamMembershipAlreadyExists):
        await app.teams.add_member(team.id, member.id)
    assert {u.id async for u in app.users.list(team_id=team.id)} == {user.id, member.id}
    await app.teams.remove_member(team.id, member.id)
    assert team.id in {t.id for t in await app.teams.list(user_id=user.id)}
    assert team.id not in {t.id for t in await app.teams.list(user_id=member.id)}
    assert (await app.teams.get(team.id)) == team

    tokens = await app.sessions.create(user.id, expires_in=timedelta(hours=1))
    assert tokens.access_token.count(".") == 2 and tokens.refresh_token
    sessions = await app.sessions.list(user.id)
    assert len(sessions) == 1 and sessions[0].user_id == user.id
    await app.sessions.revoke(sessions[0].id, user_id=user.id)
    assert await app.sessions.list(user.id) == []

    await app.teams.delete(team.id)
    assert await app.teams.get(team.id) is None
    await app.users.delete(user.id)
    assert await app.users.get(user.id) is None


async def test_bad_arguments_fail_before_sending(app: AsyncStackServerApp) -> None:
    with pytest.raises(InvalidArgumentError, match="user_id must be a UUID"):
        await app.users.get("not-a-uuid")
    with pytest.raises(InvalidArgumentError, match="expires_in"):
        await app.sessions.create("00000000-0000-4000-8000-000000000000", expires_in=timedelta(days=400))
    with pytest.raises(InvalidArgumentError, match="limit"):
        app.users.list(limit=0)


async def test_iterating_pages_is_lazy(app: AsyncStackServerApp) -> None:
    for n in range(5):
        await app.users.create(display_name=f"u{n}")
    pages = [len(p.items) async for p in app.users.list(limit=2).pages()]
    assert pages == [2, 2, 1]


def test_whole_flow_sync(sync_app: StackServerApp) -> None:
    user = sync_app.users.create(
        primary_email="s@example.com", password="a-good-password", primary_email_auth_enabled=True
    )
    assert sync_app.users.get(user.id) == sync_app.users.get(user.id)
    with pytest.raises(UserEmailAlreadyExists):
        sync_app.users.create(primary_email="s@example.com", primary_email_auth_enabled=True)
    assert [u.id for u in sync_app.users.list(query="s@example.com")] == [user.id]
    assert sync_app.users.update(user.id, display_name="S").display_name == "S"
    team = sync_app.teams.create(display_name="T", creator_user_id=user.id)
    assert [u.id for u in sync_app.users.list(team_id=team.id)] == [user.id]
    tokens = sync_app.sessions.create(user.id, expires_in=timedelta(minutes=5))
    assert tokens.access_token
    (session,) = sync_app.sessions.list(user.id)
    sync_app.sessions.revoke(session.id, user_id=user.id)
    sync_app.teams.delete(team.id)
    sync_app.users.delete(user.id)
    assert sync_app.users.get(user.id) is None
    assert isinstance(user, ServerUser)
