"""Models of the payments area."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from stack_auth.models._types import _extra


@attrs.frozen
class Item:
    """A customer's balance of one item (credits, seats, a quota): ``quantity`` may be negative."""

    id: str
    display_name: str | None = None
    quantity: int = 0
    extra: Mapping[str, Any] = _extra
