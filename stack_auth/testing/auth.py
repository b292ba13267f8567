"""Project and user authentication of a request, in the order Stack checks it.

Mirrors ``parseAuth`` in ``apps/backend/src/route-handlers/smart-request.tsx``:

1. a key without ``x-stack-access-type`` -> PROJECT_KEY_WITHOUT_ACCESS_TYPE; no access type at all -> no auth
   (routes that need it answer ACCESS_TYPE_REQUIRED);
2. an access type other than client/server/admin -> INVALID_ACCESS_TYPE; no project id ->
   ACCESS_TYPE_WITHOUT_PROJECT_ID;
3. the access token: UNPARSABLE_ACCESS_TOKEN, ACCESS_TOKEN_EXPIRED, INVALID_PROJECT_FOR_ACCESS_TOKEN,
   ANONYMOUS_AUTHENTICATION_NOT_ALLOWED, RESTRICTED_USER_NOT_ALLOWED;
4. unknown project -> CURRENT_PROJECT_NOT_FOUND;
5. the key of the access type: PUBLISHABLE_CLIENT_KEY_REQUIRED_FOR_PROJECT / INVALID_PUBLISHABLE_CLIENT_KEY,
   SERVER_AUTHENTICATION_REQUIRED / INVALID_SECRET_SERVER_KEY, ADMIN_AUTHENTICATION_REQUIRED /
   INVALID_SUPER_SECRET_ADMIN_KEY.

The route then checks the access type it allows (INSUFFICIENT_ACCESS_TYPE, see :func:`require_access`).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from stack_auth.testing import known
from stack_auth.testing.state import Project, Store, User
from stack_auth.testing.tokens import TokenService

ACCESS_TYPES = ("client", "server", "admin")
SERVER_OR_HIGHER = ("server", "admin")
CLIENT_OR_HIGHER = ("client", "server", "admin")


@dataclass
class Auth:
    """Who is calling: project, access type, and the user and session of the access token (if any)."""

    project: Project
    type: str
    user: User | None
    refresh_token_id: str | None


def _same(given: str, expected: str | None) -> bool:
    return expected is not None and hmac.compare_digest(given.encode(), expected.encode())


def parse_auth(store: Store, tokens: TokenService, headers: Mapping[str, str]) -> Auth | None:
    project_id = headers.get("x-stack-project-id")
    access_type = headers.get("x-stack-access-type")
    client_key = headers.get("x-stack-publishable-client-key")
    server_key = headers.get("x-stack-secret-server-key")
    admin_key = headers.get("x-stack-super-secret-admin-key")
    admin_token = headers.get("x-stack-admin-access-token")
    access_token = headers.get("x-stack-access-token")

    if not access_type and (client_key or server_key or admin_key or admin_token):
        raise known.project_key_without_access_type()
    if not access_type:
        return None
    if access_type not in ACCESS_TYPES:
        raise known.invalid_access_type(access_type)
    if not project_id:
        raise known.access_type_without_project_id(access_type)

    user_id: str | None = None
    refresh_token_id: str | None = None
    if access_token:
        claims = tokens.decode(access_token)
        token_project = str(claims["aud"]).split(":")[0]
        if token_project != project_id:
            raise known.invalid_project_for_access_token(project_id, token_project)
        allow_anonymous = headers.get("x-stack-allow-anonymous-user") == "true"
        allow_restricted = allow_anonymous or headers.get("x-stack-allow-restricted-user") == "true"
        if claims.get("is_anonymous") and not allow_anonymous:
            raise known.anonymous_authentication_not_allowed()
        reason = claims.get("restricted_reason")
        if reason and not allow_restricted and not claims.get("is_anonymous"):
            raise known.restricted_user_not_allowed(reason if isinstance(reason, dict) else {"type": str(reason)})
        user_id = str(claims["sub"])
        rt = claims.get("refresh_token_id")
        refresh_token_id = str(rt) if rt is not None else None

    with store.lock:
        project = store.projects.get(project_id)
        if project is None:
            raise known.current_project_not_found(project_id)
        config = project.config
        if admin_token:
            raise known.unparsable_admin_access_token()
        if access_type == "client":
            if client_key:
                if not _same(client_key, config.publishable_client_key):
                    raise known.invalid_publishable_client_key(project_id)
            elif config.require_publishable_client_key:
                raise known.publishable_client_key_required_for_project(project_id)
        elif access_type == "server":
            if not server_key:
                raise known.server_authentication_required()
            if not _same(server_key, config.secret_server_key):
                raise known.invalid_secret_server_key(project_id)
        else:
            if not admin_key:
                raise known.admin_authentication_required()
            if not _same(admin_key, config.super_secret_admin_key):
                raise known.invalid_super_secret_admin_key(project_id)
        user = project.users.get(user_id) if user_id is not None else None
    return Auth(project, access_type, user, refresh_token_id)


def require_access(auth: Auth | None, allowed: tuple[str, ...]) -> Auth:
    """The route's access check: ACCESS_TYPE_REQUIRED without auth, INSUFFICIENT_ACCESS_TYPE for a lower type."""
    if auth is None:
        raise known.access_type_required()
    if auth.type not in allowed:
        raise known.insufficient_access_type(auth.type, list(allowed))
    return auth
