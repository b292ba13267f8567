"""All request policy in one place: URL and headers, JSON bodies, sending, decoding, retries, the rate-limit gate.

Resources call :meth:`AsyncTransport.request` with a method, an API path and the parameters; nothing else in the
package builds requests or reads answers.
"""

from __future__ import annotations

import json as jsonlib
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import attrs

from stack_auth._async_http import AsyncHttpBackend
from stack_auth._concurrency import AsyncLimiter, RateGate, async_sleep
from stack_auth._config import API_PREFIX, CLIENT_VERSION
from stack_auth._decode import decode, effective_status
from stack_auth._exceptions import APIConnectionError, StackAuthApiError
from stack_auth._http import TimeoutTypes, to_timeouts
from stack_auth._retry import RetryPolicy, give_up
from stack_auth.models import NOT_GIVEN, NotGiven

if TYPE_CHECKING:
    import tenacity

logger = logging.getLogger("stack_auth")

JSON_CONTENT_TYPE = "application/json"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# One encoder for every body: json.dumps with any option builds a new encoder per call (a third of its cost).
_encode_json = jsonlib.JSONEncoder(separators=(",", ":")).encode


@attrs.frozen(repr=False)
class Credentials:
    """Who is calling: project, access type, keys. ``repr()`` shows no key."""

    project_id: str
    access_type: str
    secret_server_key: str | None = None
    publishable_client_key: str | None = None

    def headers(self) -> dict[str, str]:
        headers = {
            "x-stack-project-id": self.project_id,
            "x-stack-access-type": self.access_type,
            "x-stack-client-version": CLIENT_VERSION,
            "accept": JSON_CONTENT_TYPE,
        }
        if self.publishable_client_key is not None:
            headers["x-stack-publishable-client-key"] = self.publishable_client_key
        if self.secret_server_key is not None and self.access_type != "client":
            headers["x-stack-secret-server-key"] = self.secret_server_key
        return headers

    def __repr__(self) -> str:
        return f"Credentials(project_id={self.project_id!r}, access_type={self.access_type!r})"


@attrs.frozen(slots=True)
class ApiResponse:
    """A decoded answer and its (case-insensitive) headers."""

    data: Any
    headers: Mapping[str, str]


def encode_query(params: Mapping[str, Any] | None) -> str:
    """Query string from parameters; None values are left out, booleans are ``true``/``false``."""
    if not params:
        return ""
    pairs = [
        (k, ("true" if v else "false") if isinstance(v, bool) else str(v)) for k, v in params.items() if v is not None
    ]
    return "?" + urlencode(pairs) if pairs else ""


class AsyncTransport:
    """Sends API requests for one app. Copies made by :meth:`with_options` share the pool, limiter and gate."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        base_url: str,
        http: AsyncHttpBackend,
        limiter: AsyncLimiter,
        gate: RateGate,
        retry: RetryPolicy,
        timeout: TimeoutTypes,
        token_issuer_url: str | None = None,
    ) -> None:
        self.credentials = credentials
        self.base_url = base_url.rstrip("/")
        #: The API URL as the Stack server knows itself: the base of its access tokens' issuer.
        self.token_issuer_url = (token_issuer_url or base_url).rstrip("/")
        self._api_url = self.base_url + API_PREFIX
        self.http = http
        self.limiter = limiter
        self.gate = gate
        self.retry = retry
        self.timeout = to_timeouts(timeout)
        self._headers = credentials.headers()

    def with_options(
        self,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> AsyncTransport:
        """A copy with other per-call options, sharing the connection pool, the limiter and the rate gate."""
        retry = self.retry if isinstance(max_retries, NotGiven) else attrs.evolve(self.retry, max_retries=max_retries)
        return AsyncTransport(
            self.credentials,
            base_url=self.base_url,
            http=self.http,
            limiter=self.limiter,
            gate=self.gate,
            retry=retry,
            timeout=self.timeout if isinstance(timeout, NotGiven) else timeout,
            token_issuer_url=self.token_issuer_url,
        )

    def url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        """The full URL of an API path (``/users`` -> ``{base_url}/api/v1/users``)."""
        return self._api_url + path + encode_query(params)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Send one API request with the app's retry policy and return the decoded JSON answer.

        POST, PATCH and PUT always carry a body (``{}`` when empty), as Stack expects.
        """
        response = await self.send(method, path, params=params, json=json, form=form, headers=headers)
        return response.data

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        """Like :meth:`request`, but the answer's headers come too (e.g. ``Cache-Control`` of the JWKS)."""
        url = self.url(path, params)
        all_headers = dict(self._headers)
        if headers:
            all_headers.update(headers)
        content: bytes | None = None
        if form is not None:
            content = urlencode(form).encode()
            all_headers["content-type"] = FORM_CONTENT_TYPE
        elif json is not None or method in ("POST", "PATCH", "PUT"):
            content = _encode_json({} if json is None else json).encode()
            all_headers["content-type"] = JSON_CONTENT_TYPE

        state: tenacity.RetryCallState | None = None
        while True:
            try:
                return await self._attempt(method, url, all_headers, content)
            except (StackAuthApiError, APIConnectionError) as exc:
                if state is None:
                    state = self.retry.new_state()
                wait = self.retry.next_wait(method, exc, state)
                if wait is None:
                    # Not "from None": the HTTP library's exception stays the cause a user can inspect.
                    raise give_up(exc, state) from exc.__cause__
                logger.info("retrying %s %s in %.2fs after: %s", method, url, wait, exc)
                if isinstance(exc, StackAuthApiError) and exc.status == 429:
                    # Everyone waits, not just this request: the server told the whole app to slow down.
                    self.gate.close_for(wait)
                else:
                    await async_sleep(wait)

    async def _attempt(self, method: str, url: str, headers: dict[str, str], content: bytes | None) -> ApiResponse:
        async with self.limiter:
            # The gate is passed while holding an in-flight slot, right before sending: a request that queued for a
            # slot before a 429 closed the gate must not slip through after it.
            ticket = None
            while True:
                delay, ticket = self.gate.reserve(ticket)
                if delay <= 0:
                    break
                await async_sleep(delay)
            started = time.perf_counter()
            raw = await self.http.send(method, url, headers, content, self.timeout)
            if effective_status(raw) == 429:
                # Close the gate before this in-flight slot frees, so no queued request slips out (threads!);
                # send() then extends the closure to the retry policy's wait.
                server_wait = self.retry.server_wait(raw.headers)
                self.gate.close_for(self.retry.base_delay if server_wait is None else server_wait)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s %s -> %d in %.1f ms", method, url, raw.status, (time.perf_counter() - started) * 1000)
        return ApiResponse(decode(method, url, raw), raw.headers)

    async def aclose(self) -> None:
        """Close the connection pool this transport owns (idempotent; a caller's own client stays open)."""
        await self.http.aclose()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.credentials!r} base_url={self.base_url!r}>"
