# GENERATED from stack_auth/_async/resources/emails.py by scripts/gen_sync.py: edit the source, not this file.
"""Emails (server access): send to users, read the outbox and delivery info, manage notification preferences.

``app.emails``. Sending goes through the project's email setup on Stack (a custom email server is required:
:class:`~stack_auth.errors.RequiresCustomEmailServer` otherwise).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from typing import Any

from stack_auth._sync._pagination import Pager
from stack_auth._sync._transport import Transport
from stack_auth._exceptions import InvalidArgumentError, NotFoundError
from stack_auth._validate import text_arg, uuid_arg
from stack_auth.models import (
    EmailDeliveryInfo,
    NotificationPreference,
    OutboxEmail,
    Page,
    SendEmailResult,
    structure,
)

#: Stack refuses larger outbox pages ("Limit cannot exceed 100").
MAX_OUTBOX_PAGE = 100


class Emails:
    """Send emails to users and read what was sent."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def send(
        self,
        *,
        user_ids: Iterable[str] | None = None,
        all_users: bool = False,
        subject: str | None = None,
        html: str | None = None,
        template_id: str | None = None,
        variables: Mapping[str, str] | None = None,
        notification_category_name: str | None = None,
        theme_id: str | None = None,
    ) -> SendEmailResult:
        """Queue an email to users (``POST /emails/send-email``); sent once, never retried after it may have arrived.

        ``result = app.emails.send(user_ids=[user.id], subject="Welcome", html="<p>Hi</p>")``

        Recipients: ``user_ids`` or ``all_users=True``. Content: ``html`` (with ``subject``), or ``template_id``
        (a template of the project) with ``variables`` (names to strings); ``subject`` overrides the template's.
        ``notification_category_name`` (e.g. ``"Marketing"``) makes it a notification that users can unsubscribe
        from (Stack then skips those who did); without it the email is transactional. Each recipient gets it at
        their primary email; :class:`~stack_auth.errors.UserIdDoesNotExist` names an unknown user.
        """
        body: dict[str, Any] = {}
        if all_users is True:
            if user_ids is not None:
                raise InvalidArgumentError("pass user_ids or all_users=True, not both")
            body["all_users"] = True
        elif all_users is not False:
            raise InvalidArgumentError(f"all_users must be True or False, got {all_users!r}")
        elif user_ids is None:
            raise InvalidArgumentError("no recipient: pass user_ids=[...] or all_users=True")
        else:
            body["user_ids"] = _user_ids(user_ids)
        if (html is None) == (template_id is None):
            raise InvalidArgumentError("pass exactly one of html= or template_id= (the email's content)")
        if variables is not None and html is not None:
            raise InvalidArgumentError("variables= goes with template_id=, not with html=")
        if html is not None:
            text_arg(html, "html")
            body["html"] = html
        else:
            body["template_id"] = uuid_arg(template_id, "template_id")
            if variables is not None:
                if not isinstance(variables, Mapping) or not all(
                    isinstance(k, str) and isinstance(x, str) for k, x in variables.items()
                ):
                    raise InvalidArgumentError("variables must map names to strings (Stack's template variables)")
                body["variables"] = dict(variables)
        if subject is not None:
            body["subject"] = text_arg(subject, "subject")
        if notification_category_name is not None:
            body["notification_category_name"] = text_arg(notification_category_name, "notification_category_name")
        if theme_id is not None:
            body["theme_id"] = uuid_arg(theme_id, "theme_id")
        data = self._transport.request("POST", "/emails/send-email", json=body)
        return structure(data, SendEmailResult)

    def list_outbox(
        self,
        *,
        status: str | None = None,
        simple_status: str | None = None,
        limit: int = MAX_OUTBOX_PAGE,
        cursor: str | None = None,
    ) -> Pager[OutboxEmail]:
        """Every email of the outbox, newest first, across pages: ``for mail in app.emails.list_outbox(): ...``.

        ``simple_status="in-progress"`` (or ``status=``) filters; ``limit`` is the page size (1 to 100).
        """
        params = {"status": status, "simple_status": simple_status, "limit": _outbox_page_size(limit)}

        def fetch(page_cursor: str | None) -> Page[OutboxEmail]:
            data = self._transport.request("GET", "/emails/outbox", params={**params, "cursor": page_cursor})
            pagination = data.get("pagination") or {}
            items = tuple(structure(item, OutboxEmail) for item in data["items"])
            return Page(items=items, next_cursor=pagination.get("next_cursor"))

        return Pager(fetch, cursor)

    def get_outbox_email(self, email_id: str) -> OutboxEmail | None:
        """One email of the outbox, or None when there is none with this id."""
        try:
            data = self._transport.request("GET", f"/emails/outbox/{uuid_arg(email_id, 'email_id')}")
        except NotFoundError as exc:
            if exc.code is None:  # Stack answers a plain-text 404 "Email not found"
                return None
            raise
        return structure(data, OutboxEmail)

    def delivery_info(self) -> EmailDeliveryInfo:
        """Sending statistics (last hour, day, week, month) and capacity (emails per second) of the project."""
        return structure(self._transport.request("GET", "/emails/delivery-info"), EmailDeliveryInfo)

    def list_notification_preferences(self, user_id: str) -> builtins.list[NotificationPreference]:
        """The user's notification categories and whether each is enabled.

        ``prefs = app.emails.list_notification_preferences(user.id)``
        """
        path = f"/emails/notification-preference/{uuid_arg(user_id, 'user_id')}"
        data = self._transport.request("GET", path)
        return [structure(item, NotificationPreference) for item in data["items"]]

    def set_notification_preference(
        self,
        user_id: str,
        category_id: str,
        *,
        enabled: bool,
    ) -> NotificationPreference:
        """Turn a notification category on or off for a user (what an unsubscribe link does).

        ``app.emails.set_notification_preference(user.id, marketing.category_id, enabled=False)``
        """
        if not isinstance(enabled, bool):
            raise InvalidArgumentError(f"enabled must be True or False, got {enabled!r}")
        path = f"/emails/notification-preference/{uuid_arg(user_id, 'user_id')}/{uuid_arg(category_id, 'category_id')}"
        data = self._transport.request("PATCH", path, json={"enabled": enabled})
        return structure(data, NotificationPreference)


def _user_ids(user_ids: Iterable[str]) -> list[str]:
    if isinstance(user_ids, str):
        raise InvalidArgumentError("user_ids must be a list of user ids, not one string: user_ids=[user_id]")
    ids = [uuid_arg(user_id, "each of user_ids") for user_id in user_ids]
    if not ids:
        raise InvalidArgumentError("user_ids is empty: no recipient (pass at least one id, or all_users=True)")
    return ids


def _outbox_page_size(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_OUTBOX_PAGE:
        raise InvalidArgumentError(f"limit must be an integer from 1 to {MAX_OUTBOX_PAGE}, got {value!r}")
    return value
