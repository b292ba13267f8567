"""Sign-in flows: ``/auth/password/*``, ``/auth/otp/*``, ``/auth/anonymous/sign-up``, ``/auth/mfa/sign-in``,
``/auth/cli*`` and the OAuth authorize / callback pair (the token exchange is in ``sessions_api.oauth_token``).

Follows ``apps/backend/src/app/api/latest/auth/`` of the Stack source and the real answers in
``samples-wave2.json``. Mails Stack would send are recorded (``Project.send_mail``) so tests read their codes with
``Emulator.last_code``. The OAuth provider is emulated: it consents at once and signs in the account set with
``Emulator.set_oauth_account`` (default ``emulated-<provider>-user``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from stack_auth.testing import known
from stack_auth.testing.auth import CLIENT_OR_HIGHER, Auth, require_access
from stack_auth.testing.context import Ctx
from stack_auth.testing.defaults import (
    CONTROL_PREFIX,
    DEFAULT_SESSION_EXPIRES_IN_MILLIS,
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
)
from stack_auth.testing.flows import (
    CODE_LENGTH,
    MAX_ATTEMPTS_PER_CODE,
    OTP_LENGTH,
    CliAttempt,
    Code,
    OAuthGrant,
    OAuthRequest,
)
from stack_auth.testing.operations import access_token_for, create_session, create_user, normalize_email
from stack_auth.testing.passwords import hash_password_async, verify_password_async
from stack_auth.testing.redirects import check_redirect_url
from stack_auth.testing.state import Project, Store, User
from stack_auth.testing.validation import Field, Validator
from stack_auth.testing.wire import Response, StatusError, dumps, json_response, success_response

_MINUTE_MS = 60 * 1000
_CODE_LIFETIME_MS = 7 * 24 * 60 * _MINUTE_MS  # Stack's default for emailed codes
_MFA_LIFETIME_MS = 5 * _MINUTE_MS
_CLI_DEFAULT_MS = 2 * 60 * _MINUTE_MS
_CLI_MAX_MS = 24 * 60 * _MINUTE_MS
_OAUTH_CODE_LIFETIME_MS = 10 * _MINUTE_MS

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
_CODE_FIELDS = {"code": Field("string", required=True)}


# --- shared steps --------------------------------------------------------------------------------------------------


def _body(ctx: Ctx, fields: dict[str, Field]) -> dict[str, Any]:
    v = ctx.validator()
    data = v.body(ctx.request.body, fields)
    v.done()
    return data


def _check_password(password: str) -> None:
    if len(password) < PASSWORD_MIN_LENGTH:
        raise known.password_too_short(PASSWORD_MIN_LENGTH)
    if len(password) > PASSWORD_MAX_LENGTH:
        raise known.password_too_long(PASSWORD_MAX_LENGTH)


def _signed_in(ctx: Ctx, project: Project, user: User, **extra: Any) -> dict[str, Any]:
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
    return _signed_in(ctx, project, user, **extra)


def _new_code(
    ctx: Ctx, project: Project, kind: str, data: dict[str, Any], lifetime_ms: int, *, otp: bool = False
) -> Code:
    """A fresh 45-character code; a sign-in code starts with the six digits the mail shows (the rest is the nonce)."""
    ids = ctx.services.store.ids
    if otp:
        text = "".join(ids.rng.choices("0123456789", k=OTP_LENGTH)) + ids.secret(CODE_LENGTH - OTP_LENGTH)
    else:
        text = ids.secret(CODE_LENGTH)
    code = Code(kind, text, ctx.services.store.clock.now_ms() + lifetime_ms, data)
    project.flows.codes[text] = code
    return code


def _code_arg(ctx: Ctx, extra: dict[str, Field] | None = None) -> tuple[str, dict[str, Any]]:
    v = ctx.validator()
    data = v.body(ctx.request.body, {**_CODE_FIELDS, **(extra or {})})
    code = data.get("code")
    if isinstance(code, str) and len(code) != CODE_LENGTH:
        v.fail(f"body.code must be exactly {CODE_LENGTH} characters")
    v.done()
    return str(code).lower(), data


def _take_code(ctx: Ctx, project: Project, kind: str, code: str, *, use: bool) -> Code:
    """The code of this kind, checked as Stack checks it (attempts counted first); marked used when ``use``."""
    flows = project.flows
    for other in flows.codes.values():
        if other.code.endswith(code[OTP_LENGTH:]):
            other.attempts += 1
    found = flows.codes.get(code)
    if found is None or found.kind != kind:
        raise known.verification_code_not_found()
    if found.expires_at < ctx.services.store.clock.now_ms():
        raise known.verification_code_expired()
    if found.used:
        raise known.verification_code_already_used()
    if found.attempts > MAX_ATTEMPTS_PER_CODE:
        raise known.verification_code_max_attempts_reached()
    found.used = found.used or use
    return found


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
        current.is_anonymous = False
        return current
    user, _ = create_user(ctx.services.store, project, fields, password_hash)
    return user


# --- password ------------------------------------------------------------------------------------------------------


async def password_sign_in(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    data = _body(ctx, _SIGN_IN_FIELDS)
    project = auth.project
    if not project.config.password_auth_enabled:
        raise known.password_authentication_not_enabled()
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
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    data = _body(ctx, _SIGN_UP_FIELDS)
    project = auth.project
    if not project.config.password_auth_enabled:
        raise known.password_authentication_not_enabled()
    if not project.config.sign_up_enabled:
        raise known.sign_up_not_enabled()
    if "verification_callback_url" in data:
        check_redirect_url(project, str(data["verification_callback_url"]))
    password = str(data["password"])
    _check_password(password)
    password_hash = await hash_password_async(password, ctx.services.password_iterations)
    fields = {"primary_email": data["email"], "primary_email_verified": False, "primary_email_auth_enabled": True}
    with ctx.services.store.lock:
        user = _sign_up(ctx, project, auth, fields, password_hash)
        return json_response(_signed_in(ctx, project, user))


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
    data = _body(ctx, {"old_password": Field("string", required=True), "new_password": Field("string", required=True)})
    if user.password_hash is None:
        raise known.user_does_not_have_password()
    if not await verify_password_async(str(data["old_password"]), user.password_hash):
        raise known.password_confirmation_mismatch()
    await _store_password(ctx, user, str(data["new_password"]))
    return success_response()


async def _store_password(ctx: Ctx, user: User, password: str) -> None:
    _check_password(password)
    new_hash = await hash_password_async(password, ctx.services.password_iterations)
    with ctx.services.store.lock:
        user.password_hash = new_hash


async def password_set(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    user = _signed_in_user(ctx, auth)
    data = _body(ctx, {"password": Field("string", required=True)})
    if user.password_hash is not None:
        raise StatusError(400, "User already has a password set.")
    await _store_password(ctx, user, str(data["password"]))
    return success_response()


async def send_reset_code(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    data = _body(ctx, _SEND_CODE_FIELDS)
    project = auth.project
    callback_url = str(data["callback_url"])
    check_redirect_url(project, callback_url)
    email = normalize_email(str(data["email"])) or ""
    store = ctx.services.store
    with store.lock:
        user = _auth_user(project, email)
        if user is not None:
            code = _new_code(ctx, project, "password_reset", {"user_id": user.id}, _CODE_LIFETIME_MS)
            project.send_mail(email, "password_reset", code.code, callback_url, store.clock.now_ms())
    return json_response({"success": "maybe, only if user with e-mail exists"})


async def check_reset_code(ctx: Ctx) -> Response:
    project = require_access(ctx.auth, CLIENT_OR_HIGHER).project
    code, _ = _code_arg(ctx)
    with ctx.services.store.lock:
        _take_code(ctx, project, "password_reset", code, use=False)
    return json_response({"is_code_valid": True})


async def reset_password(ctx: Ctx) -> Response:
    project = require_access(ctx.auth, CLIENT_OR_HIGHER).project
    code, data = _code_arg(ctx, {"password": Field("string", required=True)})
    password = str(data["password"])
    with ctx.services.store.lock:
        _take_code(ctx, project, "password_reset", code, use=False)
    _check_password(password)
    new_hash = await hash_password_async(password, ctx.services.password_iterations)
    with ctx.services.store.lock:
        found = _take_code(ctx, project, "password_reset", code, use=True)
        user = project.users.get(found.data["user_id"])
        if user is None:
            raise known.user_not_found()
        user.password_hash = new_hash
        # Opening the mail proves the address: Stack marks it verified.
        user.primary_email_verified = True
    return success_response()


# --- OTP / magic link ----------------------------------------------------------------------------------------------


async def send_sign_in_code(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    data = _body(ctx, _SEND_CODE_FIELDS)
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
        code = _new_code(ctx, project, "sign_in", target, _CODE_LIFETIME_MS, otp=True)
        project.send_mail(email, "sign_in_code", code.code, callback_url, store.clock.now_ms())
    return json_response({"nonce": code.code[OTP_LENGTH:]})


async def check_sign_in_code(ctx: Ctx) -> Response:
    project = require_access(ctx.auth, CLIENT_OR_HIGHER).project
    code, _ = _code_arg(ctx)
    with ctx.services.store.lock:
        _take_code(ctx, project, "sign_in", code, use=False)
    return json_response({"is_code_valid": True})


async def otp_sign_in(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    project = auth.project
    code, _ = _code_arg(ctx)
    with ctx.services.store.lock:
        found = _take_code(ctx, project, "sign_in", code, use=True)
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
    _body(ctx, {})
    project = auth.project
    if not project.config.anonymous_sign_up_enabled:
        raise known.anonymous_accounts_not_enabled()
    with ctx.services.store.lock:
        user, _ = create_user(ctx.services.store, project, {"is_anonymous": True}, None)
        return json_response(_signed_in(ctx, project, user))


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
    code, data = _code_arg(
        ctx, {"type": Field("string", required=True, one_of=("totp",)), "totp": Field("string", required=True)}
    )
    store = ctx.services.store
    with store.lock:
        found = _take_code(ctx, project, "mfa", code, use=False)
        user = project.users.get(found.data["user_id"])
        if user is None or user.totp_secret_base64 is None:
            raise known.verification_code_not_found()
        if not _totp_matches(user.totp_secret_base64, str(data["totp"]), store.clock.now()):
            raise known.invalid_totp_code()
        found.used = True
        return json_response(_signed_in(ctx, project, user, is_new_user=bool(found.data.get("is_new_user", False))))


# --- CLI login -----------------------------------------------------------------------------------------------------


async def cli_create(ctx: Ctx) -> Response:
    project = require_access(ctx.auth, CLIENT_OR_HIGHER).project
    data = _body(ctx, {"expires_in_millis": Field("number", max=_CLI_MAX_MS), "anon_refresh_token": Field("string")})
    store = ctx.services.store
    with store.lock:
        anon = data.get("anon_refresh_token")
        if anon is not None:
            session = project.session_by_refresh_token(str(anon), store.clock.now_ms())
            if session is None:
                raise StatusError(400, "Invalid anon refresh token")
            if not project.users[session.user_id].is_anonymous:
                raise StatusError(400, "The provided refresh token does not belong to an anonymous user")
        expires_at = store.clock.now_ms() + int(data.get("expires_in_millis", _CLI_DEFAULT_MS))
        attempt = CliAttempt(store.ids.secret(), store.ids.secret(), expires_at, anon)
        project.flows.cli[attempt.polling_code] = attempt
    return json_response(
        {"polling_code": attempt.polling_code, "login_code": attempt.login_code, "expires_at": known._iso(expires_at)}
    )


async def cli_poll(ctx: Ctx) -> Response:
    project = require_access(ctx.auth, CLIENT_OR_HIGHER).project
    data = _body(ctx, {"polling_code": Field("string", required=True)})
    store = ctx.services.store
    with store.lock:
        attempt = project.flows.cli.get(str(data["polling_code"]))
        if attempt is None:
            raise known.invalid_polling_code()
        if attempt.collected:
            return json_response({"status": "used"})
        if attempt.refresh_token is not None:
            attempt.collected = True
            return json_response({"status": "success", "refresh_token": attempt.refresh_token}, 201)
        if attempt.expires_at < store.clock.now_ms():
            return json_response({"status": "expired"})
    return json_response({"status": "waiting"})


async def cli_complete(ctx: Ctx) -> Response:
    project = require_access(ctx.auth, CLIENT_OR_HIGHER).project
    data = _body(
        ctx,
        {
            "login_code": Field("string", required=True),
            "mode": Field("string", one_of=("check", "claim-anon-session", "complete")),
            "refresh_token": Field("string"),
        },
    )
    mode = data.get("mode", "complete")
    store = ctx.services.store
    with store.lock:
        attempt = project.flows.cli_by_login_code(str(data["login_code"]))
        if attempt is None or attempt.refresh_token is not None or attempt.expires_at < store.clock.now_ms():
            raise StatusError(400, "Invalid login code or the code has expired")
        anon = attempt.anon_refresh_token
        anon_session = project.session_by_refresh_token(anon, store.clock.now_ms()) if anon else None
        if mode == "check":
            return json_response({"cli_session_state": "anonymous" if anon_session is not None else "none"})
        if mode == "claim-anon-session":
            if anon_session is None:
                raise StatusError(400, "No anonymous session associated with this code")
            token = access_token_for(store, ctx.services.tokens, project, anon_session, base_url=ctx.base_url)
            return json_response({"access_token": token, "refresh_token": anon_session.refresh_token})
        refresh_token = data.get("refresh_token")
        if refresh_token is None:
            raise StatusError(400, "refresh_token is required when mode is 'complete'")
        if project.session_by_refresh_token(str(refresh_token), store.clock.now_ms()) is None:
            raise StatusError(400, "Invalid refresh token")
        attempt.refresh_token = str(refresh_token)
    return success_response()


# --- OAuth ---------------------------------------------------------------------------------------------------------

_AUTHORIZE_REQUIRED = (
    "client_id",
    "client_secret",
    "redirect_uri",
    "scope",
    "state",
    "grant_type",
    "code_challenge",
    "code_challenge_method",
    "response_type",
)
_AUTHORIZE_OPTIONAL = (
    "type",
    "token",
    "provider_scope",
    "error_redirect_uri",
    "after_callback_redirect_url",
    "stack_response_mode",
)


def with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _redirect(location: str, json_mode: bool) -> Response:
    if json_mode:
        return json_response({"location": location})
    return Response(307, b"", [(b"location", location.encode("latin-1"))])


async def oauth_authorize(ctx: Ctx) -> Response:
    q = ctx.request.query
    provider = ctx.request.params["provider_id"]
    v = Validator(ctx.request.method, ctx.request.full_path.split("?")[0])
    for name in _AUTHORIZE_REQUIRED:
        if name not in q:
            v.fail(f"query.{name} must be defined")
    v.unknown("query", q, (*_AUTHORIZE_REQUIRED, *_AUTHORIZE_OPTIONAL))
    v.one_of("query", "code_challenge_method", q.get("code_challenge_method"), ("S256",))
    v.one_of("query", "type", q.get("type"), ("authenticate", "link"))
    v.done()
    store = ctx.services.store
    with store.lock:
        project = store.projects.get(q["client_id"].split("#")[0])
    if project is None:
        raise known.invalid_oauth_client_id_or_secret(q["client_id"])
    if q["client_secret"] != project.config.publishable_client_key:
        raise known.invalid_publishable_client_key(project.id)
    if provider not in project.config.enabled_oauth_providers:
        raise known.oauth_provider_not_found_or_not_enabled()
    if q.get("provider_scope") and provider in project.config.shared_oauth_providers:
        raise known.oauth_extra_scope_not_available_with_shared_oauth_keys()
    if q.get("type") == "link":
        raise StatusError(400, "?token= query parameter is required for link type")
    check_redirect_url(project, q["redirect_uri"])
    if q.get("after_callback_redirect_url"):
        check_redirect_url(project, q["after_callback_redirect_url"])
    with store.lock:
        inner_state = store.ids.secret(43)
        project.flows.oauth_requests[inner_state] = OAuthRequest(
            provider, q["redirect_uri"], q["state"], q["code_challenge"], q.get("after_callback_redirect_url"), None
        )
    # To the provider's consent page (emulated in the control API), which answers Stack's callback.
    provider_query = {
        "client_id": f"emulated-{provider}-client",
        "scope": "user:email",
        "response_type": "code",
        "redirect_uri": f"{ctx.base_url}/api/v1/auth/oauth/callback/{provider}",
        "code_challenge_method": "S256",
        "code_challenge": _s256(store.ids.secret(43)),
        "state": inner_state,
        "access_type": "offline",
        "prompt": "consent",
    }
    location = f"{ctx.base_url}{CONTROL_PREFIX}/oauth/{provider}/authorize?{urlencode(provider_query)}"
    return _redirect(location, q.get("stack_response_mode") == "json")


def provider_consent(store: Store, provider: str, query: Mapping[str, str]) -> str:
    """The emulated provider's consent page: the user agrees at once, and it sends them back to Stack's callback
    (its ``redirect_uri``) with a code and the ``state`` it was given. ValueError for a request Stack did not make."""
    state = query.get("state", "")
    with store.lock:
        request = next(
            (p.flows.oauth_requests[state] for p in store.projects.values() if state in p.flows.oauth_requests), None
        )
        if request is None or request.provider != provider or "redirect_uri" not in query:
            raise ValueError("no OAuth sign-in waits for this state")
        request.provider_code = store.ids.secret(20)
    return with_query(query["redirect_uri"], code=request.provider_code, state=state)


async def oauth_callback(ctx: Ctx) -> Response:
    provider = ctx.request.params["provider_id"]
    store = ctx.services.store
    with store.lock:
        found = next(
            (
                (p, r)
                for p in store.projects.values()
                if (r := p.flows.oauth_requests.get(ctx.request.query.get("state", ""))) is not None
            ),
            None,
        )
        if found is None or found[1].provider != provider or found[1].provider_code is None:
            raise StatusError(400, "Invalid OAuth state: the sign-in took too long or was started elsewhere.")
        project, request = found
        if not hmac.compare_digest(ctx.request.query.get("code", ""), request.provider_code or ""):
            raise StatusError(400, "Invalid OAuth code from the provider.")
        del project.flows.oauth_requests[ctx.request.query["state"]]
        account_id, email = project.flows.oauth_account(provider)
        user = next(
            (
                u
                for u in project.users.values()
                if any(p.get("id") == provider and p.get("account_id") == account_id for p in u.oauth_providers)
            ),
            None,
        )
        is_new_user = user is None
        if user is None:
            if not project.config.sign_up_enabled:
                raise known.sign_up_not_enabled()
            fields = {
                "primary_email": email,
                "primary_email_verified": email is not None,
                "oauth_providers": [{"id": provider, "account_id": account_id, "email": email}],
            }
            user, _ = create_user(store, project, fields, None)
        grant = OAuthGrant(
            store.ids.secret(),
            user.id,
            is_new_user,
            request.redirect_uri,
            request.code_challenge,
            request.after_callback_redirect_url,
            store.clock.now_ms() + _OAUTH_CODE_LIFETIME_MS,
        )
        project.flows.oauth_grants[grant.code] = grant
    return _redirect(with_query(request.redirect_uri, code=grant.code, state=request.state), False)


def _invalid_grant(description: str) -> Response:
    return Response(
        400,
        dumps({"error": "invalid_grant", "error_description": description}),
        [(b"content-type", b"application/json; charset=utf-8"), (b"cache-control", b"no-store")],
    )


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def authorization_code_grant(ctx: Ctx, project: Project, body: dict[str, Any]) -> Response:
    """``grant_type=authorization_code`` at ``/auth/oauth/token``: the code once, its redirect URI, and PKCE S256."""
    store = ctx.services.store
    with store.lock:
        grant = project.flows.oauth_grants.get(str(body.get("code", "")))
        if grant is None or grant.used or grant.expires_at < store.clock.now_ms():
            raise known.invalid_authorization_code()
        if body.get("redirect_uri") != grant.redirect_uri:
            return _invalid_grant("Invalid grant: `redirect_uri` is not valid")
        verifier = str(body.get("code_verifier", ""))
        if not verifier or not hmac.compare_digest(_s256(verifier), grant.code_challenge):
            return _invalid_grant("Invalid grant: code verifier is invalid")
        grant.used = True
        user = project.users.get(grant.user_id)
        if user is None:
            raise known.invalid_authorization_code()
        tokens = _signed_in(ctx, project, user)
    after = grant.after_callback_redirect_url
    answer = {
        "access_token": tokens["access_token"],
        "token_type": "Bearer",
        "expires_in": 3600,
        "refresh_token": tokens["refresh_token"],
        "scope": "legacy",
        "is_new_user": grant.is_new_user,
        "afterCallbackRedirectUrl": after,
        "after_callback_redirect_url": after,
    }
    return json_response(answer, cache_control=b"no-store")


ROUTES = [
    ("POST", "/auth/password/sign-in", password_sign_in),
    ("POST", "/auth/password/sign-up", password_sign_up),
    ("POST", "/auth/password/update", password_update),
    ("POST", "/auth/password/set", password_set),
    ("POST", "/auth/password/send-reset-code", send_reset_code),
    ("POST", "/auth/password/reset/check-code", check_reset_code),
    ("POST", "/auth/password/reset", reset_password),
    ("POST", "/auth/otp/send-sign-in-code", send_sign_in_code),
    ("POST", "/auth/otp/sign-in/check-code", check_sign_in_code),
    ("POST", "/auth/otp/sign-in", otp_sign_in),
    ("POST", "/auth/anonymous/sign-up", anonymous_sign_up),
    ("POST", "/auth/mfa/sign-in", mfa_sign_in),
    ("POST", "/auth/cli", cli_create),
    ("POST", "/auth/cli/poll", cli_poll),
    ("POST", "/auth/cli/complete", cli_complete),
    ("GET", "/auth/oauth/authorize/{provider_id}", oauth_authorize),
    ("GET", "/auth/oauth/callback/{provider_id}", oauth_callback),
]
