"""Tokens never appear in logs (any logger, DEBUG), ``repr`` or error text, whatever happens to them."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from stack_auth import AsyncStackClientApp, AsyncStackServerApp, StackClientApp, TokenStore
from stack_auth.errors import StackAuthError
from stack_auth.models import SessionTokens
from stack_auth.testing import Emulator

try:
    from .test_auth_refresh import Req, aged_token, sign_in
except ImportError:  # tests/ run as a directory, not a package
    from test_auth_refresh import Req, aged_token, sign_in  # type: ignore[no-redef]
try:
    from .test_auth_verify import alg_none, forged, mint
except ImportError:  # tests/ run as a directory, not a package
    from test_auth_verify import alg_none, forged, mint  # type: ignore[no-redef]

SEED = 11


def secrets_of(session: dict[str, str]) -> list[str]:
    return [session["access_token"], session["refresh_token"]]


def assert_clean(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        # Whole tokens, and any 24-character piece of them (a token cut in a message is still a leak).
        pieces = {secret[i : i + 24] for i in range(0, max(1, len(secret) - 24), 12)}
        found = [p for p in pieces if p in text]
        assert not found, f"a token leaked: ...{found[0][:6]}..."


@pytest.mark.anyio
async def test_no_token_in_logs_repr_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    emu = Emulator(seed=SEED)
    base_url = "http://secrets.emulator.test"
    secrets: list[str] = []
    texts: list[str] = []

    def record(exc: BaseException) -> None:
        texts.extend([str(exc), repr(exc), *(str(a) for a in exc.args)])

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emu.asgi_app)) as http:
        server = AsyncStackServerApp(
            project_id=emu.project_id, secret_server_key=emu.secret_server_key, base_url=base_url, http_client=http
        )
        client = AsyncStackClientApp(
            project_id=emu.project_id,
            publishable_client_key=emu.publishable_client_key,
            base_url=base_url,
            http_client=http,
            token_store=None,
        )
        async with server, client:
            ada = sign_in(emu)
            secrets += secrets_of(ada)
            store = TokenStore(ada["access_token"], ada["refresh_token"])
            own = emu.create_session(ada["user_id"], base_url=base_url)
            secrets += secrets_of(own)
            claims = await server.verify_access_token(own["access_token"])
            texts += [repr(server), repr(client), repr(store), repr(claims), repr(server._tokens.state)]
            texts.append(repr(SessionTokens(access_token=ada["access_token"], refresh_token=ada["refresh_token"])))

            emu.advance_time(601)  # reactive refresh
            await client.current_user.get(tokens=store)
            store.set(aged_token(ada), ada["refresh_token"])  # proactive refresh
            await client.current_user.list_teams(tokens=store)
            secrets += [t for t in store.snapshot() if t]
            texts.append(repr(store))

            refused: list[Any] = [
                alg_none(),
                forged(),
                mint(aud="x"),
                ada["access_token"],
                "a.b.c",
                ada["refresh_token"],
            ]
            secrets += [t for t in refused if len(t) > 24]
            for token in refused:
                try:
                    await server.verify_access_token(token)
                except StackAuthError as exc:
                    record(exc)
            garbage = '{"accessToken": "' + ada["access_token"] + '", oops'
            try:
                await client.current_user.get(tokens=Req(x_stack_auth=garbage))
            except StackAuthError as exc:
                record(exc)

            bob = sign_in(emu, "bob@example.com")
            secrets += secrets_of(bob)
            await server.sessions.revoke(bob["session_id"], user_id=bob["user_id"])
            emu.advance_time(601)
            bob_store = TokenStore(bob["access_token"], bob["refresh_token"])
            try:
                await client.current_user.update(display_name="x", tokens=bob_store)  # refresh refused
            except StackAuthError as exc:
                record(exc)
            await client.current_user.sign_out(tokens=store)

    carol = sign_in(emu, "carol@example.com")
    secrets += secrets_of(carol)
    with (
        emu.serve() as url,
        StackClientApp(
            project_id=emu.project_id, publishable_client_key=emu.publishable_client_key, base_url=url, token_store=None
        ) as sync_client,
    ):  # the sync side over a real socket: httpx and httpcore log at DEBUG too
        emu.advance_time(601)
        sync_store = TokenStore(carol["access_token"], carol["refresh_token"])
        sync_client.current_user.get(tokens=sync_store)
        secrets.append(sync_store.access_token or "")
        texts.append(repr(sync_client))

    assert any(r.name == "stack_auth" for r in caplog.records)  # the SDK did log (retries, refreshes, fetches)
    assert len(texts) > 10
    assert_clean(caplog.text, secrets)
    assert_clean("\n".join(texts), secrets)
