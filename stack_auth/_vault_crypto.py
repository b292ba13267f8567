"""The data vault's client-side cryptography, byte for byte as Stack's JS SDK does it.

Stack's JS SDK (``packages/stack-shared/src/helpers/vault/client-side.ts`` with ``utils/crypto.tsx``) hashes the
key and encrypts the value before anything is sent, so the server only ever sees a hash and a ciphertext. Doing
the same here keeps values stored from Python readable from JS and the other way round:

- ``iterated_hash(purpose, value, extra, n)`` is PBKDF2-HMAC-SHA256 of ``value`` (32 bytes), salted with the UTF-8
  of the compact JSON ``["stack-crypto-helper-iterated-hash", purpose, base64(salt=""), base64(extra)]``;
- the entry's key ``derived = iterated_hash(KEY_PURPOSE, key, secret, 100_000)``;
- ``hashed_key = base64(iterated_hash(HASH_PURPOSE, derived, secret, 1))``;
- the value is AES-256-GCM encrypted under an HKDF-SHA256 key derived from ``derived`` with a random 16-byte salt,
  and sent as ``base64(0x01 0x00 || salt || iv || ciphertext+tag)``.

PBKDF2 comes from ``hashlib``; HKDF and AES-GCM from ``cryptography`` (the ``vault`` extra), imported on first
use. Nothing here logs, and no message contains a key, a secret or a value.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import os
from typing import TYPE_CHECKING

from stack_auth._exceptions import ConfigurationError, StackAuthError

if TYPE_CHECKING:
    from types import ModuleType

    from stack_auth._concurrency import AsyncLimiter

HASH_PURPOSE = "stack-data-vault-client-side-encryption-key-hash"
KEY_PURPOSE = "stack-data-vault-client-side-encryption-value-encryption-key-hash"
VALUE_PURPOSE = "stack-data-vault-client-side-encryption-value-encryption-value-encryption"
KEY_ITERATIONS = 100_000
VERSION = b"\x01\x00"
SALT_BYTES = 16
IV_BYTES = 12
TAG_BYTES = 16


class DataVaultDecryptionError(StackAuthError):
    """A stored value could not be decrypted: it was written with another secret, or it is not in Stack's format.

    The message never contains the key, the secret or the value.
    """


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _json(items: list[str]) -> bytes:
    """``JSON.stringify`` of a list of ASCII strings (compact, as the JS SDK writes it)."""
    return json.dumps(items, separators=(",", ":")).encode("utf-8")


def iterated_hash(purpose: str, value: bytes, extra: bytes, iterations: int) -> bytes:
    """Stack's ``iteratedHash`` with an empty salt: 32 bytes of PBKDF2-HMAC-SHA256."""
    salt = _json(["stack-crypto-helper-iterated-hash", purpose, "", _b64(extra)])
    return hashlib.pbkdf2_hmac("sha256", value, salt, iterations, 32)


def derive_key(secret: str, key: str) -> bytes:
    """The 32-byte key of one entry (100,000 PBKDF2 rounds: run it off the event loop, see :func:`async_derive_key`)."""
    return iterated_hash(KEY_PURPOSE, key.encode("utf-8"), secret.encode("utf-8"), KEY_ITERATIONS)


@functools.cache
def _derive_slots() -> AsyncLimiter:
    """Derivations are CPU-bound: at most one per core runs at a time, so the event loop's thread keeps a share of
    the CPU (2 cores, 16 concurrent gets: worst loop lag ~20-60 ms instead of ~150 ms with anyio's 40 threads).
    Built on first use: importing :mod:`stack_auth.errors` must not import the HTTP stack."""
    from stack_auth._concurrency import AsyncLimiter

    return AsyncLimiter(os.cpu_count() or 1)


async def async_derive_key(secret: str, key: str) -> bytes:
    """:func:`derive_key` in a worker thread: its ~100,000 hash rounds must not stall the event loop."""
    import anyio

    async with _derive_slots():
        return await anyio.to_thread.run_sync(derive_key, secret, key)


def hash_key(secret: str, derived: bytes) -> str:
    """The ``hashed_key`` Stack stores the entry under (the server never sees the key itself)."""
    return _b64(iterated_hash(HASH_PURPOSE, derived, secret.encode("utf-8"), 1))


def _primitives() -> tuple[ModuleType, ModuleType, ModuleType]:
    try:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.ciphers import aead
        from cryptography.hazmat.primitives.kdf import hkdf
    except ImportError:  # pragma: no cover - depends on the installed extras
        raise ConfigurationError(
            "the data vault needs the 'cryptography' package: pip install 'stack-auth[vault]'"
        ) from None
    return hashes, aead, hkdf


def _value_key(derived: bytes, salt: bytes) -> bytes:
    """Stack's ``getDerivedSymmetricKey`` for a binary secret: HKDF-SHA256 to a 32-byte AES key."""
    hashes, _, hkdf = _primitives()
    info = _json(["stack-crypto-helper-derived-symmetric-key", VALUE_PURPOSE, "binary-key", _b64(salt)])
    key: bytes = hkdf.HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(derived)
    return key


def encrypt_value(derived: bytes, value: str) -> str:
    """The ``encrypted_value`` of ``value``: a fresh random salt and IV each time."""
    _, aead, _ = _primitives()
    salt = os.urandom(SALT_BYTES)
    iv = os.urandom(IV_BYTES)
    sealed = aead.AESGCM(_value_key(derived, salt)).encrypt(iv, value.encode("utf-8"), None)
    return _b64(VERSION + salt + iv + sealed)


def decrypt_value(derived: bytes, encrypted_value: str) -> str:
    """The plaintext of an ``encrypted_value``; :class:`DataVaultDecryptionError` when it cannot be read."""
    _, aead, _ = _primitives()
    from cryptography.exceptions import InvalidTag

    try:
        raw = base64.b64decode(encrypted_value, validate=True)
    except (binascii.Error, ValueError):
        raise DataVaultDecryptionError("the stored value is not base64: it was not written by a Stack SDK") from None
    if len(raw) < len(VERSION) + SALT_BYTES + IV_BYTES + TAG_BYTES or raw[:2] != VERSION:
        raise DataVaultDecryptionError("the stored value is not in Stack's client-side encryption format (0x0100)")
    salt = raw[2 : 2 + SALT_BYTES]
    iv = raw[2 + SALT_BYTES : 2 + SALT_BYTES + IV_BYTES]
    try:
        plain: bytes = aead.AESGCM(_value_key(derived, salt)).decrypt(iv, raw[2 + SALT_BYTES + IV_BYTES :], None)
    except InvalidTag:
        raise DataVaultDecryptionError(
            "the stored value cannot be decrypted with this secret (wrong secret, or the value was altered)"
        ) from None
    try:
        return plain.decode("utf-8")
    except UnicodeDecodeError:
        raise DataVaultDecryptionError("the decrypted value is not UTF-8 text") from None
