"""Models of the emails area: send results, the outbox, delivery info, notification preferences."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from stack_auth.models._types import _extra, _wire


@attrs.frozen
class EmailRecipient:
    """One recipient of a send: the user the email was queued for."""

    user_id: str
    extra: Mapping[str, Any] = _extra


@attrs.frozen
class SendEmailResult:
    """What ``app.emails.send`` queued: one entry per recipient user."""

    results: tuple[EmailRecipient, ...] = ()
    extra: Mapping[str, Any] = _extra


@attrs.frozen
class OutboxEmail:
    """An email in the project's outbox (queued, rendering, sent, or failed; ``status`` says which).

    ``to`` is the recipient as Stack stores it (``{"type": "user-primary-email", "user_id": ...}``);
    ``simple_status`` is the coarse state (``"in-progress"``, ``"ok"``, ``"error"``). Fields Stack adds once an
    email is rendered or delivered (subject, html, delivery times) are in ``extra``.
    """

    id: str
    status: str
    simple_status: str
    to: Mapping[str, Any] = attrs.field(factory=dict)
    created_at: datetime | None = attrs.field(default=None, metadata=_wire("created_at_millis"))
    updated_at: datetime | None = attrs.field(default=None, metadata=_wire("updated_at_millis"))
    scheduled_at: datetime | None = attrs.field(default=None, metadata=_wire("scheduled_at_millis"))
    tsx_source: str | None = attrs.field(default=None, repr=False)
    theme_id: str | None = None
    variables: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    skip_deliverability_check: bool = False
    created_with: str | None = None
    email_draft_id: str | None = None
    email_programmatic_call_template_id: str | None = None
    send_retries: int = 0
    next_send_retry_at: datetime | None = attrs.field(default=None, metadata=_wire("next_send_retry_at_millis"))
    send_attempt_errors: Any = None
    is_paused: bool = False
    has_rendered: bool = False
    has_delivered: bool = False
    #: Why Stack did not send it (``"USER_UNSUBSCRIBED"``, ``"USER_HAS_NO_PRIMARY_EMAIL"``...) when ``status`` is
    #: ``"skipped"``.
    skipped_reason: str | None = None
    extra: Mapping[str, Any] = _extra


@attrs.frozen
class DeliveryStats:
    """Emails of one period: sent, bounced, marked as spam."""

    sent: int = 0
    bounced: int = 0
    marked_as_spam: int = 0
    extra: Mapping[str, Any] = _extra


@attrs.frozen
class DeliveryStatsByPeriod:
    """Delivery statistics of the last hour, day, week and month."""

    hour: DeliveryStats = DeliveryStats()
    day: DeliveryStats = DeliveryStats()
    week: DeliveryStats = DeliveryStats()
    month: DeliveryStats = DeliveryStats()
    extra: Mapping[str, Any] = _extra


@attrs.frozen
class DeliveryCapacity:
    """How fast the project may send: ``rate_per_second``, after penalties and boosts."""

    rate_per_second: float
    penalty_factor: float = 1.0
    boost_multiplier: float = 1.0
    is_boost_active: bool = False
    boost_expires_at: Any = None
    extra: Mapping[str, Any] = _extra


@attrs.frozen
class EmailDeliveryInfo:
    """``app.emails.delivery_info()``: statistics and capacity of the project's email sending."""

    stats: DeliveryStatsByPeriod
    capacity: DeliveryCapacity
    extra: Mapping[str, Any] = _extra


@attrs.frozen
class NotificationPreference:
    """Whether a user receives the emails of one notification category (``Transactional``, ``Marketing``...)."""

    category_id: str = attrs.field(metadata=_wire("notification_category_id"))
    category_name: str = attrs.field(metadata=_wire("notification_category_name"))
    enabled: bool
    can_disable: bool = True
    extra: Mapping[str, Any] = _extra
