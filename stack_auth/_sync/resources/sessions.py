# GENERATED from stack_auth/_async/resources/sessions.py by scripts/gen_sync.py: edit the source, not this file.
"""Sessions (server access): ``app.sessions``."""

from __future__ import annotations

import builtins
from datetime import timedelta

from stack_auth._sync._transport import Transport
from stack_auth._config import MAX_SESSION_EXPIRES_IN_MILLIS
from stack_auth._validate import millis, uuid_arg
from stack_auth.models import SessionInfo, SessionTokens, structure, structure_items


class Sessions:
    """Create sessions for users (to act as them), list and revoke them."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def create(
        self, user_id: str, *, expires_in: timedelta | None = None, is_impersonation: bool = False
    ) -> SessionTokens:
        """A new session for the user: ``tokens = app.sessions.create(user.id, expires_in=timedelta(hours=1))``.

        ``tokens.access_token`` acts as the user (client access); ``tokens.refresh_token`` renews it. Stack's
        default lifetime is 365 days, its maximum 367.
        """
        body: dict[str, object] = {"user_id": uuid_arg(user_id, "user_id"), "is_impersonation": is_impersonation}
        if expires_in is not None:
            body["expires_in_millis"] = millis(expires_in, "expires_in", maximum=MAX_SESSION_EXPIRES_IN_MILLIS)
        return structure(self._transport.request("POST", "/auth/sessions", json=body), SessionTokens)

    def list(self, user_id: str) -> builtins.list[SessionInfo]:
        """The user's active sessions."""
        params = {"user_id": uuid_arg(user_id, "user_id")}
        data = self._transport.request("GET", "/auth/sessions", params=params)
        return structure_items(data, SessionInfo)

    def revoke(self, session_id: str, *, user_id: str) -> None:
        """Revoke one of the user's sessions; its refresh token stops working at once."""
        params = {"user_id": uuid_arg(user_id, "user_id")}
        self._transport.request("DELETE", f"/auth/sessions/{uuid_arg(session_id, 'session_id')}", params=params)
