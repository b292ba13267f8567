"""Sign-in flows: ``/auth/password/*``, ``/auth/otp/*``, ``/auth/anonymous/sign-up``, ``/auth/mfa/sign-in``
(the CLI login is in ``cli_api``, OAuth in ``oauth_api``), and the steps they share: sessions, codes, sign-up.

Follows ``apps/backend/src/app/api/latest/auth/`` of the Stack source and the real answers in
``samples-wave2.json``. Mails Stack would send are recorded (``Project.send_mail``) so tests read their codes with
``Emulator.last_code``.
"""

from __future__ import annotations

import base64
from typing import Any

from stack_auth.testing import known
from stack_auth.testing.auth import CLIENT_OR_HIGHER, Auth, require_access
from stack_auth.testing.codes import (
    CODE_LENGTH,
    VerificationCode,
    check_code_route,
    code_and_body,
    create_code,
    find_code,
    use_code,
)
from stack_auth.testing.contact_channels_api import EMAIL_VERIFICATION
from stack_auth.testing.context import Ctx
from stack_auth.testing.defaults import (
    DEFAULT_SESSION_EXPIRES_IN_MILLIS,
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
)
from stack_auth.testing.operations import create_session, create_user, normalize_email
from stack_auth.testing.passwords import hash_password_async, verify_password_async
from stack_auth.testing.redirects import check_redirect_url
from stack_auth.testing.state import Project, User
from stack_auth.testing.validation import Field
from stack_auth.testing.views import user_server
from stack_auth.testing.wire import Response, StatusError, json_response, success_response

_MINUTE_MS = 60 * 1000
_CODE_LIFETIME_MS = 7 * 24 * 60 * _MINUTE_MS  # Stack's default for emailed codes
_MFA_LIFETIME_MS = 5 * _MINUTE_MS

_SIGN_IN_FIELDS = {
    "email": Field("email", required=True, non_empty=True),
    "password": Field("string", required=True),
}
_SIGN_UP_FIELDS = {
    "email": Field("email", required=True),
    "password": Field("string", required=True),
    "verification_callback_url": Field("string"),
    "turnstile_token": Field("string"),
    "turnstile_phase": Field("string", one_of=("invisible", "visible")),
    "turnstile_previous_result": Field("string"),
}
_SEND_CODE_FIELDS = {"email": Field("email", required=True), "callback_url": Field("string", required=True)}
#: The digits a user types: the first characters of a sign-in code (the rest is the nonce the send call returned).
OTP_LENGTH = 6


# --- shared steps --------------------------------------------------------------------------------------------------


def body_of(ctx: Ctx, fields: dict[str, Field]) -> dict[str, Any]:
    v = ctx.validator()
    data = v.body(ctx.request.body, fields)
    v.done()
    return data


def _check_password(password: str) -> None:
    if len(password) < PASSWORD_MIN_LENGTH:
        raise known.password_too_short(PASSWORD_MIN_LENGTH)
    if len(password) > PASSWORD_MAX_LENGTH:
        raise known.password_too_long(PASSWORD_MAX_LENGTH)


def signed_in(ctx: Ctx, project: Project, user: User, **extra: Any) -> dict[str, Any]:
    """A new session for ``user``: the answer every sign-in route gives (call under the store lock)."""
    session, access_token = create_session(
        ctx.services.store,
        ctx.services.tokens,
        project,
        user,
        base_url=ctx.base_url,
        expires_in_millis=DEFAULT_SESSION_EXPIRES_IN_MILLIS,
    )
    return {"access_token": access_token, "refresh_token": session.refresh_token, **extra, "user_id": user.id}


def _sign_in_or_mfa(ctx: Ctx, project: Project, user: User, **extra: Any) -> dict[str, Any]:
    """Sign ``user`` in, or refuse with MULTI_FACTOR_AUTHENTICATION_REQUIRED and a fresh attempt code."""
    if user.requires_totp_mfa:
        attempt = _new_code(ctx, project, "mfa", {"user_id": user.id, **extra}, _MFA_LIFETIME_MS)
        raise known.multi_factor_authentication_required(attempt.code)
    return signed_in(ctx, project, user, **extra)


def _new_code(
    ctx: Ctx,
    project: Project,
    kind: str,
    data: dict[str, Any],
    lifetime_ms: int,
    *,
    callback_url: str | None = None,
    otp: bool = False,
) -> VerificationCode:
    """A fresh 45-character code; a sign-in code starts with the six digits the mail shows (the rest is the nonce)."""
    ids = ctx.services.store.ids
    text = "".join(ids.rng.choices("0123456789", k=OTP_LENGTH)) + ids.secret(CODE_LENGTH - OTP_LENGTH) if otp else None
    return create_code(
        ctx.services.store, project, kind, data, callback_url=callback_url, expires_in_ms=lifetime_ms, text=text
    )


def _auth_user(project: Project, email: str) -> User | None:
    user_id = project.auth_emails.get(email)
    return project.users.get(user_id) if user_id is not None else None


def _sign_up(ctx: Ctx, project: Project, auth: Auth, fields: dict[str, Any], password_hash: str | None) -> User:
    """A new user, or the caller's anonymous user upgraded in place (same id), as Stack's sign-up routes do."""
    if not project.config.sign_up_enabled:
        raise known.sign_up_not_enabled()
    current = auth.user
    if current is not None and current.is_anonymous:
        project.set_email(current, fields["primary_email"], fields["primary_email_verified"], True)
        current.password_hash = password_hash or current.password_hash
        current.otp_auth_enabled = bool(fields.get("otp_auth_enabled", current.otp_auth_enabled))
        project.upgrade_anonymous(current, ctx.services.store.clock.tick_ms())
        project.announce("user.updated", lambda: user_server(project, current))
        return current
    user, _ = create_user(ctx.services.store, project, fields, password_hash)
    return user


# --- password ------------------------------------------------------------------------------------------------------


def _password_request(ctx: Ctx, fields: dict[str, Field]) -> tuple[Auth, dict[str, Any]]:
    """The caller and the body of a password route, once the project allows passwords."""
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    data = body_of(ctx, fields)
    if not auth.project.config.password_auth_enabled:
        raise known.password_authentication_not_enabled()
    return auth, data


async def password_sign_in(ctx: Ctx) -> Response:
    auth, data = _password_request(ctx, _SIGN_IN_FIELDS)
    project = auth.project
    email = normalize_email(str(data["email"])) or ""
    store = ctx.services.store
    with store.lock:
        user = _auth_user(project, email)
        stored = user.password_hash if user is not None else None
    if not await verify_password_async(str(data["password"]), stored) or user is None:
        raise known.email_password_mismatch()
    with store.lock:
        if project.users.get(user.id) is not user:
            raise known.email_password_mismatch()
        return json_response(_sign_in_or_mfa(ctx, project, user))


async def password_sign_up(ctx: Ctx) -> Response:
    auth, data = _password_request(ctx, _SIGN_UP_FIELDS)
    project = auth.project
    if not project.config.sign_up_enabled:
        raise known.sign_up_not_enabled()
    if "verification_callback_url" in data:
        check_redirect_url(project, str(data["verification_callback_url"]))
    password = str(data["password"])
    _check_password(password)
    password_hash = await hash_password_async(password, ctx.services.password_iterations)
    fields = {"primary_email": data["email"], "primary_email_verified": False, "primary_email_auth_enabled": True}
    store = ctx.services.store
    with store.lock:
        user = _sign_up(ctx, project, auth, fields, password_hash)
        callback_url = data.get("verification_callback_url")
        if callback_url is not None and user.primary_email is not None:
            # The mail that verifies the new address (``verify_email`` takes its code), as Stack sends it.
            target = {"user_id": user.id, "email": user.primary_email}
            code = create_code(store, project, EMAIL_VERIFICATION, target, callback_url=str(callback_url))
            project.send_mail(
                user.primary_email, "email_verification", code.code, code.callback_url, store.clock.now_ms()
            )
        return json_response(signed_in(ctx, project, user))


def _signed_in_user(ctx: Ctx, auth: Auth) -> User:
    if auth.user is None:
        v = ctx.validator()
        v.fail("auth.user must be defined")
        v.done()
    assert auth.user is not None
    return auth.user


async def password_update(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    user = _signed_in_user(ctx, auth)
    data = body_of(
        ctx, {"old_password": Field("string", required=True), "new_password": Field("string", required=True)}
    )
    if not auth.project.config.password_auth_enabled:
        raise known.password_authentication_not_enabled()
    _check_password(str(data["new_password"]))
    if user.password_hash is None:
        raise known.user_does_not_have_password()
    if not await verify_password_async(str(data["old_password"]), user.password_hash):
        raise known.password_confirmation_mismatch()
    await _store_password(ctx, user, str(data["new_password"]))
    # As Stack does: every other session of the user ends (all of them when no refresh token was sent).
    keep = ctx.request.headers.get("x-stack-refresh-token")
    with ctx.services.store.lock:
        project = auth.project
        for session in [s for s in project.sessions.values() if s.user_id == user.id and s.refresh_token != keep]:
            project.delete_session(session.id)
    return success_response()


async def _store_password(ctx: Ctx, user: User, password: str) -> None:
    _check_password(password)
    new_hash = await hash_password_async(password, ctx.services.password_iterations)
    with ctx.services.store.lock:
        user.password_hash = new_hash


async def password_set(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    user = _signed_in_user(ctx, auth)
    data = body_of(ctx, {"password": Field("string", required=True)})
    if user.password_hash is not None:
        raise StatusError(400, "User already has a password set.")
    await _store_password(ctx, user, str(data["password"]))
    return success_response()


async def send_reset_code(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    data = body_of(ctx, _SEND_CODE_FIELDS)
    project = auth.project
    callback_url = str(data["callback_url"])
    check_redirect_url(project, callback_url)
    email = normalize_email(str(data["email"])) or ""
    store = ctx.services.store
    with store.lock:
        user = _auth_user(project, email)
        if user is not None:
            code = _new_code(
                ctx, project, "password_reset", {"user_id": user.id}, _CODE_LIFETIME_MS, callback_url=callback_url
            )
            project.send_mail(email, "password_reset", code.code, callback_url, store.clock.now_ms())
    return json_response({"success": "maybe, only if user with e-mail exists"})


async def reset_password(ctx: Ctx) -> Response:
    project = require_access(ctx.auth, CLIENT_OR_HIGHER).project
    code, data = code_and_body(ctx, {"password": Field("string", required=True)})
    password = str(data["password"])
    with ctx.services.store.lock:
        find_code(ctx.services.store, project, "password_reset", code)
    if not project.config.password_auth_enabled:
        raise known.password_authentication_not_enabled()
    _check_password(password)
    new_hash = await hash_password_async(password, ctx.services.password_iterations)
    with ctx.services.store.lock:
        found = use_code(ctx.services.store, project, "password_reset", code)
        user = project.users.get(found.data["user_id"])
        if user is None:
            raise known.user_not_found()
        user.password_hash = new_hash
        # Stack resets through its users CRUD, which announces the change.
        project.announce("user.updated", lambda: user_server(project, user))
    return success_response()


# --- OTP / magic link ----------------------------------------------------------------------------------------------


async def send_sign_in_code(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    data = body_of(ctx, _SEND_CODE_FIELDS)
    project = auth.project
    if not project.config.magic_link_enabled:
        raise StatusError(403, "Magic link is not enabled for this project")
    callback_url = str(data["callback_url"])
    check_redirect_url(project, callback_url)
    email = normalize_email(str(data["email"])) or ""
    store = ctx.services.store
    with store.lock:
        user = _auth_user(project, email)
        if user is not None and not user.primary_email_verified:
            raise known.user_email_already_exists(email, would_work_if_email_was_verified=True)
        if user is None and not project.config.sign_up_enabled:
            raise known.sign_up_not_enabled()
        target = {"email": email, "user_id": user.id if user is not None else None}
        code = _new_code(ctx, project, "sign_in", target, _CODE_LIFETIME_MS, callback_url=callback_url, otp=True)
        project.send_mail(email, "sign_in_code", code.code, callback_url, store.clock.now_ms())
    return json_response({"nonce": code.code[OTP_LENGTH:]})


async def otp_sign_in(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    project = auth.project
    code, _ = code_and_body(ctx)
    with ctx.services.store.lock:
        found = use_code(ctx.services.store, project, "sign_in", code)
        user = project.users.get(found.data["user_id"] or "")
        is_new_user = user is None
        if user is None:
            fields = {
                "primary_email": found.data["email"],
                "primary_email_verified": True,
                "primary_email_auth_enabled": True,
                "otp_auth_enabled": True,
            }
            user = _sign_up(ctx, project, auth, fields, None)
        return json_response(_sign_in_or_mfa(ctx, project, user, is_new_user=is_new_user))


# --- anonymous users and MFA ---------------------------------------------------------------------------------------


async def anonymous_sign_up(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    body_of(ctx, {})
    project = auth.project
    if not project.config.anonymous_sign_up_enabled:
        raise known.anonymous_accounts_not_enabled()
    with ctx.services.store.lock:
        user, _ = create_user(ctx.services.store, project, {"is_anonymous": True}, None)
        return json_response(signed_in(ctx, project, user))


def _totp_matches(secret_base64: str, totp: str, now: float) -> bool:
    import pyotp

    try:
        secret = base64.b32encode(base64.b64decode(secret_base64)).decode()
        # One step of clock drift either way, as authenticator apps need.
        return bool(pyotp.TOTP(secret).verify(totp, for_time=int(now), valid_window=1))
    except ValueError:  # not base64, or shorter than the 112 bits pyotp (and RFC 4226) ask for: no code matches
        return False


async def mfa_sign_in(ctx: Ctx) -> Response:
    project = require_access(ctx.auth, CLIENT_OR_HIGHER).project
    code, data = code_and_body(
        ctx, {"type": Field("string", required=True, one_of=("totp",)), "totp": Field("string", required=True)}
    )
    store = ctx.services.store
    with store.lock:
        found = find_code(store, project, "mfa", code)
        user = project.users.get(found.data["user_id"])
        if user is None or user.totp_secret_base64 is None:
            raise known.verification_code_not_found()
        if not _totp_matches(user.totp_secret_base64, str(data["totp"]), store.clock.now()):
            raise known.invalid_totp_code()
        found.used_at = store.clock.now_ms()
        return json_response(signed_in(ctx, project, user, is_new_user=bool(found.data.get("is_new_user", False))))


ROUTES = [
    ("POST", "/auth/password/sign-in", password_sign_in),
    ("POST", "/auth/password/sign-up", password_sign_up),
    ("POST", "/auth/password/update", password_update),
    ("POST", "/auth/password/set", password_set),
    ("POST", "/auth/password/send-reset-code", send_reset_code),
    ("POST", "/auth/password/reset/check-code", check_code_route("password_reset")),
    ("POST", "/auth/password/reset", reset_password),
    ("POST", "/auth/otp/send-sign-in-code", send_sign_in_code),
    ("POST", "/auth/otp/sign-in/check-code", check_code_route("sign_in")),
    ("POST", "/auth/otp/sign-in", otp_sign_in),
    ("POST", "/auth/anonymous/sign-up", anonymous_sign_up),
    ("POST", "/auth/mfa/sign-in", mfa_sign_in),
]
