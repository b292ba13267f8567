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
from stack_auth.models.api_keys import ApiKey, TeamApiKey, UserApiKey
from stack_auth.models.oauth_providers import ServerOAuthProvider
from stack_auth.models.permissions import ProjectPermission

__all__ = [
    "NOT_GIVEN",
    "ApiKey",
    "ClientUser",
    "NotGiven",
    "OAuthProvider",
    "Page",
    "ServerOAuthProvider",
    "ProjectPermission",
    "ServerUser",
    "SessionInfo",
    "SessionTokens",
    "Team",
    "TeamApiKey",
    "TeamMembership",
    "TeamPermission",
    "UserApiKey",
    "structure",
]
