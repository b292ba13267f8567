"""Payments items and purchase URLs: the requests Stack receives, Stack's semantics in the emulator, atomic spending
under concurrency (async tasks and real threads), and no re-sent POST once it may have reached the server."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
from apps import load_example, served_with_env, server_app_kwargs, session_for
from emulator_helpers import client_for, known_error, last_request, samples
from fastapi.testclient import TestClient
from model_checks import check_model

from stack_auth import AsyncStackServerApp, StackServerApp
from stack_auth.errors import (
    APIConnectionError,
    InternalServerError,
    InvalidArgumentError,
    ItemCustomerTypeDoesNotMatch,
    ItemNotFound,
    ProductDoesNotExist,
    RedirectUrlNotWhitelisted,
    UserNotFound,
)
from stack_auth.models import Item
from stack_auth.testing import Emulator
from stack_auth.testing.apps import IN_PROCESS_URL

pytestmark = pytest.mark.anyio

UPDATE = "POST /payments/items/{customer_type}/{customer_id}/{item_id}/update-quantity"
ITEMS = {
    "credits": {"customer_type": "user", "display_name": "Credits"},
    "seats": {"customer_type": "team", "display_name": "Seats"},
    "api-calls": {"customer_type": "custom", "display_name": "API calls"},
}
PRODUCTS = {
    "pro": {"customer_type": "user", "display_name": "Pro"},
    "api-pack": {"customer_type": "custom", "display_name": "API pack"},
}


@pytest.fixture
def emulator() -> Emulator:
    emu = Emulator(items=ITEMS, products=PRODUCTS)
    emu.configure_project(trusted_domains=("https://app.example",))
    return emu


def _user(emu: Emulator) -> str:
    user_id: str = emu.create_user(primary_email="payer@example.com", display_name="Payer")["id"]
    return user_id


async def test_item_calls_send_what_stack_expects(app: AsyncStackServerApp, emulator: Emulator) -> None:
    uid = _user(emulator)
    item = await app.payments.get_item("credits", user_id=uid)
    assert item == Item(id="credits", display_name="Credits", quantity=0)
    assert last_request(emulator) == ("GET", f"/payments/items/user/{uid}/credits", {}, None)

    await app.payments.increase_item_quantity("credits", 10, user_id=uid, description="welcome credits")
    path = f"/payments/items/user/{uid}/credits/update-quantity"
    assert last_request(emulator) == (
        "POST",
        path,
        {"allow_negative": "false"},
        {"delta": 10, "description": "welcome credits"},
    )
    assert await app.payments.try_decrease_item_quantity("credits", 4, user_id=uid) is True
    assert last_request(emulator) == ("POST", path, {"allow_negative": "false"}, {"delta": -4})
    assert await app.payments.try_decrease_item_quantity("credits", 7, user_id=uid) is False  # 6 left: refused
    assert emulator.item_quantity("credits", uid) == 6
    assert (await app.payments.get_item("credits", user_id=uid)).quantity == 6

    team = emulator.create_team("Buyers")["id"]
    await app.payments.increase_item_quantity("seats", 3, team_id=team)
    assert last_request(emulator)[1] == f"/payments/items/team/{team}/seats/update-quantity"
    assert (await app.payments.get_item("seats", team_id=team)).quantity == 3
    await app.payments.increase_item_quantity("api-calls", 5, custom_customer_id="org 42")
    assert last_request(emulator)[1] == "/payments/items/custom/org 42/api-calls/update-quantity"  # sent as %20
    assert emulator.item_quantity("api-calls", "org 42", customer_type="custom") == 5


async def test_stack_errors_become_typed_errors(app: AsyncStackServerApp, emulator: Emulator) -> None:
    uid = _user(emulator)
    with pytest.raises(ItemNotFound) as missing:
        await app.payments.get_item("gems", user_id=uid)
    assert missing.value.details == {"item_id": "gems"}
    team = emulator.create_team("T")["id"]
    with pytest.raises(ItemCustomerTypeDoesNotMatch) as mismatch:
        await app.payments.increase_item_quantity("credits", 1, team_id=team)
    assert mismatch.value.details["item_customer_type"] == "user"
    with pytest.raises(UserNotFound):
        await app.payments.get_item("credits", user_id="00000000-0000-4000-8000-000000000000")
    with pytest.raises(ProductDoesNotExist):
        await app.payments.create_purchase_url(product_id="enterprise", user_id=uid)
    with pytest.raises(RedirectUrlNotWhitelisted):
        await app.payments.create_purchase_url(product_id="pro", user_id=uid, return_url="https://evil.example/x")


async def test_purchase_url_points_at_the_emulator(app: AsyncStackServerApp, emulator: Emulator) -> None:
    uid = _user(emulator)
    url = await app.payments.create_purchase_url(product_id="pro", user_id=uid, return_url="https://app.example/done")
    assert last_request(emulator) == (
        "POST",
        "/payments/purchases/create-purchase-url",
        {},
        {"customer_type": "user", "customer_id": uid, "product_id": "pro", "return_url": "https://app.example/done"},
    )
    base, _, query = url.partition("?")
    assert base.startswith(f"{app.base_url}/purchase/{emulator.project_id}_")
    assert query == "return_url=https%3A%2F%2Fapp.example%2Fdone"
    await app.payments.create_purchase_url(product_id="api-pack", custom_customer_id="org/42")
    assert last_request(emulator)[3] == {"customer_type": "custom", "customer_id": "org/42", "product_id": "api-pack"}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda p: p.get_item("credits"), "no customer"),
        (lambda p: p.get_item("credits", user_id=USER, team_id=USER), "more than one customer"),
        (lambda p: p.try_decrease_item_quantity("credits", 1), "no customer"),
        (lambda p: p.increase_item_quantity("credits", 0, user_id=USER), "positive integer, got 0"),
        (lambda p: p.increase_item_quantity("credits", 1.5, user_id=USER), "positive integer, got 1.5"),
        (lambda p: p.try_decrease_item_quantity("credits", -1, user_id=USER), "positive integer, got -1"),
        (lambda p: p.try_decrease_item_quantity("credits", True, user_id=USER), "positive integer, got True"),
        (lambda p: p.get_item("credits", user_id="not-a-uuid"), "user_id must be a UUID"),
        (
            lambda p: p.create_purchase_url(product_id="pro", user_id=USER, return_url="/done"),
            "return_url must be an absolute",
        ),
        (lambda p: p.create_purchase_url(product_id="", user_id=USER), "product_id must be a non-empty string"),
    ],
)
async def test_bad_input_is_refused_before_sending(
    app: AsyncStackServerApp, emulator: Emulator, call: Any, message: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=message.replace("(", r"\(").replace(")", r"\)")):
        await call(app.payments)
    assert emulator.stats.total == 0


USER = "3241a285-8329-4d69-8f3d-316e08cf140c"


async def test_a_thousand_concurrent_spends_take_exactly_the_balance(
    app: AsyncStackServerApp, emulator: Emulator
) -> None:
    uid = _user(emulator)
    await app.payments.increase_item_quantity("credits", 300, user_id=uid)
    emulator.stats.reset()
    results: list[bool] = []

    async def spend() -> None:
        results.append(await app.payments.try_decrease_item_quantity("credits", 1, user_id=uid))

    async with anyio.create_task_group() as tg:
        for _ in range(1000):
            tg.start_soon(spend)
    assert (results.count(True), results.count(False)) == (300, 700)
    assert emulator.stats.count(UPDATE) == 1000  # one request per call: nothing sent twice
    assert emulator.stats.statuses(UPDATE) == {200: 300, 400: 700}
    assert emulator.item_quantity("credits", uid) == 0


def test_threads_spend_exactly_the_balance_through_the_sync_api(sync_app: StackServerApp, emulator: Emulator) -> None:
    uid = _user(emulator)
    sync_app.payments.increase_item_quantity("credits", 100, user_id=uid)
    taken = [0] * 8

    def worker(n: int) -> None:
        for _ in range(25):
            taken[n] += sync_app.payments.try_decrease_item_quantity("credits", 1, user_id=uid)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(taken) == 100
    assert emulator.stats.count(UPDATE) == 1 + 200
    assert emulator.item_quantity("credits", uid) == 0
    assert sync_app.payments.get_item("credits", user_id=uid).quantity == 0


@pytest.fixture
async def served_app(emulator: Emulator) -> AsyncIterator[AsyncStackServerApp]:
    with emulator.serve() as url:
        async with AsyncStackServerApp(**server_app_kwargs(emulator), base_url=url) as over_socket:
            yield over_socket


async def test_a_spend_that_may_have_arrived_is_not_sent_again(
    served_app: AsyncStackServerApp, emulator: Emulator
) -> None:
    uid = _user(emulator)
    await served_app.payments.increase_item_quantity("credits", 5, user_id=uid)

    emulator.faults.next_drop(UPDATE, when="after")  # Stack took the credit, then the connection broke
    with pytest.raises(APIConnectionError) as dropped:
        await served_app.payments.try_decrease_item_quantity("credits", 1, user_id=uid)
    assert dropped.value.maybe_sent
    assert emulator.item_quantity("credits", uid) == 4
    emulator.faults.next_html_error(UPDATE, status=502)  # a proxy failed: for a GET this would be retried
    with pytest.raises(InternalServerError):
        await served_app.payments.try_decrease_item_quantity("credits", 1, user_id=uid)
    assert emulator.stats.count(UPDATE) == 1 + 2  # the top-up, then each failed spend once
    assert emulator.item_quantity("credits", uid) == 4

    emulator.faults.next_rate_limited(UPDATE, retry_after=0)  # refused before doing anything: safe to re-send
    assert await served_app.payments.try_decrease_item_quantity("credits", 1, user_id=uid) is True
    assert emulator.stats.count(UPDATE) == 3 + 2
    assert emulator.item_quantity("credits", uid) == 3


class RefusedOnce(httpx.AsyncBaseTransport):
    """The first connection attempt is refused (the request surely never left); later ones reach the emulator."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.refused = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self.refused:
            self.refused += 1
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


async def test_a_spend_whose_connection_never_opened_is_sent_again(emulator: Emulator) -> None:
    uid = _user(emulator)
    transport = RefusedOnce(httpx.ASGITransport(app=emulator.asgi_app))
    async with (
        httpx.AsyncClient(transport=transport) as client,
        AsyncStackServerApp(**server_app_kwargs(emulator), base_url=IN_PROCESS_URL, http_client=client) as app,
    ):
        await app.payments.increase_item_quantity("credits", 1, user_id=uid)
        assert transport.refused == 1
        assert emulator.stats.count(UPDATE) == 1
        assert emulator.item_quantity("credits", uid) == 1


def test_sync_calls_send_what_stack_expects(sync_app: StackServerApp, emulator: Emulator) -> None:
    uid = _user(emulator)
    sync_app.payments.increase_item_quantity("credits", 2, user_id=uid)
    assert last_request(emulator) == (
        "POST",
        f"/payments/items/user/{uid}/credits/update-quantity",
        {"allow_negative": "false"},
        {"delta": 2},
    )
    assert sync_app.payments.try_decrease_item_quantity("credits", 3, user_id=uid) is False
    assert sync_app.payments.get_item("credits", user_id=uid) == Item(id="credits", display_name="Credits", quantity=2)
    url = sync_app.payments.create_purchase_url(product_id="pro", user_id=uid)
    assert url.startswith(f"{sync_app.base_url}/purchase/")


def test_metered_fastapi_endpoint_example(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    with served_with_env(emulator, monkeypatch) as url:
        session = session_for(emulator, url, primary_email="metered@example.com")
        emulator.stats.reset()
        auth = {"x-stack-access-token": session["access_token"]}
        with StackServerApp.from_env() as admin:
            admin.payments.increase_item_quantity("credits", 2, user_id=session["user_id"])
        with TestClient(load_example("fastapi_metered.py").app) as web:
            assert web.post("/generate", params={"prompt": "a"}, headers=auth).json() == {"result": "A"}
            refunded = web.post("/generate", params={"prompt": ""}, headers=auth)
            assert refunded.status_code == 400 and web.get("/credits", headers=auth).json() == {"credits": 1}
            assert web.post("/generate", params={"prompt": "b"}, headers=auth).status_code == 200
            out = web.post("/generate", params={"prompt": "c"}, headers=auth)
            assert (out.status_code, out.json()) == (402, {"detail": "Out of credits"})
    assert emulator.stats.statuses(UPDATE) == {200: 5, 400: 1}  # top-up, 3 spends, 1 refund; 1 refused spend
    assert emulator.item_quantity("credits", session["user_id"]) == 0


def test_emulator_options_are_checked() -> None:
    with pytest.raises(ValueError, match="customer_type of user, team, custom"):
        Emulator(items={"credits": {"customer_type": "org"}})
    with pytest.raises(TypeError, match="list of store ids"):
        Emulator(data_vault_stores="secrets")
    emu = Emulator(items=ITEMS, data_vault_stores=["secrets"])
    assert emu.project().data_vault_stores == ("secrets",)
    assert Emulator().project().items == {} and Emulator().project().data_vault_stores == ()


async def test_emulator_item_routes_follow_stack(emulator: Emulator) -> None:
    uid, other = _user(emulator), emulator.create_user(display_name="Other")["id"]
    team = emulator.create_team("Shared", creator_user_id=uid)["id"]
    server = emulator.headers("server")
    as_user = emulator.headers("client", access_token=emulator.create_session(uid)["access_token"])
    update = f"/api/v1/payments/items/user/{uid}/credits/update-quantity"
    async with client_for(emulator) as c:
        r = await c.post(update, params={"allow_negative": "true"}, json={"delta": -5}, headers=server)
        assert r.json() == {}
        assert emulator.item_quantity("credits", uid) == -5  # allowed to go negative
        status, code, body = known_error(
            await c.post(update, params={"allow_negative": "false"}, json={"delta": -1}, headers=server)
        )
        assert (status, code, body["details"]) == (
            400,
            "ITEM_QUANTITY_INSUFFICIENT_AMOUNT",
            {"item_id": "credits", "customer_id": uid, "quantity": -1},
        )
        status, code, body = known_error(
            await c.post(update, params={"allow_negative": "false"}, json={"delta": 1.5}, headers=server)
        )
        assert (status, code) == (400, "SCHEMA_ERROR") and "body.delta must be an integer" in body["error"]
        r = await c.get(f"/api/v1/payments/items/team/{team}/seats", headers=as_user)  # a member reads its team
        assert r.json() == {"id": "seats", "display_name": "Seats", "quantity": 0}
        r = await c.get(f"/api/v1/payments/items/user/{other}/credits", headers=as_user)
        assert (r.status_code, r.text) == (403, "Clients can only access their own user or team items.")


async def test_a_refused_connection_is_retried_on_our_own_pool(caplog: pytest.LogCaptureFixture) -> None:
    # aiohttp on asyncio, httpx on trio: both must tell "never opened" (safe to re-send a POST) from "maybe sent".
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    caplog.set_level(logging.INFO, logger="stack_auth")
    kwargs = {"project_id": "p", "secret_server_key": "k", "base_url": f"http://127.0.0.1:{closed_port}"}
    async with AsyncStackServerApp(**kwargs, max_retries=2) as app:
        with pytest.raises(APIConnectionError) as refused:
            await app.payments.try_decrease_item_quantity("credits", 1, user_id=USER)
    assert refused.value.maybe_sent is False
    retries = [r for r in caplog.records if r.getMessage().startswith("retrying POST")]
    assert len(retries) == 2


def test_item_model_knows_every_key_of_the_real_answer() -> None:
    sample = samples("samples-wave2.json")["payments.items.get fresh user (server)"]["body"]
    item = check_model(Item, sample, method="GET", template="/payments/items/{customer_type}/{customer_id}/{item_id}")
    assert item == Item(id="credits", display_name="Credits", quantity=0)
