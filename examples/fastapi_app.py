"""A FastAPI backend that authenticates Stack Auth users.

    STACK_PROJECT_ID=... STACK_SECRET_SERVER_KEY=... uvicorn examples.fastapi_app:app

Your frontend sends the user's access token (``x-stack-access-token``, ``x-stack-auth`` or
``Authorization: Bearer``). ``/me`` verifies it locally (no request to Stack once the keys are cached),
``/profile`` reads the user fresh from Stack, ``/hello`` works signed in or not.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from stack_auth import AsyncStackServerApp
from stack_auth.fastapi import FreshUser, OptionalUser, VerifiedUser, stack_lifespan

# One Stack app per process, opened at startup (reading the STACK_* environment then) and closed at shutdown.
app = FastAPI(lifespan=stack_lifespan(AsyncStackServerApp.from_env))


@app.get("/me")
async def me(user: VerifiedUser) -> dict[str, Any]:
    return {"id": user.id, "email": user.primary_email, "team": user.selected_team_id}


@app.get("/hello")
async def hello(user: OptionalUser) -> dict[str, str]:
    return {"greeting": f"hello {user.display_name or user.id}" if user else "hello stranger"}


@app.get("/profile")
async def profile(user: FreshUser) -> dict[str, Any]:
    return {"id": user.id, "display_name": user.display_name, "server_metadata": user.server_metadata}
