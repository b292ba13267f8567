# GENERATED from stack_auth/_async/_client_app.py by scripts/gen_sync.py: edit the source, not this file.
"""The client-access app: acts for end users with their tokens (publishable key, never a secret key)."""

from __future__ import annotations

from typing import Any

import httpx

from stack_auth._sync._app import AppBase, from_env_options
from stack_auth._config import DEFAULT_BASE_URL, DEFAULT_MAX_CONCURRENCY, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from stack_auth._http import TimeoutTypes


class StackClientApp(AppBase):
    """Client access to a Stack project (publishable key, acting for end users with their tokens).

    ``with StackClientApp(project_id="...", publishable_client_key="...") as app: ...``
    """

    _access_type = "client"

    def __init__(
        self,
        *,
        project_id: str,
        publishable_client_key: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        http_client: httpx.Client | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        rate_limit: float | None = None,
    ) -> None:
        super().__init__(
            project_id=project_id,
            publishable_client_key=publishable_client_key,
            base_url=base_url,
            http_client=http_client,
            timeout=timeout,
            max_retries=max_retries,
            max_concurrency=max_concurrency,
            rate_limit=rate_limit,
        )

    @classmethod
    def from_env(cls, **options: Any) -> StackClientApp:
        """An app configured from ``STACK_PROJECT_ID``, ``STACK_PUBLISHABLE_CLIENT_KEY`` and ``STACK_API_URL``."""
        return cls(**{**from_env_options(server=False), **options})
