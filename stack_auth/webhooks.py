"""Receiving Stack's webhooks: verify a signed delivery and get a typed event, in one call.

Stack sends its webhooks through Svix: a POST with the JSON body ``{"type": ..., "data": ...}`` and the headers
``svix-id`` (the delivery id, the same on every retry), ``svix-timestamp`` (epoch seconds of the attempt) and
``svix-signature`` (``v1,<base64 HMAC-SHA256>``, several separated by spaces while a secret is being rotated),
signed the Standard Webhooks way with the endpoint's ``whsec_...`` secret. Pass the raw body, exactly as received::

    from datetime import timedelta
    from stack_auth.webhooks import TeamMembershipCreated, UserCreated, UserDeleted, verify_webhook

    event = verify_webhook(body, headers, secret="whsec_...", tolerance=timedelta(minutes=5))
    match event:
        case UserCreated(data=user):              # data: ServerUser, the model app.users.get returns
            ...
        case UserDeleted(data=gone):              # data: DeletedUser(id, teams): what Stack sends
            ...
        case TeamMembershipCreated(data=m):       # data: TeamMembership(team_id, user_id)
            ...

``event.id`` is the delivery id (deduplicate on it: a delivery is retried until your endpoint answers 2xx),
``event.timestamp`` the signed time. A type this SDK does not know yet is an :class:`UnknownEvent` with the raw
``data``, never an error. Every refusal is a :class:`WebhookVerificationError` whose message says why; the secret
never appears in one. Without ``secret=``, ``STACK_WEBHOOK_SECRET`` is read from the environment.

Framework receivers: :data:`stack_auth.fastapi.StackWebhook`, :func:`stack_auth.flask.verify_webhook_request`,
:func:`stack_auth.django.stack_webhook`. The signature scheme is checked by the ``standardwebhooks`` package (extra
``webhooks``), imported on the first verification.
"""

from __future__ import annotations

import binascii
import hmac
import json
import os
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, Literal, Protocol

import attrs

from stack_auth._exceptions import ConfigurationError, InvalidArgumentError, StackAuthError
from stack_auth.models import ServerUser, Team, TeamMembership, TeamPermission, structure

__all__ = [
    "DEFAULT_TOLERANCE",
    "ENV_WEBHOOK_SECRET",
    "EVENT_TYPES",
    "DeletedUser",
    "Headers",
    "TeamCreated",
    "TeamDeleted",
    "TeamMembershipCreated",
    "TeamMembershipDeleted",
    "TeamPermissionCreated",
    "TeamPermissionDeleted",
    "TeamRef",
    "TeamUpdated",
    "UnknownEvent",
    "UserCreated",
    "UserDeleted",
    "UserUpdated",
    "WebhookEvent",
    "WebhookHeaderError",
    "WebhookPayloadError",
    "WebhookSignatureError",
    "WebhookTimestampError",
    "WebhookVerificationError",
    "verify_webhook",
]

ENV_WEBHOOK_SECRET = "STACK_WEBHOOK_SECRET"
#: How far the signed timestamp may be from now, either way (Svix's and Standard Webhooks' default).
DEFAULT_TOLERANCE = timedelta(minutes=5)

# Svix's header names first; the Standard Webhooks names (``webhook-*``) are the same scheme.
_HEADER_PREFIXES = ("svix-", "webhook-")


# --- errors ----------------------------------------------------------------------------------------------------------


class WebhookVerificationError(StackAuthError):
    """A delivery was refused: answer it with 400 and do not act on it. Subclasses say which check failed."""


class WebhookHeaderError(WebhookVerificationError):
    """``svix-id``, ``svix-timestamp`` or ``svix-signature`` is missing or malformed."""


class WebhookSignatureError(WebhookVerificationError):
    """No signature in ``svix-signature`` matches the body, id and timestamp for this secret."""


class WebhookTimestampError(WebhookVerificationError):
    """The signed timestamp is further from now than the tolerance: a replay, or a badly wrong clock."""


class WebhookPayloadError(WebhookVerificationError):
    """The (authentic) body is not Stack's JSON ``{"type", "data"}``, or its data does not fit the event's model."""


# --- what the events carry -------------------------------------------------------------------------------------------


@attrs.frozen
class TeamRef:
    """A team by id: the data of ``team.deleted``, and each of ``DeletedUser.teams``."""

    id: str
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False, kw_only=True)


@attrs.frozen
class DeletedUser:
    """The data of ``user.deleted``: the user's id and the teams it was a member of."""

    id: str
    teams: tuple[TeamRef, ...] = ()
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False, kw_only=True)


@attrs.frozen(kw_only=True)
class _Event:
    #: The delivery id (``svix-id``): the same on every retry of one delivery, so the key to deduplicate on.
    id: str
    #: When this attempt was signed (``svix-timestamp``), an aware UTC datetime.
    timestamp: datetime


@attrs.frozen(kw_only=True)
class UserCreated(_Event):
    """``user.created``: the user as the server reads it right after the create (before its personal team)."""

    type: ClassVar[Literal["user.created"]] = "user.created"
    data: ServerUser


@attrs.frozen(kw_only=True)
class UserUpdated(_Event):
    """``user.updated``: the user as the server reads it after the update."""

    type: ClassVar[Literal["user.updated"]] = "user.updated"
    data: ServerUser


@attrs.frozen(kw_only=True)
class UserDeleted(_Event):
    """``user.deleted``: sent after a ``team_membership.deleted`` for each of the user's teams."""

    type: ClassVar[Literal["user.deleted"]] = "user.deleted"
    data: DeletedUser


@attrs.frozen(kw_only=True)
class TeamCreated(_Event):
    """``team.created``. Stack sends no ``team_membership.created`` for the team's creator."""

    type: ClassVar[Literal["team.created"]] = "team.created"
    data: Team


@attrs.frozen(kw_only=True)
class TeamUpdated(_Event):
    """``team.updated``: the team after the update."""

    type: ClassVar[Literal["team.updated"]] = "team.updated"
    data: Team


@attrs.frozen(kw_only=True)
class TeamDeleted(_Event):
    """``team.deleted``: the team's id only; its memberships and permissions went with it (no event each)."""

    type: ClassVar[Literal["team.deleted"]] = "team.deleted"
    data: TeamRef


@attrs.frozen(kw_only=True)
class TeamMembershipCreated(_Event):
    """``team_membership.created``, followed by a ``team_permission.created`` per default member permission."""

    type: ClassVar[Literal["team_membership.created"]] = "team_membership.created"
    data: TeamMembership


@attrs.frozen(kw_only=True)
class TeamMembershipDeleted(_Event):
    """``team_membership.deleted``: the member's team permissions went with it."""

    type: ClassVar[Literal["team_membership.deleted"]] = "team_membership.deleted"
    data: TeamMembership


@attrs.frozen(kw_only=True)
class TeamPermissionCreated(_Event):
    """``team_permission.created``: a permission granted to a member (sent again when granted again)."""

    type: ClassVar[Literal["team_permission.created"]] = "team_permission.created"
    data: TeamPermission


@attrs.frozen(kw_only=True)
class TeamPermissionDeleted(_Event):
    """``team_permission.deleted``: a permission revoked from a member."""

    type: ClassVar[Literal["team_permission.deleted"]] = "team_permission.deleted"
    data: TeamPermission


@attrs.frozen(kw_only=True)
class UnknownEvent(_Event):
    """An event type this version of the SDK does not know: its ``type`` and raw ``data`` (decoded JSON)."""

    type: str
    data: Any


#: Any event :func:`verify_webhook` returns.
WebhookEvent = (
    UserCreated
    | UserUpdated
    | UserDeleted
    | TeamCreated
    | TeamUpdated
    | TeamDeleted
    | TeamMembershipCreated
    | TeamMembershipDeleted
    | TeamPermissionCreated
    | TeamPermissionDeleted
    | UnknownEvent
)

# Each known event class and the model of its data.
_DECODED: tuple[tuple[Any, type[Any]], ...] = (
    (UserCreated, ServerUser),
    (UserUpdated, ServerUser),
    (UserDeleted, DeletedUser),
    (TeamCreated, Team),
    (TeamUpdated, Team),
    (TeamDeleted, TeamRef),
    (TeamMembershipCreated, TeamMembership),
    (TeamMembershipDeleted, TeamMembership),
    (TeamPermissionCreated, TeamPermission),
    (TeamPermissionDeleted, TeamPermission),
)
_MODEL_OF: Mapping[str, type[Any]] = {cls.type: model for cls, model in _DECODED}
#: Event type -> its class, for every type this SDK decodes.
EVENT_TYPES: Mapping[str, type[WebhookEvent]] = {cls.type: cls for cls, _ in _DECODED}


# --- verification ----------------------------------------------------------------------------------------------------


class Headers(Protocol):
    """Request headers: a mapping, or any object with ``items()`` (Starlette's, Werkzeug's, Django's)."""

    def items(self) -> Iterable[tuple[str, str]]:
        """The (name, value) pairs of the headers."""
        ...


def verify_webhook(
    body: bytes | str,
    headers: Headers,
    *,
    secret: str | None = None,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> WebhookEvent:
    """Check a delivery's signature and timestamp, then decode it into its event class.

    ``body``: the raw request body as received (bytes, or the same text as str; never JSON serialised again).
    ``headers``: any mapping of the request headers; names are matched case-insensitively. ``secret``: the
    endpoint's ``whsec_...`` secret (the bare base64 part works too); default ``STACK_WEBHOOK_SECRET``.
    ``tolerance``: how far the signed timestamp may be from now, into the past or the future.

    Raises :class:`WebhookHeaderError`, :class:`WebhookSignatureError`, :class:`WebhookTimestampError` or
    :class:`WebhookPayloadError` (all :class:`WebhookVerificationError`); a missing or malformed secret is a
    :class:`~stack_auth.errors.ConfigurationError`, a bad ``tolerance`` an
    :class:`~stack_auth.errors.InvalidArgumentError`.
    """
    if not isinstance(tolerance, timedelta) or tolerance < timedelta(0):
        raise InvalidArgumentError(f"tolerance must be a timedelta of zero or more, not {tolerance!r}")
    signer = _signer(secret)
    text = _text_of(body)
    msg_id, stamp, signatures = _signed_headers(headers)
    timestamp = datetime.fromtimestamp(int(stamp), tz=timezone.utc)
    expected = signer.sign(msg_id=msg_id, timestamp=timestamp, data=text).partition(",")[2].encode("ascii")
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise WebhookSignatureError("no svix-signature matches this body, id and timestamp for this secret")
    _check_time(timestamp, tolerance)
    return _event(msg_id, timestamp, text)


def _signer(secret: str | None) -> Any:
    if secret is None:
        secret = os.environ.get(ENV_WEBHOOK_SECRET)
    if not secret:
        raise ConfigurationError(f"no webhook secret: pass secret= or set {ENV_WEBHOOK_SECRET}")
    try:
        from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook
    except ImportError:  # pragma: no cover - the extra is part of the dev install
        raise ConfigurationError("verifying webhooks needs the extra: pip install 'stack-auth[webhooks]'") from None
    try:
        return Webhook(secret)
    except (binascii.Error, ValueError, EmptyWebhookSecretError):
        # The library's message may quote the secret's length or characters: say only what is wrong with it.
        raise ConfigurationError("the webhook secret is not a whsec_ secret (base64 after the whsec_ prefix)") from None


def _text_of(body: bytes | str) -> str:
    if isinstance(body, str):
        return body
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise TypeError(f"body must be the raw bytes (or str) as received, not {type(body).__name__}")
    try:
        return bytes(body).decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookPayloadError("the body is not UTF-8 text, so not Stack's JSON") from None


def _header(lowered: Mapping[str, str], name: str) -> str | None:
    for prefix in _HEADER_PREFIXES:
        value = lowered.get(prefix + name)
        if value:
            return value
    return None


def _signed_headers(headers: Headers) -> tuple[str, str, list[bytes]]:
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    msg_id = _header(lowered, "id")
    stamp = _header(lowered, "timestamp")
    signature = _header(lowered, "signature")
    missing = [f"svix-{n}" for n, v in (("id", msg_id), ("timestamp", stamp), ("signature", signature)) if not v]
    if missing:
        raise WebhookHeaderError(f"missing header(s): {', '.join(missing)}")
    assert msg_id is not None and stamp is not None and signature is not None
    stamp = stamp.strip()
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        raise WebhookHeaderError("svix-timestamp is not whole epoch seconds")
    candidates = [
        sig.encode("ascii")
        for version, _, sig in (entry.partition(",") for entry in signature.split())
        if version == "v1" and sig.isascii()
    ]
    if not candidates:
        raise WebhookSignatureError("svix-signature has no v1 signature")
    return msg_id, stamp, candidates


def _check_time(timestamp: datetime, tolerance: timedelta) -> None:
    now = datetime.now(tz=timezone.utc)
    if timestamp < now - tolerance:
        raise WebhookTimestampError(f"signed {_seconds(now - timestamp)} ago, beyond the tolerance of {tolerance}")
    if timestamp > now + tolerance:
        raise WebhookTimestampError(f"signed {_seconds(timestamp - now)} ahead, beyond the tolerance of {tolerance}")


def _seconds(delta: timedelta) -> str:
    return f"{int(delta.total_seconds())} s"


def _event(msg_id: str, timestamp: datetime, text: str) -> WebhookEvent:
    try:
        payload = json.loads(text)
    except ValueError:
        raise WebhookPayloadError("the body is not JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str) or "data" not in payload:
        raise WebhookPayloadError('the body is not a JSON object with a string "type" and a "data"')
    event_type: str = payload["type"]
    cls: Any = EVENT_TYPES.get(event_type)  # one of the known classes, each built the same way
    if cls is None:
        return UnknownEvent(id=msg_id, timestamp=timestamp, type=event_type, data=payload["data"])
    try:
        data = structure(payload["data"], _MODEL_OF[event_type])
    except Exception as exc:  # cattrs raises a validation group; its text can be long, its kind is enough
        raise WebhookPayloadError(f"the data of {event_type} does not fit its model: {type(exc).__name__}") from None
    event: WebhookEvent = cls(id=msg_id, timestamp=timestamp, data=data)
    return event
