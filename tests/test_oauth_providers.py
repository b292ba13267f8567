"""OAuth accounts linked to users (``app.oauth_providers``): async on asyncio and trio, in-process and over a
socket, and sync over a socket; the users' ``oauth_providers`` field follows the links."""

from __future__ import annotations

import pytest
from emulator_helpers import last_request, samples
from model_checks import check_model

from stack_auth import AsyncStackServerApp, StackServerApp
from stack_auth.errors import (
    BadRequestError,
    InvalidArgumentError,
    NotFoundError,
    OauthProviderAccountIdAlreadyUsedForSignIn,
    UserNotFound,
)
from stack_auth.models import OAuthProvider, ServerOAuthProvider
from stack_auth.testing import Emulator

MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.mark.anyio
async def test_link_list_get_update_unlink(app: AsyncStackServerApp, emulator: Emulator) -> None:
    ada = await app.users.create(display_name="Ada")
    link = await app.oauth_providers.create(
        ada.id, provider_config_id="github", account_id="1234", email="ada@gh.example"
    )
    assert last_request(emulator) == (
        "POST",
        "/oauth-providers",
        {},
        {
            "user_id": ada.id,
            "provider_config_id": "github",
            "account_id": "1234",
            "allow_sign_in": True,
            "allow_connected_accounts": True,
            "email": "ada@gh.example",
        },
    )
    assert link == ServerOAuthProvider(
        id=link.id,
        user_id=ada.id,
        provider_config_id="github",
        type="github",
        account_id="1234",
        email="ada@gh.example",
        allow_sign_in=True,
        allow_connected_accounts=True,
    )
    user = await app.users.get(ada.id)
    assert user is not None and user.oauth_providers == (OAuthProvider("github", "1234", "ada@gh.example"),)

    assert await app.oauth_providers.list(user_id=ada.id) == [link]
    assert last_request(emulator) == ("GET", "/oauth-providers", {"user_id": ada.id}, None)
    assert await app.oauth_providers.get(ada.id, link.id) == link
    assert last_request(emulator) == ("GET", f"/oauth-providers/{ada.id}/{link.id}", {}, None)

    changed = await app.oauth_providers.update(ada.id, link.id, allow_sign_in=False, email="new@gh.example")
    assert last_request(emulator) == (
        "PATCH",
        f"/oauth-providers/{ada.id}/{link.id}",
        {},
        {"email": "new@gh.example", "allow_sign_in": False},
    )
    assert (changed.allow_sign_in, changed.email, changed.allow_connected_accounts) == (False, "new@gh.example", True)
    user = await app.users.get(ada.id)
    assert user is not None and user.oauth_providers[0].email == "new@gh.example"

    await app.oauth_providers.delete(ada.id, link.id)
    assert last_request(emulator) == ("DELETE", f"/oauth-providers/{ada.id}/{link.id}", {}, None)
    assert await app.oauth_providers.get(ada.id, link.id) is None
    user = await app.users.get(ada.id)
    assert user is not None and user.oauth_providers == ()
    with pytest.raises(NotFoundError, match="not found"):
        await app.oauth_providers.delete(ada.id, link.id)


@pytest.mark.anyio
async def test_stack_rules_for_links(app: AsyncStackServerApp, emulator: Emulator) -> None:
    ada = await app.users.create(display_name="Ada")
    bob = await app.users.create(display_name="Bob")
    first = await app.oauth_providers.create(ada.id, provider_config_id="github", account_id="gh-1")
    with pytest.raises(OauthProviderAccountIdAlreadyUsedForSignIn) as used:
        await app.oauth_providers.create(bob.id, provider_config_id="github", account_id="gh-1")
    assert used.value.status == 400
    # The same account may be linked to Bob when it does not sign him in.
    shared = await app.oauth_providers.create(
        bob.id, provider_config_id="github", account_id="gh-1", allow_sign_in=False
    )
    assert shared.email is None and "email" not in (last_request(emulator)[3] or {})
    with pytest.raises(OauthProviderAccountIdAlreadyUsedForSignIn):  # turning sign-in on later is checked too
        await app.oauth_providers.update(bob.id, shared.id, allow_sign_in=True)
    with pytest.raises(BadRequestError, match="sign-in enabled already exists") as twice:
        await app.oauth_providers.create(ada.id, provider_config_id="github", account_id="gh-2")
    assert twice.value.code is None  # a plain-text refusal, as on Stack
    with pytest.raises(NotFoundError, match="gitlab not found or not configured"):
        await app.oauth_providers.create(ada.id, provider_config_id="gitlab", account_id="gl-1")
    with pytest.raises(UserNotFound):
        await app.oauth_providers.create(MISSING, provider_config_id="github", account_id="gh-3")
    assert await app.oauth_providers.get(bob.id, first.id) is None  # Ada's link, asked for as Bob's
    everyone = await app.oauth_providers.list()
    assert last_request(emulator) == ("GET", "/oauth-providers", {}, None)
    assert [p.id for p in everyone] == [first.id, shared.id]

    emulator.configure_project(enabled_oauth_providers=("github", "gitlab"))
    gitlab = await app.oauth_providers.create(ada.id, provider_config_id="gitlab", account_id="gl-1")
    assert gitlab.type == "gitlab"

    await app.users.delete(bob.id)  # a user's links go with them
    assert [p.id for p in await app.oauth_providers.list()] == [first.id, gitlab.id]


@pytest.mark.anyio
async def test_users_created_with_oauth_providers_are_linked(app: AsyncStackServerApp) -> None:
    user = await app.users.create(display_name="Imported", oauth_providers=[{"id": "github", "account_id": "77"}])
    (link,) = await app.oauth_providers.list(user_id=user.id)
    assert (link.provider_config_id, link.account_id, link.allow_sign_in) == ("github", "77", True)


@pytest.mark.anyio
async def test_bad_input_fails_before_sending(app: AsyncStackServerApp, emulator: Emulator) -> None:
    before = emulator.stats.total
    with pytest.raises(InvalidArgumentError, match="user_id must be a UUID"):
        await app.oauth_providers.create("me", provider_config_id="github", account_id="1")
    with pytest.raises(InvalidArgumentError, match="account_id must be a non-empty string"):
        await app.oauth_providers.create(MISSING, provider_config_id="github", account_id="")
    with pytest.raises(InvalidArgumentError, match="allow_sign_in must be True or False"):
        await app.oauth_providers.create(MISSING, provider_config_id="github", account_id="1", allow_sign_in=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="provider_id must be a UUID"):
        await app.oauth_providers.get(MISSING, "github")
    with pytest.raises(InvalidArgumentError, match="email must be a non-empty string"):
        await app.oauth_providers.update(MISSING, MISSING, email="")
    assert emulator.stats.total == before


def test_model_matches_the_schema_and_the_real_answers() -> None:
    real = samples("samples-wave2.json")
    created = real["oauth-providers.create (server)"]["body"]
    model = check_model(ServerOAuthProvider, created, method="POST", template="/oauth-providers", status=201)
    assert (model.provider_config_id, model.allow_sign_in) == ("github", True)
    item = real["oauth-providers.list by user (server)"]["body"]["items"][0]
    check_model(ServerOAuthProvider, item, method="GET", template="/oauth-providers", item=True)
    client_read = real["oauth-providers.list me (client)"]["body"]["items"][0]
    mine = check_model(
        ServerOAuthProvider,
        client_read,
        method="GET",
        template="/oauth-providers",
        item=True,
        doc="openapi-client.json",
    )
    assert mine.account_id is None  # client reads leave it out


def test_sync_links(sync_app: StackServerApp, emulator: Emulator) -> None:
    user = sync_app.users.create(display_name="Sync")
    link = sync_app.oauth_providers.create(user.id, provider_config_id="github", account_id="s-1")
    assert last_request(emulator)[:2] == ("POST", "/oauth-providers")
    assert sync_app.oauth_providers.list(user_id=user.id) == [link]
    assert sync_app.oauth_providers.get(user.id, link.id) == link
    changed = sync_app.oauth_providers.update(user.id, link.id, account_id="s-2", allow_connected_accounts=False)
    assert (changed.account_id, changed.allow_connected_accounts) == ("s-2", False)
    sync_app.oauth_providers.delete(user.id, link.id)
    assert last_request(emulator) == ("DELETE", f"/oauth-providers/{user.id}/{link.id}", {}, None)
    assert sync_app.oauth_providers.get(user.id, link.id) is None
