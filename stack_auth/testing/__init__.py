"""``stack_auth.testing``: an in-memory emulator of the Stack Auth REST API, for tests and benchmarks.

Needs the ``testing`` extra (``pip install stack-auth[testing]``: starlette, uvicorn, pyjwt[crypto])::

    from stack_auth.testing import Emulator

    emu = Emulator(seed=1)                      # project "internal" with the local development keys
    app = emu.asgi_app                          # httpx.ASGITransport(app=emu.asgi_app) in-process
    with emu.serve() as base_url:               # or over a loopback socket
        ...
    emu.faults.next_rate_limited("GET /users/{user_id}", retry_after=1)
    assert emu.stats.count("POST /users") == 1

From a shell: ``python -m stack_auth.testing --port 8102``. Pytest fixtures ``stack_emulator`` and
``stack_emulator_url`` come from :mod:`stack_auth.testing.pytest_plugin`.

Importing this package imports nothing optional; the names below load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stack_auth.testing.defaults import (
    DEFAULT_PROJECT_ID,
    DEFAULT_PUBLISHABLE_CLIENT_KEY,
    DEFAULT_SECRET_SERVER_KEY,
)

if TYPE_CHECKING:
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
]

_LAZY = {
    "Emulator": "stack_auth.testing.emulator",
    "DroppedConnection": "stack_auth.testing.faults",
    "Faults": "stack_auth.testing.faults",
    "ProjectConfig": "stack_auth.testing.state",
    "Stats": "stack_auth.testing.stats",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
