"""The pytest plugin's ready-made apps, as a user's test suite would use them."""

from __future__ import annotations

import pytest

from stack_auth import AsyncStackClientApp, AsyncStackServerApp, StackClientApp, StackServerApp
from stack_auth.testing import Emulator


@pytest.mark.anyio
async def test_async_apps(stack_server_app: AsyncStackServerApp, stack_client_app: AsyncStackClientApp,
                          stack_emulator: Emulator) -> None:  # fmt: skip
    user = await stack_server_app.users.create(primary_email="p@example.com", primary_email_auth_enabled=True)
    assert stack_emulator.stats.count("POST /users") == 1
    tokens = await stack_server_app.sessions.create(user.id)
    me = await stack_client_app.current_user.get(tokens=tokens)
    assert me is not None and me.id == user.id


def test_sync_apps(stack_sync_server_app: StackServerApp, stack_sync_client_app: StackClientApp) -> None:
    user = stack_sync_server_app.users.create(display_name="sync")
    tokens = stack_sync_server_app.sessions.create(user.id)
    me = stack_sync_client_app.current_user.get(tokens=tokens)
    assert me is not None and me.display_name == "sync"


@pytest.mark.anyio
@pytest.mark.parametrize("run", [1, 2])
async def test_client_app_sign_ins_stay_in_their_test(stack_client_app: AsyncStackClientApp, run: int) -> None:
    # Each run signs up on a fresh emulator; the second must not find the first one's (foreign) session.
    assert stack_client_app.token_store is not None and stack_client_app.token_store.is_empty
    await stack_client_app.sign_up_with_password(f"run{run}@example.com", "correct-horse")
    assert not stack_client_app.token_store.is_empty


@pytest.mark.parametrize("run", [1, 2])
def test_sync_client_app_sign_ins_stay_in_their_test(stack_sync_client_app: StackClientApp, run: int) -> None:
    assert stack_sync_client_app.token_store is not None and stack_sync_client_app.token_store.is_empty
    stack_sync_client_app.sign_up_with_password(f"run{run}@example.com", "correct-horse")
