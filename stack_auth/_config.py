"""Every default of the SDK in one place: URLs, timeouts, retry limits, pool sizes, environment variable names."""

from __future__ import annotations

from typing import Final

from stack_auth._version import __version__

DEFAULT_BASE_URL: Final = "https://api.stack-auth.com"
API_PREFIX: Final = "/api/v1"
CLIENT_VERSION: Final = f"python@{__version__}"

# Seconds. A connect that takes longer than this is a dead host; a read of 60 s covers slow list pages.
DEFAULT_TIMEOUT: Final = 60.0
DEFAULT_CONNECT_TIMEOUT: Final = 10.0

# Retries (the policy object in _retry.py reads these).
DEFAULT_MAX_RETRIES: Final = 5
RETRY_BASE_DELAY: Final = 0.5  # seconds; doubles each attempt, full jitter
RETRY_MAX_DELAY: Final = 30.0  # no single wait (backoff or Retry-After) longer than this
RETRY_MAX_TOTAL_WAIT: Final = 120.0  # all waits of one call together stay below this

# In-flight requests per app. Keeps queues out of the HTTP pool (httpx's pool degrades badly with deep queues).
DEFAULT_MAX_CONCURRENCY: Final = 64

DEFAULT_PAGE_SIZE: Final = 100

# Session lifetime bounds the server enforces (POST /auth/sessions).
MAX_SESSION_EXPIRES_IN_MILLIS: Final = 367 * 24 * 3600 * 1000

# Token refresh thresholds from Stack's SDK spec.
REFRESH_IF_EXPIRES_WITHIN_SECONDS: Final = 20
REFRESH_IF_ISSUED_MORE_THAN_SECONDS_AGO: Final = 75

# The public client secret Stack accepts when a project does not require a publishable key.
PUBLIC_CLIENT_SECRET: Final = "__stack_public_client__"

ENV_PROJECT_ID: Final = "STACK_PROJECT_ID"
ENV_SECRET_SERVER_KEY: Final = "STACK_SECRET_SERVER_KEY"
ENV_PUBLISHABLE_CLIENT_KEY: Final = "STACK_PUBLISHABLE_CLIENT_KEY"
ENV_API_URL: Final = "STACK_API_URL"
# Which httpx the SDK builds its own clients with: "httpx2" or "httpx" (unset: httpx2 when installed).
ENV_HTTPX: Final = "STACK_AUTH_HTTPX"
