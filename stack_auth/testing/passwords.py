"""Password hashing: real PBKDF2-SHA256 with a low, configurable cost, run off the event loop.

Stored as ``pbkdf2_sha256$<iterations>$<salt b64>$<hash b64>``. ``password_hash`` values given to the API in
Modular Crypt Format (bcrypt ``$2a$``/``$2b$``/``$2y$``) are stored as they are and checked with the ``bcrypt``
package when it is installed (otherwise they never match).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re

import anyio.to_thread

_BCRYPT_RE = re.compile(r"^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$")
_PBKDF2_RE = re.compile(r"^pbkdf2_sha256\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$")


def hash_password(password: str, iterations: int) -> str:
    salt = os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"pbkdf2_sha256${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, stored: str | None) -> bool:
    if not stored:
        return False
    if stored.startswith("pbkdf2_sha256$"):
        _, iterations, salt, digest = stored.split("$")
        actual = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), base64.b64decode(salt), int(iterations))
        return hmac.compare_digest(actual, base64.b64decode(digest))
    if _BCRYPT_RE.match(stored):
        try:
            import bcrypt  # type: ignore[import-not-found]  # optional
        except ImportError:
            return False
        return bool(bcrypt.checkpw(password.encode("utf-8"), stored.encode("ascii")))
    return False


def is_supported_hash(value: str) -> bool:
    """Stack's ``isPasswordHashValid`` (bcrypt in Modular Crypt Format), plus the emulator's own format."""
    return bool(_BCRYPT_RE.match(value) or _PBKDF2_RE.match(value))


async def hash_password_async(password: str, iterations: int) -> str:
    return await anyio.to_thread.run_sync(hash_password, password, iterations)


async def verify_password_async(password: str, stored: str | None) -> bool:
    return await anyio.to_thread.run_sync(verify_password, password, stored)
