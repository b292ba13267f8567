"""Project permissions (``app.users.*_permission``) and team permission checks (``app.teams.has_permission``):
async on asyncio and trio, in-process and over a socket, and sync over a socket."""

from __future__ import annotations

import pytest
from emulator_helpers import last_request, samples
from model_checks import check_model

from stack_auth import AsyncStackServerApp, StackServerApp
from stack_auth.errors import (
    InvalidArgumentError,
    PermissionNotFound,
    TeamMembershipNotFound,
    UserNotFound,
    WrongPermissionScope,
)
from stack_auth.models import ProjectPermission, TeamPermission
from stack_auth.testing import Emulator

MISSING = "00000000-0000-4000-8000-000000000000"
DEFINITIONS = {
    "team": {"read_secrets": [], "manage_secrets": ["read_secrets"]},
    "project": {"admin": [], "owner": ["admin"]},
}


@pytest.fixture
def emulator() -> Emulator:
    emu = Emulator()
    emu.define_permissions(**DEFINITIONS)
    return emu


@pytest.mark.anyio
async def test_project_permissions(app: AsyncStackServerApp, emulator: Emulator) -> None:
    user = await app.users.create(display_name="Ada")
    assert await app.users.list_permissions(user.id) == []
    assert last_request(emulator) == ("GET", "/project-permissions", {"user_id": user.id, "recursive": "true"}, None)

    granted = await app.users.grant_permission(user.id, "owner")
    assert granted == ProjectPermission(id="owner", user_id=user.id)
    assert last_request(emulator) == ("POST", f"/project-permissions/{user.id}/owner", {}, {})
    assert await app.users.grant_permission(user.id, "owner") == granted  # granting twice is fine, as on Stack

    assert [p.id for p in await app.users.list_permissions(user.id)] == ["admin", "owner"]
    assert [p.id for p in await app.users.list_permissions(user.id, recursive=False)] == ["owner"]
    assert last_request(emulator)[2] == {"user_id": user.id, "recursive": "false"}
    assert await app.users.has_permission(user.id, "admin")  # contained in "owner"
    assert last_request(emulator)[2] == {"user_id": user.id, "permission_id": "admin", "recursive": "true"}
    assert not await app.users.has_permission(user.id, "nothing_like_it")

    await app.users.revoke_permission(user.id, "owner")
    assert last_request(emulator) == ("DELETE", f"/project-permissions/{user.id}/owner", {}, None)
    assert not await app.users.has_permission(user.id, "admin")

    with pytest.raises(PermissionNotFound):  # revoking what the user lacks: 404, as on Stack
        await app.users.revoke_permission(user.id, "owner")
    with pytest.raises(PermissionNotFound):
        await app.users.grant_permission(user.id, "no_such_permission")
    with pytest.raises(WrongPermissionScope) as wrong:
        await app.users.grant_permission(user.id, "read_secrets")
    assert wrong.value.details == {"permission_id": "read_secrets", "expected_scope": "project", "actual_scope": "team"}
    with pytest.raises(UserNotFound):
        await app.users.grant_permission(MISSING, "admin")


@pytest.mark.anyio
async def test_team_has_permission_is_recursive(app: AsyncStackServerApp, emulator: Emulator) -> None:
    owner = await app.users.create(display_name="Owner")
    member = await app.users.create(display_name="Member")
    team = await app.teams.create("Vault", creator_user_id=owner.id)
    await app.teams.add_member(team.id, member.id)

    assert await app.teams.has_permission(team.id, owner.id, "$delete_team")  # through team_admin
    assert last_request(emulator) == (
        "GET",
        "/team-permissions",
        {"team_id": team.id, "user_id": owner.id, "permission_id": "$delete_team", "recursive": "true"},
        None,
    )
    assert await app.teams.has_permission(team.id, member.id, "$invite_members")  # through team_member
    assert not await app.teams.has_permission(team.id, member.id, "read_secrets")
    assert await app.teams.grant_permission(team.id, member.id, "manage_secrets") == TeamPermission(
        id="manage_secrets", team_id=team.id, user_id=member.id
    )
    assert await app.teams.has_permission(team.id, member.id, "read_secrets")
    outsider = await app.users.create(display_name="Outsider")
    assert not await app.teams.has_permission(team.id, outsider.id, "$read_members")
    with pytest.raises(WrongPermissionScope):
        await app.teams.grant_permission(team.id, member.id, "admin")
    with pytest.raises(TeamMembershipNotFound):
        await app.teams.grant_permission(team.id, outsider.id, "read_secrets")


@pytest.mark.anyio
async def test_seeded_internal_project_gives_narrower_team_defaults(anyio_backend: str) -> None:
    from stack_auth.testing import in_process_app

    emu = Emulator(seeded_permissions=True)
    async with in_process_app(emu, AsyncStackServerApp) as app:
        owner = await app.users.create(display_name="Owner")
        team = await app.teams.create("Seeded", creator_user_id=owner.id)
        held = {p.id for p in await app.teams.list_permissions(team.id, owner.id, recursive=True)}
        assert held == {"team_admin", "$read_members", "$remove_members", "$update_team"}  # as the real samples
        assert not await app.teams.has_permission(team.id, owner.id, "$invite_members")


@pytest.mark.anyio
async def test_bad_input_is_refused_before_sending(app: AsyncStackServerApp, emulator: Emulator) -> None:
    user = await app.users.create(display_name="Ada")
    sent = emulator.stats.total
    with pytest.raises(InvalidArgumentError, match="user_id must be a UUID"):
        await app.users.grant_permission("not-a-uuid", "admin")
    with pytest.raises(InvalidArgumentError, match="permission_id must be a non-empty string"):
        await app.users.grant_permission(user.id, "")
    with pytest.raises(InvalidArgumentError, match="permission_id"):
        await app.users.has_permission(user.id, "")
    with pytest.raises(InvalidArgumentError, match="team_id must be a UUID"):
        await app.teams.has_permission("team-1", user.id, "$read_members")
    with pytest.raises(InvalidArgumentError, match="permission_id"):
        await app.teams.has_permission(MISSING, user.id, "")
    assert emulator.stats.total == sent


def test_sync_project_and_team_permissions(sync_app: StackServerApp, emulator: Emulator) -> None:
    user = sync_app.users.create(display_name="Sync")
    assert sync_app.users.grant_permission(user.id, "owner").id == "owner"
    assert last_request(emulator) == ("POST", f"/project-permissions/{user.id}/owner", {}, {})
    assert sync_app.users.has_permission(user.id, "admin")
    assert [p.id for p in sync_app.users.list_permissions(user.id, recursive=False)] == ["owner"]
    sync_app.users.revoke_permission(user.id, "owner")
    with pytest.raises(PermissionNotFound):
        sync_app.users.revoke_permission(user.id, "owner")
    team = sync_app.teams.create("T", creator_user_id=user.id)
    assert sync_app.teams.has_permission(team.id, user.id, "$update_team")
    assert not sync_app.teams.has_permission(team.id, user.id, "read_secrets")


def test_permission_definitions_are_checked() -> None:
    emu = Emulator(team_permissions={"a": []})
    with pytest.raises(ValueError, match="other scope"):
        emu.define_permissions(project={"a": []})
    with pytest.raises(ValueError, match="not a project permission"):
        Emulator(project_permissions={"admin": ["read_secrets"]})
    with pytest.raises(ValueError, match="only lowercase"):
        Emulator(project_permissions={"Admin": []})


def test_models_match_the_schema_and_the_real_answers() -> None:
    real = samples("samples-wave2.json")
    granted = check_model(
        ProjectPermission,
        real["project-permissions.grant (server)"]["body"],
        method="POST",
        template="/project-permissions/{user_id}/{permission_id}",
        status=201,
    )
    assert granted.id == "admin"
    (listed,) = real["project-permissions.list by user (server)"]["body"]["items"]
    check_model(ProjectPermission, listed, method="GET", template="/project-permissions", item=True)


def test_sync_permission_checks_from_threads(sync_app: StackServerApp) -> None:
    """One sync app, many threads: each grants and checks its own user's permissions."""
    from concurrent.futures import ThreadPoolExecutor

    users = [sync_app.users.create(display_name=f"T{n}") for n in range(8)]

    def work(n: int) -> tuple[bool, bool]:
        user_id = users[n].id
        if n % 2:
            sync_app.users.grant_permission(user_id, "owner")
        return sync_app.users.has_permission(user_id, "admin"), sync_app.users.has_permission(user_id, "owner")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(8)))
    assert results == [(bool(n % 2), bool(n % 2)) for n in range(8)]
