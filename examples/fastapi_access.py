"""A FastAPI backend with access control: team permissions, project permissions and API keys for machines.

    STACK_PROJECT_ID=... STACK_SECRET_SERVER_KEY=... uvicorn examples.fastapi_access:app

- ``PATCH /teams/{team_id}`` renames a team: signed-in users who hold ``$update_team`` in that team (403 otherwise,
  401 signed out).
- ``GET /admin/teams`` lists every team: signed-in users who hold the project permission ``admin``.
- ``POST /ingest`` takes data from scripts and CI jobs: they send a user API key (``X-Stack-Api-Key: sk_...`` or
  ``Authorization: Bearer sk_...``); the key is checked with Stack on every request, so revoking it works at once.
- ``POST /me/api-keys`` lets a signed-in user issue a key for their scripts (the secret is shown once).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI
from pydantic import BaseModel

from stack_auth import AsyncStackServerApp
from stack_auth.fastapi import (
    RequireProjectPermission,
    RequireTeamPermission,
    UserApiKeyAuth,
    VerifiedUser,
    get_stack_app,
    stack_lifespan,
)
from stack_auth.tokens import AccessTokenClaims

app = FastAPI(lifespan=stack_lifespan(AsyncStackServerApp.from_env))
Stack = Annotated[AsyncStackServerApp, Depends(get_stack_app)]
CanUpdateTeam = Annotated[AccessTokenClaims, Depends(RequireTeamPermission("$update_team", team_id_param="team_id"))]


class Rename(BaseModel):
    display_name: str


@app.patch("/teams/{team_id}")
async def rename_team(team_id: str, body: Rename, user: CanUpdateTeam, stack: Stack) -> dict[str, Any]:
    team = await stack.teams.update(team_id, display_name=body.display_name)
    return {"id": team.id, "display_name": team.display_name, "renamed_by": user.id}


@app.get("/admin/teams", dependencies=[Depends(RequireProjectPermission("admin"))])
async def all_teams(stack: Stack) -> list[dict[str, Any]]:
    return [{"id": t.id, "display_name": t.display_name} for t in await stack.teams.list()]


@app.post("/ingest")
async def ingest(records: list[dict[str, Any]], key: UserApiKeyAuth) -> dict[str, Any]:
    return {"accepted": len(records), "owner": key.user_id, "key": key.description}


class NewKey(BaseModel):
    description: str


@app.post("/me/api-keys")
async def issue_key(body: NewKey, user: VerifiedUser, stack: Stack) -> dict[str, Any]:
    key = await stack.user_api_keys.create(user.id, description=body.description)
    return {"id": key.id, "secret": key.secret}
