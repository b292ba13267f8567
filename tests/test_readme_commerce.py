"""The README's snippets for emails, the data vault and payments run against the emulator (asyncio and trio)."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from stack_auth import AsyncStackServerApp
from stack_auth.testing import Emulator, in_process_app

try:  # tests/ as a package or as plain modules
    from .test_readme_areas import snippet
except ImportError:
    from test_readme_areas import snippet  # type: ignore[no-redef]

pytestmark = pytest.mark.anyio

TEMPLATE_ID = "3241a285-8329-4d69-8f3d-316e08cf140c"


@pytest.mark.parametrize("heading", ["## Emails", "## Data vault", "## Payments: items, credits and quotas"])
async def test_readme_snippet_runs(heading: str) -> None:
    emu = Emulator(
        email_templates={TEMPLATE_ID: "export function EmailTemplate() { return <p>Hi</p>; }"},
        data_vault_stores=["secrets"],
        items={"credits": {"customer_type": "user", "display_name": "Credits"}},
        products={"pro": {"customer_type": "user", "display_name": "Pro"}},
    )
    emu.configure_project(trusted_domains=("https://app.example.com",))
    async with in_process_app(emu, AsyncStackServerApp) as app:
        user = await app.users.create(primary_email="a@example.com", primary_email_auth_enabled=True)
        namespace: dict[str, Any] = {
            "app": app,
            "user": user,
            "TEMPLATE_ID": TEMPLATE_ID,
            "VAULT_SECRET": "readme-secret",
            "token": "gho_readme",
        }
        exec(f"async def run():\n{textwrap.indent(snippet(heading), '    ')}", namespace)
        await namespace["run"]()
    assert emu.stats.statuses().keys() <= {200, 201}, emu.stats.statuses()
    assert emu.stats.total > 1
