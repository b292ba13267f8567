"""The data vault: Stack's client-side hashing and encryption (checked against a reference written here from Stack's
JS source, and the vector checked against Stack's JS build), the requests Stack receives, and no secret, key or
value in a request, a log, a ``repr`` or an error."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from emulator_helpers import client_for, last_request

from stack_auth import AsyncStackServerApp, StackServerApp
from stack_auth.errors import DataVaultDecryptionError, DataVaultStoreDoesNotExist, InvalidArgumentError
from stack_auth.testing import Emulator

pytestmark = pytest.mark.anyio

SECRET = "vault-secret-7f3e9a"
TOKEN = "gho_value-that-must-never-leak"

# --- Stack's algorithm, written from packages/stack-shared/src/helpers/vault/client-side.ts and utils/crypto.tsx ---


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def ref_iterated_hash(purpose: str, value: bytes, extra: str, iterations: int) -> bytes:
    # crypto.subtle PBKDF2/SHA-256, 256 bits; salt = JSON.stringify([tag, purpose, b64(salt ?? ""), b64(extra ?? "")])
    salt = json.dumps(["stack-crypto-helper-iterated-hash", purpose, "", _b64(extra.encode())], separators=(",", ":"))
    return hashlib.pbkdf2_hmac("sha256", value, salt.encode(), iterations, 32)


def ref_derived(secret: str, key: str) -> bytes:
    return ref_iterated_hash(
        "stack-data-vault-client-side-encryption-value-encryption-key-hash", key.encode(), secret, 100_000
    )


def ref_hash_key(secret: str, key: str) -> str:
    derived = ref_derived(secret, key)
    return _b64(ref_iterated_hash("stack-data-vault-client-side-encryption-key-hash", derived, secret, 1))


def ref_aes_key(derived: bytes, salt: bytes) -> bytes:
    # getDerivedSymmetricKey(purpose, secret: Uint8Array, salt): HKDF-SHA256, info names a "binary-key"
    purpose = "stack-data-vault-client-side-encryption-value-encryption-value-encryption"
    info = json.dumps(
        ["stack-crypto-helper-derived-symmetric-key", purpose, "binary-key", _b64(salt)], separators=(",", ":")
    )
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info.encode()).derive(derived)


def ref_encrypt(secret: str, key: str, value: str) -> str:
    derived = ref_derived(secret, key)
    salt, iv = os.urandom(16), os.urandom(12)
    return _b64(b"\x01\x00" + salt + iv + AESGCM(ref_aes_key(derived, salt)).encrypt(iv, value.encode(), None))


def ref_decrypt(secret: str, key: str, encrypted: str) -> str:
    raw = base64.b64decode(encrypted)
    assert raw[:2] == b"\x01\x00"
    salt, iv = raw[2:18], raw[18:30]
    return AESGCM(ref_aes_key(ref_derived(secret, key), salt)).decrypt(iv, raw[30:], None).decode()


# --------------------------------------------------------------------------------------------------------------------


async def write_as_another_client(emu: Emulator, hashed_key: str, encrypted_value: str) -> None:
    """What another Stack SDK (JS) sends to store an entry it hashed and encrypted itself."""
    async with client_for(emu) as c:
        body = {"hashed_key": hashed_key, "encrypted_value": encrypted_value}
        r = await c.post("/api/v1/data-vault/stores/secrets/set", json=body, headers=emu.headers("server"))
        assert r.json() == {"success": True}


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(data_vault_stores=["secrets"])


def test_reference_matches_the_vector_checked_against_stacks_js_build() -> None:
    assert ref_hash_key("test-secret", "my-key") == "mIl6Zh5gKSndkLIOOZ5bNbedij15RRuefNlBnH6rEGY="


async def test_set_sends_stacks_hash_and_ciphertext(app: AsyncStackServerApp, emulator: Emulator) -> None:
    vault = app.data_vault.store("secrets")
    await vault.set("my-key", TOKEN, secret="test-secret")
    method, path, query, body = last_request(emulator)
    assert (method, path, query) == ("POST", "/data-vault/stores/secrets/set", {})
    assert set(body) == {"hashed_key", "encrypted_value"}
    assert body["hashed_key"] == "mIl6Zh5gKSndkLIOOZ5bNbedij15RRuefNlBnH6rEGY="
    assert ref_decrypt("test-secret", "my-key", body["encrypted_value"]) == TOKEN  # readable by Stack's algorithm
    assert emulator.vault_entries("secrets") == {body["hashed_key"]: body["encrypted_value"]}

    assert await vault.get("my-key", secret="test-secret") == TOKEN
    assert last_request(emulator) == ("POST", "/data-vault/stores/secrets/get", {}, {"hashed_key": body["hashed_key"]})


async def test_reads_what_stacks_algorithm_wrote(app: AsyncStackServerApp, emulator: Emulator) -> None:
    vault = app.data_vault.store("secrets")
    for key, value in (("github-token:u1", "ghp_1"), ("ünïcode-kéy", "välue ✓"), ("empty-value", "")):
        hashed = ref_hash_key(SECRET, key)
        written = ref_encrypt(SECRET, key, value)
        await write_as_another_client(emulator, hashed, written)
        assert await vault.get(key, secret=SECRET) == value
    assert await vault.get("never-set", secret=SECRET) is None


async def test_secrets_keys_and_values_never_leak(
    app: AsyncStackServerApp, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    vault = app.data_vault.store("secrets")
    key = "github-token:leak-check"
    await vault.set(key, TOKEN, secret=SECRET)
    stored = json.dumps([r.raw_body.decode() for r in emulator.stats.requests()])
    for needle in (SECRET, TOKEN, key):
        assert needle not in stored  # the emulator (Stack) never sees them
        assert needle not in caplog.text
        assert needle not in repr(vault) + repr(app)

    # Another client wrote this entry's hash with a different value key: decryption fails loudly, without garbage.
    hashed = ref_hash_key(SECRET, key)
    foreign = ref_encrypt("another-secret", key, TOKEN)
    await write_as_another_client(emulator, hashed, foreign)
    with pytest.raises(DataVaultDecryptionError) as bad:
        await vault.get(key, secret=SECRET)
    for needle in (SECRET, TOKEN, key):
        assert needle not in str(bad.value) and needle not in repr(bad.value)

    with pytest.raises(InvalidArgumentError) as empty:
        await vault.set(key, TOKEN, secret="")
    assert TOKEN not in str(empty.value) and key not in str(empty.value)
    with pytest.raises(InvalidArgumentError, match="value must be a string, got bytes"):
        await vault.set(key, TOKEN.encode(), secret=SECRET)  # type: ignore[arg-type]


async def test_a_wrong_secret_finds_nothing(app: AsyncStackServerApp) -> None:
    # Stack hashes the key with the secret: another secret names another entry (JS's getValue answers null too).
    vault = app.data_vault.store("secrets")
    await vault.set("k", TOKEN, secret=SECRET)
    assert await vault.get("k", secret="not-the-secret") is None


async def test_unknown_store_is_stacks_error(app: AsyncStackServerApp, emulator: Emulator) -> None:
    with pytest.raises(DataVaultStoreDoesNotExist) as missing:
        await app.data_vault.store("nope").get("k", secret=SECRET)
    assert missing.value.details == {"store_id": "nope"}
    assert emulator.stats.count("POST /data-vault/stores/{id}/get") == 1


def test_sync_round_trip_over_a_socket(sync_app: StackServerApp, emulator: Emulator) -> None:
    vault = sync_app.data_vault.store("secrets")
    vault.set("sync-key", TOKEN, secret=SECRET)
    (hashed,) = emulator.vault_entries("secrets")
    assert hashed == ref_hash_key(SECRET, "sync-key")
    assert vault.get("sync-key", secret=SECRET) == TOKEN
    assert vault.get("other-key", secret=SECRET) is None
    assert emulator.stats.count("POST /data-vault/stores/{id}/set") == 1


@pytest.mark.parametrize(
    ("stored", "message"),
    [
        ("not base64!", "not base64"),
        (_b64(b"\x02\x00" + bytes(60)), "not in Stack's client-side encryption format"),
        (_b64(b"\x01\x00" + bytes(20)), "not in Stack's client-side encryption format"),
    ],
)
async def test_values_not_in_stacks_format_are_refused(
    app: AsyncStackServerApp, emulator: Emulator, stored: str, message: str
) -> None:
    await write_as_another_client(emulator, ref_hash_key(SECRET, "odd"), stored)
    with pytest.raises(DataVaultDecryptionError, match=message):
        await app.data_vault.store("secrets").get("odd", secret=SECRET)
