"""Type-checked, not run (``nox -s typecheck``): either library's clients and timeouts are valid app options, and the
wrong ones are errors (``warn_unused_ignores`` under ``--strict`` fails the check if an ignore below is not needed)."""

from __future__ import annotations

import httpx
import httpx2

from stack_auth import AsyncStackClientApp, AsyncStackServerApp, StackClientApp, StackServerApp


async def async_apps(a: httpx.AsyncClient, b: httpx2.AsyncClient) -> None:
    AsyncStackServerApp(project_id="p", secret_server_key="k", http_client=a, timeout=httpx2.Timeout(3.0))
    AsyncStackServerApp(project_id="p", secret_server_key="k", http_client=b, timeout=httpx.Timeout(3.0))
    AsyncStackClientApp(project_id="p", http_client=b, timeout=2.5)
    app = AsyncStackServerApp(project_id="p", secret_server_key="k", http_client=a, timeout=None)
    app.with_options(timeout=httpx2.Timeout(1.0, connect=0.5))


def sync_apps(a: httpx.Client, b: httpx2.Client, wrong: httpx2.AsyncClient) -> None:
    StackServerApp(project_id="p", secret_server_key="k", http_client=a, timeout=httpx2.Timeout(3.0))
    StackServerApp(project_id="p", secret_server_key="k", http_client=b, timeout=httpx.Timeout(3.0))
    StackClientApp(project_id="p", http_client=b, timeout=1)
    StackServerApp(project_id="p", secret_server_key="k", http_client=wrong)  # type: ignore[arg-type]
    StackServerApp(project_id="p", secret_server_key="k", timeout="3")  # type: ignore[arg-type]
