"""Routes ``/contact-channels...``: a user's emails, their verification codes, and ``/contact-channels/verify``.

Follows ``apps/backend/src/app/api/latest/contact-channels/`` (``crud.tsx``, ``send-verification-code``, ``verify``):
clients act on their own channels only (plain-text 403/400 otherwise), one channel per value and user ("Contact
channel already exists"), an email used for auth belongs to one user of the project
(CONTACT_CHANNEL_ALREADY_USED_FOR_AUTH_BY_SOMEONE_ELSE), one primary channel per user, a changed value is unverified
again, lists are complete (not paginated) in creation order. The primary channel is the user's ``primary_email``:
changing one changes the other (see :meth:`~stack_auth.testing.state.Project.change_channel`).
"""

from __future__ import annotations

from typing import Any

from stack_auth.testing import known
from stack_auth.testing.auth import CLIENT_OR_HIGHER, Auth, require_access
from stack_auth.testing.channels import ContactChannel
from stack_auth.testing.codes import check_code_route, code_from_body, create_code, use_code
from stack_auth.testing.context import Ctx
from stack_auth.testing.redirects import check_redirect_url
from stack_auth.testing.state import Project
from stack_auth.testing.validation import EMAIL_RE, Field, Validator
from stack_auth.testing.wire import Response, StatusError, json_response, success_response

#: The verification code type of email verification links.
EMAIL_VERIFICATION = "CONTACT_CHANNEL_VERIFICATION"

_CLIENT_CREATE: dict[str, Field] = {
    "user_id": Field("user_id_or_me", required=True),
    "value": Field("string", required=True),
    "type": Field("string", required=True, one_of=("email",)),
    "used_for_auth": Field("boolean", required=True),
    "is_primary": Field("boolean"),
}
_SERVER_CREATE: dict[str, Field] = {**_CLIENT_CREATE, "is_verified": Field("boolean")}
_CLIENT_UPDATE: dict[str, Field] = {
    "value": Field("string"),
    "type": Field("string", one_of=("email",)),
    "used_for_auth": Field("boolean"),
    "is_primary": Field("boolean"),
}
_SERVER_UPDATE: dict[str, Field] = {**_CLIENT_UPDATE, "is_verified": Field("boolean")}
_QUERY = ("user_id", "contact_channel_id")


def _body(ctx: Ctx, v: Validator, fields: dict[str, Field]) -> dict[str, Any]:
    """The body; ``value`` must be an email when the type is (Stack checks it only then)."""
    data = v.body(ctx.request.body, fields)
    sent_type = ctx.request.body.get("type", "email") if isinstance(ctx.request.body, dict) else None
    if "value" in data and sent_type == "email" and not EMAIL_RE.match(data["value"]):
        v.fail("body.value must be a valid email")
    return data


def channel_view(channel: ContactChannel) -> dict[str, Any]:
    return {
        "user_id": channel.user_id,
        "id": channel.id,
        "type": channel.type,
        "value": channel.value,
        "is_primary": channel.is_primary,
        "is_verified": channel.is_verified,
        "used_for_auth": channel.used_for_auth,
    }


def _current(auth: Auth) -> str | None:
    return auth.user.id if auth.user is not None else None


def _own_only(auth: Auth, user_id: str | None, action: str, status: int = 403) -> None:
    """A client acts on its own user's channels only."""
    if auth.type != "client":
        return
    current = _current(auth)
    if current is None:
        raise known.cannot_get_own_user_without_user()
    if current != user_id:
        raise StatusError(status, f"Client can only {action} contact channels for their own user.")


def _check_query(ctx: Ctx, v: Validator, auth: Auth) -> tuple[str | None, str | None]:
    q = ctx.request.query
    v.unknown("query", q, _QUERY)
    user_id = v.user_id_or_me("query", "user_id", q.get("user_id"), _current(auth), required=False)
    channel_id = v.uuid("query", "contact_channel_id", q.get("contact_channel_id"), required=False)
    return user_id, channel_id


def _params(ctx: Ctx, v: Validator, auth: Auth) -> tuple[str, str]:
    user_id = v.user_id_or_me("params", "user_id", ctx.request.params["user_id"], _current(auth))
    channel_id = v.uuid("params", "contact_channel_id", ctx.request.params["contact_channel_id"])
    return user_id or "", channel_id or ""


def _claim_for_auth(project: Project, user_id: str, value: str, channel_type: str, *, show_value: bool) -> None:
    """CONTACT_CHANNEL_ALREADY_USED_FOR_AUTH_BY_SOMEONE_ELSE when another user signs in with ``value``."""
    if project.auth_emails.get(value, user_id) != user_id:
        raise known.contact_channel_already_used_for_auth_by_someone_else(channel_type, value if show_value else None)


async def list_channels(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    v = ctx.validator()
    user_id, channel_id = _check_query(ctx, v, auth)
    v.done()
    _own_only(auth, user_id, "list")
    project = auth.project
    with ctx.services.store.lock:
        owners = [user_id] if user_id is not None else list(project.channels)
        items = [
            channel_view(c)
            for owner in owners
            for c in project.channels.get(owner, {}).values()
            if channel_id is None or c.id == channel_id
        ]
    return json_response({"items": items, "is_paginated": False})


async def create_channel(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    v = ctx.validator()
    _check_query(ctx, v, auth)
    data = _body(ctx, v, _CLIENT_CREATE if auth.type == "client" else _SERVER_CREATE)
    v.done()
    user_id = data["user_id"]
    if user_id == "me":
        user_id = _current(auth)
        if user_id is None:
            raise known.cannot_get_own_user_without_user()
    _own_only(auth, user_id, "create")
    project = auth.project
    with ctx.services.store.lock:
        user = project.users.get(user_id)
        if user is None:
            raise known.user_not_found()
        if project.channel_by_value(user_id, data["value"]) is not None:
            raise StatusError(400, "Contact channel already exists")
        if data["used_for_auth"]:
            _claim_for_auth(project, user_id, data["value"], data["type"], show_value=True)
        channel = project.add_channel(
            user,
            data["value"],
            is_verified=data.get("is_verified", False),
            used_for_auth=data["used_for_auth"],
            is_primary=bool(data.get("is_primary")),
        )
        return json_response(channel_view(channel), 201)


def _channel_or_404(project: Project, user_id: str, channel_id: str, message: str, status: int) -> ContactChannel:
    channel = project.channels.get(user_id, {}).get(channel_id)
    if channel is None:
        raise StatusError(status, message)
    return channel


def _one_channel(
    ctx: Ctx, action: str, fields: dict[str, Field] | None = None
) -> tuple[Auth, str, str, dict[str, Any]]:
    """Auth, user id, channel id and body of a request on one channel (checked in Stack's order)."""
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    v = ctx.validator()
    user_id, channel_id = _params(ctx, v, auth)
    _check_query(ctx, v, auth)
    data = _body(ctx, v, fields) if fields is not None else {}
    v.done()
    _own_only(auth, user_id, action)
    return auth, user_id, channel_id, data


async def get_channel(ctx: Ctx) -> Response:
    auth, user_id, channel_id, _ = _one_channel(ctx, "read")
    with ctx.services.store.lock:
        channel = _channel_or_404(auth.project, user_id, channel_id, "Contact channel not found.", 404)
        return json_response(channel_view(channel))


async def update_channel(ctx: Ctx) -> Response:
    client = ctx.auth is not None and ctx.auth.type == "client"
    auth, user_id, channel_id, data = _one_channel(ctx, "update", _CLIENT_UPDATE if client else _SERVER_UPDATE)
    project = auth.project
    with ctx.services.store.lock:
        channel = _channel_or_404(project, user_id, channel_id, "Contact channel not found", 400)
        value = data.get("value", channel.value)
        if value != channel.value and project.channel_by_value(user_id, value) is not None:
            raise StatusError(400, "Contact channel already exists")
        if data.get("used_for_auth", channel.used_for_auth):
            _claim_for_auth(project, user_id, value, data.get("type", channel.type), show_value=False)
        # A new value is unverified unless the update says otherwise, as on Stack.
        verified = data.get("is_verified", False if "value" in data else None)
        project.change_channel(
            channel,
            value=data.get("value"),
            is_verified=verified,
            used_for_auth=data.get("used_for_auth"),
            is_primary=data.get("is_primary"),
        )
        return json_response(channel_view(channel))


async def delete_channel(ctx: Ctx) -> Response:
    auth, user_id, channel_id, _ = _one_channel(ctx, "delete")
    with ctx.services.store.lock:
        channel = _channel_or_404(auth.project, user_id, channel_id, "Contact channel not found", 400)
        auth.project.delete_channel(channel)
    return success_response()


async def send_verification_code(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    v = ctx.validator()
    user_id, channel_id = _params(ctx, v, auth)
    data = v.body(ctx.request.body, {"callback_url": Field("string", required=True)})
    v.done()
    if auth.type == "client":
        current = _current(auth)
        if current is None:
            raise known.cannot_get_own_user_without_user()
        if current != user_id:
            raise StatusError(400, "Can only send verification code for your own user")
    store = ctx.services.store
    project = auth.project
    with store.lock:
        if user_id not in project.users:
            raise known.user_id_does_not_exist(user_id)
        channel = _channel_or_404(project, user_id, channel_id, "Contact channel not found", 404)
        if channel.is_verified:
            raise known.email_already_verified()
        check_redirect_url(project, data["callback_url"])
        code = create_code(
            store,
            project,
            EMAIL_VERIFICATION,
            {"user_id": user_id, "email": channel.value},
            callback_url=data["callback_url"],
        )
        project.send_mail(channel.value, "email_verification", code.code, code.callback_url, store.clock.now_ms())
    return success_response()


async def verify(ctx: Ctx) -> Response:
    """Verify the email a code was sent to (any access type, signed in or not, as on Stack)."""
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    raw = code_from_body(ctx)
    store = ctx.services.store
    with store.lock:
        code = use_code(store, auth.project, EMAIL_VERIFICATION, raw)
        channel = auth.project.channel_by_value(code.data["user_id"], code.data["email"])
        if channel is None:
            raise StatusError(400, "Contact channel not found. Was your contact channel deleted?")
        auth.project.change_channel(channel, is_verified=True)
    return success_response()


ROUTES = [
    ("GET", "/contact-channels", list_channels),
    ("POST", "/contact-channels", create_channel),
    ("POST", "/contact-channels/verify", verify),
    ("POST", "/contact-channels/verify/check-code", check_code_route(EMAIL_VERIFICATION)),
    ("GET", "/contact-channels/{user_id}/{contact_channel_id}", get_channel),
    ("PATCH", "/contact-channels/{user_id}/{contact_channel_id}", update_channel),
    ("DELETE", "/contact-channels/{user_id}/{contact_channel_id}", delete_channel),
    ("POST", "/contact-channels/{user_id}/{contact_channel_id}/send-verification-code", send_verification_code),
]
