"""The webhooks Stack would send, delivered for real: signed as Svix signs them, in order, retried with backoff.

Every change the emulator makes that Stack announces (users, teams, memberships, team permissions) becomes the event
Stack sends, queued for each endpoint of its project and POSTed from a background thread per endpoint, so the API
never waits for a receiver::

    emu = Emulator()
    secret = emu.webhooks.add_endpoint("http://127.0.0.1:8000/webhooks/stack")   # a whsec_ secret, generated
    ...                                                                         # SDK calls against the emulator
    emu.webhooks.flush()                         # every event delivered (or given up on): assert on the receiver
    assert [d.event_type for d in emu.webhooks.deliveries] == ["team.created", "user.created"]

Like Svix: the body is ``{"type", "data"}``; the headers are ``svix-id`` (the delivery id, kept across retries),
``svix-timestamp`` (of each attempt) and ``svix-signature`` (``v1,`` + base64 HMAC-SHA256 of
``"{id}.{timestamp}.{body}"`` under the secret's base64-decoded bytes); any 2xx answer is a success; anything else,
or no answer, is retried after each delay of :attr:`Webhooks.retry_schedule` (Svix's schedule, shrunk from hours to
seconds), then given up on. One endpoint's deliveries go out one at a time, in the order of the changes.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import json
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import httpx

    from stack_auth.testing.state import Project

#: Seconds before each retry: 8 attempts in all, as Svix makes (its delays run from 5 s to 10 h).
DEFAULT_RETRY_SCHEDULE: tuple[float, ...] = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 2.0)
#: Seconds an attempt may take before it counts as failed.
DEFAULT_ATTEMPT_TIMEOUT = 5.0
_USER_AGENT = "Svix-Webhooks/1.0 (stack-auth emulator)"
_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

DeliveryState = Literal["pending", "delivered", "failed"]


@dataclass(frozen=True)
class Attempt:
    """One POST of a delivery: when, and the HTTP status it got (None: no answer, ``error`` says why)."""

    at: float
    status: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class Delivery:
    """One event sent to one endpoint: its delivery id (``svix-id``), the exact body, and every attempt so far."""

    id: str
    project_id: str
    url: str
    event_type: str
    body: bytes = field(repr=False)
    attempts: tuple[Attempt, ...] = ()
    state: DeliveryState = "pending"

    @property
    def payload(self) -> Any:
        """The decoded body: ``{"type": ..., "data": ...}``."""
        return json.loads(self.body)

    def describe(self) -> dict[str, Any]:
        """A JSON-ready view (the control API's ``GET /__emulator__/webhooks``)."""
        return {
            "id": self.id,
            "project_id": self.project_id,
            "url": self.url,
            "event_type": self.event_type,
            "state": self.state,
            "attempts": [dataclasses.asdict(a) for a in self.attempts],
            "payload": self.payload,
        }


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``svix-signature`` value of a body (Svix's scheme, written out here so the SDK's verifier, which relies
    on the ``standardwebhooks`` package, is checked against an independent signer)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


class _Endpoint:
    """An endpoint's queue and the thread that works through it, oldest first."""

    def __init__(self, owner: Webhooks, project_id: str, url: str, secret: str) -> None:
        self.owner = owner
        self.project_id = project_id
        self.url = url
        self.secret = secret
        #: Indices (into the owner's delivery list) still to send, in order.
        self.queue: deque[int] = deque()
        self.thread = threading.Thread(target=self._run, name=f"stack-emulator webhooks {url}", daemon=True)

    def _run(self) -> None:
        from stack_auth._httpx import library  # httpx2 when installed, as the SDK's own clients

        owner = self.owner
        with library().Client(trust_env=False) as client:
            while True:
                with owner._cond:
                    while not self.queue and not owner._closed:
                        owner._cond.wait()
                    if owner._closed:
                        return
                    index = self.queue[0]
                    delivery = owner._deliveries[index]
                state = self._deliver(client, index, delivery)
                with owner._cond:
                    self.queue.popleft()
                    owner._deliveries[index] = replace(owner._deliveries[index], state=state)
                    owner._cond.notify_all()

    def _deliver(self, client: httpx.Client, index: int, delivery: Delivery) -> DeliveryState:
        owner = self.owner
        for delay in (*owner.retry_schedule, None):
            attempt = self._attempt(client, delivery)
            with owner._cond:
                current = owner._deliveries[index]
                owner._deliveries[index] = replace(current, attempts=(*current.attempts, attempt))
            if attempt.ok:
                return "delivered"
            if delay is None or owner._stop.wait(delay):
                return "failed"
        return "failed"  # pragma: no cover - the loop always returns

    def _attempt(self, client: httpx.Client, delivery: Delivery) -> Attempt:
        now = time.time()
        stamp = int(now)
        headers = {
            "content-type": "application/json",
            "user-agent": _USER_AGENT,
            "svix-id": delivery.id,
            "svix-timestamp": str(stamp),
            "svix-signature": sign(self.secret, delivery.id, stamp, delivery.body),
        }
        try:
            response = client.post(self.url, content=delivery.body, headers=headers, timeout=self.owner.attempt_timeout)
        except Exception as exc:  # any failure to get an answer is a failed attempt, as for Svix
            return Attempt(now, None, f"{type(exc).__name__}: {exc}")
        return Attempt(now, response.status_code)


class Webhooks:
    """The emulator's webhook endpoints and what was delivered to them (``emu.webhooks``).

    ``retry_schedule``: the seconds to wait before each retry (its length is the number of retries);
    ``attempt_timeout``: seconds one POST may take. Both may be changed at any time.
    """

    def __init__(
        self,
        default_project_id: str,
        *,
        seed: int | None = None,
        retry_schedule: Sequence[float] = DEFAULT_RETRY_SCHEDULE,
        attempt_timeout: float = DEFAULT_ATTEMPT_TIMEOUT,
    ) -> None:
        self.retry_schedule: tuple[float, ...] = tuple(retry_schedule)
        self.attempt_timeout = attempt_timeout
        self._default_project_id = default_project_id
        self._rng = random.Random(f"webhooks:{seed}") if seed is not None else random.SystemRandom()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._closed = False
        self._endpoints: dict[str, list[_Endpoint]] = {}
        self._deliveries: list[Delivery] = []

    def add_endpoint(self, url: str, secret: str | None = None, *, project_id: str | None = None) -> str:
        """Send every event of a project (the default one) to ``url`` from now on; returns its ``whsec_`` secret
        (``secret`` when given, else a new random one). Each endpoint has a delivery thread until :meth:`close`
        (the ``stack_emulator`` pytest fixture closes its emulator's)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"a webhook endpoint must be an http(s) URL, not {url!r}")
        pid = project_id or self._default_project_id
        if secret is not None:
            try:
                key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
            except (binascii.Error, ValueError):
                key = b""
            if not key:
                raise ValueError("a webhook secret is whsec_ followed by base64 (of its key bytes)")
        with self._cond:
            if self._closed:
                raise RuntimeError("the emulator's webhooks are closed")
            if secret is None:
                secret = "whsec_" + base64.b64encode(self._rng.randbytes(24)).decode("ascii")
            endpoint = _Endpoint(self, pid, url, secret)
            self._endpoints.setdefault(pid, []).append(endpoint)
        endpoint.thread.start()
        return secret

    @property
    def deliveries(self) -> list[Delivery]:
        """Every delivery so far (one per event and endpoint), in the order the events happened."""
        with self._cond:
            return list(self._deliveries)

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every delivery so far has succeeded or been given up on (after its last retry).

        Raises ``TimeoutError`` when some are still pending after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while any(e.queue for endpoints in self._endpoints.values() for e in endpoints):
                left = deadline - time.monotonic()
                if left <= 0:
                    pending = sum(len(e.queue) for endpoints in self._endpoints.values() for e in endpoints)
                    raise TimeoutError(f"{pending} webhook deliveries still pending after {timeout} s")
                self._cond.wait(left)

    async def aflush(self, timeout: float = 30.0) -> None:
        """:meth:`flush` without blocking the event loop (for async tests whose receiver runs on the same loop)."""
        import anyio

        await anyio.to_thread.run_sync(self.flush, timeout)

    def close(self) -> None:
        """Stop delivering: pending deliveries stay pending, the endpoint threads end."""
        with self._cond:
            self._closed = True
            self._stop.set()
            self._cond.notify_all()
            threads = [e.thread for endpoints in self._endpoints.values() for e in endpoints]
        for thread in threads:
            thread.join(self.attempt_timeout + 1)

    def announce(self, project: Project, event_type: str, data: Callable[[], dict[str, Any]]) -> None:
        """The projects' change sink: queue the event for each endpoint of ``project`` (store lock held; cheap,
        and nothing at all when the project has no endpoint)."""
        if project.id not in self._endpoints:  # the common case, without the lock (a dict lookup is atomic)
            return
        with self._cond:
            endpoints = self._endpoints[project.id]
            body = json.dumps({"type": event_type, "data": data()}, separators=(",", ":")).encode()
            for endpoint in endpoints:
                msg_id = "msg_" + "".join(self._rng.choices(_ID_ALPHABET, k=27))
                self._deliveries.append(Delivery(msg_id, project.id, endpoint.url, event_type, body))
                endpoint.queue.append(len(self._deliveries) - 1)
            self._cond.notify_all()

    def __repr__(self) -> str:
        with self._cond:
            count = sum(len(e) for e in self._endpoints.values())
            return f"Webhooks(endpoints={count}, deliveries={len(self._deliveries)})"
