"""Wire format of the Stack API: JSON and plain-text answers, known errors, the status override.

Everything the emulator answers goes through :class:`Response` and is sent by :func:`send_response`. Handlers raise
:class:`KnownError` (a Stack "known error": header ``x-stack-known-error`` and JSON ``{"code", "details"?, "error"}``)
or :class:`StatusError` (any other error: a plain-text body), exactly as Stack's route handlers do.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import Any

from stack_auth import _known_errors  # noqa: F401  (fills KNOWN_ERRORS)
from stack_auth._exceptions import KNOWN_ERRORS

Headers = list[tuple[bytes, bytes]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

CT_JSON = b"application/json; charset=utf-8"
CT_TEXT = b"text/plain; charset=utf-8"
CT_HTML = b"text/html; charset=utf-8"
NO_STORE = b"no-store, max-age=0"


class Response:
    """One HTTP answer: status, headers (lowercase byte pairs, without content-length) and body bytes."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, body: bytes = b"", headers: Headers | None = None) -> None:
        self.status = status
        self.body = body
        self.headers: Headers = headers if headers is not None else []

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (case-insensitive), or None."""
        key = name.lower().encode("latin-1")
        for k, v in self.headers:
            if k == key:
                return v.decode("latin-1")
        return None

    def set_header(self, name: str, value: str) -> None:
        """Replace (or add) header ``name``."""
        key = name.lower().encode("latin-1")
        self.headers = [(k, v) for k, v in self.headers if k != key]
        self.headers.append((key, value.encode("latin-1")))

    @property
    def is_json(self) -> bool:
        ct = self.header("content-type") or ""
        return ct.startswith("application/json")


def dumps(data: Any) -> bytes:
    """Compact JSON like ``JSON.stringify(data)`` (non-ASCII kept as UTF-8)."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def json_response(data: Any, status: int = 200, *, cache_control: bytes = NO_STORE) -> Response:
    """A successful JSON answer with Stack's ``cache-control: no-store, max-age=0``."""
    return Response(status, dumps(data), [(b"content-type", CT_JSON), (b"cache-control", cache_control)])


def success_response() -> Response:
    """Stack's ``bodyType: "success"`` answer: ``{"success": true}``."""
    return json_response({"success": True})


def text_response(text: str, status: int, *, content_type: bytes = CT_TEXT) -> Response:
    """A plain-text answer (Stack's non-known errors, proxies' pages)."""
    return Response(status, text.encode("utf-8"), [(b"content-type", content_type), (b"cache-control", NO_STORE)])


class KnownError(Exception):
    """A Stack known error: its status comes from the generated table in :mod:`stack_auth._known_errors`."""

    def __init__(self, code: str, message: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        cls = KNOWN_ERRORS.get(code)
        if cls is None or cls.default_status is None:
            raise ValueError(f"{code} is not a concrete Stack known error")
        self.code = code
        self.message = message
        self.details = dict(details) if details is not None else None
        self.status: int = cls.default_status

    def body(self) -> dict[str, Any]:
        """The JSON body, keys in Stack's order (``code``, ``details`` when present, ``error``)."""
        out: dict[str, Any] = {"code": self.code}
        if self.details:
            out["details"] = self.details
        out["error"] = self.message
        return out

    def to_response(self) -> Response:
        # Stack pretty-prints known errors (JSON.stringify(json, undefined, 2)).
        body = json.dumps(self.body(), indent=2, ensure_ascii=False).encode("utf-8")
        return Response(
            self.status,
            body,
            [
                (b"content-type", CT_JSON),
                (b"x-stack-known-error", self.code.encode("latin-1")),
                (b"cache-control", NO_STORE),
            ],
        )


class StatusError(Exception):
    """A non-known error: status and a plain-text message (Stack's ``StatusError``)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message

    def to_response(self) -> Response:
        return text_response(self.message, self.status)


def apply_status_override(response: Response, requested: bool) -> Response:
    """Stack's ``x-stack-override-error-status``: 4xx/5xx become 200 with ``x-stack-actual-status``."""
    if requested and 400 <= response.status < 600:
        response.headers.append((b"x-stack-actual-status", str(response.status).encode("latin-1")))
        response.status = 200
    return response


async def send_response(send: Send, response: Response, extra_headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    """Send ``response`` as one ASGI start + body pair, with an exact ``content-length``."""
    headers = [*response.headers, *extra_headers, (b"content-length", str(len(response.body)).encode("latin-1"))]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})
