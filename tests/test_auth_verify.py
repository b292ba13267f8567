"""Local access-token verification: claims, every refusal (typed, fail closed), the JWKS cache and its single flight.

Tokens for the security cases are minted with the emulator's own signing keys: an emulator built with a seed
derives its keys from it, and so does a ``TokenService`` built with the same seed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import threading
import time
import types
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone
from typing import Any

import anyio
import httpx
import jwt
import pytest
from apps import FakeClock
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from stack_auth import AsyncStackClientApp, AsyncStackServerApp, StackServerApp
from stack_auth import _token_cache as token_cache_module
from stack_auth._async import _jwks as jwks_module
from stack_auth._async import _token_session as async_session_module
from stack_auth._sync import _token_session as sync_session_module
from stack_auth._token_cache import VERIFIED_TOKENS_CACHE_SIZE
from stack_auth.errors import (
    APIConnectionError,
    InternalServerError,
    InvalidTokenError,
    MalformedTokenError,
    TokenAlgorithmError,
    TokenAudienceError,
    TokenClaimsError,
    TokenExpiredError,
    TokenIssuerError,
    TokenNotYetValidError,
    TokenSignatureError,
    UnknownSigningKeyError,
)
from stack_auth.testing import Emulator
from stack_auth.testing.state import Clock
from stack_auth.testing.tokens import SigningKey, TokenService, audience, issuer
from stack_auth.tokens import JWKS_MAX_TTL, JWKS_MIN_TTL, JWKS_REFETCH_INTERVAL, VERIFY_LEEWAY_SECONDS, cache_seconds

SEED = 11
BASE_URL = "http://emulator.test"
PROJECT = "internal"
JWKS_ROUTE = "GET /projects/{project_id}/.well-known/jwks.json"
DROP = object()


def signing_key(kind: str = "normal", index: int = 0) -> SigningKey:
    """The emulator's (seed ``SEED``) key pair for ``kind`` users."""
    return TokenService(SEED, Clock(), 600).keys(PROJECT, kind)[index]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_for(user_id: str, kind: str = "normal", **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    payload: dict[str, Any] = {
        "sub": user_id,
        "project_id": PROJECT,
        "branch_id": "main",
        "refresh_token_id": str(uuid.uuid4()),
        "role": "authenticated",
        "name": "Ada",
        "email": "ada@example.com",
        "email_verified": True,
        "selected_team_id": None,
        "signed_up_at": now - 3600,
        "is_anonymous": kind == "anonymous",
        "is_restricted": kind != "normal",
        "restricted_reason": None if kind == "normal" else {"type": kind},
        "requires_totp_mfa": False,
        "iss": issuer(BASE_URL, PROJECT, kind),
        "iat": now,
        "aud": audience(PROJECT, kind),
        "exp": now + 600,
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not DROP}


def mint(
    user_id: str = "3241a285-8329-4d69-8f3d-316e08cf140c",
    kind: str = "normal",
    *,
    key: SigningKey | None = None,
    kid: str | None = None,
    **overrides: Any,
) -> str:
    """A token signed like the emulator signs them, with any claim overridden (``DROP`` removes one)."""
    key = key or signing_key(kind)
    headers = {"kid": kid or key.kid, "typ": None}
    return jwt.encode(claims_for(user_id, kind, **overrides), key.private_key, algorithm="ES256", headers=headers)


def unsigned(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}.{b64(signature)}"


def alg_none() -> str:
    return unsigned({"alg": "none", "kid": signing_key().kid}, claims_for("u"))


def hs256_with_public_key(header_alg: str = "HS256") -> str:
    """The classic confusion attack: HMAC-sign with the public key, which the attacker knows."""
    key = signing_key()
    pem = key.public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    head = b64(json.dumps({"alg": header_alg, "kid": key.kid}).encode())
    body = b64(json.dumps(claims_for("u")).encode())
    signature = hmac.new(pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature)}"


def forged() -> str:
    """ES256 and a known kid, but signed with a key that is not the project's."""
    other = ec.generate_private_key(ec.SECP256R1())
    return jwt.encode(claims_for("u"), other, algorithm="ES256", headers={"kid": signing_key().kid})


def altered() -> str:
    head, _, signature = mint().split(".")
    body = b64(json.dumps(claims_for("someone-else")).encode())
    return f"{head}.{body}.{signature}"


REFUSED: list[tuple[str, Callable[[], str], type[InvalidTokenError]]] = [
    ("alg none", alg_none, TokenAlgorithmError),
    ("HS256 signed with the public key", hs256_with_public_key, TokenAlgorithmError),
    ("ES256 header over an HMAC signature", lambda: hs256_with_public_key("ES256"), TokenSignatureError),
    ("signed by another key", forged, TokenSignatureError),
    ("payload altered", altered, TokenSignatureError),
    ("wrong aud", lambda: mint(aud="other-project"), TokenAudienceError),
    ("aud list", lambda: mint(aud=[PROJECT, "other"]), TokenAudienceError),
    ("no aud", lambda: mint(aud=DROP), TokenAudienceError),
    ("wrong iss host", lambda: mint(iss=f"http://evil.test/api/v1/projects/{PROJECT}"), TokenIssuerError),
    ("wrong iss project", lambda: mint(iss=f"{BASE_URL}/api/v1/projects/other"), TokenIssuerError),
    ("iss of another user type", lambda: mint(iss=issuer(BASE_URL, PROJECT, "anonymous")), TokenIssuerError),
    ("no iss", lambda: mint(iss=DROP), TokenClaimsError),
    ("expired", lambda: mint(iat=int(time.time()) - 700, exp=int(time.time()) - 60), TokenExpiredError),
    ("issued in the future", lambda: mint(iat=int(time.time()) + 120), TokenNotYetValidError),
    ("not before the future", lambda: mint(nbf=int(time.time()) + 120), TokenNotYetValidError),
    ("no exp", lambda: mint(exp=DROP), TokenClaimsError),
    ("no sub", lambda: mint(sub=DROP), TokenClaimsError),
    ("sub not a string", lambda: mint(sub=12), TokenClaimsError),
    ("anonymous flag on a normal token", lambda: mint(is_anonymous=True), TokenClaimsError),
    ("anonymous user, not allowed", lambda: mint(kind="anonymous"), TokenAudienceError),
    ("restricted user, not allowed", lambda: mint(kind="restricted"), TokenAudienceError),
    ("unknown kid", lambda: mint(kid="not-a-known-kid"), UnknownSigningKeyError),
    ("no kid", lambda: unsigned({"alg": "ES256"}, claims_for("u"), b"x" * 64), MalformedTokenError),
    ("truncated signature", lambda: mint()[:-12], InvalidTokenError),
    ("truncated to two segments", lambda: mint().rsplit(".", 1)[0], MalformedTokenError),
    ("truncated header", lambda: mint()[5:], MalformedTokenError),
    ("garbage", lambda: "garbage", MalformedTokenError),
    ("garbage segments", lambda: "a.b.c", MalformedTokenError),
    ("empty", lambda: "", MalformedTokenError),
    ("dots only", lambda: "..", MalformedTokenError),
    ("huge", lambda: "eyJ" + "A" * 20_000 + ".x.y", MalformedTokenError),
    ("deeply nested JSON", lambda: f"{b64(b'[' * 5000)}.{b64(b'{}')}.c2ln", MalformedTokenError),
    ("header is a list", lambda: unsigned([1], claims_for("u"), b"s"), MalformedTokenError),  # type: ignore[arg-type]
    ("not a string", lambda: None, MalformedTokenError),  # type: ignore[arg-type,return-value]
]


@pytest.fixture
def emu() -> Emulator:
    return Emulator(seed=SEED)


@pytest.fixture
async def server(emu: Emulator) -> AsyncIterator[AsyncStackServerApp]:
    transport = httpx.ASGITransport(app=emu.asgi_app)
    async with (
        httpx.AsyncClient(transport=transport) as client,
        AsyncStackServerApp(
            project_id=PROJECT, secret_server_key=emu.secret_server_key, base_url=BASE_URL, http_client=client
        ) as app,
    ):
        yield app


def jwks_fetches(emu: Emulator) -> int:
    return emu.stats.count(JWKS_ROUTE)


@pytest.mark.anyio
async def test_claims_of_a_real_session(emu: Emulator, server: AsyncStackServerApp) -> None:
    user = await server.users.create(
        primary_email="ada@example.com",
        primary_email_auth_enabled=True,
        primary_email_verified=True,
        display_name="Ada",
    )
    tokens = await server.sessions.create(user.id)
    claims = await server.verify_access_token(tokens.access_token)
    assert claims.id == user.id
    assert claims.primary_email == "ada@example.com"
    assert claims.primary_email_verified is True
    assert claims.display_name == "Ada"
    fresh = await server.users.get(user.id)
    assert fresh is not None
    assert fresh.selected_team_id is not None  # the create answer does not show it yet
    assert claims.selected_team_id == fresh.selected_team_id
    assert (claims.is_anonymous, claims.is_restricted, claims.user_type) == (False, False, "normal")
    assert claims.project_id == PROJECT
    assert claims.session_id == (await server.sessions.list(user.id))[0].id
    for moment in (claims.issued_at, claims.expires_at, claims.signed_up_at):
        assert moment is not None
        assert moment.tzinfo is not None
    assert abs((claims.issued_at - datetime.now(timezone.utc)).total_seconds()) < 5
    assert (claims.expires_at - claims.issued_at).total_seconds() == 600
    assert claims.claims["role"] == "authenticated"


@pytest.mark.anyio
@pytest.mark.parametrize(("case", "make", "error"), REFUSED, ids=[c[0] for c in REFUSED])
async def test_refused_tokens_fail_closed_with_a_typed_error(
    server: AsyncStackServerApp, case: str, make: Callable[[], str], error: type[InvalidTokenError]
) -> None:
    token = make()
    with pytest.raises(error) as caught:
        await server.verify_access_token(token)
    if isinstance(token, str) and len(token) > 8:
        assert token not in str(caught.value)
        assert token[-20:] not in repr(caught.value)


@pytest.mark.anyio
async def test_small_leeway(server: AsyncStackServerApp) -> None:
    now = int(time.time())
    claims = await server.verify_access_token(mint(iat=now - 600, exp=now - 2))
    assert claims.expires_at < datetime.now(timezone.utc)
    await server.verify_access_token(mint(iat=now + 2))
    with pytest.raises(TokenExpiredError):
        await server.verify_access_token(mint(iat=now - 600, exp=now - 30))


@pytest.mark.anyio
async def test_anonymous_and_restricted_only_when_asked(emu: Emulator, server: AsyncStackServerApp) -> None:
    anonymous = emu.create_user(is_anonymous=True)
    restricted = emu.create_user(primary_email="r@example.com", restricted_by_admin=True)
    anon_token = emu.create_session(anonymous["id"], base_url=BASE_URL)["access_token"]
    restricted_token = emu.create_session(restricted["id"], base_url=BASE_URL)["access_token"]

    with pytest.raises(TokenAudienceError, match="allow_anonymous"):
        await server.verify_access_token(anon_token)
    with pytest.raises(TokenAudienceError, match="allow_restricted"):
        await server.verify_access_token(restricted_token)
    with pytest.raises(TokenAudienceError):
        await server.verify_access_token(anon_token, allow_restricted=True)
    assert jwks_fetches(emu) == 0  # refused on the audience before any key was needed

    claims = await server.verify_access_token(anon_token, allow_anonymous=True)
    assert (claims.id, claims.is_anonymous, claims.user_type) == (anonymous["id"], True, "anonymous")
    claims = await server.verify_access_token(restricted_token, allow_restricted=True)
    assert (claims.id, claims.is_restricted, claims.user_type) == (restricted["id"], True, "restricted")
    claims = await server.verify_access_token(restricted_token, allow_anonymous=True)  # anonymous implies restricted
    assert claims.user_type == "restricted"


@pytest.mark.anyio
async def test_jwks_is_fetched_once_and_shared_by_copies(emu: Emulator, server: AsyncStackServerApp) -> None:
    for _ in range(20):
        await server.verify_access_token(mint())
    await server.with_options(timeout=5).verify_access_token(mint())
    assert jwks_fetches(emu) == 1


@pytest.mark.anyio
async def test_single_flight_under_load(emu: Emulator, server: AsyncStackServerApp) -> None:
    emu.faults.latency(0.05, route=JWKS_ROUTE)  # a slow fetch, so that every caller arrives while it is in flight
    results: list[str] = []

    async def verify() -> None:
        results.append((await server.verify_access_token(mint())).id)

    async with anyio.create_task_group() as tg:
        for _ in range(100):
            tg.start_soon(verify)
    assert len(results) == 100
    assert jwks_fetches(emu) == 1


@pytest.mark.anyio
async def test_client_app_verifies_too(emu: Emulator) -> None:
    transport = httpx.ASGITransport(app=emu.asgi_app)
    async with (
        httpx.AsyncClient(transport=transport) as client,
        AsyncStackClientApp(
            project_id=PROJECT,
            publishable_client_key=emu.publishable_client_key,
            base_url=BASE_URL,
            http_client=client,
            token_store=None,
        ) as app,
    ):
        assert (await app.verify_access_token(mint())).id == "3241a285-8329-4d69-8f3d-316e08cf140c"
        with pytest.raises(TokenSignatureError):
            await app.verify_access_token(forged())


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The JWKS cache's clock, moved by hand (the event loop keeps the real one)."""
    fake = FakeClock()
    monkeypatch.setattr(jwks_module, "time", types.SimpleNamespace(monotonic=fake.monotonic))
    return fake


def test_cache_control_reading() -> None:
    assert cache_seconds("public, max-age=3600") == 3600
    assert cache_seconds("max-age=10") == JWKS_MIN_TTL
    assert cache_seconds("max-age=99999999") == JWKS_MAX_TTL
    assert cache_seconds("no-store, max-age=0") == JWKS_MIN_TTL
    assert cache_seconds('max-age="600"') == 600
    assert cache_seconds(None) == cache_seconds("public") == cache_seconds("max-age=soon") == 300


@pytest.mark.anyio
async def test_cache_follows_cache_control(emu: Emulator, server: AsyncStackServerApp, clock: FakeClock) -> None:
    emu.faults.script(JWKS_ROUTE, status=200, body=emu.jwks(), headers={"cache-control": "public, max-age=120"})
    await server.verify_access_token(mint())
    clock.now += 119
    await server.verify_access_token(mint())
    assert jwks_fetches(emu) == 1
    clock.now += 2
    await server.verify_access_token(mint())
    assert jwks_fetches(emu) == 2  # expired: refetched (the real answer's max-age=3600 applies now)
    clock.now += 3599
    await server.verify_access_token(mint())
    assert jwks_fetches(emu) == 2


@pytest.mark.anyio
async def test_unknown_kid_refetches_at_most_once_per_interval(
    emu: Emulator, server: AsyncStackServerApp, clock: FakeClock
) -> None:
    await server.verify_access_token(mint())
    for _ in range(50):
        with pytest.raises(UnknownSigningKeyError):
            await server.verify_access_token(mint(kid=f"random-{uuid.uuid4()}"))
    assert jwks_fetches(emu) == 1
    clock.now += JWKS_REFETCH_INTERVAL + 1
    for _ in range(50):
        with pytest.raises(UnknownSigningKeyError):
            await server.verify_access_token(mint(kid=f"random-{uuid.uuid4()}"))
    assert jwks_fetches(emu) == 2


@pytest.mark.anyio
async def test_key_rotation_picks_up_the_new_key(emu: Emulator, server: AsyncStackServerApp, clock: FakeClock) -> None:
    old_only = {"keys": [signing_key().jwk()]}
    emu.faults.script(JWKS_ROUTE, status=200, body=old_only, headers={"cache-control": "public, max-age=3600"})
    await server.verify_access_token(mint())
    rotated = mint(key=signing_key(index=1))
    with pytest.raises(UnknownSigningKeyError):  # right after a fetch: no refetch yet
        await server.verify_access_token(rotated)
    clock.now += JWKS_REFETCH_INTERVAL + 1
    assert (await server.verify_access_token(rotated)).id
    assert jwks_fetches(emu) == 2


@pytest.mark.anyio
async def test_jwks_outage(emu: Emulator, server: AsyncStackServerApp, clock: FakeClock) -> None:
    app = server.with_options(max_retries=0)
    emu.faults.script(JWKS_ROUTE, status=503, body="down", times=1)
    with pytest.raises(InternalServerError):  # no keys at all: the outage is reported as such, not as a bad token
        await app.verify_access_token(mint())
    await app.verify_access_token(mint())  # next call fetches again
    clock.now += 3601
    emu.faults.next_drop(JWKS_ROUTE, times=5)
    assert (await app.verify_access_token(mint())).id  # stale keys keep working during an outage
    assert (await app.verify_access_token(mint())).id  # ...without a fetch per call
    assert jwks_fetches(emu) == 3


def test_sync_twin_single_flight_with_threads(emu: Emulator) -> None:
    emu.faults.latency(0.05, route=JWKS_ROUTE)
    with (
        emu.serve() as base_url,
        StackServerApp(project_id=PROJECT, secret_server_key=emu.secret_server_key, base_url=base_url) as app,
    ):
        token = emu.create_session(emu.create_user(primary_email="t@example.com")["id"], base_url=base_url)
        results: list[str] = []
        errors: list[BaseException] = []
        start = threading.Barrier(40)

        def verify() -> None:
            start.wait()
            try:
                results.append(app.verify_access_token(token["access_token"]).id)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=verify) for _ in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not errors
        assert len(results) == 40
        assert jwks_fetches(emu) == 1
        with pytest.raises(TokenAlgorithmError):
            app.verify_access_token(alg_none())
        with pytest.raises(TokenIssuerError):  # issued for the in-process URL, not this server's
            app.verify_access_token(mint())


def test_connection_failure_is_not_an_invalid_token() -> None:
    with (
        StackServerApp(project_id=PROJECT, secret_server_key="k", base_url="http://127.0.0.1:9", max_retries=0) as app,
        pytest.raises(APIConnectionError),
    ):
        app.verify_access_token(mint())


def test_import_does_not_load_pyjwt() -> None:
    code = (
        "import sys, stack_auth\n"
        "from stack_auth import TokenStore, AsyncStackClientApp, StackServerApp\n"
        "StackServerApp(project_id='p', secret_server_key='k').close()\n"
        "assert not [m for m in sys.modules if m == 'jwt' or m.startswith(('jwt.', 'cryptography'))], 'loaded'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_first_verification_imports_pyjwt_off_the_event_loop(emu: Emulator) -> None:
    """PyJWT with cryptography takes tens of milliseconds to import: the async side does it in a worker thread."""
    with emu.serve() as base_url:
        token = emu.create_session(emu.create_user(primary_email="i@example.com")["id"], base_url=base_url)
        code = (
            "import asyncio, sys, threading\n"
            "seen = []\n"
            "class Spy:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'jwt':\n"
            "            seen.append(threading.current_thread() is threading.main_thread())\n"
            "sys.meta_path.insert(0, Spy())\n"
            "from stack_auth import AsyncStackServerApp\n"
            "async def main():\n"
            f"    async with AsyncStackServerApp(project_id='{PROJECT}', secret_server_key='{emu.secret_server_key}',"
            f" base_url='{base_url}') as app:\n"
            f"        await app.verify_access_token('{token['access_token']}')\n"
            "asyncio.run(main())\n"
            "assert seen == [False], seen\n"
        )
        subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.anyio
async def test_token_issuer_url_when_stack_is_reached_at_another_address(emu: Emulator) -> None:
    """A self-hosted Stack reached through an internal address issues tokens under its public URL."""
    from stack_auth.errors import TokenIssuerError

    user = emu.create_user(display_name="behind a proxy")
    token = emu.create_session(user["id"], base_url="https://auth.example.com")["access_token"]
    transport = httpx.ASGITransport(app=emu.asgi_app)
    async with httpx.AsyncClient(transport=transport) as http:
        kwargs = {"project_id": emu.project_id, "secret_server_key": emu.secret_server_key, "http_client": http}
        internal = AsyncStackServerApp(**kwargs, base_url="http://stack-backend.internal:8102")
        with pytest.raises(TokenIssuerError):
            await internal.verify_access_token(token)
        public = AsyncStackServerApp(
            **kwargs, base_url="http://stack-backend.internal:8102", token_issuer_url="https://auth.example.com/"
        )
        claims = await public.with_options(timeout=5).verify_access_token(token)
        assert claims.id == user["id"]


# --- the verified-token cache: a repeat costs a lookup (benchmarks: P6) ----------------------------------------------


@pytest.fixture
def signature_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tokens whose signature and claims were checked (async and sync side), in order."""
    checked: list[str] = []
    for module in (async_session_module, sync_session_module):
        real = module.verify_token

        def spy(token: str, *args: Any, _real: Callable[..., Any] = real, **kwargs: Any) -> Any:
            checked.append(token)
            return _real(token, *args, **kwargs)

        monkeypatch.setattr(module, "verify_token", spy)
    return checked


@pytest.mark.anyio
async def test_a_token_verified_before_is_not_checked_again(
    server: AsyncStackServerApp, signature_checks: list[str]
) -> None:
    token, other = mint(), mint()
    first = await server.verify_access_token(token)
    for _ in range(50):
        assert await server.verify_access_token(token) is first
    assert await server.with_options(timeout=5).verify_access_token(token) is first  # copies share the cache
    assert (await server.verify_access_token(other)).id == first.id
    assert signature_checks == [token, other]


@pytest.mark.anyio
async def test_a_cached_token_is_served_until_exp_plus_the_leeway_to_the_second(
    server: AsyncStackServerApp, signature_checks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    exp = int(time.time()) + 600
    token = mint(exp=exp)
    await server.verify_access_token(token)
    now = [exp + VERIFY_LEEWAY_SECONDS - 0.001]
    monkeypatch.setattr(token_cache_module, "time", types.SimpleNamespace(time=lambda: now[0]))
    await server.verify_access_token(token)
    assert signature_checks == [token]
    now[0] = exp + VERIFY_LEEWAY_SECONDS  # where a full check refuses it: the cache no longer answers
    await server.verify_access_token(token)  # (the full check, on the real clock, still accepts it)
    assert signature_checks == [token, token]


@pytest.mark.anyio
async def test_a_token_that_expires_while_cached_is_refused(server: AsyncStackServerApp) -> None:
    now = int(time.time())
    token = mint(iat=now - 600, exp=now - 3)  # expired, but within the leeway for another 2 to 3 seconds
    assert (await server.verify_access_token(token)).id
    await anyio.sleep(max(0.0, now - 3 + VERIFY_LEEWAY_SECONDS - time.time()) + 0.05)
    with pytest.raises(TokenExpiredError):
        await server.verify_access_token(token)


@pytest.mark.anyio
async def test_cached_tokens_go_when_their_key_leaves_the_jwks(
    emu: Emulator, server: AsyncStackServerApp, clock: FakeClock, signature_checks: list[str]
) -> None:
    old, new = signing_key(index=0), signing_key(index=1)
    both = {"keys": [old.jwk(), new.jwk()]}
    emu.faults.script(JWKS_ROUTE, status=200, body=both, headers={"cache-control": "public, max-age=600"})
    old_token, new_token = mint(key=old), mint(key=new)
    await server.verify_access_token(old_token)
    await server.verify_access_token(new_token)
    clock.now += 599
    await server.verify_access_token(old_token)
    assert (jwks_fetches(emu), len(signature_checks)) == (1, 2)  # all from the cache
    emu.faults.script(JWKS_ROUTE, status=200, body={"keys": [new.jwk()]}, headers={"cache-control": "max-age=600"})
    clock.now += 2  # the JWKS is stale: the next verification fetches it again, and the old key is gone
    with pytest.raises(UnknownSigningKeyError):
        await server.verify_access_token(old_token)
    assert (await server.verify_access_token(new_token)).id  # checked once more, against the new JWKS
    assert jwks_fetches(emu) == 2
    assert signature_checks == [old_token, new_token, new_token]


@pytest.mark.anyio
async def test_the_cache_is_bounded_and_forgets_the_least_recently_used(
    server: AsyncStackServerApp, signature_checks: list[str]
) -> None:
    tokens = [mint() for _ in range(VERIFIED_TOKENS_CACHE_SIZE + 1)]
    for token in tokens:
        await server.verify_access_token(token)
    await server.verify_access_token(tokens[-1])
    assert len(signature_checks) == len(tokens)  # the newest was still there
    await server.verify_access_token(tokens[0])
    assert signature_checks[-1] == tokens[0]  # the oldest was not: checked again


@pytest.mark.anyio
async def test_a_token_cached_for_one_set_of_user_types_is_not_served_for_another(
    emu: Emulator, server: AsyncStackServerApp
) -> None:
    anonymous = emu.create_user(is_anonymous=True)
    token = emu.create_session(anonymous["id"], base_url=BASE_URL)["access_token"]
    assert (await server.verify_access_token(token, allow_anonymous=True)).is_anonymous
    with pytest.raises(TokenAudienceError, match="allow_anonymous"):
        await server.verify_access_token(token)


def test_the_sync_twin_caches_too(emu: Emulator, signature_checks: list[str]) -> None:
    with (
        emu.serve() as base_url,
        StackServerApp(project_id=PROJECT, secret_server_key=emu.secret_server_key, base_url=base_url) as app,
    ):
        token = emu.create_session(emu.create_user(primary_email="s@example.com")["id"], base_url=base_url)
        threads = [threading.Thread(target=app.verify_access_token, args=(token["access_token"],)) for _ in range(20)]
        app.verify_access_token(token["access_token"])
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert signature_checks == [token["access_token"]]
