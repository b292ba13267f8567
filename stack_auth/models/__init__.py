"""Typed, immutable models of Stack's answers (attrs classes), decoded by one cattrs converter.

Every model keeps the answer's unknown keys in ``extra``; ``*_millis`` timestamps are aware UTC datetimes.
"""

from typing import TYPE_CHECKING

from stack_auth._lazy import lazy_attributes
from stack_auth.models._converter import structure
from stack_auth.models._types import (
    NOT_GIVEN,
    ClientUser,
    NotGiven,
    OAuthProvider,
    Page,
    ServerUser,
    SessionInfo,
    SessionTokens,
    Team,
    TeamMembership,
    TeamPermission,
)

if TYPE_CHECKING:
    from stack_auth.models.emails import (
        DeliveryCapacity,
        DeliveryStats,
        DeliveryStatsByPeriod,
        EmailDeliveryInfo,
        EmailRecipient,
        NotificationPreference,
        OutboxEmail,
        SendEmailResult,
    )
    from stack_auth.models.payments import Item

__all__ = [
    "NOT_GIVEN",
    "ClientUser",
    "DeliveryCapacity",
    "DeliveryStats",
    "DeliveryStatsByPeriod",
    "EmailDeliveryInfo",
    "EmailRecipient",
    "Item",
    "NotificationPreference",
    "OutboxEmail",
    "SendEmailResult",
    "NotGiven",
    "OAuthProvider",
    "Page",
    "ServerUser",
    "SessionInfo",
    "SessionTokens",
    "Team",
    "TeamMembership",
    "TeamPermission",
    "structure",
]

# The models of the later areas load on first use: ``import stack_auth`` stays cheap for code that never needs them.
_LAZY = {
    **dict.fromkeys(
        (
            "DeliveryCapacity",
            "DeliveryStats",
            "DeliveryStatsByPeriod",
            "EmailDeliveryInfo",
            "EmailRecipient",
            "NotificationPreference",
            "OutboxEmail",
            "SendEmailResult",
        ),
        "stack_auth.models.emails",
    ),
    "Item": "stack_auth.models.payments",
}

__getattr__ = lazy_attributes(__name__, _LAZY)
