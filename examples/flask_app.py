"""A Flask backend that authenticates Stack Auth users (sync API).

    STACK_PROJECT_ID=... STACK_SECRET_SERVER_KEY=... flask --app examples.flask_app run

Your frontend sends the user's access token (``x-stack-access-token``, ``x-stack-auth`` or
``Authorization: Bearer``); ``login_required`` verifies it locally and puts the user in ``g.stack_user``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g

from stack_auth import StackServerApp
from stack_auth.flask import StackAuth, get_stack_app, login_required


def create_app(stack_app: StackServerApp | None = None) -> Flask:
    """The Flask app; the Stack app comes from the STACK_* environment unless given."""
    app = Flask(__name__)
    StackAuth(app, stack_app or StackServerApp.from_env())

    @app.get("/me")
    @login_required
    def me() -> dict[str, Any]:
        return {"id": g.stack_user.id, "email": g.stack_user.primary_email}

    @app.get("/hello")
    @login_required(optional=True)
    def hello() -> dict[str, str]:
        user = g.stack_user
        return {"greeting": f"hello {user.display_name or user.id}" if user else "hello stranger"}

    @app.get("/profile")
    @login_required
    def profile() -> dict[str, Any]:
        # Fresh from Stack (one request): e.g. metadata your server changed since the token was issued.
        stack_app = get_stack_app()
        assert isinstance(stack_app, StackServerApp)
        user = stack_app.users.get(g.stack_user.id)
        return {"id": g.stack_user.id, "server_metadata": user.server_metadata if user else None}

    return app
