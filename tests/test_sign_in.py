"""Sign-in flows of the client app against the emulator: what each call sends, what it stores, how it fails.

Async tests run in-process (asyncio and trio) with an httpx client whose request hook records exactly what the SDK
put on the wire; the sync tests run over a real socket, from real threads.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import anyio
import httpx
import jwt
import pyotp
import pytest

from stack_auth import AsyncStackClientApp, AsyncStackServerApp, OAuthAuthorization, StackClientApp, TokenStore
from stack_auth.errors import (
    AnonymousAccountsNotEnabled,
    BadRequestError,
    EmailPasswordMismatch,
    InvalidArgumentError,
    InvalidTotpCode,
    MalformedResponseError,
    MultiFactorAuthenticationRequired,
    OAuthCallbackError,
    PasswordAuthenticationNotEnabled,
    PasswordConfirmationMismatch,
    PasswordTooShort,
    PermissionDeniedError,
    RedirectUrlNotWhitelisted,
    SignUpNotEnabled,
    StackAuthError,
    UserDoesNotHavePassword,
    UserEmailAlreadyExists,
    VerificationCodeAlreadyUsed,
)
from stack_auth.testing import Emulator

try:
    from .test_auth_secrets import assert_clean
except ImportError:  # tests/ run as a directory, not a package
    from test_auth_secrets import assert_clean  # type: ignore[no-redef]

BASE_URL = "http://signin.emulator.test"
MAGIC = "http://localhost:3000/magic"
RESET = "http://localhost:3000/reset"
REDIRECT = "http://localhost:8765/callback"
TOTP_SECRET = base64.b64encode(b"signin-test-totp-key").decode()


@dataclass
class Sent:
    method: str
    path: str
    query: dict[str, str]
    headers: httpx.Headers
    body: Any


class Wire:
    """Every request the SDK sent, as it left the client (an httpx request hook)."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []

    async def __call__(self, request: httpx.Request) -> None:
        content = request.read()
        kind = request.headers.get("content-type", "")
        body: Any = None
        if kind.startswith("application/json"):
            body = json.loads(content)
        elif kind.startswith("application/x-www-form-urlencoded"):
            body = dict(parse_qsl(content.decode()))
        path = request.url.path.removeprefix("/api/v1")
        self.sent.append(Sent(request.method, path, dict(request.url.params), request.headers, body))

    def last(self) -> Sent:
        return self.sent[-1]


def totp_now(secret_base64: str = TOTP_SECRET) -> str:
    return pyotp.TOTP(base64.b32encode(base64.b64decode(secret_base64)).decode()).now()


def wrong_totp(secret_base64: str = TOTP_SECRET) -> str:
    return f"{(int(totp_now(secret_base64)) + 500_000) % 1_000_000:06d}"


@pytest.fixture
def emu() -> Emulator:
    return Emulator(seed=7)


@pytest.fixture
def wire() -> Wire:
    return Wire()


@pytest.fixture
def store() -> TokenStore:
    return TokenStore()


@pytest.fixture(params=["in-process", "loopback"])
def base_url(request: pytest.FixtureRequest, emu: Emulator) -> Iterator[str]:
    """Where the app reaches the emulator: through httpx's ASGI transport, or over a real socket."""
    if request.param == "in-process":
        yield BASE_URL
    else:
        with emu.serve() as url:
            yield url


@pytest.fixture
async def http(emu: Emulator, wire: Wire, base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=emu.asgi_app) if base_url == BASE_URL else None
    async with httpx.AsyncClient(transport=transport, event_hooks={"request": [wire]}) as client:
        yield client


@pytest.fixture
async def app(
    emu: Emulator, http: httpx.AsyncClient, store: TokenStore, base_url: str
) -> AsyncIterator[AsyncStackClientApp]:
    async with AsyncStackClientApp(
        project_id=emu.project_id,
        publishable_client_key=emu.publishable_client_key,
        base_url=base_url,
        http_client=http,
        token_store=store,
    ) as client:
        yield client


@pytest.fixture
async def server(emu: Emulator) -> AsyncIterator[AsyncStackServerApp]:
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=emu.asgi_app)) as http,
        AsyncStackServerApp(
            project_id=emu.project_id, secret_server_key=emu.secret_server_key, base_url=BASE_URL, http_client=http
        ) as server_app,
    ):
        yield server_app


def sub(access_token: str) -> str:
    return str(jwt.decode(access_token, options={"verify_signature": False})["sub"])


# --- password ----------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_sign_up_and_sign_in_store_the_session(
    app: AsyncStackClientApp, store: TokenStore, wire: Wire, emu: Emulator
) -> None:
    tokens = await app.sign_up_with_password("ada@example.com", "correct-horse")
    sent = wire.last()
    assert (sent.method, sent.path, sent.body) == (
        "POST",
        "/auth/password/sign-up",
        {"email": "ada@example.com", "password": "correct-horse"},
    )
    assert sent.headers["x-stack-access-type"] == "client"
    assert "x-stack-access-token" not in sent.headers  # nobody was signed in
    assert store.snapshot() == (tokens.access_token, tokens.refresh_token)
    user = await app.current_user.get()
    assert user is not None and user.primary_email == "ada@example.com" and user.has_password
    assert tokens.extra["user_id"] == user.id

    again = await app.sign_in_with_password("ada@example.com", "correct-horse")
    assert wire.last().path == "/auth/password/sign-in"
    assert store.snapshot() == (again.access_token, again.refresh_token) != (tokens.access_token, tokens.refresh_token)
    assert sub(again.access_token) == user.id

    with pytest.raises(UserEmailAlreadyExists):
        await app.sign_up_with_password("ada@example.com", "correct-horse")

    # With a verification callback, the new address gets the mail whose code verify_email takes.
    await app.sign_up_with_password("bob@example.com", "correct-horse", verification_callback_url=MAGIC)
    assert wire.last().body["verification_callback_url"] == MAGIC
    (mail,) = emu.mail("bob@example.com", kind="email_verification")
    assert mail.link == f"{MAGIC}?code={mail.code}"
    await app.verify_email(mail.code)
    bob = await app.current_user.get()
    assert bob is not None and bob.primary_email == "bob@example.com" and bob.primary_email_verified
    with pytest.raises(PasswordTooShort):
        await app.sign_up_with_password("bob@example.com", "short")


@pytest.mark.anyio
async def test_a_refused_sign_in_leaves_no_stale_session(
    app: AsyncStackClientApp, store: TokenStore, emu: Emulator
) -> None:
    emu.create_user(primary_email="bob@example.com", primary_email_auth_enabled=True, password="bob-password")
    await app.sign_up_with_password("ada@example.com", "correct-horse")
    assert await app.current_user.get() is not None
    with pytest.raises(EmailPasswordMismatch):
        await app.sign_in_with_password("bob@example.com", "not-bobs-password")
    assert store.is_empty  # not still Ada, after an attempt to become Bob
    assert await app.current_user.get() is None


@pytest.mark.anyio
async def test_mfa_sign_in(
    app: AsyncStackClientApp, server: AsyncStackServerApp, store: TokenStore, wire: Wire
) -> None:
    user = await server.users.create(
        primary_email="grace@example.com", primary_email_auth_enabled=True, password="grace-pw-1"
    )
    await server.users.update(user.id, totp_secret_base64=TOTP_SECRET)  # Stack switches MFA on by an update
    with pytest.raises(MultiFactorAuthenticationRequired) as caught:
        await app.sign_in_with_password("grace@example.com", "grace-pw-1")
    attempt = caught.value.attempt_code
    assert attempt is not None and len(attempt) == 45
    assert attempt not in str(caught.value) and attempt not in repr(caught.value)
    assert store.is_empty

    with pytest.raises(InvalidTotpCode):
        await app.sign_in_with_mfa(attempt, wrong_totp())
    assert store.is_empty
    code = totp_now()
    tokens = await app.sign_in_with_mfa(attempt, code)
    sent = wire.last()
    assert (sent.path, sent.body) == ("/auth/mfa/sign-in", {"type": "totp", "totp": code, "code": attempt})
    assert store.snapshot() == (tokens.access_token, tokens.refresh_token)
    assert sub(tokens.access_token) == user.id
    with pytest.raises(VerificationCodeAlreadyUsed):
        await app.sign_in_with_mfa(attempt, totp_now())


@pytest.mark.anyio
async def test_password_reset(app: AsyncStackClientApp, emu: Emulator, wire: Wire) -> None:
    emu.create_user(primary_email="ada@example.com", primary_email_auth_enabled=True, password="old-password")
    await app.send_password_reset_code("ada@example.com", callback_url=RESET)
    assert (wire.last().path, wire.last().body) == (
        "/auth/password/send-reset-code",
        {"email": "ada@example.com", "callback_url": RESET},
    )
    await app.send_password_reset_code("nobody@example.com", callback_url=RESET)  # answered alike: no account leak
    (mail,) = emu.mail(kind="password_reset")
    code = emu.last_code("ada@example.com")
    assert mail.to == "ada@example.com" and mail.link == f"{RESET}?code={code}"

    assert await app.check_password_reset_code(code) is True
    assert await app.check_password_reset_code("z" * 45) is False
    await app.reset_password(code, "new-password")
    assert (wire.last().path, wire.last().body) == ("/auth/password/reset", {"code": code, "password": "new-password"})
    assert await app.check_password_reset_code(code) is False  # used
    with pytest.raises(EmailPasswordMismatch):
        await app.sign_in_with_password("ada@example.com", "old-password")
    await app.sign_in_with_password("ada@example.com", "new-password")


@pytest.mark.anyio
async def test_update_and_set_password(app: AsyncStackClientApp, emu: Emulator, wire: Wire) -> None:
    tokens = await app.sign_up_with_password("ada@example.com", "first-password")
    elsewhere = emu.create_session(str(tokens.extra["user_id"]))  # signed in on another device too
    with pytest.raises(PasswordConfirmationMismatch):
        await app.current_user.update_password("not-it", "second-password")
    await app.current_user.update_password("first-password", "second-password")
    sent = wire.last()
    assert (sent.path, sent.body) == (
        "/auth/password/update",
        {"old_password": "first-password", "new_password": "second-password"},
    )
    assert sent.headers["x-stack-access-token"]
    # As on Stack, a new password ends the user's other sessions and keeps this one.
    assert [s["id"] for s in emu.sessions(str(tokens.extra["user_id"]))] != [] and elsewhere["session_id"] not in [
        s["id"] for s in emu.sessions(str(tokens.extra["user_id"]))
    ]
    assert await app.current_user.get() is not None
    with pytest.raises(BadRequestError, match="already has a password"):
        await app.current_user.set_password("third-password")

    await app.send_sign_in_code("otp@example.com", callback_url=MAGIC)
    await app.sign_in_with_code(emu.last_code("otp@example.com"))
    with pytest.raises(UserDoesNotHavePassword):
        await app.current_user.update_password("none", "fourth-password")
    await app.current_user.set_password("fourth-password")
    assert (wire.last().path, wire.last().body) == ("/auth/password/set", {"password": "fourth-password"})
    await app.sign_in_with_password("otp@example.com", "fourth-password")


# --- codes and anonymous users -----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_sign_in_with_code_typed_or_from_the_link(app: AsyncStackClientApp, emu: Emulator, wire: Wire) -> None:
    nonce = await app.send_sign_in_code("new@example.com", callback_url=MAGIC)
    assert (wire.last().path, wire.last().body) == (
        "/auth/otp/send-sign-in-code",
        {"email": "new@example.com", "callback_url": MAGIC},
    )
    code = emu.last_code("new@example.com")
    assert len(code) == 45 and code.endswith(nonce) and code[:6].isdigit()
    typed = f" {code[:3]} {code[3:6]}\n"  # what the user typed (spaces and all), plus the nonce
    tokens = await app.sign_in_with_code(typed, nonce=nonce)
    assert wire.last().body == {"code": code}
    assert tokens.extra["is_new_user"] is True
    user = await app.current_user.get()
    assert user is not None and user.primary_email == "new@example.com" and user.primary_email_verified

    await app.send_sign_in_code("new@example.com", callback_url=MAGIC)
    again = await app.sign_in_with_code(emu.last_code("new@example.com").upper())  # the link's code, any case
    assert again.extra["is_new_user"] is False and sub(again.access_token) == user.id
    with pytest.raises(InvalidArgumentError):
        await app.sign_in_with_code("1234", nonce=nonce)


@pytest.mark.anyio
async def test_anonymous_user_upgraded_by_sign_up(app: AsyncStackClientApp, store: TokenStore, wire: Wire) -> None:
    anonymous = await app.sign_up_anonymously()
    assert (wire.last().path, wire.last().body) == ("/auth/anonymous/sign-up", {})
    assert await app.current_user.get() is None  # anonymous users count as signed out unless allowed
    user = await app.current_user.get(allow_anonymous=True)
    assert user is not None and user.is_anonymous

    with pytest.raises(PasswordTooShort):  # a refused upgrade keeps the anonymous session it was sent with
        await app.sign_up_with_password("ada@example.com", "short")
    assert store.snapshot() == (anonymous.access_token, anonymous.refresh_token)

    tokens = await app.sign_up_with_password("ada@example.com", "correct-horse")
    sent = wire.last()
    assert sent.headers["x-stack-access-token"] == anonymous.access_token
    assert sent.headers["x-stack-allow-anonymous-user"] == "true"
    upgraded = await app.current_user.get()
    assert upgraded is not None and upgraded.id == user.id and not upgraded.is_anonymous
    assert upgraded.signed_up_at is not None and user.signed_up_at is not None
    assert upgraded.signed_up_at > user.signed_up_at  # Stack records the upgrade as the sign-up
    assert upgraded.primary_email == "ada@example.com"
    assert store.snapshot() == (tokens.access_token, tokens.refresh_token)


# --- OAuth -------------------------------------------------------------------------------------------------------


async def browse(emu: Emulator, url: str) -> str:
    """The user's browser: follow the redirects from the authorization URL (provider, Stack's callback) until the
    one to the app's redirect URI, which is returned. Its own httpx log lines are muted: they are the browser's
    address bar, not the SDK's (the secrets test reads every log line)."""
    httpx_log = logging.getLogger("httpx")
    httpx_log.disabled = True
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emu.asgi_app)) as browser:
            for _ in range(5):
                if url.startswith(REDIRECT):
                    return url
                response = await browser.get(url)
                assert response.status_code == 307, response.text
                url = response.headers["location"]
    finally:
        httpx_log.disabled = False
    raise AssertionError("too many redirects")


@pytest.mark.anyio
async def test_oauth_sign_in_with_pkce(app: AsyncStackClientApp, emu: Emulator, store: TokenStore, wire: Wire) -> None:
    emu.set_oauth_account("github", "gh-42", "octo@example.com")
    auth = await app.oauth_authorization_url("github", redirect_uri=REDIRECT)
    assert wire.sent == []  # building the URL sends nothing
    url = urlsplit(auth.url)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert url.path == "/api/v1/auth/oauth/authorize/github"
    assert query["code_challenge_method"] == "S256"
    expected = base64.urlsafe_b64encode(hashlib.sha256(auth.code_verifier.encode()).digest()).rstrip(b"=").decode()
    assert query["code_challenge"] == expected
    assert query["state"] == auth.state and query["redirect_uri"] == REDIRECT
    assert auth.code_verifier not in auth.url
    other = await app.oauth_authorization_url("github", redirect_uri=REDIRECT)
    assert other.state != auth.state and other.code_verifier != auth.code_verifier
    assert auth.state not in repr(auth) and auth.code_verifier not in repr(auth)

    callback = await browse(emu, auth.url)
    tokens = await app.complete_oauth(callback, auth)
    (sent,) = wire.sent
    assert (sent.method, sent.path) == ("POST", "/auth/oauth/token")
    assert sent.body == {
        "grant_type": "authorization_code",
        "code": dict(parse_qsl(urlsplit(callback).query))["code"],
        "redirect_uri": REDIRECT,
        "code_verifier": auth.code_verifier,
        "client_id": emu.project_id,
        "client_secret": emu.publishable_client_key,
    }
    assert tokens.extra["is_new_user"] is True
    assert store.snapshot() == (tokens.access_token, tokens.refresh_token)
    user = await app.current_user.get()
    assert user is not None and [p.account_id for p in user.oauth_providers] == ["gh-42"]
    with pytest.raises(StackAuthError):  # an authorization code works once
        await app.complete_oauth(callback, auth)


@pytest.mark.anyio
async def test_oauth_state_checked_before_any_request(app: AsyncStackClientApp, emu: Emulator, wire: Wire) -> None:
    auth = await app.oauth_authorization_url("github", redirect_uri=REDIRECT)
    callback = await browse(emu, auth.url)
    code = dict(parse_qsl(urlsplit(callback).query))["code"]
    for forged in (f"{REDIRECT}?code={code}&state=not-ours", f"{REDIRECT}?code={code}"):
        with pytest.raises(OAuthCallbackError, match="state"):
            await app.complete_oauth(forged, auth)
    with pytest.raises(OAuthCallbackError) as refused:
        await app.complete_oauth(f"{REDIRECT}?error=access_denied&state={auth.state}", auth)
    assert refused.value.error == "access_denied"
    assert wire.sent == []

    # The code without the verifier it was issued for is refused by Stack (PKCE), and nothing is stored.
    stolen = OAuthAuthorization(auth.url, auth.state, "x" * 43, redirect_uri=auth.redirect_uri, provider=auth.provider)
    with pytest.raises(BadRequestError):
        await app.complete_oauth(callback, stolen)
    assert app.token_store is not None and app.token_store.is_empty


# --- project settings, trusted domains, bad input ----------------------------------------------------------------


@pytest.mark.anyio
async def test_flows_switched_off_answer_with_stacks_errors(app: AsyncStackClientApp, emu: Emulator) -> None:
    emu.configure_project(anonymous_sign_up_enabled=False)
    with pytest.raises(AnonymousAccountsNotEnabled):
        await app.sign_up_anonymously()
    emu.configure_project(magic_link_enabled=False)
    with pytest.raises(PermissionDeniedError):
        await app.send_sign_in_code("a@example.com", callback_url=MAGIC)
    emu.configure_project(sign_up_enabled=False)
    with pytest.raises(SignUpNotEnabled):
        await app.sign_up_with_password("a@example.com", "correct-horse")
    emu.configure_project(password_auth_enabled=False)
    with pytest.raises(PasswordAuthenticationNotEnabled):
        await app.sign_in_with_password("a@example.com", "correct-horse")


@pytest.mark.anyio
async def test_callback_urls_must_be_trusted(app: AsyncStackClientApp, emu: Emulator) -> None:
    with pytest.raises(RedirectUrlNotWhitelisted):
        await app.send_sign_in_code("a@example.com", callback_url="https://app.example.com/magic")
    emu.configure_project(trusted_domains=("https://*.example.com",))
    await app.send_sign_in_code("a@example.com", callback_url="https://app.example.com/magic")
    emu.configure_project(allow_localhost=False)
    with pytest.raises(RedirectUrlNotWhitelisted):
        await app.send_password_reset_code("a@example.com", callback_url=RESET)
    with pytest.raises(RedirectUrlNotWhitelisted):
        await app.sign_up_with_password("b@example.com", "correct-horse", verification_callback_url=MAGIC)


@pytest.mark.anyio
async def test_bad_input_fails_before_a_request(app: AsyncStackClientApp, wire: Wire) -> None:
    auth = await app.oauth_authorization_url("github", redirect_uri=REDIRECT)  # sends nothing
    calls = [
        lambda: app.sign_up_with_password("", "correct-horse"),
        lambda: app.sign_up_with_password("a@example.com", ""),
        lambda: app.sign_in_with_password("  ", "x"),
        lambda: app.sign_in_with_password("a@example.com", None),  # type: ignore[arg-type]
        lambda: app.sign_in_with_mfa("", "123456"),
        lambda: app.send_sign_in_code("a@example.com", callback_url="/magic"),
        lambda: app.send_sign_in_code("a@example.com", callback_url="ftp://app.example.com/magic"),
        lambda: app.send_password_reset_code("", callback_url=RESET),
        lambda: app.sign_up_with_password("a@example.com", "correct-horse", verification_callback_url="localhost/v"),
        lambda: app.sign_in_with_code(""),
        lambda: app.reset_password("x" * 45, ""),
        lambda: app.check_password_reset_code(""),
        lambda: app.cli_login(app_url="myapp.example"),
        lambda: app.cli_login(app_url="myapp.example:3000/x"),
        lambda: app.complete_oauth("", auth),
    ]
    for call in calls:
        with pytest.raises(InvalidArgumentError):
            await call()
    with pytest.raises(InvalidArgumentError, match="redirect_uri"):
        await app.oauth_authorization_url("github", redirect_uri="/callback")
    assert wire.sent == []


# --- the store under concurrency ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_concurrent_sign_ins_leave_one_whole_session(
    app: AsyncStackClientApp, emu: Emulator, store: TokenStore
) -> None:
    emails = [f"user{i}@example.com" for i in range(8)]
    for email in emails:
        emu.create_user(primary_email=email, primary_email_auth_enabled=True, password="same-password")
    await app.sign_in_with_password(emails[0], "same-password")
    emu.advance_time(120)  # the first session's access token is due for a refresh

    async with anyio.create_task_group() as tg:
        for email in emails[1:]:
            tg.start_soon(app.sign_in_with_password, email, "same-password")
        for _ in range(4):
            tg.start_soon(app.current_user.get)  # refreshes racing the sign-ins
    access, refresh = store.snapshot()
    assert access is not None and refresh is not None
    holder = sub(access)
    store.set(None, refresh)  # what does the refresh token belong to?
    user = await app.current_user.get()
    assert user is not None and user.id == holder


# --- secrets -----------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_no_secret_in_logs_repr_or_errors(
    app: AsyncStackClientApp, server: AsyncStackServerApp, emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets: list[str] = ["correct-horse-battery", "grace-password-1"]
    texts: list[str] = []

    def record(exc: BaseException) -> None:
        texts.extend([str(exc), repr(exc), *(str(a) for a in exc.args)])

    tokens = await app.sign_up_with_password("ada@example.com", "correct-horse-battery")
    secrets += [tokens.access_token, tokens.refresh_token or ""]
    texts += [repr(tokens), repr(app.token_store), repr(app)]
    try:
        await app.sign_in_with_password("ada@example.com", "correct-horse-wrong-one")
    except StackAuthError as exc:
        record(exc)
    secrets.append("correct-horse-wrong-one")

    grace = await server.users.create(
        primary_email="grace@example.com", primary_email_auth_enabled=True, password="grace-password-1"
    )
    await server.users.update(grace.id, totp_secret_base64=TOTP_SECRET)
    try:
        await app.sign_in_with_password("grace@example.com", "grace-password-1")
    except MultiFactorAuthenticationRequired as exc:
        record(exc)
        attempt = exc.attempt_code or ""
    secrets.append(attempt)
    try:
        await app.sign_in_with_mfa(attempt, wrong_totp())
    except StackAuthError as exc:
        record(exc)
    mfa = await app.sign_in_with_mfa(attempt, totp_now())
    secrets += [mfa.access_token, mfa.refresh_token or ""]

    nonce = await app.send_sign_in_code("otp@example.com", callback_url=MAGIC)
    code = emu.last_code("otp@example.com")
    secrets += [nonce, code]
    texts += [repr(m) for m in emu.mail()]
    try:
        await app.sign_in_with_code("000000" if not code.startswith("000000") else "111111", nonce=nonce)
    except StackAuthError as exc:
        record(exc)
    await app.sign_in_with_code(code)
    await app.send_password_reset_code("ada@example.com", callback_url=RESET)
    reset = emu.last_code("ada@example.com")
    secrets += [reset, "a-new-password-42"]
    await app.check_password_reset_code(reset)
    await app.reset_password(reset, "a-new-password-42")
    try:
        await app.reset_password(reset, "a-new-password-42")
    except StackAuthError as exc:
        record(exc)

    auth = await app.oauth_authorization_url("github", redirect_uri=REDIRECT)
    secrets += [auth.state, auth.code_verifier]
    texts.append(repr(auth))
    callback = await browse(emu, auth.url)
    try:
        await app.complete_oauth(callback.replace(auth.state, "forged-state"), auth)
    except StackAuthError as exc:
        record(exc)
    oauth = await app.complete_oauth(callback, auth)
    secrets += [oauth.access_token, oauth.refresh_token or ""]
    texts.append(repr(oauth))

    assert len(texts) > 10
    assert_clean(caplog.text, [s for s in secrets if len(s) >= 8])
    assert_clean("\n".join(texts), [s for s in secrets if len(s) >= 8])
    for short in ("correct-horse-battery", "grace-password-1", attempt, code, auth.code_verifier):
        assert short not in caplog.text and short not in "\n".join(texts)


# --- the sync API: over a socket, from threads -------------------------------------------------------------------


@pytest.fixture
def served(emu: Emulator) -> Iterator[str]:
    with emu.serve() as url:
        yield url


@pytest.fixture
def sync_app(emu: Emulator, served: str) -> Iterator[StackClientApp]:
    with StackClientApp(
        project_id=emu.project_id,
        publishable_client_key=emu.publishable_client_key,
        base_url=served,
        token_store=TokenStore(),
    ) as client:
        yield client


def test_sync_password_mfa_and_reset(sync_app: StackClientApp, emu: Emulator) -> None:
    tokens = sync_app.sign_up_with_password("ada@example.com", "correct-horse")
    assert sync_app.token_store is not None and sync_app.token_store.snapshot()[1] == tokens.refresh_token
    user = sync_app.current_user.get()
    assert user is not None
    sync_app.current_user.update_password("correct-horse", "correct-horse-2")
    sync_app.sign_in_with_password("ada@example.com", "correct-horse-2")

    emu.create_user(primary_email="grace@example.com", primary_email_auth_enabled=True, password="grace-pw-1")
    grace = next(u for u in emu.users() if u["primary_email"] == "grace@example.com")
    with httpx.Client(base_url=sync_app.base_url) as http:
        r = http.patch(
            f"/api/v1/users/{grace['id']}", json={"totp_secret_base64": TOTP_SECRET}, headers=emu.headers("server")
        )
        assert r.status_code == 200
    with pytest.raises(MultiFactorAuthenticationRequired) as caught:
        sync_app.sign_in_with_password("grace@example.com", "grace-pw-1")
    assert sync_app.token_store.is_empty
    signed = sync_app.sign_in_with_mfa(caught.value.attempt_code or "", totp_now())
    assert sub(signed.access_token) == grace["id"]

    sync_app.send_password_reset_code("ada@example.com", callback_url=RESET)
    code = emu.last_code("ada@example.com")
    assert sync_app.check_password_reset_code(code)
    sync_app.reset_password(code, "correct-horse-3")
    assert not sync_app.check_password_reset_code(code)
    sync_app.sign_in_with_password("ada@example.com", "correct-horse-3")


def test_sync_codes_anonymous_and_oauth(sync_app: StackClientApp, emu: Emulator) -> None:
    anonymous = sync_app.sign_up_anonymously()
    nonce = sync_app.send_sign_in_code("otp@example.com", callback_url=MAGIC)
    tokens = sync_app.sign_in_with_code(emu.last_code("otp@example.com")[:6], nonce=nonce)
    assert sub(tokens.access_token) == sub(anonymous.access_token)  # the anonymous user, upgraded by the code
    sync_app.current_user.set_password("now-with-password")
    sync_app.sign_in_with_password("otp@example.com", "now-with-password")

    auth = sync_app.oauth_authorization_url("github", redirect_uri=REDIRECT)
    url = auth.url
    with httpx.Client() as browser:
        while not url.startswith(REDIRECT):
            url = browser.get(url).headers["location"]
    oauth = sync_app.complete_oauth(url, auth)
    assert sync_app.token_store is not None and sync_app.token_store.snapshot()[0] == oauth.access_token
    with pytest.raises(OAuthCallbackError):
        sync_app.complete_oauth(url.replace(auth.state, "other"), auth)


def test_sync_sign_ins_from_threads_do_not_interleave(sync_app: StackClientApp, emu: Emulator) -> None:
    emails = [f"t{i}@example.com" for i in range(6)]
    for email in emails:
        emu.create_user(primary_email=email, primary_email_auth_enabled=True, password="same-password")
    errors: list[BaseException] = []

    def sign_in(email: str) -> None:
        try:
            sync_app.sign_in_with_password(email, "same-password")
            sync_app.current_user.get()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=sign_in, args=(e,)) for e in emails]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    store = sync_app.token_store
    assert store is not None
    access, refresh = store.snapshot()
    assert access is not None and refresh is not None
    holder = sub(access)
    store.set(None, refresh)
    user = sync_app.current_user.get()
    assert user is not None and user.id == holder


@pytest.mark.anyio
async def test_malformed_answer_and_apps_without_a_store(
    app: AsyncStackClientApp, emu: Emulator, http: httpx.AsyncClient, store: TokenStore
) -> None:
    await app.sign_up_with_password("ada@example.com", "correct-horse")
    emu.faults.script("POST /auth/password/sign-in", status=200, body={"user_id": "no tokens here"})
    with pytest.raises(MalformedResponseError, match="no access_token"):
        await app.sign_in_with_password("ada@example.com", "correct-horse")
    assert store.is_empty

    async with AsyncStackClientApp(
        project_id=emu.project_id,
        publishable_client_key=emu.publishable_client_key,
        base_url=app.base_url,
        http_client=http,
        token_store=None,
    ) as stateless:  # a backend acting for many users: the tokens are returned, nothing is stored
        tokens = await stateless.sign_in_with_password("ada@example.com", "correct-horse")
        user = await stateless.current_user.get(tokens=tokens)
        assert user is not None and user.primary_email == "ada@example.com"


@pytest.mark.anyio
async def test_sign_ups_upgrades_and_resets_are_announced_by_webhook(app: AsyncStackClientApp, emu: Emulator) -> None:
    emu.webhooks.retry_schedule = ()
    emu.webhooks.add_endpoint("http://127.0.0.1:9/hooks")  # nobody listens: the announcements are what counts here
    try:
        await app.sign_up_anonymously()
        await app.sign_up_with_password("ada@example.com", "correct-horse")  # the upgrade
        await app.send_password_reset_code("ada@example.com", callback_url=RESET)
        await app.reset_password(emu.last_code("ada@example.com"), "correct-horse-2")
        await app.send_sign_in_code("new@example.com", callback_url=MAGIC)
        await app.sign_in_with_code(emu.last_code("new@example.com"))
        announced = [(d.event_type, json.loads(d.body)["data"]) for d in emu.webhooks.deliveries]
    finally:
        emu.webhooks.close()
    users = [
        (kind, data.get("primary_email"), data.get("is_anonymous"))
        for kind, data in announced
        if kind.startswith("user.")
    ]
    assert users == [
        ("user.created", None, True),
        ("user.updated", "ada@example.com", False),
        ("user.updated", "ada@example.com", False),
        ("user.created", "new@example.com", False),
    ]
