"""Default values of the emulator: the project it creates, its keys, token lifetimes, limits.

They mirror a local development Stack backend (project ``internal`` with the local-only development keys), so code
pointed at the emulator is set up exactly like code pointed at ``http://localhost:8102``.
"""

from __future__ import annotations

from typing import Final

#: The project every emulator starts with (a real Stack server has it too).
DEFAULT_PROJECT_ID: Final = "internal"
#: Local-only keys a development Stack backend seeds for ``internal``.
DEFAULT_PUBLISHABLE_CLIENT_KEY: Final = "this-publishable-client-key-is-for-local-development-only"
DEFAULT_SECRET_SERVER_KEY: Final = "this-secret-server-key-is-for-local-development-only"

#: Seconds an access token lives (Stack's ``STACK_ACCESS_TOKEN_EXPIRATION_TIME`` default, 10 minutes).
DEFAULT_ACCESS_TOKEN_LIFETIME: Final = 600.0
#: Milliseconds a session lives when ``expires_in_millis`` is not given (365 days).
DEFAULT_SESSION_EXPIRES_IN_MILLIS: Final = 365 * 24 * 3600 * 1000
#: The longest session ``POST /auth/sessions`` accepts (367 days).
MAX_SESSION_EXPIRES_IN_MILLIS: Final = 367 * 24 * 3600 * 1000

#: PBKDF2-SHA256 iterations for stored passwords: real hashing, but cheap enough for thousands of sign-ups in a test.
DEFAULT_PASSWORD_HASH_ITERATIONS: Final = 1000

#: Password length rules of ``POST /auth/password/sign-up`` (``getPasswordError`` in Stack).
PASSWORD_MIN_LENGTH: Final = 8
PASSWORD_MAX_LENGTH: Final = 70

#: The client secret Stack accepts at ``/auth/oauth/token`` when a project does not require publishable keys.
PUBLIC_CLIENT_SECRET: Final = "__stack_public_client__"

API_PREFIX: Final = "/api/v1"
CONTROL_PREFIX: Final = "/__emulator__"
