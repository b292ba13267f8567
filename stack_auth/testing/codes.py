"""Verification codes: the codes Stack mails in links (email verification, team invitations, ...) and their checks.

Mirrors ``apps/backend/src/route-handlers/verification-code-handler.tsx``: a code is 45 random lowercase characters
of one type, bound to data (whose email, which team) and usable once before it expires (7 days by default). Using or
checking a code, in that order: VERIFICATION_CODE_NOT_FOUND (unknown, or of another type),
VERIFICATION_CODE_EXPIRED, VERIFICATION_CODE_ALREADY_USED, VERIFICATION_CODE_MAX_ATTEMPTS_REACHED (20 attempts on
codes ending the same way). Call these with the store lock held.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stack_auth.testing import known
from stack_auth.testing.auth import CLIENT_OR_HIGHER, require_access
from stack_auth.testing.context import Ctx
from stack_auth.testing.state import Project, Store
from stack_auth.testing.validation import Field
from stack_auth.testing.wire import Response, json_response

#: Stack's ``MAX_ATTEMPTS_PER_CODE``.
MAX_ATTEMPTS = 20
#: Codes live a week unless the route says otherwise.
DEFAULT_CODE_LIFETIME_MS = 7 * 24 * 3600 * 1000
#: The length every code has (the routes refuse other lengths with SCHEMA_ERROR).
CODE_LENGTH = 45


@dataclass
class VerificationCode:
    """One code Stack created: its type, what it is for, where its link goes, and its state."""

    id: str
    type: str
    code: str = field(repr=False)
    data: dict[str, Any]
    expires_at: int
    callback_url: str | None = None
    used_at: int | None = None
    attempts: int = 0


def create_code(
    store: Store,
    project: Project,
    code_type: str,
    data: dict[str, Any],
    *,
    callback_url: str | None,
    expires_in_ms: int = DEFAULT_CODE_LIFETIME_MS,
    text: str | None = None,
) -> VerificationCode:
    """A new unused code of ``code_type`` for ``data`` (check the callback URL before you call this). ``text``: the
    code itself, when its form matters (a sign-in code starts with the digits the mail shows); random otherwise."""
    code = VerificationCode(
        id=store.ids.uuid(),
        type=code_type,
        code=text if text is not None else store.ids.secret(CODE_LENGTH),
        data=data,
        expires_at=store.clock.now_ms() + expires_in_ms,
        callback_url=callback_url,
    )
    project.codes[code.code] = code
    return code


def find_code(store: Store, project: Project, code_type: str, raw: str) -> VerificationCode:
    """The valid, unused code ``raw`` of ``code_type`` (counts an attempt), or the error Stack gives for it."""
    value = raw.lower()  # codes are mailed upper case; Stack accepts either
    suffix = value[6:]
    for other in project.codes.values():
        if other.code.endswith(suffix):
            other.attempts += 1
    code = project.codes.get(value)
    if code is None or code.type != code_type:
        raise known.verification_code_not_found()
    if code.expires_at < store.clock.now_ms():
        raise known.verification_code_expired()
    if code.used_at is not None:
        raise known.verification_code_already_used()
    if code.attempts > MAX_ATTEMPTS:
        raise known.verification_code_max_attempts_reached()
    return code


def use_code(store: Store, project: Project, code_type: str, raw: str) -> VerificationCode:
    """:func:`find_code`, then mark the code used (a second use is VERIFICATION_CODE_ALREADY_USED)."""
    code = find_code(store, project, code_type, raw)
    code.used_at = store.clock.now_ms()
    return code


def live_codes(store: Store, project: Project, code_type: str) -> list[VerificationCode]:
    """Unused, unexpired codes of ``code_type``, oldest first (e.g. a team's pending invitations)."""
    now = store.clock.now_ms()
    return [c for c in project.codes.values() if c.type == code_type and c.used_at is None and c.expires_at >= now]


def code_from_body(ctx: Ctx) -> str:
    """The ``code`` of a use/check request body (SCHEMA_ERROR unless it is a string of 45 characters)."""
    return code_and_body(ctx)[0]


def code_and_body(ctx: Ctx, extra: Mapping[str, Field] | None = None) -> tuple[str, dict[str, Any]]:
    """The ``code`` of a request body that has ``extra`` fields too (a new password, a TOTP), and the body."""
    v = ctx.validator()
    data = v.body(ctx.request.body, {"code": Field("string", required=True), **(extra or {})})
    if "code" in data and len(data["code"]) != CODE_LENGTH:
        v.fail(f"body.code must be exactly {CODE_LENGTH} characters")
    v.done()
    return str(data["code"]), data


def check_code_route(code_type: str) -> Callable[[Ctx], Awaitable[Response]]:
    """The ``.../check-code`` route of codes of ``code_type``: ``{"is_code_valid": true}``, or the code's error."""

    async def check_code(ctx: Ctx) -> Response:
        auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
        raw = code_from_body(ctx)
        with ctx.services.store.lock:
            find_code(ctx.services.store, auth.project, code_type, raw)
        return json_response({"is_code_valid": True})

    return check_code
