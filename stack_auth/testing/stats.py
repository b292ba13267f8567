"""Request statistics: how many requests reached each route, what they got, which faults hit them.

Routes are keyed ``"METHOD /template"`` (``"POST /users"``, ``"GET /users/{user_id}"``); requests no route matched
count under ``"METHOD <unmatched>"``. ``count()`` takes the same route specs as the fault knobs::

    assert emu.stats.count("POST /users") == 1              # exactly one POST reached the server
    assert emu.stats.count("POST /users", handled=True) == 1  # ... and the route ran once (no fault before it)
"""

from __future__ import annotations

import json
import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from stack_auth.testing.faults import RouteMatcher


@dataclass
class RouteStats:
    received: int = 0
    handled: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class RequestRecord:
    """One request as the emulator saw it (the last 10 000 are kept)."""

    method: str
    path: str
    route: str
    status: int | None
    handled: bool
    faults: tuple[str, ...]
    # Kept raw (decoding costs nothing unless a test asks) and out of repr: bodies carry passwords and codes.
    query_string: bytes = field(default=b"", repr=False)
    raw_body: bytes = field(default=b"", repr=False)

    @property
    def query(self) -> dict[str, str]:
        """The query parameters the request carried: ``{"user_id": "...", "recursive": "true"}``."""
        return dict(parse_qsl(self.query_string.decode("latin-1"), keep_blank_values=True))

    @property
    def body(self) -> Any:
        """The JSON body the request carried (None when it had none or it was not JSON)."""
        try:
            return json.loads(self.raw_body) if self.raw_body else None
        except ValueError:
            return None


class Stats:
    """Per-route request counts of one emulator (``emu.stats``); thread-safe."""

    def __init__(self, history: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._routes: dict[str, RouteStats] = {}
        self._templates: dict[str, tuple[str, str]] = {}
        self.history: deque[RequestRecord] = deque(maxlen=history)

    def record(
        self,
        method: str,
        template: str,
        path: str,
        status: int | None,
        *,
        handled: bool,
        faults: tuple[str, ...] = (),
        query_string: bytes = b"",
        raw_body: bytes = b"",
    ) -> None:
        """Count one request (``status`` None: the connection was dropped)."""
        key = f"{method} {template}"
        with self._lock:
            rs = self._routes.get(key)
            if rs is None:
                rs = self._routes[key] = RouteStats()
                self._templates[key] = (method, template)
            rs.received += 1
            if handled:
                rs.handled += 1
            if status is not None:
                rs.statuses[status] += 1
            for f in faults:
                rs.faults[f] += 1
            self.history.append(RequestRecord(method, path, key, status, handled, faults, query_string, raw_body))

    def count(self, route: str = "*", *, handled: bool = False) -> int:
        """Requests that reached routes matching ``route`` (``handled=True``: only those whose route ran)."""
        matcher = RouteMatcher(route)
        with self._lock:
            total = 0
            for key, rs in self._routes.items():
                method, template = self._templates[key]
                if matcher(method, template, template):
                    total += rs.handled if handled else rs.received
            return total

    def requests(self, route: str = "*") -> list[RequestRecord]:
        """The kept requests to routes matching ``route``, oldest first: exactly what the server received::

        (seen,) = emu.stats.requests("GET /project-permissions")
        assert (seen.path, seen.query, seen.body) == ("/project-permissions", {"user_id": uid}, None)
        """
        matcher = RouteMatcher(route)
        with self._lock:
            return [r for r in self.history if matcher(r.method, r.route.partition(" ")[2], r.path)]

    @property
    def total(self) -> int:
        return self.count()

    def by_route(self) -> dict[str, int]:
        """``{"POST /users": 3, ...}``: received requests per route."""
        with self._lock:
            return {k: rs.received for k, rs in self._routes.items()}

    def statuses(self, route: str = "*") -> dict[int, int]:
        """Answer statuses (as the client saw them) of routes matching ``route``."""
        matcher = RouteMatcher(route)
        out: Counter[int] = Counter()
        with self._lock:
            for key, rs in self._routes.items():
                method, template = self._templates[key]
                if matcher(method, template, template):
                    out.update(rs.statuses)
        return dict(out)

    def faults(self, route: str = "*") -> dict[str, int]:
        """Injected faults by kind (``rate_limit``, ``scripted``, ``server_error``, ``drop``, ``malformed``)."""
        matcher = RouteMatcher(route)
        out: Counter[str] = Counter()
        with self._lock:
            for key, rs in self._routes.items():
                method, template = self._templates[key]
                if matcher(method, template, template):
                    out.update(rs.faults)
        return dict(out)

    def reset(self) -> None:
        """Forget every count and the request history."""
        with self._lock:
            self._routes.clear()
            self._templates.clear()
            self.history.clear()

    def snapshot(self) -> dict[str, Any]:
        """JSON-able stats (``GET /__emulator__/stats``)."""
        with self._lock:
            routes = {
                key: {
                    "received": rs.received,
                    "handled": rs.handled,
                    "statuses": {str(s): n for s, n in sorted(rs.statuses.items())},
                    "faults": dict(rs.faults),
                }
                for key, rs in self._routes.items()
            }
            return {"total": sum(rs.received for rs in self._routes.values()), "routes": routes}
