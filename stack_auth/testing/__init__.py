"""``stack_auth.testing``: an in-memory emulator of the Stack Auth REST API, for tests and benchmarks.

Needs the ``testing`` extra (``pip install stack-auth[testing]``: starlette, uvicorn, pyjwt[crypto], pyotp)::

    from stack_auth.testing import Emulator

    emu = Emulator(seed=1)                      # project "internal" with the local development keys
    app = emu.asgi_app                          # httpx.ASGITransport(app=emu.asgi_app) in-process
    with emu.serve() as base_url:               # or over a loopback socket
        ...
    emu.faults.next_rate_limited("GET /users/{user_id}", retry_after=1)
    assert emu.stats.count("POST /users") == 1
    code = emu.last_code("a@example.com")      # the code the last mail to an address carries (sign-in, reset)
    secret = emu.webhooks.add_endpoint("http://127.0.0.1:8000/hook")   # the webhooks Stack sends, delivered

From a shell: ``python -m stack_auth.testing --port 8102``. Pytest fixtures (``stack_emulator``,
``stack_emulator_url``, ready apps) come from :mod:`stack_auth.testing.pytest_plugin`; ``in_process_app`` gives an app
wired to an emulator without a socket.

Importing this package imports nothing optional; the names below load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stack_auth._lazy import lazy_attributes
from stack_auth.testing.defaults import (
    DEFAULT_PROJECT_ID,
    DEFAULT_PUBLISHABLE_CLIENT_KEY,
    DEFAULT_SECRET_SERVER_KEY,
)

if TYPE_CHECKING:
    from stack_auth.testing.apps import in_process_app
    from stack_auth.testing.emulator import Emulator
    from stack_auth.testing.faults import DroppedConnection, Faults
    from stack_auth.testing.state import ProjectConfig
    from stack_auth.testing.stats import Stats

__all__ = [
    "DEFAULT_PROJECT_ID",
    "DEFAULT_PUBLISHABLE_CLIENT_KEY",
    "DEFAULT_SECRET_SERVER_KEY",
    "DroppedConnection",
    "Emulator",
    "Faults",
    "ProjectConfig",
    "Stats",
    "in_process_app",
]

_LAZY = {
    "Emulator": "stack_auth.testing.emulator",
    "DroppedConnection": "stack_auth.testing.faults",
    "Faults": "stack_auth.testing.faults",
    "ProjectConfig": "stack_auth.testing.state",
    "Stats": "stack_auth.testing.stats",
    "in_process_app": "stack_auth.testing.apps",
}


__getattr__ = lazy_attributes(__name__, _LAZY)
