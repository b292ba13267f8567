"""Checks of arguments before anything is sent: a clear, typed error instead of a server round trip."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote, urlsplit

from stack_auth._exceptions import InvalidArgumentError

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def uuid_arg(value: object, name: str) -> str:
    """``value`` if it is a UUID string (Stack validates ids as UUIDs), else an error naming the argument."""
    if isinstance(value, str) and _UUID.match(value):
        return value
    raise InvalidArgumentError(
        f"{name} must be a UUID string such as '3241a285-8329-4d69-8f3d-316e08cf140c', got {value!r}"
    )


def text_arg(value: object, name: str) -> str:
    """``value`` if it is a non-empty string (not just blanks), else an error naming the argument. The value is never
    echoed: it may be a password or a code."""
    if not isinstance(value, str) or not value.strip():
        shown = "an empty string" if isinstance(value, str) else type(value).__name__
        raise InvalidArgumentError(f"{name} must be a non-empty string, got {shown}")
    return value


def bool_arg(value: object, name: str) -> bool:
    """``value`` if it is True or False (not 1, not "yes"), else an error naming the argument."""
    if not isinstance(value, bool):
        raise InvalidArgumentError(f"{name} must be True or False, got {value!r}")
    return value


def url_arg(value: object, name: str) -> str:
    """``value`` if it is an absolute http(s) URL (Stack puts codes in links to it), else an error naming it."""
    if isinstance(value, str):
        parts = urlsplit(value)
        if parts.scheme in ("http", "https") and parts.netloc:
            return value
    raise InvalidArgumentError(f"{name} must be an absolute http:// or https:// URL, got {value!r}")


#: The length of the codes Stack puts in mailed links (verification, invitations, password reset, magic links).
CODE_LENGTH = 45


def code_arg(value: object, name: str = "code") -> str:
    """A code from a link Stack mailed (45 characters), else an error that does not echo the code."""
    if not isinstance(value, str) or len(value) != CODE_LENGTH:
        shown = f"{len(value)} characters" if isinstance(value, str) else type(value).__name__
        raise InvalidArgumentError(f"{name} must be the {CODE_LENGTH}-character code from the link, got {shown}")
    return value


def path_segment(value: object, name: str) -> str:
    """A free-form id (e.g. a permission id) made safe to put in a URL path.

    ``.`` and ``..`` cannot be: URL libraries resolve them (even percent-encoded), sending the request elsewhere.
    """
    if value in (".", ".."):
        raise InvalidArgumentError(f"{name} must be a non-empty string other than '.' and '..', got {value!r}")
    return quote(text_arg(value, name), safe="")


def millis(value: timedelta, name: str, *, maximum: int) -> int:
    """A positive duration as whole milliseconds, at most ``maximum``."""
    if not isinstance(value, timedelta):
        raise InvalidArgumentError(f"{name} must be a datetime.timedelta, got {value!r}")
    ms = int(value.total_seconds() * 1000)
    if not 0 < ms <= maximum:
        raise InvalidArgumentError(
            f"{name} must be more than 0 and at most {timedelta(milliseconds=maximum)}, got {value}"
        )
    return ms


def page_size(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 1000:
        raise InvalidArgumentError(f"limit must be an integer from 1 to 1000, got {value!r}")
    return value


def given(**fields: object) -> dict[str, object]:
    """A request body of the fields the caller passed: NOT_GIVEN is left out, None is sent (it clears the field)."""
    from stack_auth.models import NotGiven

    return {k: v for k, v in fields.items() if not isinstance(v, NotGiven)}
