"""OAuth accounts linked to users (``/oauth-providers``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from stack_auth.models._types import _extra


@attrs.frozen
class ServerOAuthProvider:
    """One OAuth account (e.g. a GitHub account) linked to a user.

    ``id`` is the link's own id; ``provider_config_id`` names the project's provider configuration (``"github"``)
    and ``type`` its kind. ``allow_sign_in``: the account signs the user in; ``allow_connected_accounts``: the app
    may use the account's tokens. ``account_id`` is the user's id at the provider (client reads leave it out).
    """

    id: str
    user_id: str
    provider_config_id: str | None = None
    type: str | None = None
    account_id: str | None = None
    email: str | None = None
    allow_sign_in: bool = False
    allow_connected_accounts: bool = False
    extra: Mapping[str, Any] = _extra
