"""Turn one HTTP answer into JSON or into the typed error it stands for. The only place that reads answers."""

from __future__ import annotations

import json
import re
from typing import Any

from stack_auth._exceptions import MalformedResponseError, StackAuthApiError, error_class_for
from stack_auth._http import RawResponse

_STATUS = re.compile(r"[1-5][0-9][0-9]")
_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)
_SPACE = re.compile(r"\s+")
EXCERPT_CHARS = 200


def excerpt(content: bytes) -> str:
    """A short readable excerpt of a body that is not JSON (HTML tags stripped), or a note that it was empty."""
    if not content.strip():
        return "(empty body)"
    text = content[: EXCERPT_CHARS * 20].decode("utf-8", "replace")
    text = _SPACE.sub(" ", _TAGS.sub(" ", text)).strip()
    if len(text) > EXCERPT_CHARS:
        text = text[: EXCERPT_CHARS - 3] + "..."
    return text or "(no readable text)"


def effective_status(raw: RawResponse) -> int:
    """The real status: ``x-stack-actual-status`` when the server moved it there (override-error-status mode).

    Only an HTTP status (three digits, 100-599) counts: ``-1`` or ``4_0_4`` (which ``int()`` reads as 404) is noise.
    """
    actual = raw.headers.get("x-stack-actual-status")
    if actual is None or not _STATUS.fullmatch(actual):
        return raw.status
    return int(actual)


def decode(method: str, url: str, raw: RawResponse) -> Any:
    """The JSON of a successful answer; raise the typed error of a failed one."""
    status = effective_status(raw)
    if status < 300:
        try:
            return json.loads(raw.content)
        except (ValueError, RecursionError):  # RecursionError: nested too deep to be a real answer
            raise MalformedResponseError(
                f"expected a JSON body, got: {excerpt(raw.content)}",
                status=status,
                method=method,
                url=url,
                headers=raw.headers,
            ) from None
    raise error_from(method, url, status, raw)


def error_from(method: str, url: str, status: int, raw: RawResponse) -> StackAuthApiError:
    header_code = raw.headers.get("x-stack-known-error")
    body: Any = None
    if raw.content[:1] in (b"{", b"["):
        try:
            body = json.loads(raw.content)
        except (ValueError, RecursionError):
            body = None
    fields = body if isinstance(body, dict) else {}
    body_code = fields.get("code") if isinstance(fields.get("code"), str) else None
    details = fields.get("details") if isinstance(fields.get("details"), dict) else None
    message = fields.get("error") or fields.get("message")
    if not isinstance(message, str):
        message = excerpt(raw.content)

    if header_code is not None and header_code != body_code:
        found = f"body code {body_code!r}" if body_code else "no code in the body"
        return MalformedResponseError(
            f"the x-stack-known-error header says {header_code!r} but the answer has {found}: {message}",
            status=status,
            code=header_code,
            details=details,
            method=method,
            url=url,
            headers=raw.headers,
        )
    cls = error_class_for(header_code, status)
    return cls(message, status=status, code=header_code, details=details, method=method, url=url, headers=raw.headers)
