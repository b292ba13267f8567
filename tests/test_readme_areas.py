"""The README's snippets for permissions, contact channels, invitations/profiles, API keys and OAuth provider accounts
run against the emulator."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from stack_auth import AsyncStackClientApp, AsyncStackServerApp
from stack_auth.testing import Emulator, in_process_app

README = Path(__file__).resolve().parents[1] / "README.md"
SECTIONS = (
    "## Permissions",
    "## Contact channels (a user's emails)",
    "## Team invitations and member profiles",
    "## API keys (users and teams)",
    "## OAuth provider accounts",
)


def snippet(heading: str) -> str:
    """The first python block of a README section."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(heading + "\n") :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None, heading
    return match.group(1)


@pytest.mark.anyio
@pytest.mark.parametrize("heading", SECTIONS)
async def test_readme_snippet_runs(heading: str) -> None:
    emu = Emulator(
        project_permissions={"admin": []},
        team_permissions={"read_secrets": [], "manage_secrets": ["read_secrets"]},
    )
    async with in_process_app(emu, AsyncStackServerApp) as app:
        user = await app.users.create(primary_email="a@example.com", primary_email_auth_enabled=True)
        team = await app.teams.create("Readme", creator_user_id=user.id)
        tokens = await app.sessions.create(user.id)
        async with in_process_app(emu, AsyncStackClientApp, token_store=tokens) as client:
            namespace: dict[str, Any] = {"app": app, "client": client, "user": user, "team": team, "emu": emu}
            body = textwrap.indent(snippet(heading), "    ")
            exec(f"async def run():\n{body}", namespace)
            await namespace["run"]()
    assert emu.stats.statuses().keys() <= {200, 201}, emu.stats.statuses()
