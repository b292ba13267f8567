"""Routes ``/payments/items/{customer_type}/{customer_id}/{item_id}[/update-quantity]`` and
``/payments/purchases/create-purchase-url`` (``apps/backend/src/app/api/latest/payments/``).

Items and products come from the project's config (``Emulator(items={"credits": {"customer_type": "user",
"display_name": "Credits"}}, products={...})``). ``update-quantity`` checks and changes the balance under the
store lock, in one step, as Stack does inside one transaction holding an advisory lock per customer and item: with
``allow_negative=false`` a change that would go below zero is refused with ITEM_QUANTITY_INSUFFICIENT_AMOUNT and
changes nothing. Purchase URLs point at the emulator (``{base_url}/purchase/{code}``); nothing serves them. A
``return_url`` must be on a trusted domain (REDIRECT_URL_NOT_WHITELISTED otherwise, as on Stack).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode, urlsplit

from stack_auth.testing import known
from stack_auth.testing.auth import CLIENT_OR_HIGHER, SERVER_OR_HIGHER, Auth, require_access
from stack_auth.testing.context import Ctx
from stack_auth.testing.redirects import check_redirect_url
from stack_auth.testing.state import Project
from stack_auth.testing.validation import Field
from stack_auth.testing.wire import KnownError, Response, StatusError, json_response

CUSTOMER_TYPES = ("user", "team", "custom")


def _q(value: str) -> str:
    """``JSON.stringify`` of a string, as Stack's messages quote ids."""
    return json.dumps(value, ensure_ascii=False)


def item_not_found(item_id: str) -> KnownError:
    return KnownError("ITEM_NOT_FOUND", f"Item with ID {_q(item_id)} not found.", {"item_id": item_id})


def item_customer_type_does_not_match(item_id: str, customer_id: str, item_type: str, actual: str) -> KnownError:
    return KnownError(
        "ITEM_CUSTOMER_TYPE_DOES_NOT_MATCH",
        f"The {actual} with ID {_q(customer_id)} is not a valid customer for the item with ID "
        f"{_q(item_id)}. The item is configured to only be available for {item_type} customers, but the "
        f"customer is a {actual}.",
        {
            "item_id": item_id,
            "customer_id": customer_id,
            "item_customer_type": item_type,
            "actual_customer_type": actual,
        },
    )


def item_quantity_insufficient_amount(item_id: str, customer_id: str, quantity: int) -> KnownError:
    return KnownError(
        "ITEM_QUANTITY_INSUFFICIENT_AMOUNT",
        f"The item with ID {_q(item_id)} has an insufficient quantity for the customer with ID "
        f"{_q(customer_id)}. An attempt was made to charge {quantity} credits.",
        {"item_id": item_id, "customer_id": customer_id, "quantity": quantity},
    )


def product_does_not_exist(product_id: str) -> KnownError:
    return KnownError(
        "PRODUCT_DOES_NOT_EXIST",
        f"Product with ID {_q(product_id)} does not exist.",
        {"product_id": product_id, "context": None},
    )


def product_customer_type_does_not_match(
    product_id: str, customer_id: str, product_type: str, actual: str
) -> KnownError:
    return KnownError(
        "PRODUCT_CUSTOMER_TYPE_DOES_NOT_MATCH",
        f"The {actual} with ID {_q(customer_id)} is not a valid customer for the inline product that has been "
        f"passed in. The product is configured to only be available for {product_type} customers, but the customer "
        f"is a {actual}.",
        {
            "product_id": product_id,
            "customer_id": customer_id,
            "product_customer_type": product_type,
            "actual_customer_type": actual,
        },
    )


def _ensure_customer(project: Project, customer_type: str, customer_id: str) -> None:
    """``ensureCustomerExists``: users and teams must exist; a custom customer is any id."""
    if customer_type == "user" and customer_id not in project.users:
        raise known.user_not_found()
    if customer_type == "team" and customer_id not in project.teams:
        raise known.team_not_found(customer_id)


def _item(ctx: Ctx, auth: Auth) -> tuple[str, str, str, dict[str, Any]]:
    """(customer type, customer id, item id, item config) of an item route, checked in Stack's order."""
    params = ctx.request.params
    customer_type, customer_id, item_id = params["customer_type"], params["customer_id"], params["item_id"]
    v = ctx.validator()
    v.one_of("params", "customer_type", customer_type, CUSTOMER_TYPES)
    v.done()
    config = auth.project.config.items.get(item_id)
    if config is None:
        raise item_not_found(item_id)
    if config["customer_type"] != customer_type:
        raise item_customer_type_does_not_match(item_id, customer_id, config["customer_type"], customer_type)
    return customer_type, customer_id, item_id, config


async def get_item(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    customer_type, customer_id, item_id, config = _item(ctx, auth)
    project = auth.project
    with ctx.services.store.lock:
        if auth.type == "client":
            me = auth.user.id if auth.user is not None else None
            own = (customer_type == "user" and customer_id == me) or (
                customer_type == "team" and me is not None and project.is_member(customer_id, me)
            )
            if not own:
                raise StatusError(403, "Clients can only access their own user or team items.")
        _ensure_customer(project, customer_type, customer_id)
        quantity = project.item_quantities.get((customer_type, customer_id, item_id), 0)
    return json_response({"id": item_id, "display_name": config.get("display_name", item_id), "quantity": quantity})


UPDATE_FIELDS: dict[str, Field] = {
    "delta": Field("number", required=True),
    "expires_at": Field("string"),
    "description": Field("string"),
}


async def update_quantity(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, SERVER_OR_HIGHER)
    q = ctx.request.query
    v = ctx.validator()
    v.unknown("query", q, ("allow_negative",))
    if "allow_negative" not in q:
        v.fail("query.allow_negative must be defined")
    allow_negative = v.one_of("query", "allow_negative", q.get("allow_negative"), ("true", "false"))
    data = v.body(ctx.request.body, UPDATE_FIELDS)
    delta = data.get("delta")
    if isinstance(delta, float) and not delta.is_integer():
        v.fail("body.delta must be an integer")
    v.done()
    customer_type, customer_id, item_id, _ = _item(ctx, auth)
    project = auth.project
    key = (customer_type, customer_id, item_id)
    change = int(data["delta"])
    # One critical section for the check and the write: concurrent requests can never both spend the same credit.
    with ctx.services.store.lock:
        _ensure_customer(project, customer_type, customer_id)
        quantity = project.item_quantities.get(key, 0)
        if allow_negative != "true" and quantity + change < 0:
            raise item_quantity_insufficient_amount(item_id, customer_id, change)
        project.item_quantities[key] = quantity + change
    return json_response({})


PURCHASE_FIELDS: dict[str, Field] = {
    "customer_type": Field("string", required=True, one_of=CUSTOMER_TYPES),
    "customer_id": Field("string", required=True),
    "product_id": Field("string"),
    "product_inline": Field("json"),
    "return_url": Field("string"),
}


async def create_purchase_url(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    v = ctx.validator()
    data = v.body(ctx.request.body, PURCHASE_FIELDS)
    return_url = data.get("return_url")
    if return_url is not None and not (
        urlsplit(return_url).scheme in ("http", "https") and urlsplit(return_url).netloc
    ):
        v.fail("body.return_url is not a valid URL")
    v.done()
    product_id = data.get("product_id")
    if product_id is None:
        raise StatusError(400, "Either product_id or product_inline must be given")
    product = auth.project.config.products.get(product_id)
    if product is None:
        raise product_does_not_exist(product_id)
    if product["customer_type"] != data["customer_type"]:
        raise product_customer_type_does_not_match(
            product_id, data["customer_id"], product["customer_type"], data["customer_type"]
        )
    with ctx.services.store.lock:
        _ensure_customer(auth.project, data["customer_type"], data["customer_id"])
        code = f"{auth.project.id}_{ctx.services.store.ids.secret()}"
    url = f"{ctx.base_url}/purchase/{code}"
    if return_url is not None:
        check_redirect_url(auth.project, return_url)
        url += "?" + urlencode({"return_url": return_url})
    return json_response({"url": url})


ROUTES = [
    ("GET", "/payments/items/{customer_type}/{customer_id}/{item_id}", get_item),
    ("POST", "/payments/items/{customer_type}/{customer_id}/{item_id}/update-quantity", update_quantity),
    ("POST", "/payments/purchases/create-purchase-url", create_purchase_url),
]
