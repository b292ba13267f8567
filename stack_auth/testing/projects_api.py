"""Route ``GET /projects/current``: the project as client and server access read it (with its public ``config``).

The answer's ``config`` is what the real backend returns beside the documented ``id`` and ``display_name``
(``samples-wave2.json``); it comes from the emulated project's settings (:class:`~stack_auth.testing.ProjectConfig`).
"""

from __future__ import annotations

from typing import Any

from stack_auth.testing.auth import CLIENT_OR_HIGHER, require_access
from stack_auth.testing.context import Ctx
from stack_auth.testing.state import ProjectConfig
from stack_auth.testing.wire import Response, json_response


def project_view(config: ProjectConfig) -> dict[str, Any]:
    return {
        "id": config.project_id,
        "display_name": config.display_name,
        "config": {
            "allow_user_api_keys": config.allow_user_api_keys,
            "allow_team_api_keys": config.allow_team_api_keys,
            "enabled_oauth_providers": [{"id": p} for p in config.enabled_oauth_providers],
            "sign_up_enabled": config.sign_up_enabled,
            "credential_enabled": config.password_auth_enabled,
            "magic_link_enabled": config.magic_link_enabled,
            "passkey_enabled": config.passkey_enabled,
            "client_team_creation_enabled": config.client_team_creation_enabled,
            "client_user_deletion_enabled": config.client_user_deletion_enabled,
            "domains": [{"domain": d, "handler_path": "/handler"} for d in config.trusted_domains],
        },
    }


async def current_project(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    v = ctx.validator()
    v.unknown("query", ctx.request.query, ())
    v.done()
    with ctx.services.store.lock:
        return json_response(project_view(auth.project.config))


ROUTES = [("GET", "/projects/current", current_project)]
