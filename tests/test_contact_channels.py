"""Contact channels: ``app.contact_channels`` (server), ``app.current_user.*_contact_channel`` and ``verify_email``
(client), async on asyncio and trio, in-process and over a socket, and sync over a socket."""

from __future__ import annotations

import pytest
from emulator_helpers import last_request, samples
from model_checks import check_model

from stack_auth import AsyncStackClientApp, AsyncStackServerApp, StackClientApp, StackServerApp
from stack_auth.errors import (
    BadRequestError,
    ContactChannelAlreadyUsedForAuthBySomeoneElse,
    EmailAlreadyVerified,
    InvalidArgumentError,
    RedirectUrlNotWhitelisted,
    UserEmailAlreadyExists,
    UserNotFound,
    VerificationCodeAlreadyUsed,
    VerificationCodeNotFound,
)
from stack_auth.models import ContactChannel
from stack_auth.testing import Emulator

CALLBACK = "http://localhost:3000/handler/email-verification"
MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.mark.anyio
async def test_server_contact_channels(app: AsyncStackServerApp, emulator: Emulator) -> None:
    user = await app.users.create(primary_email="ada@example.com", primary_email_auth_enabled=True)
    (primary,) = await app.contact_channels.list(user.id)
    assert last_request(emulator) == ("GET", "/contact-channels", {"user_id": user.id}, None)
    assert (primary.value, primary.is_primary, primary.used_for_auth) == ("ada@example.com", True, True)

    work = await app.contact_channels.create(user.id, value="ada@work.example", used_for_auth=True)
    assert last_request(emulator) == (
        "POST",
        "/contact-channels",
        {},
        {"user_id": user.id, "type": "email", "value": "ada@work.example", "used_for_auth": True},
    )
    assert (work.user_id, work.is_primary, work.is_verified) == (user.id, False, False)
    assert await app.contact_channels.get(user.id, work.id) == work
    assert last_request(emulator)[:2] == ("GET", f"/contact-channels/{user.id}/{work.id}")
    assert await app.contact_channels.get(user.id, MISSING) is None  # Stack's plain-text 404

    made_primary = await app.contact_channels.update(user.id, work.id, is_primary=True)
    assert last_request(emulator) == ("PATCH", f"/contact-channels/{user.id}/{work.id}", {}, {"is_primary": True})
    assert made_primary.is_primary
    seen = await app.users.get(user.id)  # the user's primary email is the primary channel
    assert seen is not None and (seen.primary_email, seen.primary_email_auth_enabled) == ("ada@work.example", True)
    assert [c.is_primary for c in await app.contact_channels.list(user.id)] == [False, True]

    await app.contact_channels.send_verification_code(user.id, work.id, callback_url=CALLBACK)
    assert last_request(emulator) == (
        "POST",
        f"/contact-channels/{user.id}/{work.id}/send-verification-code",
        {},
        {"callback_url": CALLBACK},
    )
    (mail,) = emulator.mail("ada@work.example", kind="email_verification")
    assert mail.link is not None and mail.link.startswith(CALLBACK + "?code=")
    renamed = await app.contact_channels.update(user.id, work.id, value="ada@new.example", is_verified=True)
    assert (renamed.value, renamed.is_verified) == ("ada@new.example", True)
    with pytest.raises(EmailAlreadyVerified):
        await app.contact_channels.send_verification_code(user.id, work.id, callback_url=CALLBACK)

    await app.contact_channels.delete(user.id, work.id)  # deleting the primary email
    assert last_request(emulator) == ("DELETE", f"/contact-channels/{user.id}/{work.id}", {}, None)
    seen = await app.users.get(user.id)
    assert seen is not None and seen.primary_email is None and not seen.primary_email_verified
    assert await app.contact_channels.get(user.id, work.id) is None
    with pytest.raises(BadRequestError, match="Contact channel not found"):  # Stack: a plain-text 400 here
        await app.contact_channels.delete(user.id, work.id)


@pytest.mark.anyio
async def test_auth_emails_are_unique_across_users_and_routes(app: AsyncStackServerApp) -> None:
    ada = await app.users.create(primary_email="ada@example.com", primary_email_auth_enabled=True)
    bob = await app.users.create(display_name="Bob")
    with pytest.raises(ContactChannelAlreadyUsedForAuthBySomeoneElse) as taken:
        await app.contact_channels.create(bob.id, value="ada@example.com", used_for_auth=True)
    assert taken.value.details["contact_channel_value"] == "ada@example.com"
    # Not used for auth, the same email may belong to another user too (as on Stack).
    shared = await app.contact_channels.create(bob.id, value="ada@example.com")
    with pytest.raises(ContactChannelAlreadyUsedForAuthBySomeoneElse):
        await app.contact_channels.update(bob.id, shared.id, used_for_auth=True)
    # A used-for-auth channel blocks the users API as well, and the other way round.
    extra = await app.contact_channels.create(ada.id, value="ada2@example.com", used_for_auth=True)
    with pytest.raises(UserEmailAlreadyExists):
        await app.users.update(bob.id, primary_email="ada2@example.com", primary_email_auth_enabled=True)
    await app.contact_channels.delete(ada.id, extra.id)
    moved = await app.users.update(bob.id, primary_email="ada2@example.com", primary_email_auth_enabled=True)
    assert moved.primary_email == "ada2@example.com"
    assert [c.value for c in await app.contact_channels.list(bob.id) if c.is_primary] == ["ada2@example.com"]


@pytest.mark.anyio
async def test_client_channels_and_email_verification(
    app: AsyncStackServerApp, client_app: AsyncStackClientApp, emulator: Emulator
) -> None:
    user = await app.users.create(primary_email="cy@example.com", primary_email_auth_enabled=True)
    tokens = await app.sessions.create(user.id)
    me = client_app.current_user
    channel = await me.create_contact_channel(value="cy@work.example", tokens=tokens)
    assert last_request(emulator) == (
        "POST",
        "/contact-channels",
        {},
        {"user_id": "me", "type": "email", "value": "cy@work.example", "used_for_auth": False},
    )
    assert [c.value for c in await me.list_contact_channels(tokens=tokens)] == ["cy@example.com", "cy@work.example"]
    assert last_request(emulator)[2] == {"user_id": "me"}
    updated = await me.update_contact_channel(channel.id, used_for_auth=True, tokens=tokens)
    assert updated.used_for_auth and last_request(emulator)[:2] == ("PATCH", f"/contact-channels/me/{channel.id}")

    await me.send_contact_channel_verification_code(channel.id, callback_url=CALLBACK, tokens=tokens)
    assert last_request(emulator)[1:] == (
        f"/contact-channels/me/{channel.id}/send-verification-code",
        {},
        {"callback_url": CALLBACK},
    )
    code = emulator.last_code("cy@work.example")
    assert await client_app.check_email_verification_code(code)
    assert last_request(emulator) == ("POST", "/contact-channels/verify/check-code", {}, {"code": code})
    await client_app.verify_email(code)
    assert last_request(emulator) == ("POST", "/contact-channels/verify", {}, {"code": code})
    assert (await app.contact_channels.get(user.id, channel.id)).is_verified  # type: ignore[union-attr]
    assert not await client_app.check_email_verification_code(code)
    with pytest.raises(VerificationCodeAlreadyUsed):
        await client_app.verify_email(code)
    with pytest.raises(VerificationCodeNotFound):
        await client_app.verify_email("z" * 45)

    await me.delete_contact_channel(channel.id, tokens=tokens)
    assert last_request(emulator) == ("DELETE", f"/contact-channels/me/{channel.id}", {}, None)
    assert [c.value for c in await app.contact_channels.list(user.id)] == ["cy@example.com"]


@pytest.mark.anyio
async def test_untrusted_callback_urls_are_refused(app: AsyncStackServerApp, emulator: Emulator) -> None:
    user = await app.users.create(display_name="D")
    channel = await app.contact_channels.create(user.id, value="d@example.com")
    with pytest.raises(RedirectUrlNotWhitelisted):
        await app.contact_channels.send_verification_code(user.id, channel.id, callback_url="https://evil.example/v")
    emulator.configure_project(trusted_domains=("https://*.myapp.example",), allow_localhost=False)
    await app.contact_channels.send_verification_code(user.id, channel.id, callback_url="https://www.myapp.example/v")
    with pytest.raises(RedirectUrlNotWhitelisted):
        await app.contact_channels.send_verification_code(user.id, channel.id, callback_url=CALLBACK)
    assert len(emulator.mail("d@example.com")) == 1


@pytest.mark.anyio
async def test_bad_input_is_refused_before_sending(app: AsyncStackServerApp, emulator: Emulator) -> None:
    user = await app.users.create(display_name="E")
    sent = emulator.stats.total
    with pytest.raises(InvalidArgumentError, match="type must be 'email'"):
        await app.contact_channels.create(user.id, value="+15555550100", type="phone")
    with pytest.raises(InvalidArgumentError, match="user_id must be a UUID"):
        await app.contact_channels.list("me")
    with pytest.raises(InvalidArgumentError, match="channel_id must be a UUID"):
        await app.contact_channels.get(user.id, "nope")
    with pytest.raises(InvalidArgumentError, match="value must be a non-empty string"):
        await app.contact_channels.create(user.id, value="")
    with pytest.raises(InvalidArgumentError, match="callback_url must be an absolute"):
        await app.contact_channels.send_verification_code(user.id, MISSING, callback_url="/verify")
    assert emulator.stats.total == sent


def test_sync_contact_channels(sync_app: StackServerApp, sync_client_app: StackClientApp, emulator: Emulator) -> None:
    user = sync_app.users.create(display_name="S")
    channel = sync_app.contact_channels.create(user.id, value="s@example.com", is_primary=True)
    assert last_request(emulator)[3] == {
        "user_id": user.id,
        "type": "email",
        "value": "s@example.com",
        "used_for_auth": False,
        "is_primary": True,
    }
    assert sync_app.users.get(user.id).primary_email == "s@example.com"  # type: ignore[union-attr]
    sync_app.contact_channels.send_verification_code(user.id, channel.id, callback_url=CALLBACK)
    sync_client_app.verify_email(emulator.last_code("s@example.com"))
    assert sync_app.users.get(user.id).primary_email_verified  # type: ignore[union-attr]
    assert not sync_client_app.check_email_verification_code(emulator.last_code("s@example.com"))  # used
    renamed = sync_app.contact_channels.update(user.id, channel.id, value="s2@example.com")
    assert sync_app.contact_channels.get(user.id, channel.id) == renamed and not renamed.is_verified
    tokens = sync_app.sessions.create(user.id)
    me = sync_client_app.current_user
    work = me.create_contact_channel(value="w@example.com", tokens=tokens)
    assert me.update_contact_channel(work.id, is_primary=True, tokens=tokens).is_primary
    me.send_contact_channel_verification_code(work.id, callback_url=CALLBACK, tokens=tokens)
    assert last_request(emulator)[1] == f"/contact-channels/me/{work.id}/send-verification-code"
    assert [c.id for c in me.list_contact_channels(tokens=tokens)] == [channel.id, work.id]
    me.delete_contact_channel(work.id, tokens=tokens)
    sync_app.contact_channels.delete(user.id, channel.id)
    assert sync_app.contact_channels.list(user.id) == []


def test_model_matches_the_schema_and_the_real_answers() -> None:
    real = samples("samples-wave2.json")
    created = check_model(
        ContactChannel,
        real["contact-channels.create (server)"]["body"],
        method="POST",
        template="/contact-channels",
        status=201,
    )
    assert created.type == "email" and not created.is_primary
    for item in real["contact-channels.list by user (server)"]["body"]["items"]:
        check_model(ContactChannel, item, method="GET", template="/contact-channels", item=True)


@pytest.mark.anyio
async def test_users_api_and_channels_stay_in_step(app: AsyncStackServerApp) -> None:
    user = await app.users.create(primary_email="p@example.com", primary_email_verified=True)
    second = await app.contact_channels.create(user.id, value="second@example.com")
    # Making an existing second email the primary one through the users API: one channel, now primary.
    moved = await app.users.update(user.id, primary_email="second@example.com", primary_email_auth_enabled=True)
    assert (moved.primary_email, moved.primary_email_auth_enabled) == ("second@example.com", True)
    channels = await app.contact_channels.list(user.id)
    assert [(c.value, c.is_primary, c.used_for_auth) for c in channels] == [("second@example.com", True, True)]
    assert channels[0].id != second.id  # the primary channel kept its id; the duplicate went
    cleared = await app.users.update(user.id, primary_email=None)
    assert cleared.primary_email is None and await app.contact_channels.list(user.id) == []
    await app.users.delete(user.id)
    with pytest.raises(UserNotFound):
        await app.contact_channels.create(user.id, value="gone@example.com")
