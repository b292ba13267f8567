"""Small helpers the tests share (pytest puts this folder on sys.path)."""

from __future__ import annotations

from typing import Any

from stack_auth.testing import Emulator


def server_app_kwargs(emulator: Emulator) -> dict[str, Any]:
    """The credentials of the emulator's default project, for a server app."""
    return {"project_id": emulator.project_id, "secret_server_key": emulator.secret_server_key}
