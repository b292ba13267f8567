"""Stack's email outbox as the emulator keeps it: what ``POST /emails/send-email`` queued, readable in tests.

This is the outbox of Stack's ``/emails/outbox`` routes (emails a backend sends to its users), separate from
:mod:`stack_auth.testing.mail` (the codes Stack mails for its own flows: sign-in codes, resets, verifications).
The emulator never delivers: an email stays ``preparing`` (simple status ``in-progress``), as on the real backend
with its email queue off. An email the queue would skip is ``skipped`` (simple status ``ok``) at once, with Stack's
reason: ``USER_UNSUBSCRIBED`` (the user turned its notification category off) or ``USER_HAS_NO_PRIMARY_EMAIL``.

Read it in tests with :meth:`Emulator.outbox <stack_auth.testing.Emulator.outbox>`::

    sent = emu.outbox()
    assert [(m.user_id, m.subject) for m in sent] == [(user.id, "Welcome")]
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

#: Stack's notification categories (``apps/backend/src/lib/notification-categories.ts``): id, name, can_disable.
NOTIFICATION_CATEGORIES: tuple[tuple[str, str, bool], ...] = (
    ("7bb82d33-2f54-4a3d-9d23-82739e0d66ef", "Transactional", False),
    ("4f6f8873-3d04-46bd-8bef-18338b1a1b4c", "Marketing", True),
)
#: The id of the default email theme the real backend answered with.
DEFAULT_THEME_ID = "1df07ae6-abf3-4a40-83a5-a1a2cbe336ac"


def category_by_name(name: str) -> tuple[str, str, bool] | None:
    return next((c for c in NOTIFICATION_CATEGORIES if c[1] == name), None)


def category_by_id(category_id: str) -> tuple[str, str, bool] | None:
    return next((c for c in NOTIFICATION_CATEGORIES if c[0] == category_id), None)


def html_template_source(html: str) -> str:
    """The TSX Stack stores for an HTML email (``tsx_source``): the HTML wrapped in a template component."""
    return (
        "export const variablesSchema = v => v;\nexport function EmailTemplate() {\n  return <>\n"
        f"    <div dangerouslySetInnerHTML={{{{ __html: {json.dumps(html, ensure_ascii=False)}}}}} />\n"
        "  </>\n};"
    )


@dataclass
class QueuedEmail:
    """One queued email: the API view (:meth:`view`) plus what a test wants to read (subject, html, recipient)."""

    id: str
    user_id: str
    #: The recipient's primary email when it was queued (None: the user had none).
    to_email: str | None
    subject: str | None
    html: str | None
    template_id: str | None
    #: The template's source for a ``template_id`` send (an HTML send's source is built from ``html``).
    tsx_source: str | None
    variables: dict[str, Any]
    notification_category: str
    theme_id: str
    created_at_millis: int
    #: Stack's ``EmailOutboxSkippedReason`` when the queue would not send it, else None.
    skipped_reason: str | None = None

    @property
    def status(self) -> str:
        return "preparing" if self.skipped_reason is None else "skipped"

    @property
    def simple_status(self) -> str:
        return "in-progress" if self.skipped_reason is None else "ok"

    def view(self) -> dict[str, Any]:
        """The outbox item as ``GET /emails/outbox`` answers it (the keys of the real backend's answer)."""
        view: dict[str, Any] = {
            "id": self.id,
            "created_at_millis": self.created_at_millis,
            "updated_at_millis": self.created_at_millis,
            "tsx_source": html_template_source(self.html) if self.html is not None else self.tsx_source,
            "theme_id": self.theme_id,
            "to": {"type": "user-primary-email", "user_id": self.user_id},
            "variables": dict(self.variables),
            "skip_deliverability_check": False,
            "scheduled_at_millis": self.created_at_millis,
            "created_with": "programmatic-call",
            "email_draft_id": None,
            "email_programmatic_call_template_id": self.template_id,
            "send_retries": 0,
            "next_send_retry_at_millis": None,
            "send_attempt_errors": None,
            "is_paused": False,
            "has_rendered": False,
            "has_delivered": False,
            "status": self.status,
            "simple_status": self.simple_status,
        }
        if self.skipped_reason is not None:
            view.update(
                skipped_at_millis=self.created_at_millis,
                skipped_reason=self.skipped_reason,
                skipped_details={},
            )
        return view
