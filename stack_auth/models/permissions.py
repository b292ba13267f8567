"""Models of project permissions (``/project-permissions``); team permissions are :class:`TeamPermission`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from stack_auth.models._types import _extra


@attrs.frozen
class ProjectPermission:
    """A project-wide permission a user holds (``app.users.list_permissions``)."""

    id: str
    user_id: str | None = None
    #: Keys of the answer this version of the SDK does not know yet.
    extra: Mapping[str, Any] = _extra
