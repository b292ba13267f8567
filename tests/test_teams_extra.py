"""Team invitations, member profiles and ``get_project``: async on asyncio and trio, in-process and over a socket,
and sync over a socket; the requests Stack receives, the answers decoded, the errors typed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from emulator_helpers import client_for, last_request, samples
from model_checks import check_model

from stack_auth import AsyncStackClientApp, AsyncStackServerApp, StackClientApp, StackServerApp
from stack_auth.errors import (
    InternalServerError,
    InvalidArgumentError,
    RedirectUrlNotWhitelisted,
    TeamNotFound,
    VerificationCodeAlreadyUsed,
    VerificationCodeNotFound,
)
from stack_auth.models import Project, TeamInvitation, TeamInvitationDetails, TeamMemberProfile
from stack_auth.testing import Emulator

JOIN = "http://localhost:3000/handler/team-invitation"
MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.mark.anyio
async def test_invite_accept_and_revoke(
    app: AsyncStackServerApp, client_app: AsyncStackClientApp, emulator: Emulator
) -> None:
    owner = await app.users.create(display_name="Owner")
    guest = await app.users.create(primary_email="guest@example.com", primary_email_verified=True)
    team = await app.teams.create("Crew", creator_user_id=owner.id)

    invitation_id = await app.teams.invite(team.id, "guest@example.com", callback_url=JOIN)
    assert last_request(emulator) == (
        "POST",
        "/team-invitations/send-code",
        {},
        {"team_id": team.id, "email": "guest@example.com", "callback_url": JOIN},
    )
    (pending,) = await app.teams.list_invitations(team.id)
    assert last_request(emulator) == ("GET", "/team-invitations", {"team_id": team.id}, None)
    assert (pending.id, pending.team_id, pending.recipient_email) == (invitation_id, team.id, "guest@example.com")
    assert pending.team_display_name == "Crew"
    assert pending.expires_at is not None
    assert pending.expires_at - datetime.now(timezone.utc) > timedelta(days=6)  # a week, as on Stack

    (mail,) = emulator.mail("guest@example.com", kind="team_invitation")
    code = emulator.last_code("guest@example.com", kind="team_invitation")
    assert mail.link is not None and mail.link.startswith(JOIN + "?code=")
    tokens = await app.sessions.create(guest.id)
    assert await client_app.check_team_invitation_code(code)
    assert last_request(emulator) == ("POST", "/team-invitations/accept/check-code", {}, {"code": code})
    details = await client_app.team_invitation_details(code, tokens=tokens)
    assert last_request(emulator) == ("POST", "/team-invitations/accept/details", {}, {"code": code})
    assert details == TeamInvitationDetails(team_id=team.id, team_display_name="Crew")
    await client_app.current_user.accept_team_invitation(code, tokens=tokens)
    assert last_request(emulator) == ("POST", "/team-invitations/accept", {}, {"code": code})
    assert guest.id in {u.id async for u in app.users.list(team_id=team.id)}
    assert await app.teams.list_invitations(team.id) == []  # accepted: no longer pending
    assert not await client_app.check_team_invitation_code(code)
    with pytest.raises(VerificationCodeAlreadyUsed):
        await client_app.current_user.accept_team_invitation(code, tokens=tokens)
    with pytest.raises(VerificationCodeNotFound):
        await client_app.team_invitation_details("z" * 45, tokens=tokens)

    second = await app.teams.invite(team.id, "late@example.com", callback_url=JOIN)
    await app.teams.revoke_invitation(team.id, second)
    assert last_request(emulator) == ("DELETE", f"/team-invitations/{second}", {"team_id": team.id}, None)
    assert await app.teams.list_invitations(team.id) == []
    late = await app.users.create(display_name="Late")
    with pytest.raises(VerificationCodeNotFound):
        await client_app.current_user.accept_team_invitation(
            emulator.last_code("late@example.com"), tokens=await app.sessions.create(late.id)
        )


@pytest.mark.anyio
async def test_invitation_errors(app: AsyncStackServerApp, emulator: Emulator) -> None:
    team = await app.teams.create("Crew")
    with pytest.raises(RedirectUrlNotWhitelisted):
        await app.teams.invite(team.id, "x@example.com", callback_url="https://evil.example/join")
    with pytest.raises(TeamNotFound):
        await app.teams.list_invitations(MISSING)
    with pytest.raises(InternalServerError):  # the real backend's answer to inviting to a missing team
        await app.with_options(max_retries=0).teams.invite(MISSING, "x@example.com", callback_url=JOIN)
    sent = emulator.stats.total
    with pytest.raises(InvalidArgumentError, match="callback_url must be an absolute"):
        await app.teams.invite(team.id, "x@example.com", callback_url="join")
    with pytest.raises(InvalidArgumentError, match="email must be a non-empty string"):
        await app.teams.invite(team.id, "", callback_url=JOIN)
    with pytest.raises(InvalidArgumentError, match="invitation_id must be a UUID"):
        await app.teams.revoke_invitation(team.id, "inv-1")
    assert emulator.stats.total == sent


@pytest.mark.anyio
async def test_member_profiles(app: AsyncStackServerApp, emulator: Emulator) -> None:
    ada = await app.users.create(display_name="Ada")
    bob = await app.users.create(display_name="Bob")
    team = await app.teams.create("Ops", creator_user_id=ada.id)
    await app.teams.add_member(team.id, bob.id)

    profiles = await app.teams.list_member_profiles(team.id)
    assert last_request(emulator) == ("GET", "/team-member-profiles", {"team_id": team.id}, None)
    assert [(p.user_id, p.display_name) for p in profiles] == [(ada.id, "Ada"), (bob.id, "Bob")]
    assert profiles[0].user is not None and profiles[0].user.id == ada.id

    changed = await app.teams.update_member_profile(team.id, ada.id, display_name="Ada (ops)")
    assert last_request(emulator) == (
        "PATCH",
        f"/team-member-profiles/{team.id}/{ada.id}",
        {},
        {"display_name": "Ada (ops)"},
    )
    assert changed.display_name == "Ada (ops)"
    assert changed.user is not None and changed.user.display_name == "Ada"  # the user's own name stays
    got = await app.teams.get_member_profile(team.id, ada.id)
    assert last_request(emulator)[:2] == ("GET", f"/team-member-profiles/{team.id}/{ada.id}")
    assert got == changed
    outsider = await app.users.create(display_name="Out")
    assert await app.teams.get_member_profile(team.id, outsider.id) is None
    assert await app.teams.get_member_profile(team.id, MISSING) is None


@pytest.mark.anyio
async def test_get_project(app: AsyncStackServerApp, client_app: AsyncStackClientApp, emulator: Emulator) -> None:
    emulator.configure_project(trusted_domains=("https://app.example.com",), sign_up_enabled=False)
    project = await app.get_project()
    assert last_request(emulator) == ("GET", "/projects/current", {}, None)
    assert isinstance(project, Project) and project.id == emulator.project_id
    assert project.config is not None and not project.config.sign_up_enabled
    assert [d.domain for d in project.config.domains] == ["https://app.example.com"]
    assert "github" in {p.id for p in project.config.enabled_oauth_providers}
    assert await client_app.get_project() == project


def test_sync_invitations_profiles_and_project(
    sync_app: StackServerApp, sync_client_app: StackClientApp, emulator: Emulator
) -> None:
    owner = sync_app.users.create(display_name="Owner")
    guest = sync_app.users.create(display_name="Guest")
    team = sync_app.teams.create("Sync crew", creator_user_id=owner.id)
    invitation_id = sync_app.teams.invite(team.id, "guest@example.com", callback_url=JOIN)
    assert [i.id for i in sync_app.teams.list_invitations(team.id)] == [invitation_id]
    tokens = sync_app.sessions.create(guest.id)
    code = emulator.last_code("guest@example.com")
    assert sync_client_app.check_team_invitation_code(code)
    assert sync_client_app.team_invitation_details(code, tokens=tokens).team_display_name == "Sync crew"
    sync_client_app.current_user.accept_team_invitation(code, tokens=tokens)
    assert sync_app.teams.update_member_profile(team.id, guest.id, display_name="G").display_name == "G"
    assert sync_app.teams.get_member_profile(team.id, guest.id).display_name == "G"  # type: ignore[union-attr]
    assert [p.display_name for p in sync_app.teams.list_member_profiles(team.id)] == ["Owner", "G"]
    sync_app.teams.revoke_invitation(team.id, invitation_id)
    assert sync_app.get_project().id == sync_client_app.get_project().id == emulator.project_id


@pytest.mark.anyio
async def test_invitation_details_model_matches_the_schema(anyio_backend: str) -> None:
    """No real answer of ``accept/details`` exists (its code is only mailed): check the model with the emulator's
    answer, which the conformance test validates against the client OpenAPI."""
    emu = Emulator()
    owner = emu.create_user(display_name="O")["id"]
    team = emu.create_team("Details", creator_user_id=owner)["id"]
    emu.create_user(primary_email="x@example.com")
    async with client_for(emu) as c:
        join = {"team_id": team, "email": "x@example.com", "callback_url": JOIN}
        await c.post("/api/v1/team-invitations/send-code", json=join, headers=emu.headers())
        token = emu.create_session(owner)["access_token"]
        r = await c.post(
            "/api/v1/team-invitations/accept/details",
            json={"code": emu.last_code("x@example.com")},
            headers=emu.headers("client", access_token=token),
        )
    details = check_model(
        TeamInvitationDetails,
        r.json(),
        method="POST",
        template="/team-invitations/accept/details",
        doc="openapi-client.json",
    )
    assert details == TeamInvitationDetails(team_id=team, team_display_name="Details")


def test_models_match_the_schema_and_the_real_answers() -> None:
    real = samples("samples-wave2.json")
    (invitation,) = real["team-invitations.list by team (server)"]["body"]["items"]
    decoded = check_model(TeamInvitation, invitation, method="GET", template="/team-invitations", item=True)
    assert decoded.expires_at == datetime.fromtimestamp(invitation["expires_at_millis"] / 1000, tz=timezone.utc)
    profile = check_model(
        TeamMemberProfile,
        real["team-member-profiles.get (server)"]["body"],
        method="GET",
        template="/team-member-profiles/{team_id}/{user_id}",
    )
    assert profile.user is not None and profile.user.extra == {}
    client_profile = check_model(
        TeamMemberProfile,
        real["team-member-profiles.get me (client)"]["body"],
        method="GET",
        template="/team-member-profiles/{team_id}/{user_id}",
        doc="openapi-client.json",
    )
    assert client_profile.user is None
    project = check_model(
        Project, real["projects.current (server)"]["body"], method="GET", template="/projects/current"
    )
    assert project.config is not None and project.config.extra == {}
