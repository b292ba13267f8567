"""The ASGI application: routing, body and auth parsing, faults and stats around every API request.

:class:`ApiApp` is a lean ASGI app for ``/api/v1/...`` (it runs for every request, so it avoids per-request
framework work); :func:`build_asgi_app` mounts it in a Starlette application next to the control API
(``/__emulator__/...``, see :mod:`stack_auth.testing.control`).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

import anyio

from stack_auth.testing import (
    api_keys_api,
    cli_api,
    contact_channels_api,
    emails_api,
    known,
    oauth_api,
    oauth_providers_api,
    payments_api,
    permissions_api,
    projects_api,
    sessions_api,
    signin_api,
    team_invitations_api,
    team_member_profiles_api,
    teams_api,
    users_api,
    vault_api,
)
from stack_auth.testing.auth import parse_auth
from stack_auth.testing.context import ApiRequest, Ctx, Services
from stack_auth.testing.defaults import API_PREFIX
from stack_auth.testing.faults import DROP, MALFORM, Action, DroppedConnection, Faults, malformed
from stack_auth.testing.stats import Stats
from stack_auth.testing.wire import (
    KnownError,
    Response,
    Send,
    StatusError,
    apply_status_override,
    send_response,
    text_response,
)

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from stack_auth.testing.emulator import Emulator

Handler = Callable[[Ctx], Awaitable[Response]]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Scope = MutableMapping[str, Any]

logger = logging.getLogger("stack_auth.testing")

UNMATCHED = "<unmatched>"
_PARAM_RE = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Handler
    pattern: re.Pattern[str] | None


class Router:
    """Static paths by dict lookup first (``/users/me`` beats ``/users/{user_id}``), then templates in order.

    Templates match the path as sent (``raw_path``), and each parameter is decoded on its own, as Next.js does for
    Stack: ``/team-permissions/t/u/a%2Fb`` has ``permission_id`` ``a/b``, not one segment too many.
    """

    def __init__(self, routes: Iterable[tuple[str, str, Handler]]) -> None:
        self._static: dict[tuple[str, str], Route] = {}
        self._dynamic: dict[str, list[Route]] = {}
        self._patterns: list[re.Pattern[str]] = []
        self._static_paths: set[str] = set()
        for method, template, handler in routes:
            if "{" in template:
                escaped = re.escape(template).replace(r"\{", "{").replace(r"\}", "}")
                pattern = re.compile("^" + _PARAM_RE.sub(r"(?P<\1>[^/]+)", escaped) + "$")
                self._dynamic.setdefault(method, []).append(Route(method, template, handler, pattern))
                self._patterns.append(pattern)
            else:
                self._static[(method, template)] = Route(method, template, handler, None)
                self._static_paths.add(template)

    def match(self, method: str, path: str, raw_path: str | None = None) -> tuple[Route, dict[str, str]] | None:
        """The route of a (decoded) ``path`` and its decoded parameters; ``raw_path`` is the path as sent."""
        route = self._static.get((method, path))
        if route is not None:
            return route, {}
        for route in self._dynamic.get(method, ()):
            assert route.pattern is not None
            m = route.pattern.match(path if raw_path is None else raw_path)
            if m is not None:
                params = m.groupdict()
                return route, params if raw_path is None else {k: unquote(v) for k, v in params.items()}
        return None

    def knows_path(self, path: str, raw_path: str | None = None) -> bool:
        return path in self._static_paths or any(p.match(raw_path or path) for p in self._patterns)

    def routes(self) -> list[tuple[str, str]]:
        """Every ``(method, template)`` served, e.g. ``("GET", "/users/{user_id}")`` (what conformance runs cover)."""
        dynamic = [(r.method, r.template) for routes in self._dynamic.values() for r in routes]
        return [*self._static, *dynamic]


ROUTER = Router(
    [
        *users_api.ROUTES,
        *teams_api.ROUTES,
        *sessions_api.ROUTES,
        *api_keys_api.ROUTES,
        *oauth_providers_api.ROUTES,
        *permissions_api.ROUTES,
        *contact_channels_api.ROUTES,
        *team_invitations_api.ROUTES,
        *team_member_profiles_api.ROUTES,
        *projects_api.ROUTES,
        *signin_api.ROUTES,
        *cli_api.ROUTES,
        *oauth_api.ROUTES,
        *emails_api.ROUTES,
        *vault_api.ROUTES,
        *payments_api.ROUTES,
    ]
)


def parse_body(method: str, headers: dict[str, str], raw: bytes) -> Any:
    """Stack's ``parseBody``: by content type, with BODY_PARSING_ERROR for what cannot be read."""
    if method == "GET":
        return None
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if not content_type:
        return None
    if content_type == "application/octet-stream":
        return raw
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise known.body_parsing_error("Request body cannot be parsed as UTF-8") from None
    if content_type == "application/json":
        try:
            return json.loads(text)
        except ValueError:
            raise known.body_parsing_error("Invalid JSON in request body") from None
    if content_type == "application/x-www-form-urlencoded":
        return dict(parse_qsl(text, keep_blank_values=True))
    if content_type == "text/plain":
        return text
    raise known.body_parsing_error("Unknown content type in request body: " + content_type)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        if chunk:
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _raw_path(scope: Scope) -> str | None:
    """The path as sent, below ``/api/v1`` (None when the server did not pass it: then the decoded path is used)."""
    raw: bytes | None = scope.get("raw_path")
    if not raw:
        return None
    text = raw.decode("latin-1").split("?", 1)[0]
    return (text[len(API_PREFIX) :] if text.startswith(API_PREFIX) else text) or "/"


def _origin(scope: Scope, headers: dict[str, str]) -> str:
    host = headers.get("host")
    if not host:
        server = scope.get("server")
        host = f"{server[0]}:{server[1]}" if server else "localhost"
    return f"{scope.get('scheme', 'http')}://{host}"


class ApiApp:
    """ASGI app of the Stack API routes (mounted at ``/api/v1``)."""

    def __init__(self, services: Services, faults: Faults, stats: Stats) -> None:
        self.services = services
        self.faults = faults
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        method: str = scope["method"]
        full_path: str = scope["path"]
        path = full_path[len(API_PREFIX) :] if full_path.startswith(API_PREFIX) else full_path
        path = path or "/"
        raw_path = _raw_path(scope)
        found = ROUTER.match(method, path, raw_path)
        template = found[0].template if found is not None else UNMATCHED
        plan = self.faults.plan(method, template, path) if self.faults.active else None
        labels: tuple[str, ...] = ()
        if plan is not None:
            labels = tuple(plan.labels)
            if plan.delay > 0:
                await anyio.sleep(plan.delay)
            if plan.before is not None:
                await self._fault(send, plan.before, None, method, template, path, labels)
                return

        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        raw = await _read_body(receive)
        response = await self._respond(scope, method, path, raw_path, full_path, headers, raw, found)
        apply_status_override(response, "x-stack-override-error-status" in headers)
        response.headers.append((b"x-stack-request-id", str(uuid.uuid4()).encode("latin-1")))
        if plan is not None and plan.after is not None:
            await self._fault(send, plan.after, response, method, template, path, labels, handled=True)
            return
        self.stats.record(
            method,
            template,
            path,
            response.status,
            handled=True,
            faults=labels,
            query_string=scope.get("query_string", b""),
            raw_body=raw,
            params=found[1] if found is not None else None,
        )
        await send_response(send, response)

    async def _respond(
        self,
        scope: Scope,
        method: str,
        path: str,
        raw_path: str | None,
        full_path: str,
        headers: dict[str, str],
        raw: bytes,
        found: tuple[Route, dict[str, str]] | None,
    ) -> Response:
        try:
            if found is None:
                if method == "OPTIONS":
                    return Response(200, b"", [(b"access-control-allow-origin", b"*")])
                if ROUTER.knows_path(path, raw_path):
                    raise StatusError(405, "Method not allowed")
                raise StatusError(404, f"Not found: {method} {full_path}")
            route, params = found
            body = parse_body(method, headers, raw)
            auth = parse_auth(self.services.store, self.services.tokens, headers)
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
            request = ApiRequest(method, path, full_path, query, headers, body, params, _origin(scope, headers))
            return await route.handler(Ctx(self.services, request, auth))
        except (KnownError, StatusError) as exc:
            return exc.to_response()
        except Exception:
            logger.exception("emulator bug while answering %s %s", method, full_path)
            return text_response("Internal server error (emulator bug; see the stack_auth.testing log).", 500)

    async def _fault(
        self,
        send: Send,
        action: Action,
        response: Response | None,
        method: str,
        template: str,
        path: str,
        labels: tuple[str, ...],
        *,
        handled: bool = False,
    ) -> None:
        if action == DROP:
            self.stats.record(method, template, path, None, handled=handled, faults=labels)
            length = len(response.body) if response is not None else 64
            head = response.headers if response is not None else [(b"content-type", b"application/json")]
            status = response.status if response is not None else 200
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [*head, (b"content-length", str(max(length, 1)).encode("latin-1"))],
                }
            )
            raise DroppedConnection("peer closed connection without sending complete message body (emulated drop)")
        if action == MALFORM:
            assert response is not None
            out = malformed(response) if 200 <= response.status < 300 and response.is_json else response
        else:
            assert isinstance(action, Response)
            out = Response(action.status, action.body, list(action.headers))
        self.stats.record(method, template, path, out.status, handled=handled, faults=labels)
        await send_response(send, out)


def build_asgi_app(emulator: Emulator, api: ApiApp) -> Starlette:
    """The emulator's Starlette application: ``/api/v1`` -> :class:`ApiApp`, ``/__emulator__`` -> control API."""
    from starlette.applications import Starlette
    from starlette.routing import Mount

    from stack_auth.testing.control import control_routes

    return Starlette(routes=[Mount("/__emulator__", routes=control_routes(emulator)), Mount(API_PREFIX, app=api)])
