"""Routes ``/data-vault/stores/{id}/get`` and ``/set`` (``apps/backend/src/app/api/latest/data-vault/``).

The client hashes the key and encrypts the value before sending (see ``stack_auth._vault_crypto``); the emulator
stores what it receives as it is, so it never sees a key or a plaintext value. Stores exist when the project
configures them (``Emulator(data_vault_stores=["secrets"])``).
"""

from __future__ import annotations

from stack_auth.testing.auth import SERVER_OR_HIGHER, Auth, require_access
from stack_auth.testing.context import Ctx
from stack_auth.testing.validation import Field
from stack_auth.testing.wire import KnownError, Response, json_response, success_response


def data_vault_store_does_not_exist(store_id: str) -> KnownError:
    return KnownError(
        "DATA_VAULT_STORE_DOES_NOT_EXIST",
        f"Data vault store with ID {store_id} does not exist.",
        {"store_id": store_id},
    )


def data_vault_store_hashed_key_does_not_exist(store_id: str, hashed_key: str) -> KnownError:
    return KnownError(
        "DATA_VAULT_STORE_HASHED_KEY_DOES_NOT_EXIST",
        f"Data vault store with ID {store_id} does not contain a key with hash {hashed_key}.",
        {"store_id": store_id, "hashed_key": hashed_key},
    )


def _store(ctx: Ctx, fields: dict[str, Field]) -> tuple[Auth, str, dict[str, str]]:
    auth = require_access(ctx.auth, SERVER_OR_HIGHER)
    v = ctx.validator()
    data = v.body(ctx.request.body, fields)
    v.done()
    store_id = ctx.request.params["id"]
    if store_id not in auth.project.config.data_vault_stores:
        raise data_vault_store_does_not_exist(store_id)
    return auth, store_id, data


async def get_value(ctx: Ctx) -> Response:
    auth, store_id, data = _store(ctx, {"hashed_key": Field("string", required=True, non_empty=True)})
    with ctx.services.store.lock:
        value = auth.project.vault.get((store_id, data["hashed_key"]))
    if value is None:
        raise data_vault_store_hashed_key_does_not_exist(store_id, data["hashed_key"])
    return json_response({"encrypted_value": value})


async def set_value(ctx: Ctx) -> Response:
    fields = {
        "hashed_key": Field("string", required=True, non_empty=True),
        "encrypted_value": Field("string", required=True),
    }
    auth, store_id, data = _store(ctx, fields)
    with ctx.services.store.lock:
        auth.project.vault[(store_id, data["hashed_key"])] = data["encrypted_value"]
    return success_response()


ROUTES = [
    ("POST", "/data-vault/stores/{id}/get", get_value),
    ("POST", "/data-vault/stores/{id}/set", set_value),
]
