"""JSON shapes of the emulator's objects, as the real server reads them (server and client variants).

Field sets follow ``packages/stack-shared/src/interface/crud/{users,current-user,teams,sessions}.ts`` and the real
answers in ``real-samples/samples.json``: the server read of a user has every field, the client read a subset (and its
``selected_team`` the client team subset).
"""

from __future__ import annotations

from typing import Any

from stack_auth.testing.state import Project, Session, Team, User


def team_server(team: Team) -> dict[str, Any]:
    return {
        "id": team.id,
        "display_name": team.display_name,
        "profile_image_url": team.profile_image_url,
        "created_at_millis": team.created_at,
        "client_metadata": team.client_metadata,
        "client_read_only_metadata": team.client_read_only_metadata,
        "server_metadata": team.server_metadata,
    }


def team_client(team: Team) -> dict[str, Any]:
    return {
        "id": team.id,
        "display_name": team.display_name,
        "profile_image_url": team.profile_image_url,
        "client_metadata": team.client_metadata,
        "client_read_only_metadata": team.client_read_only_metadata,
    }


def team_view(team: Team, access_type: str) -> dict[str, Any]:
    return team_client(team) if access_type == "client" else team_server(team)


def _selected_team(project: Project, user: User) -> Team | None:
    if user.selected_team_id is None:
        return None
    return project.teams.get(user.selected_team_id)


def user_server(project: Project, user: User, *, hide_selected_team: bool = False) -> dict[str, Any]:
    """The server read of a user; ``hide_selected_team`` reproduces the create answer (team made afterwards)."""
    team = None if hide_selected_team else _selected_team(project, user)
    has_password = user.password_hash is not None
    return {
        "id": user.id,
        "display_name": user.display_name,
        "primary_email": user.primary_email,
        "primary_email_verified": user.primary_email_verified,
        "primary_email_auth_enabled": user.primary_email_auth_enabled,
        "profile_image_url": user.profile_image_url,
        "signed_up_at_millis": user.signed_up_at,
        "client_metadata": user.client_metadata,
        "client_read_only_metadata": user.client_read_only_metadata,
        "server_metadata": user.server_metadata,
        "has_password": has_password,
        "otp_auth_enabled": user.otp_auth_enabled,
        "auth_with_email": has_password or user.otp_auth_enabled,
        "requires_totp_mfa": user.requires_totp_mfa,
        "passkey_auth_enabled": user.passkey_auth_enabled,
        "oauth_providers": [dict(p) for p in user.oauth_providers],
        "selected_team_id": team.id if team is not None else None,
        "selected_team": team_server(team) if team is not None else None,
        "last_active_at_millis": user.last_active_at,
        "is_anonymous": user.is_anonymous,
        "is_restricted": user.is_restricted,
        "restricted_reason": user.restricted_reason,
        "restricted_by_admin": user.restricted_by_admin,
        "restricted_by_admin_reason": user.restricted_by_admin_reason,
        "restricted_by_admin_private_details": user.restricted_by_admin_private_details,
        "country_code": user.country_code,
        "risk_scores": {"sign_up": {"bot": user.risk_bot, "free_trial_abuse": user.risk_free_trial_abuse}},
    }


def user_client(project: Project, user: User) -> dict[str, Any]:
    """The client read of the current user (``GET /users/me`` with client access)."""
    team = _selected_team(project, user)
    has_password = user.password_hash is not None
    return {
        "id": user.id,
        "display_name": user.display_name,
        "primary_email": user.primary_email,
        "primary_email_verified": user.primary_email_verified,
        "profile_image_url": user.profile_image_url,
        "signed_up_at_millis": user.signed_up_at,
        "client_metadata": user.client_metadata,
        "client_read_only_metadata": user.client_read_only_metadata,
        "has_password": has_password,
        "auth_with_email": has_password or user.otp_auth_enabled,
        "oauth_providers": [dict(p) for p in user.oauth_providers],
        "selected_team_id": team.id if team is not None else None,
        "selected_team": team_client(team) if team is not None else None,
        "requires_totp_mfa": user.requires_totp_mfa,
        "otp_auth_enabled": user.otp_auth_enabled,
        "passkey_auth_enabled": user.passkey_auth_enabled,
        "is_anonymous": user.is_anonymous,
        "is_restricted": user.is_restricted,
        "restricted_reason": user.restricted_reason,
        "restricted_by_admin": user.restricted_by_admin,
        "restricted_by_admin_reason": user.restricted_by_admin_reason,
    }


def user_view(project: Project, user: User, access_type: str) -> dict[str, Any]:
    return user_client(project, user) if access_type == "client" else user_server(project, user)


def session_view(session: Session, current_session_id: str | None) -> dict[str, Any]:
    return {
        "id": session.id,
        "user_id": session.user_id,
        "created_at": session.created_at,
        "last_used_at": session.last_used_at,
        "is_impersonation": session.is_impersonation,
        "is_current_session": session.id == current_session_id,
    }
