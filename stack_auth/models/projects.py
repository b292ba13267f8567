"""Models of the current project (``GET /projects/current``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from stack_auth.models._types import _extra


@attrs.frozen
class EnabledOAuthProvider:
    """An OAuth provider users of the project can sign in with (``"github"``, ``"google"``...)."""

    id: str
    extra: Mapping[str, Any] = _extra


@attrs.frozen
class TrustedDomain:
    """A domain the project trusts for callback URLs, and the path of its Stack handler."""

    domain: str
    handler_path: str | None = None
    extra: Mapping[str, Any] = _extra


@attrs.frozen
class ProjectConfig:
    """The project's public settings, as its sign-in pages need them (the real server sends them though its
    OpenAPI does not list them)."""

    sign_up_enabled: bool = True
    credential_enabled: bool = True
    magic_link_enabled: bool = False
    passkey_enabled: bool = False
    client_team_creation_enabled: bool = False
    client_user_deletion_enabled: bool = False
    allow_user_api_keys: bool = False
    allow_team_api_keys: bool = False
    enabled_oauth_providers: tuple[EnabledOAuthProvider, ...] = ()
    domains: tuple[TrustedDomain, ...] = ()
    extra: Mapping[str, Any] = _extra


@attrs.frozen
class Project:
    """The project an app talks to: ``project = await app.get_project()``."""

    id: str
    display_name: str | None = None
    config: ProjectConfig | None = None
    extra: Mapping[str, Any] = _extra
