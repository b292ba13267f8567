"""Domain operations shared by the routes and the emulator's Python API (call them with ``store.lock`` held)."""

from __future__ import annotations

from typing import Any

from stack_auth.testing import known
from stack_auth.testing.state import OAuthAccount, Project, Session, Store, Team, User
from stack_auth.testing.tokens import TokenService
from stack_auth.testing.views import team_server, user_server
from stack_auth.testing.wire import StatusError


def normalize_email(email: str | None) -> str | None:
    """Stack's ``normalizeEmail`` for stored emails (trimmed, lowercase)."""
    return email.strip().lower() if email is not None else None


def personal_team_name(user: User) -> str:
    if user.display_name:
        return f"{user.display_name}'s Team"
    if user.primary_email:
        return f"{user.primary_email}'s Team"
    return "Personal Team"


def check_auth_data(email: str | None, verified: bool, auth_enabled: bool) -> None:
    """Stack's ``checkAuthData`` consistency rules (plain 400s)."""
    if not email and auth_enabled:
        raise StatusError(400, "primary_email_auth_enabled cannot be true without primary_email")
    if not email and verified:
        raise StatusError(400, "primary_email_verified cannot be true without primary_email")


def check_restriction(restricted: bool, reason: Any, details: Any) -> None:
    if not restricted:
        if reason:
            raise StatusError(400, "restricted_by_admin_reason requires restricted_by_admin=true")
        if details:
            raise StatusError(400, "restricted_by_admin_private_details requires restricted_by_admin=true")


def create_user(
    store: Store,
    project: Project,
    data: dict[str, Any],
    password_hash: str | None,
    *,
    personal_team: bool | None = None,
) -> tuple[User, dict[str, Any]]:
    """Create a user from validated create data; returns it and the create answer (before its personal team).

    Raises USER_EMAIL_ALREADY_EXISTS atomically (under the lock) when the auth email is taken.
    """
    email = normalize_email(data.get("primary_email"))
    verified = bool(data.get("primary_email_verified", False))
    auth_enabled = bool(data.get("primary_email_auth_enabled", False))
    check_auth_data(email, verified, auth_enabled)
    restricted = bool(data.get("restricted_by_admin", False))
    reason = data.get("restricted_by_admin_reason")
    details = data.get("restricted_by_admin_private_details")
    check_restriction(restricted, reason, details)
    risk = data.get("risk_scores") or {}
    sign_up = risk.get("sign_up", {}) if isinstance(risk, dict) else {}
    now = store.clock.tick_ms()
    user = User(
        id=store.ids.uuid(),
        signed_up_at=now,
        last_active_at=now,
        display_name=data.get("display_name") or None,
        primary_email=email,
        primary_email_verified=verified if email else False,
        primary_email_auth_enabled=auth_enabled if email else False,
        profile_image_url=data.get("profile_image_url"),
        client_metadata=data.get("client_metadata"),
        client_read_only_metadata=data.get("client_read_only_metadata"),
        server_metadata=data.get("server_metadata"),
        password_hash=password_hash,
        otp_auth_enabled=bool(data.get("otp_auth_enabled", False)),
        passkey_auth_enabled=bool(data.get("passkey_auth_enabled", False)),
        totp_secret_base64=data.get("totp_secret_base64"),
        oauth_providers=[dict(p) for p in data.get("oauth_providers") or []],
        is_anonymous=bool(data.get("is_anonymous", False)),
        restricted_by_admin=restricted,
        restricted_by_admin_reason=(reason or None) if restricted else None,
        restricted_by_admin_private_details=(details or None) if restricted else None,
        country_code=data.get("country_code"),
        risk_bot=int(sign_up.get("bot", 0) or 0),
        risk_free_trial_abuse=int(sign_up.get("free_trial_abuse", 0) or 0),
    )
    project.insert_user(user)
    for provider in data.get("oauth_providers") or []:
        # Stack stores these as linked OAuth accounts that sign the user in (``/oauth-providers`` lists them).
        link = OAuthAccount(
            store.ids.uuid(), user.id, provider["id"], provider["account_id"], provider.get("email"), True, True
        )
        project.link_oauth_account(link)
    answer = user_server(project, user, hide_selected_team=True)
    wants_team = project.config.create_personal_team if personal_team is None else personal_team
    if wants_team:
        team = create_team(store, project, {"display_name": personal_team_name(user)}, creator_user_id=user.id)
        user.selected_team_id = team.id
    # After the personal team's team.created, with the create answer (no selected team), as Stack sends it.
    project.announce("user.created", lambda: answer)
    return user, answer


def create_team(store: Store, project: Project, data: dict[str, Any], *, creator_user_id: str | None) -> Team:
    """Create a team (and its creator's membership with the creator's default permissions)."""
    if creator_user_id is not None and creator_user_id not in project.users:
        raise known.user_not_found()
    team = Team(
        id=store.ids.uuid(),
        display_name=data["display_name"],
        created_at=store.clock.tick_ms(),
        profile_image_url=data.get("profile_image_url"),
        client_metadata=data.get("client_metadata"),
        client_read_only_metadata=data.get("client_read_only_metadata"),
        server_metadata=data.get("server_metadata"),
    )
    project.insert_team(team)
    if creator_user_id is not None:
        project.add_member(team.id, creator_user_id, creator=True)
    project.announce("team.created", lambda: team_server(team))
    return team


def create_session(
    store: Store,
    tokens: TokenService,
    project: Project,
    user: User,
    *,
    base_url: str,
    expires_in_millis: int,
    is_impersonation: bool = False,
) -> tuple[Session, str]:
    """A new session (refresh token) and its first access token."""
    now = store.clock.tick_ms()
    session = Session(
        id=store.ids.uuid(),
        user_id=user.id,
        refresh_token=store.ids.secret(),
        created_at=now,
        last_used_at=now,
        expires_at=now + expires_in_millis,
        is_impersonation=is_impersonation,
    )
    project.insert_session(session)
    return session, access_token_for(store, tokens, project, session, base_url=base_url)


def access_token_for(store: Store, tokens: TokenService, project: Project, session: Session, *, base_url: str) -> str:
    """A fresh access token for a live session; marks the session used and the user active."""
    user = project.users[session.user_id]
    now = store.clock.now_ms()
    session.last_used_at = now
    user.last_active_at = now
    return tokens.issue(project.id, user, session.id, base_url)
