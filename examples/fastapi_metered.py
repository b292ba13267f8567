"""A metered FastAPI endpoint: each call spends one of the user's credits (a Stack payments item).

    STACK_PROJECT_ID=... STACK_SECRET_SERVER_KEY=... uvicorn examples.fastapi_metered:app

Spend first, then work: ``try_decrease_item_quantity`` is one atomic request to Stack, so two workers can never
both spend the last credit, and a user without credits costs one round trip. A call that fails after spending
gives the credit back.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Request

from stack_auth import AsyncStackServerApp
from stack_auth.fastapi import VerifiedUser, get_stack_app, stack_lifespan

CREDITS = "credits"  # an item configured on Stack for customer type "user"

app = FastAPI(lifespan=stack_lifespan(AsyncStackServerApp.from_env))


async def do_the_work(prompt: str) -> str:
    if not prompt:
        raise ValueError("nothing to do")
    return prompt.upper()


@app.post("/generate")
async def generate(user: VerifiedUser, request: Request, prompt: str = "") -> dict[str, Any]:
    stack = get_stack_app(request)
    assert isinstance(stack, AsyncStackServerApp)
    if not await stack.payments.try_decrease_item_quantity(CREDITS, 1, user_id=user.id):
        raise HTTPException(402, "Out of credits")
    try:
        return {"result": await do_the_work(prompt)}
    except ValueError as exc:
        await stack.payments.increase_item_quantity(CREDITS, 1, user_id=user.id)  # refund the failed call
        raise HTTPException(400, str(exc)) from None


@app.get("/credits")
async def credits(user: VerifiedUser, request: Request) -> dict[str, int]:
    stack = get_stack_app(request)
    assert isinstance(stack, AsyncStackServerApp)
    return {"credits": (await stack.payments.get_item(CREDITS, user_id=user.id)).quantity}
