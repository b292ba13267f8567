"""The control API (``/__emulator__/...``) for tests that run the emulator in another process.

===========================  =======================================================================================
``GET /health``              ``{"ok": true}``
``GET /faults``              the fault knobs (:meth:`Faults.describe`)
``POST /faults``             JSON like ``{"clear": true, "seed": 1, "rate_limit": {"max_requests": 5},
                             "next_rate_limited": {"route": "GET /users/{user_id}", "retry_after": 1}}``
                             (keys are :class:`~stack_auth.testing.faults.Faults` methods, values their keyword
                             arguments or lists of them; see :meth:`Faults.configure`)
``DELETE /faults``           remove every fault
``GET /stats``               per-route counts, statuses and faults (:meth:`Stats.snapshot`)
``DELETE /stats``            zero the stats
``POST /reset``              ``{"data": true, "faults": true, "stats": true}`` (all by default)
``GET /projects``            the projects and their keys
``POST /projects``           add a project: :meth:`Emulator.add_project` keyword arguments
``POST /time``               ``{"advance": seconds}``: move the emulator's clock forward (token expiry)
``GET /users``               ``?project_id=``: every user as the server reads it
``GET /oauth/{p}/authorize`` the emulated OAuth provider ``p``: consents at once, 307 back to Stack's callback

``GET /webhooks``            ``{"deliveries": [...]}``: every webhook delivery, its attempts and payload
``POST /webhooks``           ``{"url": ..., "secret"?: ..., "project_id"?: ...}``: add an endpoint; answers its secret
``POST /webhooks/flush``     ``{"timeout"?: seconds}``: wait until every delivery is done (400 when time runs out)
===========================  =======================================================================================

Control routes bypass faults and stats. Errors answer 400 ``{"error": "..."}``.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

if TYPE_CHECKING:
    from stack_auth.testing.emulator import Emulator


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    data = await request.json()
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def _error(exc: Exception) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=400)


def control_routes(emu: Emulator) -> list[BaseRoute]:
    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    async def faults(request: Request) -> JSONResponse:
        try:
            if request.method == "POST":
                emu.faults.configure(await _json(request))
            elif request.method == "DELETE":
                emu.faults.clear()
        except (ValueError, TypeError) as exc:
            return _error(exc)
        return JSONResponse(emu.faults.describe())

    async def stats(request: Request) -> JSONResponse:
        if request.method == "DELETE":
            emu.stats.reset()
        return JSONResponse(emu.stats.snapshot())

    async def reset(request: Request) -> JSONResponse:
        try:
            body = await _json(request)
        except ValueError as exc:
            return _error(exc)
        emu.reset(
            data=bool(body.get("data", True)),
            faults=bool(body.get("faults", True)),
            stats=bool(body.get("stats", True)),
        )
        return JSONResponse({"success": True})

    async def projects(request: Request) -> JSONResponse:
        if request.method == "POST":
            try:
                config = emu.add_project(**await _json(request))
            except (ValueError, TypeError) as exc:
                return _error(exc)
            return JSONResponse(dataclasses.asdict(config), status_code=201)
        return JSONResponse([dataclasses.asdict(c) for c in emu.projects()])

    async def time(request: Request) -> JSONResponse:
        try:
            body = await _json(request)
            emu.advance_time(float(body.get("advance", 0)))
        except (ValueError, TypeError) as exc:
            return _error(exc)
        return JSONResponse({"now": emu.now()})

    async def users(request: Request) -> JSONResponse:
        try:
            return JSONResponse(emu.users(request.query_params.get("project_id")))
        except KeyError as exc:
            return _error(exc)

    async def oauth_provider(request: Request) -> Response:
        from stack_auth.testing.oauth_api import provider_consent

        try:
            location = provider_consent(emu._store, request.path_params["provider"], request.query_params)
        except ValueError as exc:
            return _error(exc)
        return RedirectResponse(location, status_code=307)

    async def webhooks(request: Request) -> JSONResponse:
        if request.method == "POST":
            try:
                body = await _json(request)
                url = body.get("url")
                if not isinstance(url, str):
                    raise ValueError('"url" (a string) is required')
                secret = emu.webhooks.add_endpoint(url, body.get("secret"), project_id=body.get("project_id"))
            except (ValueError, TypeError, KeyError) as exc:
                return _error(exc)
            return JSONResponse({"url": url, "secret": secret}, status_code=201)
        return JSONResponse({"deliveries": [d.describe() for d in emu.webhooks.deliveries]})

    async def flush_webhooks(request: Request) -> JSONResponse:
        try:
            body = await _json(request)
            await emu.webhooks.aflush(float(body.get("timeout", 30)))
        except (ValueError, TypeError, TimeoutError) as exc:
            return _error(exc)
        return JSONResponse({"success": True})

    return [
        Route("/health", health, methods=["GET"]),
        Route("/oauth/{provider}/authorize", oauth_provider, methods=["GET"]),
        Route("/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/stats", stats, methods=["GET", "DELETE"]),
        Route("/reset", reset, methods=["POST"]),
        Route("/projects", projects, methods=["GET", "POST"]),
        Route("/time", time, methods=["POST"]),
        Route("/users", users, methods=["GET"]),
        Route("/webhooks", webhooks, methods=["GET", "POST"]),
        Route("/webhooks/flush", flush_webhooks, methods=["POST"]),
    ]
