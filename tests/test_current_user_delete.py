"""``current_user.delete()``: ``DELETE /users/me`` where the project allows client user deletion, then signed out."""

from __future__ import annotations

import pytest

from stack_auth import AsyncStackClientApp, StackClientApp, TokenStore
from stack_auth.errors import PermissionDeniedError, TokenRequiredError
from stack_auth.testing import Emulator


def signed_in(emulator: Emulator) -> tuple[str, TokenStore]:
    user = emulator.create_user(primary_email="ada@example.com", primary_email_auth_enabled=True)
    session = emulator.create_session(user["id"])
    return user["id"], TokenStore(session["access_token"], session["refresh_token"])


def assert_deleted(emulator: Emulator, user_id: str, store: TokenStore) -> None:
    refused, done = emulator.stats.requests("DELETE /users/me")
    assert [(r.path, r.query, r.body, r.status) for r in (refused, done)] == [
        ("/users/me", {}, None, 403),
        ("/users/me", {}, None, 200),
    ]
    assert emulator.get_user(user_id) is None
    assert store.is_empty  # the user is gone: nobody is signed in with these tokens any more


@pytest.mark.anyio
async def test_a_user_deletes_themselves_where_the_project_allows_it(
    emulator: Emulator, client_app: AsyncStackClientApp
) -> None:
    user_id, store = signed_in(emulator)
    with pytest.raises(PermissionDeniedError):  # the default: client user deletion is off, as on a new project
        await client_app.current_user.delete(tokens=store)
    assert emulator.get_user(user_id) is not None
    assert not store.is_empty

    emulator.configure_project(client_user_deletion_enabled=True)
    assert (await client_app.get_project()).config.client_user_deletion_enabled
    await client_app.current_user.delete(tokens=store)
    assert_deleted(emulator, user_id, store)
    with pytest.raises(TokenRequiredError):
        await client_app.current_user.delete(tokens=store)


def test_sync_delete_of_the_current_user(emulator: Emulator, sync_client_app: StackClientApp) -> None:
    user_id, store = signed_in(emulator)
    with pytest.raises(PermissionDeniedError):
        sync_client_app.current_user.delete(tokens=store)
    emulator.configure_project(client_user_deletion_enabled=True)
    sync_client_app.current_user.delete(tokens=store)
    assert_deleted(emulator, user_id, store)
