"""Typed, immutable models of Stack's answers (attrs classes), decoded by one cattrs converter.

Every model keeps the answer's unknown keys in ``extra``; ``*_millis`` timestamps are aware UTC datetimes.
"""

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
from stack_auth.models.auth import OAuthAuthorization

__all__ = [
    "NOT_GIVEN",
    "ClientUser",
    "NotGiven",
    "OAuthAuthorization",
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
