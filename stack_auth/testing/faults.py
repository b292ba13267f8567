"""Faults on demand: rate limits, latency, 5xx answers, dropped connections, malformed bodies, scripted answers.

Every knob is deterministic for a given seed and request order (one seeded RNG drawn in request arrival order).
Knobs select routes with a *route spec*:

* ``"*"``: every request;
* ``"POST /users"`` / ``"GET /users/{user_id}"``: one route, by method and path template (as in the OpenAPI
  documents, without ``/api/v1``); ``"* /users"`` or ``"/users"``: any method;
* glob patterns (``"GET /teams*"``) and concrete paths (``"GET /users/3f1c..."``) work too.

Typical use::

    emu.faults.rate_limit(100, window=10.0, retry_after="half")     # like Stack's dev server
    emu.faults.latency(0.05, jitter=0.02)                          # 50-70 ms on every request
    emu.faults.server_errors(0.1, statuses=(502,), html=True)      # 10 % nginx-style 502 pages
    emu.faults.next_rate_limited("GET /users/{user_id}", retry_after=1)   # exactly one 429, Retry-After: 1
    emu.faults.script("POST /users", status=502, body="<html>..</html>",
                      headers={"content-type": "text/html"}, when="after")  # user created, answer lost

``when="before"`` answers without running the route (nothing happens server-side); ``when="after"`` runs the route
(its effects persist) and then replaces, drops or corrupts the answer.

A *dropped connection* sends the response head (status and a ``content-length``) and then aborts. Over a real
socket (uvicorn) the connection is closed: httpx raises ``httpx.RemoteProtocolError`` ("peer closed connection
without sending complete message body"), aiohttp raises ``aiohttp.ClientPayloadError`` (``ContentLengthError``:
"Not enough data to satisfy content length header"). In-process (``ASGITransport``) the app raises
:class:`DroppedConnection`, which the transport re-raises to the caller. It is the ``RemoteProtocolError`` of httpx
and of httpx2 (when installed) at once, so ``except httpx.RemoteProtocolError`` and ``except
httpx2.RemoteProtocolError`` both catch it, whichever library's transport carried it.
"""

from __future__ import annotations

import fnmatch
import json
import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

from stack_auth.testing.wire import CT_HTML, CT_JSON, CT_TEXT, Response

When = Literal["before", "after"]
RetryAfterMode = Literal["always", "never", "half"]

DROP: Final = "drop"
MALFORM: Final = "malformed"
Action = Response | Literal["drop", "malformed"]

RATE_LIMIT_MESSAGE = "Too many requests. This server limits request rates on purpose; please retry later."

_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


if TYPE_CHECKING:
    from httpx import RemoteProtocolError
else:
    from stack_auth._httpx import installed

    # isinstance and except do not cross between httpx and httpx2: derive from both.
    RemoteProtocolError = type("RemoteProtocolError", tuple(m.RemoteProtocolError for m in installed()), {})


class DroppedConnection(RemoteProtocolError):
    """Raised by the app to abort a response after its head was sent (what a dropped connection looks like)."""


def html_error_page(status: int) -> bytes:
    """An nginx-style error page, as a proxy in front of Stack would send."""
    title = f"{status} {_REASONS.get(status, 'Error')}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
        "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    ).encode()


def _normalize_path(path: str) -> str:
    return path[len("/api/v1") :] or "/" if path.startswith("/api/v1") else path


class RouteMatcher:
    """Matches a route spec against (method, route template, concrete path)."""

    def __init__(self, spec: str) -> None:
        self.spec = spec.strip()
        method, _, path = self.spec.partition(" ")
        if not path:
            method, path = ("*", method) if method.startswith("/") or method == "*" else (method, "*")
        self.method = method.upper()
        self.path = _normalize_path(path.strip())

    def __call__(self, method: str, template: str, path: str) -> bool:
        if self.method != "*" and self.method != method:
            return False
        if self.path == "*":
            return True
        if self.path in (template, path):
            return True
        return fnmatch.fnmatchcase(template, self.path) or fnmatch.fnmatchcase(path, self.path)


def _body_bytes(body: Any) -> tuple[bytes, bytes]:
    """Bytes and default content-type of a scripted body."""
    if body is None:
        return b"", CT_TEXT
    if isinstance(body, bytes):
        return body, b"application/octet-stream"
    if isinstance(body, str):
        return body.encode("utf-8"), CT_TEXT
    return json.dumps(body).encode("utf-8"), CT_JSON


def build_response(status: int, body: Any = None, headers: Mapping[str, str] | None = None) -> Response:
    """A scripted answer: ``body`` is bytes, str (text/plain) or JSON-able (application/json)."""
    data, content_type = _body_bytes(body)
    out: list[tuple[bytes, bytes]] = []
    given = {k.lower(): v for k, v in (headers or {}).items()}
    if "content-type" not in given and data:
        out.append((b"content-type", content_type))
    out.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in given.items() if k != "content-length")
    return Response(status, data, out)


@dataclass
class _RateLimit:
    max_requests: int
    window: float
    retry_after: RetryAfterMode
    retry_after_value: float | None
    matcher: RouteMatcher
    window_start: float = -math.inf
    count: int = 0


@dataclass
class _Latency:
    seconds: float
    jitter: float
    matcher: RouteMatcher


@dataclass
class _ServerErrors:
    rate: float
    statuses: tuple[int, ...]
    html: bool
    matcher: RouteMatcher
    when: When


@dataclass
class _Drops:
    rate: float
    matcher: RouteMatcher
    when: When


@dataclass
class _Malformed:
    rate: float
    matcher: RouteMatcher


@dataclass
class _Scripted:
    matcher: RouteMatcher
    action: Action
    remaining: int
    when: When
    description: dict[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    """What the faults do to one request (decided when it arrives)."""

    delay: float = 0.0
    before: Action | None = None
    after: Action | None = None
    labels: list[str] = field(default_factory=list)


class Faults:
    """The fault knobs of one emulator (``emu.faults``); thread-safe, settable while it serves.

    All knobs add up: latency applies first, then the rate limit, then scripted answers (oldest first), then the
    random 5xx and drop rates; malformed bodies only touch successful JSON answers. :meth:`clear` removes them all.
    """

    def __init__(self, seed: int | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._seed = seed
        self._rng = random.Random(seed)
        self._rate_limits: list[_RateLimit] = []
        self._latency: list[_Latency] = []
        self._errors: list[_ServerErrors] = []
        self._drops: list[_Drops] = []
        self._malformed: list[_Malformed] = []
        self._scripted: list[_Scripted] = []
        #: False while no knob is set: the request path then skips fault planning entirely.
        self.active = False

    # --- knobs ---------------------------------------------------------------------------------------------------

    def seed(self, seed: int | None) -> None:
        """Restart the fault RNG from ``seed`` (same seed + same request order = same faults)."""
        with self._lock:
            self._seed = seed
            self._rng = random.Random(seed)

    def rate_limit(
        self,
        max_requests: int,
        window: float = 10.0,
        *,
        retry_after: RetryAfterMode = "half",
        retry_after_value: float | None = None,
        route: str = "*",
    ) -> None:
        """Answer 429 ``{"message": ...}`` past ``max_requests`` per ``window`` seconds (fixed windows).

        ``retry_after``: ``"always"`` / ``"never"`` send ``Retry-After``; ``"half"`` sends it on a seeded coin flip,
        like Stack's development server. Its value is ``retry_after_value`` or the whole seconds left in the window.
        """
        if max_requests < 0 or window <= 0:
            raise ValueError("max_requests must be >= 0 and window > 0")
        with self._lock:
            self._rate_limits.append(
                _RateLimit(max_requests, window, retry_after, retry_after_value, RouteMatcher(route))
            )
            self.active = True

    def latency(self, seconds: float = 0.0, *, jitter: float = 0.0, route: str = "*") -> None:
        """Delay answers by ``seconds`` plus a seeded uniform ``[0, jitter)`` (an async sleep)."""
        if seconds < 0 or jitter < 0:
            raise ValueError("latency must be >= 0")
        with self._lock:
            self._latency.append(_Latency(seconds, jitter, RouteMatcher(route)))
            self.active = True

    def server_errors(
        self,
        rate: float,
        *,
        statuses: Iterable[int] = (500, 502, 503),
        html: bool = False,
        route: str = "*",
        when: When = "before",
    ) -> None:
        """Answer a fraction ``rate`` of requests with a 5xx picked from ``statuses`` (plain text, or an HTML page)."""
        codes = tuple(statuses)
        if not 0 <= rate <= 1 or not codes:
            raise ValueError("rate must be within [0, 1] and statuses non-empty")
        with self._lock:
            self._errors.append(_ServerErrors(rate, codes, html, RouteMatcher(route), when))
            self.active = True

    def drop_connections(self, rate: float, *, route: str = "*", when: When = "before") -> None:
        """Drop a fraction ``rate`` of connections after sending the response head (see the module doc)."""
        if not 0 <= rate <= 1:
            raise ValueError("rate must be within [0, 1]")
        with self._lock:
            self._drops.append(_Drops(rate, RouteMatcher(route), when))
            self.active = True

    def malformed_bodies(self, rate: float, *, route: str = "*") -> None:
        """Truncate the JSON body of a fraction ``rate`` of successful answers (invalid JSON, exact length)."""
        if not 0 <= rate <= 1:
            raise ValueError("rate must be within [0, 1]")
        with self._lock:
            self._malformed.append(_Malformed(rate, RouteMatcher(route)))
            self.active = True

    def script(
        self,
        route: str = "*",
        *,
        status: int = 500,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        times: int = 1,
        when: When = "before",
    ) -> None:
        """The next ``times`` requests matching ``route`` get exactly this answer (FIFO with other scripts).

        ``body``: bytes, str (``text/plain`` unless ``headers`` say otherwise), or JSON-able; None = empty body.
        """
        self._add_script(
            route,
            build_response(status, body, headers),
            times,
            when,
            {"status": status, "headers": dict(headers or {}), "body": _describe(body)},
        )

    def next_rate_limited(self, route: str = "*", *, retry_after: float | None = 1, times: int = 1) -> None:
        """Exactly ``times`` 429 answers like Stack's dev server, with ``Retry-After`` (None: without)."""
        headers = {"content-type": "application/json"}
        if retry_after is not None:
            headers["retry-after"] = _seconds(retry_after)
        self.script(route, status=429, body={"message": RATE_LIMIT_MESSAGE}, headers=headers, times=times)

    def next_html_error(self, route: str = "*", *, status: int = 502, times: int = 1, when: When = "before") -> None:
        """A proxy's HTML error page (``text/html``), 502 by default."""
        self.script(
            route,
            status=status,
            body=html_error_page(status).decode(),
            headers={"content-type": "text/html"},
            times=times,
            when=when,
        )

    def next_empty_body(self, route: str = "*", *, status: int = 200, times: int = 1, when: When = "before") -> None:
        """An answer with no body at all (``content-length: 0``), 200 by default."""
        self.script(route, status=status, body=None, times=times, when=when)

    def next_known_error(
        self,
        route: str = "*",
        *,
        code: str,
        status: int = 400,
        message: str = "Emulated error.",
        details: Mapping[str, Any] | None = None,
        header_code: str | None = None,
        times: int = 1,
    ) -> None:
        """A known-error answer with any code (e.g. one the SDK does not know yet).

        ``header_code`` puts a different code in ``x-stack-known-error`` than in the body (a protocol violation).
        """
        body: dict[str, Any] = {"code": code}
        if details:
            body["details"] = dict(details)
        body["error"] = message
        headers = {
            "content-type": "application/json; charset=utf-8",
            "x-stack-known-error": header_code if header_code is not None else code,
        }
        self.script(route, status=status, body=body, headers=headers, times=times)

    def next_malformed_body(self, route: str = "*", *, times: int = 1) -> None:
        """The next successful answers are run for real, then their JSON body is truncated."""
        self._add_script(route, MALFORM, times, "after", {"malformed": True})

    def next_drop(self, route: str = "*", *, times: int = 1, when: When = "before") -> None:
        """Drop the next ``times`` connections after the response head (see the module doc)."""
        self._add_script(route, DROP, times, when, {"drop": True})

    def _add_script(self, route: str, action: Action, times: int, when: When, description: dict[str, Any]) -> None:
        if times < 1:
            raise ValueError("times must be >= 1")
        if when not in ("before", "after"):
            raise ValueError("when must be 'before' or 'after'")
        with self._lock:
            self._scripted.append(_Scripted(RouteMatcher(route), action, times, when, {"route": route, **description}))
            self.active = True

    def clear(self) -> None:
        """Remove every knob and scripted answer (the RNG keeps its state; see :meth:`seed`)."""
        with self._lock:
            for rules in (self._rate_limits, self._latency, self._errors, self._drops, self._malformed, self._scripted):
                rules.clear()
            self.active = False

    def pending_scripts(self) -> int:
        """How many scripted answers are still waiting for a request."""
        with self._lock:
            return sum(s.remaining for s in self._scripted)

    # --- decisions -----------------------------------------------------------------------------------------------

    def plan(self, method: str, template: str, path: str) -> Plan:
        """Decide the faults of one arriving request."""
        plan = Plan()
        with self._lock:
            rng = self._rng
            for lat in self._latency:
                if lat.matcher(method, template, path):
                    plan.delay += lat.seconds + (rng.random() * lat.jitter if lat.jitter else 0.0)
            for rl in self._rate_limits:
                if not rl.matcher(method, template, path):
                    continue
                now = self._clock()
                if now - rl.window_start >= rl.window:
                    rl.window_start, rl.count = now, 0
                rl.count += 1
                if rl.count > rl.max_requests and plan.before is None:
                    plan.before = self._rate_limited(rl, now)
                    plan.labels.append("rate_limit")
            if plan.before is None:
                for sc in self._scripted:
                    if sc.remaining > 0 and sc.matcher(method, template, path):
                        if sc.when == "before":
                            plan.before = sc.action
                        else:
                            plan.after = sc.action
                        sc.remaining -= 1
                        plan.labels.append("scripted")
                        break
                self._scripted = [s for s in self._scripted if s.remaining > 0]
            for err in self._errors:
                if err.matcher(method, template, path) and rng.random() < err.rate:
                    status = rng.choice(err.statuses)
                    self._place(plan, err.when, _server_error(status, err.html), "server_error")
            for drop in self._drops:
                if drop.matcher(method, template, path) and rng.random() < drop.rate:
                    self._place(plan, drop.when, DROP, "drop")
            for mal in self._malformed:
                if mal.matcher(method, template, path) and rng.random() < mal.rate:
                    self._place(plan, "after", MALFORM, "malformed")
        return plan

    @staticmethod
    def _place(plan: Plan, when: When, action: Action, label: str) -> None:
        if plan.before is not None:
            return
        if when == "before":
            plan.before = action
        elif plan.after is None:
            plan.after = action
        else:
            return
        plan.labels.append(label)

    def _rate_limited(self, rl: _RateLimit, now: float) -> Response:
        send_header = rl.retry_after == "always" or (rl.retry_after == "half" and self._rng.random() < 0.5)
        headers = {"content-type": "application/json"}
        if send_header:
            value = rl.retry_after_value
            if value is None:
                value = max(1, math.ceil(rl.window_start + rl.window - now))
            headers["retry-after"] = _seconds(value)
        return build_response(429, {"message": RATE_LIMIT_MESSAGE}, headers)

    # --- description and HTTP configuration ----------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """The knobs as JSON-able data (``GET /__emulator__/faults``)."""
        with self._lock:
            return {
                "seed": self._seed,
                "rate_limits": [
                    {
                        "route": r.matcher.spec,
                        "max_requests": r.max_requests,
                        "window": r.window,
                        "retry_after": r.retry_after,
                        "retry_after_value": r.retry_after_value,
                    }
                    for r in self._rate_limits
                ],
                "latency": [{"route": r.matcher.spec, "seconds": r.seconds, "jitter": r.jitter} for r in self._latency],
                "server_errors": [
                    {
                        "route": r.matcher.spec,
                        "rate": r.rate,
                        "statuses": list(r.statuses),
                        "html": r.html,
                        "when": r.when,
                    }
                    for r in self._errors
                ],
                "drop_connections": [{"route": r.matcher.spec, "rate": r.rate, "when": r.when} for r in self._drops],
                "malformed_bodies": [{"route": r.matcher.spec, "rate": r.rate} for r in self._malformed],
                "scripts": [{**s.description, "remaining": s.remaining, "when": s.when} for s in self._scripted],
            }

    def configure(self, spec: Mapping[str, Any]) -> None:
        """Apply a JSON description (``POST /__emulator__/faults``); see the README of the control API.

        Keys: ``clear`` (bool, first), ``seed``, ``rate_limit`` / ``latency`` / ``server_errors`` /
        ``drop_connections`` / ``malformed_bodies`` (an object of the method's keyword arguments, or a list of them),
        ``script`` (a list of :meth:`script` argument objects), and the presets ``next_rate_limited``,
        ``next_html_error``, ``next_empty_body``, ``next_known_error``, ``next_malformed_body``, ``next_drop``.
        """
        if spec.get("clear"):
            self.clear()
        if "seed" in spec:
            self.seed(spec["seed"])
        methods: dict[str, Callable[..., None]] = {
            "rate_limit": self.rate_limit,
            "latency": self.latency,
            "server_errors": self.server_errors,
            "drop_connections": self.drop_connections,
            "malformed_bodies": self.malformed_bodies,
            "script": self.script,
            "next_rate_limited": self.next_rate_limited,
            "next_html_error": self.next_html_error,
            "next_empty_body": self.next_empty_body,
            "next_known_error": self.next_known_error,
            "next_malformed_body": self.next_malformed_body,
            "next_drop": self.next_drop,
        }
        unknown = [k for k in spec if k not in methods and k not in ("clear", "seed")]
        if unknown:
            raise ValueError(f"unknown fault keys: {', '.join(unknown)}")
        for key, method in methods.items():
            value = spec.get(key)
            if value is None:
                continue
            for kwargs in value if isinstance(value, list) else [value]:
                if not isinstance(kwargs, dict):
                    raise ValueError(f"{key} entries must be objects")
                method(**kwargs)


def _server_error(status: int, html: bool) -> Response:
    if html:
        return Response(status, html_error_page(status), [(b"content-type", CT_HTML)])
    return Response(status, _REASONS.get(status, "Server Error").encode(), [(b"content-type", CT_TEXT)])


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _describe(body: Any) -> Any:
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return body


def malformed(response: Response) -> Response:
    """``response`` with its JSON body cut in half (still labelled JSON): invalid JSON with a correct length."""
    body = response.body
    cut = body[: max(1, len(body) // 2)] if body else b"{"
    if cut == body:
        cut = body + b"{"
    return Response(response.status, cut, list(response.headers))
