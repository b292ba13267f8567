"""Emails and notification preferences: the requests Stack receives, the emulator's outbox and categories, Stack's
errors, and bad input refused before anything is sent."""

from __future__ import annotations

from typing import Any

import pytest
from emulator_helpers import client_for, known_error, last_request, samples
from model_checks import check_model

from stack_auth import AsyncStackServerApp, StackServerApp
from stack_auth.errors import BadRequestError, InvalidArgumentError, RequiresCustomEmailServer, UserIdDoesNotExist
from stack_auth.models import EmailDeliveryInfo, EmailRecipient, NotificationPreference, OutboxEmail, SendEmailResult
from stack_auth.testing import Emulator

pytestmark = pytest.mark.anyio

TRANSACTIONAL = "7bb82d33-2f54-4a3d-9d23-82739e0d66ef"
MARKETING = "4f6f8873-3d04-46bd-8bef-18338b1a1b4c"
MISSING = "00000000-0000-4000-8000-000000000000"


TEMPLATE = "3241a285-8329-4d69-8f3d-316e08cf140c"
TEMPLATE_SOURCE = "export function EmailTemplate({ variables }) { return <p>Hi {variables.name}</p>; }"


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(email_templates={TEMPLATE: TEMPLATE_SOURCE})


def _users(emu: Emulator, n: int = 2) -> list[str]:
    return [emu.create_user(primary_email=f"u{i}@example.com", display_name=f"U{i}")["id"] for i in range(n)]


async def test_send_queues_one_email_per_recipient(app: AsyncStackServerApp, emulator: Emulator) -> None:
    a, b = _users(emulator)
    result = await app.emails.send(user_ids=[a, b], subject="Welcome", html="<p>Hi</p>")
    assert result == SendEmailResult(results=(EmailRecipient(user_id=a), EmailRecipient(user_id=b)))
    assert last_request(emulator) == (
        "POST",
        "/emails/send-email",
        {},
        {"user_ids": [a, b], "html": "<p>Hi</p>", "subject": "Welcome"},
    )
    sent = emulator.outbox()
    assert [(m.user_id, m.to_email, m.subject, m.html, m.status) for m in sent] == [
        (a, "u0@example.com", "Welcome", "<p>Hi</p>", "preparing"),
        (b, "u1@example.com", "Welcome", "<p>Hi</p>", "preparing"),
    ]

    await app.emails.send(all_users=True, template_id=TEMPLATE, variables={"name": "Ada"}, subject="T")
    assert last_request(emulator)[3] == {
        "all_users": True,
        "template_id": TEMPLATE,
        "variables": {"name": "Ada"},
        "subject": "T",
    }
    assert [(m.user_id, m.template_id, m.variables) for m in emulator.outbox()[2:]] == [
        (a, TEMPLATE, {"name": "Ada"}),
        (b, TEMPLATE, {"name": "Ada"}),
    ]
    queued = await app.emails.get_outbox_email(emulator.outbox()[2].id)
    assert queued is not None
    assert (queued.tsx_source, queued.email_programmatic_call_template_id) == (TEMPLATE_SOURCE, TEMPLATE)


async def test_outbox_pages_newest_first(app: AsyncStackServerApp, emulator: Emulator) -> None:
    (a,) = _users(emulator, 1)
    for n in range(5):
        await app.emails.send(user_ids=[a], subject=f"#{n}", html=f"<p>{n}</p>")
    queued = emulator.outbox()
    listed = [m async for m in app.emails.list_outbox(limit=2)]
    assert [m.id for m in listed] == [m.id for m in reversed(queued)]
    first, second, third = emulator.stats.requests("GET /emails/outbox")
    assert (first.query, second.query["cursor"], third.query["cursor"]) == (
        {"limit": "2"},
        queued[2].id,
        queued[0].id,
    )
    email = await app.emails.get_outbox_email(queued[0].id)
    assert email is not None and email.to == {"type": "user-primary-email", "user_id": a}
    assert (email.status, email.simple_status, email.has_delivered) == ("preparing", "in-progress", False)
    assert "<p>0</p>" in (email.tsx_source or "")
    assert last_request(emulator)[:2] == ("GET", f"/emails/outbox/{queued[0].id}")
    assert await app.emails.get_outbox_email(MISSING) is None
    assert [m.id async for m in app.emails.list_outbox(simple_status="error")] == []


async def test_delivery_info(app: AsyncStackServerApp, emulator: Emulator) -> None:
    info = await app.emails.delivery_info()
    assert last_request(emulator) == ("GET", "/emails/delivery-info", {}, None)
    assert info.stats.day.sent == 0 and info.capacity.rate_per_second == pytest.approx(100_000 / 3600)


async def test_notification_preferences_and_unsubscribed_users(app: AsyncStackServerApp, emulator: Emulator) -> None:
    a, b = _users(emulator)
    prefs = await app.emails.list_notification_preferences(a)
    assert last_request(emulator) == ("GET", f"/emails/notification-preference/{a}", {}, None)
    assert prefs == [
        NotificationPreference(
            category_id=TRANSACTIONAL, category_name="Transactional", enabled=True, can_disable=False
        ),
        NotificationPreference(category_id=MARKETING, category_name="Marketing", enabled=True, can_disable=True),
    ]
    changed = await app.emails.set_notification_preference(a, MARKETING, enabled=False)
    assert last_request(emulator) == (
        "PATCH",
        f"/emails/notification-preference/{a}/{MARKETING}",
        {},
        {"enabled": False},
    )
    assert changed.enabled is False and changed.category_name == "Marketing"
    assert [p.enabled for p in await app.emails.list_notification_preferences(a)] == [True, False]

    await app.emails.send(user_ids=[a, b], subject="News", html="<p>n</p>", notification_category_name="Marketing")
    assert last_request(emulator)[3]["notification_category_name"] == "Marketing"
    assert [(m.user_id, m.status, m.skipped_reason) for m in emulator.outbox()] == [
        (a, "skipped", "USER_UNSUBSCRIBED"),
        (b, "preparing", None),
    ]
    skipped = [m async for m in app.emails.list_outbox(status="skipped")]
    assert [(m.to["user_id"], m.simple_status, m.skipped_reason) for m in skipped] == [(a, "ok", "USER_UNSUBSCRIBED")]
    await app.emails.send(user_ids=[a], subject="Receipt", html="<p>r</p>")  # transactional: still sent
    assert emulator.outbox(a)[-1].status == "preparing"


async def test_stack_errors(app: AsyncStackServerApp, emulator: Emulator) -> None:
    (a,) = _users(emulator, 1)
    with pytest.raises(UserIdDoesNotExist) as unknown:
        await app.emails.send(user_ids=[a, MISSING], subject="s", html="<p>x</p>")
    assert unknown.value.details == {"user_id": MISSING}
    with pytest.raises(BadRequestError, match="No template found with given template_id"):
        await app.emails.send(user_ids=[a], template_id=MISSING)
    emulator.configure_project(email_server="shared")
    with pytest.raises(RequiresCustomEmailServer):
        await app.emails.send(user_ids=[a], subject="s", html="<p>x</p>")
    assert emulator.outbox() == []


def test_shared_email_server_option() -> None:
    emu = Emulator(email_server="shared")
    assert emu.project().email_server == "shared"
    with pytest.raises(ValueError, match="email_server"):
        Emulator(email_server="smtp")


BAD_SENDS: list[tuple[dict[str, Any], str]] = [
    ({"subject": "s", "html": "<p>x</p>"}, "no recipient"),
    ({"user_ids": [MISSING], "all_users": True, "html": "<p>x</p>"}, "not both"),
    ({"user_ids": [], "html": "<p>x</p>"}, "user_ids is empty"),
    ({"user_ids": MISSING, "html": "<p>x</p>"}, "not one string"),
    ({"user_ids": ["not-a-uuid"], "html": "<p>x</p>"}, "must be a UUID"),
    ({"user_ids": [MISSING], "subject": "s"}, "exactly one of html= or template_id="),
    ({"user_ids": [MISSING], "html": "<p>x</p>", "template_id": MISSING}, "exactly one of html= or template_id="),
    ({"user_ids": [MISSING], "html": "<p>x</p>", "variables": {"a": 1}}, "variables= goes with template_id="),
    ({"user_ids": [MISSING], "html": "<p>x</p>", "subject": ""}, "subject must be a non-empty string"),
    ({"user_ids": [MISSING], "template_id": MISSING, "variables": {"n": 1}}, "variables must map names to strings"),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD_SENDS)
async def test_bad_input_is_refused_before_sending(
    app: AsyncStackServerApp, emulator: Emulator, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=message.replace("(", r"\(")):
        await app.emails.send(**kwargs)
    with pytest.raises(InvalidArgumentError, match="limit must be an integer from 1 to 100"):
        app.emails.list_outbox(limit=1000)
    with pytest.raises(InvalidArgumentError, match="enabled must be True or False"):
        await app.emails.set_notification_preference(MISSING, MARKETING, enabled="no")  # type: ignore[arg-type]
    assert emulator.stats.total == 0


def test_sync_api_over_a_socket(sync_app: StackServerApp, emulator: Emulator) -> None:
    (a,) = _users(emulator, 1)
    assert sync_app.emails.send(user_ids=[a], subject="S", html="<p>s</p>").results[0].user_id == a
    assert last_request(emulator)[:2] == ("POST", "/emails/send-email")
    (listed,) = list(sync_app.emails.list_outbox())
    got = sync_app.emails.get_outbox_email(listed.id)
    assert got is not None and got.id == emulator.outbox()[0].id
    assert sync_app.emails.set_notification_preference(a, MARKETING, enabled=False).enabled is False
    assert [p.enabled for p in sync_app.emails.list_notification_preferences(a)] == [True, False]
    assert sync_app.emails.delivery_info().capacity.is_boost_active is False


async def test_emulator_preference_routes_check_who_asks(emulator: Emulator) -> None:
    a, b = _users(emulator)
    as_a = emulator.headers("client", access_token=emulator.create_session(a)["access_token"])
    base = "/api/v1/emails/notification-preference"
    async with client_for(emulator) as c:
        r = await c.patch(f"{base}/{b}/{MARKETING}", json={"enabled": False}, headers=as_a)
        assert (r.status_code, r.text) == (403, "You can only manage your own notification preferences")
        r = await c.patch(f"{base}/{b}/{MISSING}", json={"enabled": False}, headers=as_a)
        assert (r.status_code, r.text) == (404, "Notification category not found")  # checked first, as on Stack
        assert known_error(await c.get(f"{base}/me", headers=emulator.headers("client")))[:2] == (
            401,
            "USER_AUTHENTICATION_REQUIRED",
        )
        assert known_error(await c.get(f"{base}/{MISSING}", headers=emulator.headers("server")))[:2] == (
            404,
            "USER_NOT_FOUND",
        )
        r = await c.get("/api/v1/emails/outbox", params={"limit": "0"}, headers=emulator.headers("server"))
        assert (r.status_code, r.text) == (400, "Invalid limit parameter")


def test_models_know_every_key_of_the_real_answers() -> None:
    real = samples("samples-wave2.json")
    sent = check_model(
        SendEmailResult, real["emails.send-email html (server)"]["body"], method="POST", template="/emails/send-email"
    )
    assert all(r.extra == {} for r in sent.results)
    outbox_sample = real["emails.outbox.get (server)"]["body"]
    email = check_model(OutboxEmail, outbox_sample, method="GET", template="/emails/outbox/{id}")
    assert email.created_at is not None and email.created_at.timestamp() * 1000 == outbox_sample["created_at_millis"]
    info = check_model(
        EmailDeliveryInfo, real["emails.delivery-info (server)"]["body"], method="GET", template="/emails/delivery-info"
    )
    assert info.capacity.extra == {} and info.stats.extra == {} and info.stats.month.extra == {}
    check_model(
        NotificationPreference,
        real["emails.notification-preference.update marketing off (server)"]["body"],
        method="PATCH",
        template="/emails/notification-preference/{user_id}/{notification_category_id}",
    )
