"""The format of Stack's API keys (``packages/stack-shared/src/utils/api-keys.tsx``), read and written in one place.

A key is ``<prefix>_<secret: 45><key id without dashes: 32><"user"|"team"><scanner flag: 1><"574ck4u7h"><crc32: 8>``:
the prefix is ``sk`` (secret key) or ``pk`` (public key); the scanner flag is one Crockford base32 digit,
``(0 if cloud else 1) + (2 if public else 0)``; the checksum is the CRC-32 of everything before it, as 8 lowercase hex
digits. The SDK checks the format before it sends a key to ``check`` (a typo never costs a round trip); the emulator
issues keys in this format.
"""

from __future__ import annotations

import re
import zlib
from typing import TYPE_CHECKING, Literal

import attrs

from stack_auth._exceptions import InvalidArgumentError

if TYPE_CHECKING:
    import random

MARKER = "574ck4u7h"
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
_FORMAT = re.compile(r"^([^_]+)_(.{45})([0-9a-f]{32})(user|team)([0-9a-z])" + MARKER + r"([0-9a-f]{8})$")

KeyType = Literal["user", "team"]


@attrs.frozen(repr=False)
class ApiKeyParts:
    """What a key's text says about it (never its secret part: ``repr`` shows the id and type only)."""

    key_id: str
    type: KeyType
    is_public: bool

    def __repr__(self) -> str:
        return f"ApiKeyParts(key_id={self.key_id!r}, type={self.type!r}, is_public={self.is_public!r})"


def _checksum(text: str) -> str:
    return f"{zlib.crc32(text.encode()):08x}"


def _checked(secret: object) -> re.Match[str]:
    """The match of a well-formed key, or :class:`InvalidArgumentError` (which never repeats the key)."""
    if not isinstance(secret, str):
        raise InvalidArgumentError(f"an API key must be a string, got {type(secret).__name__}")
    m = _FORMAT.match(secret)
    if m is None:
        raise InvalidArgumentError(
            f"this is not a Stack API key (a {len(secret)}-character string; Stack keys look like "
            f"'sk_...{MARKER}........', 102 characters)"
        )
    if _checksum(secret[:-8]) != m.group(6):
        raise InvalidArgumentError("this is not a Stack API key: its checksum does not match (a typo or a cut copy?)")
    return m


def check_api_key_format(secret: object) -> None:
    """Raise :class:`InvalidArgumentError` unless ``secret`` is a Stack API key (the check before every ``check``)."""
    _checked(secret)


def parse_api_key(secret: object) -> ApiKeyParts:
    """The parts of a Stack API key, or :class:`InvalidArgumentError` (which never repeats the key) if it is not one."""
    m = _checked(secret)
    raw_id = m.group(3)
    key_id = f"{raw_id[:8]}-{raw_id[8:12]}-{raw_id[12:16]}-{raw_id[16:20]}-{raw_id[20:]}"
    key_type: KeyType = "user" if m.group(4) == "user" else "team"
    return ApiKeyParts(key_id, key_type, (_CROCKFORD.find(m.group(5)) & 2) != 0)


def format_api_key(*, key_id: str, secret_part: str, type: KeyType, is_public: bool, cloud: bool = False) -> str:
    """A key in Stack's format (``secret_part``: 45 random lowercase Crockford base32 characters)."""
    flag = _CROCKFORD[(0 if cloud else 1) + (2 if is_public else 0)]
    body = f"{'pk' if is_public else 'sk'}_{secret_part}{key_id.replace('-', '')}{type}{flag}{MARKER}"
    return body + _checksum(body)


def random_secret_part(rng: random.Random) -> str:
    """The random part of a new key: 45 lowercase Crockford base32 characters (Stack's 224 bits)."""
    return "".join(rng.choices(_CROCKFORD, k=45))
