"""Every known error the emulator raises: status from the generated table, header = body code, Stack's messages."""

from __future__ import annotations

import base64
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from stack_auth._exceptions import KNOWN_ERRORS
from stack_auth.testing import Emulator, known
from stack_auth.testing.wire import KnownError

try:  # tests/ as a package (tests/__init__.py) or as plain modules
    from .emulator_helpers import client_for, known_error, new_user, sign_in
except ImportError:
    from emulator_helpers import client_for, known_error, new_user, sign_in  # type: ignore[no-redef]

pytestmark = pytest.mark.anyio

Scenario = Callable[[Emulator, httpx.AsyncClient], Awaitable[httpx.Response]]
MISSING = "2929d1df-5f34-4f31-b98d-06bdc40ce09a"
TOTP_SECRET = "c3RhY2stYXV0aC10b3RwLWtleSE="  # 20 bytes, like the secrets authenticator apps get
UNKNOWN_CODE = "z" * 45


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _server(emu: Emulator, **extra: str) -> dict[str, str]:
    return {**emu.headers("server"), **extra}


async def _member_with_token(emu: Emulator, c: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, str], str]:
    owner = await new_user(c, emu, display_name="Owner")
    member = await new_user(c, emu, display_name="Member")
    team = emu.create_team("T", creator_user_id=owner["id"])
    emu.add_team_member(team["id"], member["id"])
    tokens = await sign_in(c, emu, member["id"])
    return member, emu.headers("client", access_token=tokens["access_token"]), team["id"]


async def schema_error(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    return await c.get("/api/v1/users/not-a-uuid", headers=emu.headers())


async def body_parsing_error(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    headers = {**emu.headers(), "content-type": "application/json"}
    return await c.post("/api/v1/users", content=b"{not json", headers=headers)


async def project_key_without_access_type(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    return await c.get("/api/v1/users", headers={"x-stack-project-id": "internal", "x-stack-secret-server-key": "k"})


async def invalid_access_type(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    return await c.get("/api/v1/users", headers=_server(emu, **{"x-stack-access-type": "root"}))


async def access_type_without_project_id(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    return await c.get("/api/v1/users", headers={"x-stack-access-type": "server"})


async def access_type_required(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    return await c.get("/api/v1/users")


async def insufficient_access_type(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    return await c.get("/api/v1/users", headers=emu.headers("client"))


async def invalid_publishable_client_key(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    return await c.get("/api/v1/users/me", headers={**emu.headers("client"), "x-stack-publishable-client-key": "x"})


async def invalid_secret_server_key(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    return await c.get("/api/v1/users", headers=_server(emu, **{"x-stack-secret-server-key": "wrong"}))


async def invalid_super_secret_admin_key(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    headers = {"x-stack-project-id": "internal", "x-stack-access-type": "admin", "x-stack-super-secret-admin-key": "x"}
    return await c.get("/api/v1/users", headers=headers)


async def admin_authentication_required(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    return await c.get("/api/v1/users", headers={"x-stack-project-id": "internal", "x-stack-access-type": "admin"})


async def unparsable_admin_access_token(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    return await c.get("/api/v1/users", headers=_server(emu, **{"x-stack-admin-access-token": "garbage"}))


async def publishable_client_key_required_for_project(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    return await c.get("/api/v1/users/me", headers={"x-stack-project-id": "internal", "x-stack-access-type": "client"})


async def server_authentication_required(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    return await c.get("/api/v1/users", headers={"x-stack-project-id": "internal", "x-stack-access-type": "server"})


async def current_project_not_found(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    return await c.get("/api/v1/users", headers=_server(emu, **{"x-stack-project-id": MISSING}))


async def unparsable_access_token(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    return await c.get("/api/v1/users/me", headers=emu.headers("client", access_token="garbage"))


async def access_token_expired(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    user = await new_user(c, emu, display_name="E")
    tokens = await sign_in(c, emu, user["id"])
    emu.advance_time(601)
    return await c.get("/api/v1/users/me", headers=emu.headers("client", access_token=tokens["access_token"]))


async def invalid_project_for_access_token(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    user = await new_user(c, emu, display_name="P")
    tokens = await sign_in(c, emu, user["id"])
    other = emu.add_project(require_publishable_client_key=False)
    headers = emu.headers("client", project_id=other.project_id, access_token=tokens["access_token"])
    return await c.get("/api/v1/users/me", headers=headers)


async def anonymous_authentication_not_allowed(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    user = await new_user(c, emu, is_anonymous=True)
    tokens = await sign_in(c, emu, user["id"])
    return await c.get("/api/v1/users/me", headers=emu.headers("client", access_token=tokens["access_token"]))


async def restricted_user_not_allowed(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    user = await new_user(c, emu, restricted_by_admin=True, restricted_by_admin_reason="spam")
    tokens = await sign_in(c, emu, user["id"])
    return await c.get("/api/v1/users/me", headers=emu.headers("client", access_token=tokens["access_token"]))


async def refresh_token_not_found_or_expired(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    data = {
        "grant_type": "refresh_token",
        "refresh_token": "nope",
        "client_id": "internal",
        "client_secret": emu.publishable_client_key,
    }
    return await c.post("/api/v1/auth/oauth/token", data=data)


async def cannot_delete_current_session(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    user = await new_user(c, emu, display_name="C")
    tokens = await sign_in(c, emu, user["id"])
    session_id = emu.sessions(user["id"])[0]["id"]
    return await c.delete(
        f"/api/v1/auth/sessions/{session_id}",
        params={"user_id": "me"},
        headers=emu.headers("client", access_token=tokens["access_token"]),
    )


async def invalid_oauth_client_id_or_secret(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    data = {"grant_type": "refresh_token", "refresh_token": "x", "client_id": "internal", "client_secret": "wrong"}
    return await c.post("/api/v1/auth/oauth/token", data=data)


async def invalid_authorization_code(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    data = {
        "grant_type": "authorization_code",
        "code": "x",
        "client_id": "internal",
        "client_secret": emu.publishable_client_key,
    }
    return await c.post("/api/v1/auth/oauth/token", data=data)


async def user_email_already_exists(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    body = {"primary_email": "dup@example.com", "primary_email_auth_enabled": True}
    await new_user(c, emu, **body)
    return await c.post("/api/v1/users", json=body, headers=emu.headers())


async def cannot_get_own_user_without_user(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    return await c.get("/api/v1/users/me", headers=emu.headers("client"))


async def user_id_does_not_exist(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    return await c.post("/api/v1/auth/sessions", json={"user_id": MISSING}, headers=emu.headers())


async def user_not_found(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    return await c.get(f"/api/v1/users/{MISSING}", headers=emu.headers())


async def user_authentication_required(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    team = emu.create_team("U")
    return await c.get(f"/api/v1/teams/{team['id']}", headers=emu.headers("client"))


async def sign_up_not_enabled(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    emu.configure_project(sign_up_enabled=False)
    return await c.post(
        "/api/v1/auth/password/sign-up",
        json={"email": "a@b.co", "password": "longenough"},
        headers=emu.headers("client"),
    )


async def password_authentication_not_enabled(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    emu.configure_project(password_auth_enabled=False)
    return await c.post(
        "/api/v1/auth/password/sign-in", json={"email": "a@b.co", "password": "x"}, headers=emu.headers("client")
    )


async def email_password_mismatch(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    return await c.post(
        "/api/v1/auth/password/sign-in", json={"email": "nobody@b.co", "password": "x"}, headers=emu.headers("client")
    )


async def password_too_short(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    return await c.post(
        "/api/v1/auth/password/sign-up", json={"email": "a@b.co", "password": "short"}, headers=emu.headers("client")
    )


async def password_too_long(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    return await c.post(
        "/api/v1/auth/password/sign-up", json={"email": "a@b.co", "password": "x" * 71}, headers=emu.headers("client")
    )


async def multi_factor_authentication_required(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    user = emu.create_user(primary_email="mfa@b.co", primary_email_auth_enabled=True, password="longenough")
    # MFA is switched on by an update, as on Stack (a create stores the secret without requiring it).
    r = await c.patch(f"/api/v1/users/{user['id']}", json={"totp_secret_base64": TOTP_SECRET}, headers=_server(emu))
    assert r.status_code == 200, r.text
    return await c.post(
        "/api/v1/auth/password/sign-in",
        json={"email": "mfa@b.co", "password": "longenough"},
        headers=emu.headers("client"),
    )


async def team_not_found(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    return await c.get(f"/api/v1/teams/{MISSING}", headers=emu.headers())


async def team_membership_not_found(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    user = await new_user(c, emu, display_name="N")
    team = emu.create_team("N")
    return await c.delete(f"/api/v1/team-memberships/{team['id']}/{user['id']}", headers=emu.headers())


async def team_membership_already_exists(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    user = await new_user(c, emu, display_name="A")
    team = emu.create_team("A", creator_user_id=user["id"])
    return await c.post(f"/api/v1/team-memberships/{team['id']}/{user['id']}", json={}, headers=emu.headers())


async def permission_not_found(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    user = await new_user(c, emu, display_name="A")
    team = emu.create_team("A", creator_user_id=user["id"])
    return await c.post(
        f"/api/v1/team-permissions/{team['id']}/{user['id']}/unknown_perm", json={}, headers=emu.headers()
    )


async def wrong_permission_scope(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    user = await new_user(c, emu, display_name="A")
    emu.define_permissions(team={"read_secrets": []})
    return await c.post(f"/api/v1/project-permissions/{user['id']}/read_secrets", json={}, headers=emu.headers())


async def _channel_code(emu: Emulator, c: httpx.AsyncClient, callback_url: str = "http://localhost:3000/v") -> Any:
    """A user with an unverified second email, and the answer to sending its verification code."""
    user = await new_user(c, emu, display_name="V")
    body = {"user_id": user["id"], "type": "email", "value": "v@example.com", "used_for_auth": False}
    channel = (await c.post("/api/v1/contact-channels", json=body, headers=emu.headers())).json()
    return await c.post(
        f"/api/v1/contact-channels/{user['id']}/{channel['id']}/send-verification-code",
        json={"callback_url": callback_url},
        headers=emu.headers(),
    )


async def _verify(emu: Emulator, c: httpx.AsyncClient, code: str) -> httpx.Response:
    return await c.post("/api/v1/contact-channels/verify", json={"code": code}, headers=emu.headers("client"))


async def redirect_url_not_whitelisted(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    response: httpx.Response = await _channel_code(emu, c, "https://evil.example.org/v")
    return response


async def verification_code_not_found(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    return await _verify(emu, c, "z" * 45)


async def verification_code_expired(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    await _channel_code(emu, c)
    emu.advance_time(8 * 24 * 3600)
    return await _verify(emu, c, emu.last_code("v@example.com"))


async def verification_code_already_used(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    await _channel_code(emu, c)
    await _verify(emu, c, emu.last_code("v@example.com"))
    return await _verify(emu, c, emu.last_code("v@example.com"))


async def verification_code_max_attempts_reached(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    await _channel_code(emu, c)
    code = emu.last_code("v@example.com")
    for n in range(20):  # wrong first six characters, same rest: Stack counts them against the code
        await _verify(emu, c, f"{n:06d}{code[6:]}")
    return await _verify(emu, c, code)


async def email_already_verified(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    user = await new_user(c, emu, primary_email="done@example.com", primary_email_verified=True)
    (channel,) = (
        await c.get("/api/v1/contact-channels", params={"user_id": user["id"]}, headers=emu.headers())
    ).json()["items"]
    return await c.post(
        f"/api/v1/contact-channels/{user['id']}/{channel['id']}/send-verification-code",
        json={"callback_url": "http://localhost:3000/v"},
        headers=emu.headers(),
    )


async def contact_channel_already_used_for_auth_by_someone_else(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    await new_user(c, emu, primary_email="taken@example.com", primary_email_auth_enabled=True)
    other = await new_user(c, emu, display_name="Other")
    body = {"user_id": other["id"], "type": "email", "value": "taken@example.com", "used_for_auth": True}
    return await c.post("/api/v1/contact-channels", json=body, headers=emu.headers())


async def team_permission_required(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    _, headers, team_id = await _member_with_token(emu, c)
    return await c.delete(f"/api/v1/teams/{team_id}", headers=headers)


async def team_permission_not_found(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    member, _, team_id = await _member_with_token(emu, c)
    return await c.delete(f"/api/v1/team-permissions/{team_id}/{member['id']}/$delete_team", headers=emu.headers())


async def _user_key(emu: Emulator, c: httpx.AsyncClient, expires_at_millis: int | None = None) -> dict[str, Any]:
    user = await new_user(c, emu, display_name="Key holder")
    body = {"user_id": user["id"], "description": "k", "expires_at_millis": expires_at_millis}
    data: dict[str, Any] = (await c.post("/api/v1/user-api-keys", json=body, headers=emu.headers())).json()
    return data


async def api_key_not_found(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    return await c.get(f"/api/v1/user-api-keys/{MISSING}", headers=emu.headers())


async def api_key_revoked(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    key = await _user_key(emu, c)
    await c.patch(f"/api/v1/user-api-keys/{key['id']}", json={"revoked": True}, headers=emu.headers())
    return await c.post("/api/v1/user-api-keys/check", json={"api_key": key["value"]}, headers=emu.headers())


async def api_key_expired(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    key = await _user_key(emu, c, expires_at_millis=int(emu.now() * 1000) + 60_000)
    emu.advance_time(61)
    return await c.post("/api/v1/user-api-keys/check", json={"api_key": key["value"]}, headers=emu.headers())


async def wrong_api_key_type(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    key = await _user_key(emu, c)
    return await c.post("/api/v1/team-api-keys/check", json={"api_key": key["value"]}, headers=emu.headers())


async def oauth_provider_account_id_already_used_for_sign_in(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    link = {
        "provider_config_id": "github",
        "account_id": "gh-1",
        "allow_sign_in": True,
        "allow_connected_accounts": True,
    }
    for name in ("First", "Second"):
        user = await new_user(c, emu, display_name=name)
        answer = await c.post("/api/v1/oauth-providers", json={"user_id": user["id"], **link}, headers=emu.headers())
    return answer


# --- sign-in flows ------------------------------------------------------------------------------------------------


async def invalid_totp_code(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    attempt = known_error(await multi_factor_authentication_required(emu, c))[2]["details"]["attempt_code"]
    import pyotp

    right = pyotp.TOTP(base64.b32encode(base64.b64decode(TOTP_SECRET)).decode()).now()
    wrong = f"{(int(right) + 500_000) % 1_000_000:06d}"
    body = {"type": "totp", "totp": wrong, "code": attempt}
    return await c.post("/api/v1/auth/mfa/sign-in", json=body, headers=emu.headers("client"))


async def anonymous_accounts_not_enabled(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    emu.configure_project(anonymous_sign_up_enabled=False)
    return await c.post("/api/v1/auth/anonymous/sign-up", json={}, headers=emu.headers("client"))


async def user_does_not_have_password(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    user = await new_user(c, emu, primary_email="nopw@example.com", primary_email_auth_enabled=True)
    tokens = await sign_in(c, emu, user["id"])
    body = {"old_password": "whatever-1", "new_password": "whatever-2"}
    headers = emu.headers("client", access_token=tokens["access_token"])
    return await c.post("/api/v1/auth/password/update", json=body, headers=headers)


async def password_confirmation_mismatch(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    user = await new_user(c, emu, primary_email="pw@example.com", primary_email_auth_enabled=True, password="pw-one-1")
    tokens = await sign_in(c, emu, user["id"])
    body = {"old_password": "not-pw-one", "new_password": "pw-two-22"}
    headers = emu.headers("client", access_token=tokens["access_token"])
    return await c.post("/api/v1/auth/password/update", json=body, headers=headers)


async def invalid_polling_code(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    return await c.post("/api/v1/auth/cli/poll", json={"polling_code": "nope"}, headers=emu.headers("client"))


def _authorize_query(emu: Emulator, **extra: str) -> dict[str, str]:
    return {
        "client_id": emu.project_id,
        "client_secret": emu.publishable_client_key,
        "redirect_uri": "http://localhost:3000/callback",
        "scope": "legacy",
        "state": "s",
        "grant_type": "authorization_code",
        "code_challenge": "c" * 43,
        "code_challenge_method": "S256",
        "response_type": "code",
        **extra,
    }


async def oauth_provider_not_found_or_not_enabled(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    return await c.get("/api/v1/auth/oauth/authorize/nope", params=_authorize_query(emu))


async def oauth_extra_scope_not_available_with_shared_oauth_keys(emu: Emulator, c: httpx.AsyncClient) -> httpx.Response:
    return await c.get("/api/v1/auth/oauth/authorize/google", params=_authorize_query(emu, provider_scope="drive"))


SCENARIOS: dict[str, tuple[Scenario, int]] = {
    "SCHEMA_ERROR": (schema_error, 400),
    "BODY_PARSING_ERROR": (body_parsing_error, 400),
    "PROJECT_KEY_WITHOUT_ACCESS_TYPE": (project_key_without_access_type, 400),
    "INVALID_ACCESS_TYPE": (invalid_access_type, 400),
    "ACCESS_TYPE_WITHOUT_PROJECT_ID": (access_type_without_project_id, 400),
    "ACCESS_TYPE_REQUIRED": (access_type_required, 400),
    "INSUFFICIENT_ACCESS_TYPE": (insufficient_access_type, 401),
    "INVALID_PUBLISHABLE_CLIENT_KEY": (invalid_publishable_client_key, 401),
    "INVALID_SECRET_SERVER_KEY": (invalid_secret_server_key, 401),
    "INVALID_SUPER_SECRET_ADMIN_KEY": (invalid_super_secret_admin_key, 401),
    "ADMIN_AUTHENTICATION_REQUIRED": (admin_authentication_required, 401),
    "UNPARSABLE_ADMIN_ACCESS_TOKEN": (unparsable_admin_access_token, 401),
    "PUBLISHABLE_CLIENT_KEY_REQUIRED_FOR_PROJECT": (publishable_client_key_required_for_project, 401),
    "SERVER_AUTHENTICATION_REQUIRED": (server_authentication_required, 401),
    "CURRENT_PROJECT_NOT_FOUND": (current_project_not_found, 400),
    "UNPARSABLE_ACCESS_TOKEN": (unparsable_access_token, 401),
    "ACCESS_TOKEN_EXPIRED": (access_token_expired, 401),
    "INVALID_PROJECT_FOR_ACCESS_TOKEN": (invalid_project_for_access_token, 401),
    "ANONYMOUS_AUTHENTICATION_NOT_ALLOWED": (anonymous_authentication_not_allowed, 401),
    "RESTRICTED_USER_NOT_ALLOWED": (restricted_user_not_allowed, 403),
    "REFRESH_TOKEN_NOT_FOUND_OR_EXPIRED": (refresh_token_not_found_or_expired, 401),
    "CANNOT_DELETE_CURRENT_SESSION": (cannot_delete_current_session, 400),
    "INVALID_OAUTH_CLIENT_ID_OR_SECRET": (invalid_oauth_client_id_or_secret, 400),
    "INVALID_AUTHORIZATION_CODE": (invalid_authorization_code, 400),
    "USER_EMAIL_ALREADY_EXISTS": (user_email_already_exists, 409),
    "CANNOT_GET_OWN_USER_WITHOUT_USER": (cannot_get_own_user_without_user, 400),
    "USER_ID_DOES_NOT_EXIST": (user_id_does_not_exist, 400),
    "USER_NOT_FOUND": (user_not_found, 404),
    "USER_AUTHENTICATION_REQUIRED": (user_authentication_required, 401),
    "SIGN_UP_NOT_ENABLED": (sign_up_not_enabled, 400),
    "PASSWORD_AUTHENTICATION_NOT_ENABLED": (password_authentication_not_enabled, 400),
    "EMAIL_PASSWORD_MISMATCH": (email_password_mismatch, 400),
    "PASSWORD_TOO_SHORT": (password_too_short, 400),
    "PASSWORD_TOO_LONG": (password_too_long, 400),
    "MULTI_FACTOR_AUTHENTICATION_REQUIRED": (multi_factor_authentication_required, 400),
    "TEAM_NOT_FOUND": (team_not_found, 404),
    "TEAM_MEMBERSHIP_NOT_FOUND": (team_membership_not_found, 404),
    "TEAM_MEMBERSHIP_ALREADY_EXISTS": (team_membership_already_exists, 409),
    "PERMISSION_NOT_FOUND": (permission_not_found, 404),
    "WRONG_PERMISSION_SCOPE": (wrong_permission_scope, 404),
    "REDIRECT_URL_NOT_WHITELISTED": (redirect_url_not_whitelisted, 400),
    "VERIFICATION_CODE_NOT_FOUND": (verification_code_not_found, 404),
    "VERIFICATION_CODE_EXPIRED": (verification_code_expired, 400),
    "VERIFICATION_CODE_ALREADY_USED": (verification_code_already_used, 409),
    "VERIFICATION_CODE_MAX_ATTEMPTS_REACHED": (verification_code_max_attempts_reached, 400),
    "EMAIL_ALREADY_VERIFIED": (email_already_verified, 409),
    "CONTACT_CHANNEL_ALREADY_USED_FOR_AUTH_BY_SOMEONE_ELSE": (
        contact_channel_already_used_for_auth_by_someone_else,
        409,
    ),
    "TEAM_PERMISSION_REQUIRED": (team_permission_required, 401),
    "TEAM_PERMISSION_NOT_FOUND": (team_permission_not_found, 401),
    "API_KEY_NOT_FOUND": (api_key_not_found, 404),
    "API_KEY_REVOKED": (api_key_revoked, 401),
    "API_KEY_EXPIRED": (api_key_expired, 401),
    "WRONG_API_KEY_TYPE": (wrong_api_key_type, 400),
    "OAUTH_PROVIDER_ACCOUNT_ID_ALREADY_USED_FOR_SIGN_IN": (oauth_provider_account_id_already_used_for_sign_in, 400),
    "INVALID_TOTP_CODE": (invalid_totp_code, 400),
    "ANONYMOUS_ACCOUNTS_NOT_ENABLED": (anonymous_accounts_not_enabled, 400),
    "USER_DOES_NOT_HAVE_PASSWORD": (user_does_not_have_password, 400),
    "PASSWORD_CONFIRMATION_MISMATCH": (password_confirmation_mismatch, 400),
    "INVALID_POLLING_CODE": (invalid_polling_code, 400),
    "OAUTH_PROVIDER_NOT_FOUND_OR_NOT_ENABLED": (oauth_provider_not_found_or_not_enabled, 400),
    "OAUTH_EXTRA_SCOPE_NOT_AVAILABLE_WITH_SHARED_OAUTH_KEYS": (
        oauth_extra_scope_not_available_with_shared_oauth_keys,
        400,
    ),
}


@pytest.mark.parametrize("code", sorted(SCENARIOS))
async def test_known_error(code: str) -> None:
    scenario, status = SCENARIOS[code]
    emu = Emulator(seed=5)
    async with client_for(emu) as c:
        response = await scenario(emu, c)
        assert known_error(response)[:2] == (status, code), response.text
        assert KNOWN_ERRORS[code].default_status == status
        assert response.headers["cache-control"] == "no-store, max-age=0"
        # The same answer through x-stack-override-error-status: 200 + x-stack-actual-status.
        override = {**dict(response.request.headers), "x-stack-override-error-status": "true"}
        if response.request.method == "GET" and code != "ACCESS_TOKEN_EXPIRED":
            again = await c.get(response.request.url, headers=override)
            assert again.status_code == 200
            assert again.headers["x-stack-actual-status"] == str(status)
            assert again.headers["x-stack-known-error"] == code


def test_every_error_the_emulator_can_raise_is_covered() -> None:
    raised: set[str] = set()
    for name, fn in inspect.getmembers(known, inspect.isfunction):
        if fn.__module__ != known.__name__ or name.startswith("_"):
            continue
        samples = {
            "str": "x",
            "str | None": "x",
            "int": 1,
            "int | None": 1,
            "bool": False,
            "list[str]": ["x"],
            "dict[str, Any]": {"type": "x"},
        }
        error = fn(*(samples[str(p.annotation)] for p in inspect.signature(fn).parameters.values()))
        assert isinstance(error, KnownError)
        raised.add(error.code)
    assert raised <= set(SCENARIOS), sorted(raised - set(SCENARIOS))


async def test_messages_match_stack() -> None:
    emu = Emulator(seed=5)
    async with client_for(emu) as c:
        body = known_error(await insufficient_access_type(emu, c))[2]
        assert body["error"] == "The x-stack-access-type header must be 'server' or 'admin', but was 'client'."
        assert body["details"] == {"actual_access_type": "client", "allowed_access_types": ["server", "admin"]}
        body = known_error(await access_type_required(emu, c))[2]
        assert body["error"].startswith("You must specify an access level for this Stack project.")
        assert "\n\nFor more information, see the docs" in body["error"]
        body = known_error(await team_membership_not_found(emu, c))[2]
        assert body["error"] == "User {user_id} is not found in team {team_id}.".format(**body["details"])
        body = known_error(await access_token_expired(emu, c))[2]
        assert body["error"].startswith(
            "Access token has expired. Please refresh it and try again. (The access token expired at "
        )
        assert set(body["details"]) == {"expired_at_millis", "project_id", "user_id", "refresh_token_id"}
