"""stack_auth.webhooks.verify_webhook against deliveries signed here, independently of the code under test.

The vectors are signed with a hand-computed HMAC-SHA256 (Svix's scheme written out below) and, once, with the
``standardwebhooks`` package's own signer; the verifier must accept exactly the authentic, timely ones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from stack_auth.errors import ConfigurationError, InvalidArgumentError
from stack_auth.models import ServerUser, Team, TeamMembership, TeamPermission
from stack_auth.webhooks import (
    EVENT_TYPES,
    DeletedUser,
    TeamCreated,
    TeamDeleted,
    TeamMembershipCreated,
    TeamMembershipDeleted,
    TeamPermissionCreated,
    TeamPermissionDeleted,
    TeamRef,
    TeamUpdated,
    UnknownEvent,
    UserCreated,
    UserDeleted,
    UserUpdated,
    WebhookHeaderError,
    WebhookPayloadError,
    WebhookSignatureError,
    WebhookTimestampError,
    WebhookVerificationError,
    verify_webhook,
)

KEY = bytes(range(32))
SECRET = "whsec_" + base64.b64encode(KEY).decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"another key of thirty-two bytes!").decode()
USER_ID = "3241a285-8329-4d69-8f3d-316e08cf140c"
TEAM_ID = "ad962777-8244-496a-b6a2-e0c6a449c79e"
USER = {
    "id": USER_ID,
    "primary_email": "ada@example.com",
    "primary_email_verified": True,
    "primary_email_auth_enabled": True,
    "display_name": "Ada",
    "selected_team": None,
    "selected_team_id": None,
    "profile_image_url": None,
    "signed_up_at_millis": 1_700_000_000_000,
    "client_metadata": None,
    "client_read_only_metadata": None,
    "server_metadata": {"plan": "pro"},
    "last_active_at_millis": 1_700_000_000_000,
    "is_anonymous": False,
    "a_field_from_tomorrow": 1,
}
TEAM = {"id": TEAM_ID, "display_name": "T", "created_at_millis": 1_700_000_000_000, "profile_image_url": None}
TEAM_MODEL = Team(id=TEAM_ID, display_name="T", created_at=datetime.fromtimestamp(1_700_000_000, timezone.utc))


def hand_sign(key: bytes, msg_id: str, stamp: int | str, body: bytes) -> str:
    """Svix's signature, computed here from its definition."""
    mac = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def signed_headers(raw: bytes, msg_id: str = "msg_x") -> dict[str, str]:
    stamp = int(time.time())
    return {"svix-id": msg_id, "svix-timestamp": str(stamp), "svix-signature": hand_sign(KEY, msg_id, stamp, raw)}


def delivery(
    payload: Any = None, *, msg_id: str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", age: float = 0, key: bytes = KEY
) -> tuple[bytes, dict[str, str]]:
    """A signed delivery (body, headers) of ``payload``, signed ``age`` seconds ago."""
    body = json.dumps({"type": "user.created", "data": USER} if payload is None else payload).encode()
    stamp = int(time.time() - age)
    headers = {"svix-id": msg_id, "svix-timestamp": str(stamp), "svix-signature": hand_sign(key, msg_id, stamp, body)}
    return body, headers


def test_a_valid_delivery_becomes_its_typed_event() -> None:
    body, headers = delivery()
    event = verify_webhook(body, headers, secret=SECRET)
    assert isinstance(event, UserCreated)
    assert event.type == "user.created"
    assert event.id == "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
    assert event.timestamp == datetime.fromtimestamp(int(headers["svix-timestamp"]), tz=timezone.utc)
    match event:
        case UserCreated(data=user):
            assert isinstance(user, ServerUser)
            assert (user.id, user.primary_email, user.server_metadata) == (USER_ID, "ada@example.com", {"plan": "pro"})
            assert user.extra == {"a_field_from_tomorrow": 1}
        case _:
            pytest.fail("not matched as UserCreated")


def test_the_libraries_own_signer_is_accepted_too() -> None:
    body = json.dumps({"type": "team.created", "data": TEAM})
    now = datetime.now(tz=timezone.utc)
    signature = Webhook(SECRET).sign("msg_lib", now, body)
    headers = {"svix-id": "msg_lib", "svix-timestamp": str(int(now.timestamp())), "svix-signature": signature}
    event = verify_webhook(body, headers, secret=SECRET)
    assert isinstance(event, TeamCreated)
    assert event.data == TEAM_MODEL


def test_a_tampered_body_is_refused() -> None:
    body, headers = delivery()
    tampered = body.replace(b"ada@example.com", b"eve@example.com")
    with pytest.raises(WebhookSignatureError, match="no svix-signature matches"):
        verify_webhook(tampered, headers, secret=SECRET)


def test_a_tampered_timestamp_is_refused() -> None:
    body, headers = delivery(age=3600)
    headers["svix-timestamp"] = str(int(time.time()))  # made fresh to get past the replay check
    with pytest.raises(WebhookSignatureError):
        verify_webhook(body, headers, secret=SECRET)


def test_a_tampered_id_is_refused() -> None:
    body, headers = delivery()
    headers["svix-id"] = "msg_other"
    with pytest.raises(WebhookSignatureError):
        verify_webhook(body, headers, secret=SECRET)


def test_an_old_delivery_is_a_replay() -> None:
    body, headers = delivery(age=6 * 60)
    with pytest.raises(WebhookTimestampError, match=r"signed 36\d s ago, beyond the tolerance of 0:05:00"):
        verify_webhook(body, headers, secret=SECRET)


def test_a_delivery_from_the_future_is_refused() -> None:
    body, headers = delivery(age=-6 * 60)
    with pytest.raises(WebhookTimestampError, match="ahead"):
        verify_webhook(body, headers, secret=SECRET)


def test_the_tolerance_is_the_callers() -> None:
    body, headers = delivery(age=7 * 60)
    assert isinstance(verify_webhook(body, headers, secret=SECRET, tolerance=timedelta(minutes=10)), UserCreated)
    fresh_body, fresh_headers = delivery(age=30)
    with pytest.raises(WebhookTimestampError):
        verify_webhook(fresh_body, fresh_headers, secret=SECRET, tolerance=timedelta(seconds=10))


@pytest.mark.parametrize("tolerance", [300, timedelta(seconds=-1), None])
def test_a_bad_tolerance_is_a_typed_error(tolerance: Any) -> None:
    body, headers = delivery()
    with pytest.raises(InvalidArgumentError, match="tolerance must be a timedelta"):
        verify_webhook(body, headers, secret=SECRET, tolerance=tolerance)


def test_the_wrong_secret_is_refused() -> None:
    body, headers = delivery()
    with pytest.raises(WebhookSignatureError):
        verify_webhook(body, headers, secret=OTHER_SECRET)


def test_a_secret_without_the_whsec_prefix_works() -> None:
    body, headers = delivery()
    assert isinstance(verify_webhook(body, headers, secret=SECRET.removeprefix("whsec_")), UserCreated)


def test_one_valid_signature_among_several_is_enough() -> None:
    """Secret rotation: Svix signs with the old and the new secret; the receiver knows one of them."""
    body, headers = delivery()
    stamp = headers["svix-timestamp"]
    old = hand_sign(b"the old key, thirty-two bytes...", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", stamp, body)
    headers["svix-signature"] = f"v2,abc {old} garbage {headers['svix-signature']}"
    assert isinstance(verify_webhook(body, headers, secret=SECRET), UserCreated)
    headers["svix-signature"] = f"{old} v1,bm90IGl0"
    with pytest.raises(WebhookSignatureError):
        verify_webhook(body, headers, secret=SECRET)


def test_header_names_are_case_insensitive_and_standard_webhooks_names_work() -> None:
    body, headers = delivery()
    shouting = {k.upper(): v for k, v in headers.items()}
    assert isinstance(verify_webhook(body, shouting, secret=SECRET), UserCreated)
    standard = {k.replace("svix-", "Webhook-"): v for k, v in headers.items()}
    assert isinstance(verify_webhook(body, standard, secret=SECRET), UserCreated)


def test_bytes_and_str_bodies_are_the_same() -> None:
    body, headers = delivery({"type": "user.updated", "data": {**USER, "display_name": "Ada Lovelace ✓"}})
    from_bytes = verify_webhook(body, headers, secret=SECRET)
    from_str = verify_webhook(body.decode(), headers, secret=SECRET)
    assert isinstance(from_bytes, UserUpdated)
    assert from_bytes == from_str
    assert from_bytes.data.display_name == "Ada Lovelace ✓"
    assert isinstance(verify_webhook(bytearray(body), headers, secret=SECRET), UserUpdated)


@pytest.mark.parametrize("missing", ["svix-id", "svix-timestamp", "svix-signature"])
def test_a_missing_header_is_named(missing: str) -> None:
    body, headers = delivery()
    del headers[missing]
    with pytest.raises(WebhookHeaderError, match=f"missing header\\(s\\): {missing}$"):
        verify_webhook(body, headers, secret=SECRET)


@pytest.mark.parametrize("stamp", ["soon", "1.5e9", "-1", "1700000000.5", "9" * 20])
def test_a_malformed_timestamp_is_refused(stamp: str) -> None:
    body, headers = delivery()
    headers["svix-timestamp"] = stamp
    with pytest.raises(WebhookHeaderError, match="not whole epoch seconds"):
        verify_webhook(body, headers, secret=SECRET)


def test_a_signature_header_without_v1_is_refused() -> None:
    body, headers = delivery()
    headers["svix-signature"] = "v1a,xyz nonsense"
    with pytest.raises(WebhookSignatureError, match="no v1 signature"):
        verify_webhook(body, headers, secret=SECRET)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"type": 3, "data": {}}', "JSON object"),
        (b'{"type": "user.created"}', "JSON object"),
        (b'{"type": "user.created", "data": {"display_name": "no id"}}', "does not fit"),
        (b"\xff\xfe{}", "not UTF-8"),
    ],
)
def test_an_authentic_body_that_is_not_an_event_is_refused(raw: bytes, why: str) -> None:
    with pytest.raises(WebhookPayloadError, match=why):
        verify_webhook(raw, signed_headers(raw), secret=SECRET)


def test_an_unknown_event_type_is_kept_raw() -> None:
    data = {"id": "p1", "anything": [1, 2]}
    body, headers = delivery({"type": "project_permission.created", "data": data})
    event = verify_webhook(body, headers, secret=SECRET)
    assert isinstance(event, UnknownEvent)
    assert (event.type, event.data, event.id) == ("project_permission.created", data, headers["svix-id"])


@pytest.mark.parametrize(
    ("event_type", "data", "cls", "expected"),
    [
        ("user.deleted", {"id": USER_ID, "teams": [{"id": TEAM_ID}]}, UserDeleted,
         DeletedUser(id=USER_ID, teams=(TeamRef(id=TEAM_ID),))),
        ("team.updated", TEAM, TeamUpdated, TEAM_MODEL),
        ("team.deleted", {"id": TEAM_ID}, TeamDeleted, TeamRef(id=TEAM_ID)),
        ("team_membership.created", {"team_id": TEAM_ID, "user_id": USER_ID}, TeamMembershipCreated,
         TeamMembership(team_id=TEAM_ID, user_id=USER_ID)),
        ("team_membership.deleted", {"team_id": TEAM_ID, "user_id": USER_ID}, TeamMembershipDeleted,
         TeamMembership(team_id=TEAM_ID, user_id=USER_ID)),
        ("team_permission.created", {"id": "read", "team_id": TEAM_ID, "user_id": USER_ID}, TeamPermissionCreated,
         TeamPermission(id="read", team_id=TEAM_ID, user_id=USER_ID)),
        ("team_permission.deleted", {"id": "read", "team_id": TEAM_ID, "user_id": USER_ID}, TeamPermissionDeleted,
         TeamPermission(id="read", team_id=TEAM_ID, user_id=USER_ID)),
    ],
)  # fmt: skip
def test_each_event_type_decodes_into_its_model(event_type: str, data: Any, cls: type, expected: Any) -> None:
    body, headers = delivery({"type": event_type, "data": data})
    event = verify_webhook(body, headers, secret=SECRET)
    assert type(event) is cls
    assert event.type == event_type
    assert event.data == expected


def test_every_documented_event_type_has_a_class() -> None:
    from emulator_helpers import spec_dir

    documented = json.loads((spec_dir() / "openapi-webhooks.json").read_text())["webhooks"]
    assert set(EVENT_TYPES) == set(documented)


def test_the_secret_never_appears_in_an_error() -> None:
    body, headers = delivery(key=b"another key of thirty-two bytes!")
    refusals: list[Exception] = []
    for attempt in (
        lambda: verify_webhook(body, headers, secret=SECRET),
        lambda: verify_webhook(body, {}, secret=SECRET),
        lambda: verify_webhook(b"{", signed_headers(b"{"), secret=SECRET),
        lambda: verify_webhook(body, headers, secret="whsec_!!not*base64~~x"),
        lambda: verify_webhook(body, headers, secret="whsec_"),
    ):
        with pytest.raises((WebhookVerificationError, ConfigurationError)) as info:
            attempt()
        refusals.append(info.value)
    secret_parts = (SECRET, SECRET.removeprefix("whsec_"), "not*base64")
    for exc in refusals:
        assert not any(part in str(exc) or part in repr(exc) for part in secret_parts), exc
        # Nothing chained either: a traceback shows the causes, and a library's error may quote the secret.
        assert exc.__cause__ is None
        assert exc.__context__ is None or exc.__suppress_context__


def test_the_secret_comes_from_the_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    body, headers = delivery()
    monkeypatch.delenv("STACK_WEBHOOK_SECRET", raising=False)
    with pytest.raises(ConfigurationError, match="STACK_WEBHOOK_SECRET"):
        verify_webhook(body, headers)
    monkeypatch.setenv("STACK_WEBHOOK_SECRET", SECRET)
    assert isinstance(verify_webhook(body, headers), UserCreated)


def test_a_parsed_body_is_refused_with_a_type_error() -> None:
    _, headers = delivery()
    with pytest.raises(TypeError, match="raw bytes"):
        verify_webhook({"type": "user.created"}, headers, secret=SECRET)  # type: ignore[arg-type]
