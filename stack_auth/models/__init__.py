"""Typed, immutable models of Stack's answers (attrs classes), decoded by one cattrs converter.

Every model keeps the answer's unknown keys in ``extra``; ``*_millis`` timestamps are aware UTC datetimes.
"""

from stack_auth.models._converter import structure, structure_items, structure_page
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
from stack_auth.models.auth import OAuthAuthorization
from stack_auth.models.contact_channels import ContactChannel
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
from stack_auth.models.oauth_providers import ServerOAuthProvider
from stack_auth.models.payments import Item
from stack_auth.models.permissions import ProjectPermission
from stack_auth.models.projects import EnabledOAuthProvider, Project, ProjectConfig, TrustedDomain
from stack_auth.models.teams_extra import TeamInvitation, TeamInvitationDetails, TeamMemberProfile

__all__ = [
    "ApiKey",
    "ClientUser",
    "ContactChannel",
    "DeliveryCapacity",
    "DeliveryStats",
    "DeliveryStatsByPeriod",
    "EmailDeliveryInfo",
    "EmailRecipient",
    "EnabledOAuthProvider",
    "Item",
    "NOT_GIVEN",
    "NotGiven",
    "NotificationPreference",
    "OAuthAuthorization",
    "OAuthProvider",
    "OutboxEmail",
    "Page",
    "ServerOAuthProvider",
    "Project",
    "ProjectConfig",
    "ProjectPermission",
    "SendEmailResult",
    "ServerUser",
    "SessionInfo",
    "SessionTokens",
    "Team",
    "TeamApiKey",
    "TeamMembership",
    "TeamPermission",
    "TeamInvitation",
    "TeamInvitationDetails",
    "TeamMemberProfile",
    "TrustedDomain",
    "UserApiKey",
    "structure",
    "structure_items",
    "structure_page",
]
