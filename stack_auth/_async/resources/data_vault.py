"""The data vault (server access): ``app.data_vault.store("secrets")``, an encrypted key-value store per project.

Keys are hashed and values encrypted here, before anything is sent, exactly as Stack's JS SDK does it
(``stack_auth._vault_crypto``): Stack stores only a hash and a ciphertext, and a value written from Python reads
back from JS and the other way round. The ``secret`` never leaves the process; keep it out of your code (an
environment variable) and never change it, or earlier values can no longer be read.
"""

from __future__ import annotations

from stack_auth._async._transport import AsyncTransport
from stack_auth._exceptions import BadRequestError, InvalidArgumentError
from stack_auth._validate import path_segment
from stack_auth._vault_crypto import async_derive_key, decrypt_value, encrypt_value, hash_key


class AsyncDataVault:
    """The project's data vault stores (each configured on Stack, e.g. in the dashboard)."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._transport = transport

    def store(self, store_id: str) -> AsyncDataVaultStore:
        """One store: ``vault = app.data_vault.store("secrets")`` (no request is made until ``get``/``set``)."""
        return AsyncDataVaultStore(self._transport, store_id)


class AsyncDataVaultStore:
    """Get and set the entries of one data vault store.

    ``await vault.set("github-token:" + user.id, token, secret=VAULT_SECRET)`` then
    ``await vault.get("github-token:" + user.id, secret=VAULT_SECRET)`` gives the token back (None when absent).
    A store that is not configured raises :class:`~stack_auth.errors.DataVaultStoreDoesNotExist`; a value written
    with another secret raises :class:`~stack_auth.errors.DataVaultDecryptionError`.
    """

    def __init__(self, transport: AsyncTransport, store_id: str) -> None:
        self._transport = transport
        self.store_id = store_id
        self._path = f"/data-vault/stores/{path_segment(store_id, 'store_id')}"

    async def set(self, key: str, value: str, *, secret: str) -> None:
        """Store ``value`` under ``key`` (replacing what was there), encrypted with a key derived from ``secret``."""
        _check("key", key)
        _check("secret", secret)
        if not isinstance(value, str):
            raise InvalidArgumentError(f"value must be a string, got {type(value).__name__}")
        derived = await async_derive_key(secret, key)
        body = {"hashed_key": hash_key(secret, derived), "encrypted_value": encrypt_value(derived, value)}
        await self._transport.request("POST", self._path + "/set", json=body)

    async def get(self, key: str, *, secret: str) -> str | None:
        """The value stored under ``key``, or None when there is none."""
        _check("key", key)
        _check("secret", secret)
        derived = await async_derive_key(secret, key)
        body = {"hashed_key": hash_key(secret, derived)}
        try:
            data = await self._transport.request("POST", self._path + "/get", json=body)
        except BadRequestError as exc:
            if exc.code == "DATA_VAULT_STORE_HASHED_KEY_DOES_NOT_EXIST":
                return None
            raise
        return decrypt_value(derived, data["encrypted_value"])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(store_id={self.store_id!r})"


def _check(name: str, value: object) -> None:
    # The type is named, never the value: keys and secrets stay out of messages.
    if not isinstance(value, str) or not value:
        shown = "an empty string" if value == "" else type(value).__name__
        raise InvalidArgumentError(f"{name} must be a non-empty string, got {shown}")
