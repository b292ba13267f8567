"""Models of contact channels (``/contact-channels``): a user's emails."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from stack_auth.models._types import _extra


@attrs.frozen
class ContactChannel:
    """One of a user's emails. The primary one is the user's ``primary_email``; ``used_for_auth`` ones sign in."""

    id: str
    user_id: str
    value: str
    #: Always ``"email"`` today (Stack's only channel type).
    type: str = "email"
    is_primary: bool = False
    is_verified: bool = False
    used_for_auth: bool = False
    #: Keys of the answer this version of the SDK does not know yet.
    extra: Mapping[str, Any] = _extra
