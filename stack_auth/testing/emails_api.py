"""Routes ``/emails/send-email``, ``/emails/outbox``, ``/emails/delivery-info`` and ``/emails/notification-preference``.

Follows ``apps/backend/src/app/api/latest/emails/`` of the Stack source and the real backend's answers
(``samples-wave2.json``): sending needs a custom email server (REQUIRES_CUSTOM_EMAIL_SERVER with the project's
``email_server="shared"``), queues one outbox email per recipient (:mod:`stack_auth.testing.outbox`) and answers
``{"results": [{"user_id"}]}``; notification categories are Stack's two (``Transactional``, ``Marketing``), enabled
until the user turns one off.
"""

from __future__ import annotations

import re
from typing import Any

from stack_auth.testing import known
from stack_auth.testing.auth import CLIENT_OR_HIGHER, SERVER_OR_HIGHER, Auth, require_access
from stack_auth.testing.context import Ctx
from stack_auth.testing.outbox import (
    DEFAULT_THEME_ID,
    NOTIFICATION_CATEGORIES,
    QueuedEmail,
    category_by_id,
    category_by_name,
)
from stack_auth.testing.state import Project
from stack_auth.testing.validation import Field, is_uuid
from stack_auth.testing.wire import KnownError, Response, StatusError, json_response

#: Stack's default page size of ``GET /emails/outbox`` and its maximum.
OUTBOX_PAGE_LIMIT = 100

SEND_FIELDS: dict[str, Field] = {
    "user_ids": Field("json"),
    "all_users": Field("boolean"),
    "subject": Field("string"),
    "html": Field("string"),
    "template_id": Field("uuid"),
    "draft_id": Field("string"),
    "variables": Field("json"),
    "notification_category_name": Field("string"),
    "theme_id": Field("json", nullable=True),
}
_CONTENT_UNION = (
    "body is not matched by any of the provided schemas:\n"
    "  Schema 0:\n    body.html must be defined\n"
    "  Schema 1:\n    body.template_id must be defined\n"
    "  Schema 2:\n    body.draft_id must be defined"
)


def requires_custom_email_server() -> KnownError:
    return KnownError(
        "REQUIRES_CUSTOM_EMAIL_SERVER",
        "This action requires a custom SMTP server. Please edit your email server configuration and try again.",
    )


def _plain_schema_error(message: str) -> KnownError:
    """A SCHEMA_ERROR a route raises itself (no "Request validation failed" heading)."""
    return KnownError("SCHEMA_ERROR", message, {"message": message})


def _enabled(project: Project, user_id: str, category_id: str) -> bool:
    return project.notification_preferences.get((user_id, category_id), True)


def _send_body(ctx: Ctx) -> dict[str, Any]:
    """The body of ``send-email``: ``user_ids``/``all_users``, and one of ``html``, ``template_id``, ``draft_id``."""
    v = ctx.validator()
    data = v.body(ctx.request.body, SEND_FIELDS)
    user_ids = data.get("user_ids")
    if user_ids is not None and not (isinstance(user_ids, list) and all(isinstance(u, str) for u in user_ids)):
        v.fail("body.user_ids must be an array of strings")
    if data.get("all_users") is False:
        v.fail("body.all_users must be one of the following values: true")
    variables = data.get("variables")
    if variables is not None and not (
        isinstance(variables, dict) and all(isinstance(x, str) for x in variables.values())
    ):
        v.fail("body.variables must be an object whose values are strings")
    if not any(k in data for k in ("html", "template_id", "draft_id")) and not v.errors:
        v.fail(_CONTENT_UNION)
    v.done()
    return data


def _skip_reason(project: Project, user_id: str, category: tuple[str, str, bool]) -> str | None:
    """Why the email queue would skip this recipient (Stack's ``EmailOutboxSkippedReason``), or None."""
    category_id, _, can_disable = category
    if can_disable and not _enabled(project, user_id, category_id):
        return "USER_UNSUBSCRIBED"
    if project.users[user_id].primary_email is None:
        return "USER_HAS_NO_PRIMARY_EMAIL"
    return None


async def send_email(ctx: Ctx) -> Response:
    """``send-email``, checked in the order of the Stack source (``emails/send-email/route.tsx``)."""
    auth = require_access(ctx.auth, SERVER_OR_HIGHER)
    data = _send_body(ctx)
    project = auth.project
    if project.config.email_server == "shared":
        raise requires_custom_email_server()
    user_ids: list[str] | None = data.get("user_ids")
    if (user_ids is None) == (data.get("all_users") is None):
        raise _plain_schema_error("Exactly one of user_ids or all_users must be provided")
    category_name = data.get("notification_category_name", "Transactional")
    category = category_by_name(category_name)
    if category is None:
        raise StatusError(400, "Notification category not found with given name")
    template_id = data.get("template_id")
    if template_id is not None and template_id not in project.config.email_templates:
        raise StatusError(400, "No template found with given template_id")
    if "draft_id" in data:
        raise StatusError(400, "No draft found with given draft_id")  # the emulator keeps no drafts
    store = ctx.services.store
    with store.lock:
        if user_ids is None:
            recipients = [uid for _, uid in project.order]
        else:
            recipients = list(user_ids)
            missing = next((uid for uid in recipients if uid not in project.users), None)
            if missing is not None:
                raise known.user_id_does_not_exist(missing)
        # One creation time per send, strictly after the previous send's: the outbox lists newest sends first.
        now = store.clock.tick_ms()
        theme_id = data.get("theme_id")
        for user_id in recipients:
            project.outbox.append(
                QueuedEmail(
                    id=store.ids.uuid(),
                    user_id=user_id,
                    to_email=project.users[user_id].primary_email,
                    subject=data.get("subject"),
                    html=data.get("html"),
                    template_id=template_id,
                    tsx_source=project.config.email_templates[template_id] if template_id else None,
                    variables=dict(data.get("variables") or {}),
                    notification_category=category_name,
                    theme_id=theme_id if isinstance(theme_id, str) else DEFAULT_THEME_ID,
                    created_at_millis=now,
                    skipped_reason=_skip_reason(project, user_id, category),
                )
            )
    return json_response({"results": [{"user_id": user_id} for user_id in recipients]})


def _newest_first(project: Project) -> list[QueuedEmail]:
    return sorted(project.outbox, key=lambda m: (-m.created_at_millis, m.id))


def _page_size(raw: str | None) -> int:
    """The outbox's ``limit``: ``parseInt`` of the text, at most 100, as the Stack source reads it."""
    if raw is None:
        return OUTBOX_PAGE_LIMIT
    digits = re.match(r"\s*([+-]?\d+)", raw)
    size = int(digits.group(1)) if digits else 0
    if size < 1:
        raise StatusError(400, "Invalid limit parameter")
    if size > OUTBOX_PAGE_LIMIT:
        raise StatusError(400, f"Limit cannot exceed {OUTBOX_PAGE_LIMIT}")
    return size


async def list_outbox(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, SERVER_OR_HIGHER)
    q = ctx.request.query
    v = ctx.validator()
    v.unknown("query", q, ("status", "simple_status", "limit", "cursor"))
    cursor = v.uuid("query", "cursor", q.get("cursor"), required=False)
    v.done()
    size = _page_size(q.get("limit"))
    with ctx.services.store.lock:
        mails = [
            m
            for m in _newest_first(auth.project)
            if q.get("status") in (None, m.status) and q.get("simple_status") in (None, m.simple_status)
        ]
        if cursor is not None:
            mails = mails[next((i for i, m in enumerate(mails) if m.id == cursor), len(mails)) :]
        items = [m.view() for m in mails[:size]]
    next_cursor = mails[size].id if len(mails) > size else None
    return json_response({"items": items, "is_paginated": True, "pagination": {"next_cursor": next_cursor}})


async def get_outbox_email(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, SERVER_OR_HIGHER)
    email_id = ctx.request.params["id"]
    with ctx.services.store.lock:
        found = next((m for m in auth.project.outbox if m.id == email_id), None)
        if found is None:
            raise StatusError(404, "Email not found")
        return json_response(found.view())


async def delivery_info(ctx: Ctx) -> Response:
    require_access(ctx.auth, SERVER_OR_HIGHER)
    # Nothing is ever delivered by the emulator (see stack_auth.testing.outbox): the counts stay at zero.
    zero = {"sent": 0, "bounced": 0, "marked_as_spam": 0}
    stats = {period: dict(zero) for period in ("hour", "day", "week", "month")}
    capacity: dict[str, Any] = {
        "rate_per_second": 100_000 / 3600,
        "boost_multiplier": 1,
        "penalty_factor": 1,
        "is_boost_active": False,
        "boost_expires_at": None,
    }
    return json_response({"stats": stats, "capacity": capacity})


def _preference_user(ctx: Ctx, auth: Auth, *, action: str) -> str:
    """The user of a preference route (``me`` or an id), checked as the Stack source does: clients reach only
    their own, and the user must exist."""
    raw = ctx.request.params["user_id"]
    me = auth.user.id if auth.user is not None else None
    if me is None and (raw == "me" or auth.type == "client"):
        raise known.user_authentication_required()
    if raw == "me" and me is not None:
        return me
    v = ctx.validator()
    v.uuid("params", "user_id", raw)
    v.done()
    if auth.type == "client" and raw != me:
        raise StatusError(403, f"You can only {action} your own notification preferences")
    if raw not in auth.project.users:
        raise known.user_not_found()
    return raw


def _preference(project: Project, user_id: str, category: tuple[str, str, bool]) -> dict[str, Any]:
    category_id, name, can_disable = category
    return {
        "notification_category_id": category_id,
        "notification_category_name": name,
        "enabled": _enabled(project, user_id, category_id),
        "can_disable": can_disable,
    }


async def list_notification_preferences(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    with ctx.services.store.lock:
        user_id = _preference_user(ctx, auth, action="view")
        items = [_preference(auth.project, user_id, c) for c in NOTIFICATION_CATEGORIES]
    return json_response({"items": items, "is_paginated": False})


async def set_notification_preference(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    v = ctx.validator()
    data = v.body(ctx.request.body, {"enabled": Field("boolean", required=True)})
    category_id = ctx.request.params["notification_category_id"]
    if not is_uuid(category_id):
        v.fail("params.notification_category_id must be a valid UUID")
    v.done()
    category = category_by_id(category_id)
    if category is None:
        raise StatusError(404, "Notification category not found")
    with ctx.services.store.lock:
        user_id = _preference_user(ctx, auth, action="manage")
        # As on the real backend, even a category that cannot be disabled (Transactional) accepts enabled=false.
        auth.project.notification_preferences[(user_id, category_id)] = data["enabled"]
        return json_response(_preference(auth.project, user_id, category))


ROUTES = [
    ("POST", "/emails/send-email", send_email),
    ("GET", "/emails/outbox", list_outbox),
    ("GET", "/emails/outbox/{id}", get_outbox_email),
    ("GET", "/emails/delivery-info", delivery_info),
    ("GET", "/emails/notification-preference/{user_id}", list_notification_preferences),
    ("PATCH", "/emails/notification-preference/{user_id}/{notification_category_id}", set_notification_preference),
]
