"""Payments (server access): items (credits, seats, quotas) per customer, and purchase URLs. ``app.payments``.

A customer is one of ``user_id=``, ``team_id=`` or ``custom_customer_id=`` (your own id for a customer that is
neither a user nor a team); each item is configured on Stack for one customer type.
"""

from __future__ import annotations

from stack_auth._async._transport import AsyncTransport
from stack_auth._exceptions import BadRequestError, InvalidArgumentError
from stack_auth._validate import path_segment, text_arg, url_arg, uuid_arg
from stack_auth.models import Item, structure


class AsyncPayments:
    """Read and change customers' item quantities; create purchase URLs."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._transport = transport

    async def get_item(
        self,
        item_id: str,
        *,
        user_id: str | None = None,
        team_id: str | None = None,
        custom_customer_id: str | None = None,
    ) -> Item:
        """A customer's balance of an item: ``item = await app.payments.get_item("credits", user_id=user.id)``.

        :class:`~stack_auth.errors.ItemNotFound` for an item the project does not define;
        :class:`~stack_auth.errors.ItemCustomerTypeDoesNotMatch` when the item is for another customer type.
        """
        path = _item_path(item_id, user_id, team_id, custom_customer_id)
        return structure(await self._transport.request("GET", path), Item)

    async def increase_item_quantity(
        self,
        item_id: str,
        amount: int,
        *,
        user_id: str | None = None,
        team_id: str | None = None,
        custom_customer_id: str | None = None,
        description: str | None = None,
    ) -> None:
        """Add ``amount`` (a positive integer) to a customer's item: one request, never re-sent once it may have
        reached Stack (so a retry can never credit twice).

        ``await app.payments.increase_item_quantity("credits", 10, user_id=user.id)``
        """
        await self._update_quantity(item_id, _amount(amount), user_id, team_id, custom_customer_id, description)

    async def try_decrease_item_quantity(
        self,
        item_id: str,
        amount: int,
        *,
        user_id: str | None = None,
        team_id: str | None = None,
        custom_customer_id: str | None = None,
        description: str | None = None,
    ) -> bool:
        """Take ``amount`` (a positive integer) from a customer's item if they have that much: True when taken,
        False (nothing changed) when the balance is short.

        One atomic request (Stack checks and subtracts in one transaction, ``allow_negative=false``), so concurrent
        workers cannot overdraw; it is never re-sent once it may have reached Stack, so nothing is charged twice::

            if not await app.payments.try_decrease_item_quantity("credits", 1, user_id=user.id):
                raise HTTPException(402, "out of credits")
        """
        try:
            await self._update_quantity(item_id, -_amount(amount), user_id, team_id, custom_customer_id, description)
        except BadRequestError as exc:
            if exc.code == "ITEM_QUANTITY_INSUFFICIENT_AMOUNT":
                return False
            raise
        return True

    async def _update_quantity(
        self,
        item_id: str,
        delta: int,
        user_id: str | None,
        team_id: str | None,
        custom_customer_id: str | None,
        description: str | None,
    ) -> None:
        path = _item_path(item_id, user_id, team_id, custom_customer_id) + "/update-quantity"
        body: dict[str, object] = {"delta": delta}
        if description is not None:
            if not isinstance(description, str):
                raise InvalidArgumentError(f"description must be a string, got {type(description).__name__}")
            body["description"] = description
        # POST: the transport's retry policy re-sends it only when the connection was never opened.
        await self._transport.request("POST", path, params={"allow_negative": False}, json=body)

    async def create_purchase_url(
        self,
        *,
        product_id: str,
        user_id: str | None = None,
        team_id: str | None = None,
        custom_customer_id: str | None = None,
        return_url: str | None = None,
    ) -> str:
        """A checkout URL where the customer buys a product; Stack sends them to ``return_url`` afterwards.

        ``url = await app.payments.create_purchase_url(product_id="pro", user_id=user.id,
        return_url="https://app.example.com/done")``. ``return_url`` must be absolute and one of the project's
        trusted domains.
        """
        customer_type, customer_id = _customer(user_id, team_id, custom_customer_id)
        body: dict[str, object] = {
            "customer_type": customer_type,
            "customer_id": customer_id,
            "product_id": text_arg(product_id, "product_id"),
        }
        if return_url is not None:
            body["return_url"] = url_arg(return_url, "return_url")
        data = await self._transport.request("POST", "/payments/purchases/create-purchase-url", json=body)
        url: str = data["url"]
        return url


def _customer(user_id: str | None, team_id: str | None, custom_customer_id: str | None) -> tuple[str, str]:
    """(customer type, customer id) of exactly one customer argument."""
    given = [
        (kind, value)
        for kind, value in (("user", user_id), ("team", team_id), ("custom", custom_customer_id))
        if value is not None
    ]
    if len(given) != 1:
        what = "no customer" if not given else "more than one customer"
        raise InvalidArgumentError(f"{what}: pass exactly one of user_id=, team_id= or custom_customer_id=")
    kind, value = given[0]
    if kind == "custom":
        return kind, text_arg(value, "custom_customer_id")
    return kind, uuid_arg(value, f"{kind}_id")


def _item_path(item_id: str, user_id: str | None, team_id: str | None, custom_customer_id: str | None) -> str:
    customer_type, customer_id = _customer(user_id, team_id, custom_customer_id)
    return (
        f"/payments/items/{customer_type}/{path_segment(customer_id, 'customer_id')}/{path_segment(item_id, 'item_id')}"
    )


def _amount(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InvalidArgumentError(f"amount must be a positive integer, got {value!r}")
    return value
