"""stack-auth: the Python SDK for the Stack Auth REST API.

Async first, with a sync API generated from the same source::

    from stack_auth import AsyncStackServerApp, StackServerApp

    async with AsyncStackServerApp.from_env() as app:
        user = await app.users.create(primary_email="a@example.com", primary_email_auth_enabled=True)

    with StackServerApp.from_env() as app:
        for user in app.users.list(query="example.com"):
            print(user.primary_email)

Errors are in :mod:`stack_auth.errors`, models in :mod:`stack_auth.models`, the emulator for tests in
:mod:`stack_auth.testing` (extra ``testing``). Optional parts load on first use, never at ``import stack_auth``.
"""

from typing import TYPE_CHECKING

from stack_auth._exceptions import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    InternalServerError,
    InvalidArgumentError,
    InvalidTokenError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StackAuthApiError,
    StackAuthError,
    TokenRequiredError,
)
from stack_auth._lazy import lazy_attributes
from stack_auth._version import __version__
from stack_auth.models import NOT_GIVEN, NotGiven

if TYPE_CHECKING:
    from stack_auth._async._app import AsyncStackServerApp
    from stack_auth._async._client_app import AsyncStackClientApp
    from stack_auth._fanout import BulkResult
    from stack_auth._progress import BulkProgress
    from stack_auth._sync._app import StackServerApp
    from stack_auth._sync._client_app import StackClientApp
    from stack_auth.models import OAuthAuthorization
    from stack_auth.token_stores import FileTokenStore, KeyringTokenStore
    from stack_auth.tokens import AccessTokenClaims, TokenStore

# The app classes load on first use: a sync program never imports the async side, nor the other way round.
_LAZY = {
    "AsyncStackServerApp": "stack_auth._async._app",
    "AsyncStackClientApp": "stack_auth._async._client_app",
    "StackServerApp": "stack_auth._sync._app",
    "StackClientApp": "stack_auth._sync._client_app",
    "BulkResult": "stack_auth._fanout",
    "BulkProgress": "stack_auth._progress",
    "AccessTokenClaims": "stack_auth.tokens",
    "TokenStore": "stack_auth.tokens",
    "FileTokenStore": "stack_auth.token_stores",
    "KeyringTokenStore": "stack_auth.token_stores",
    "OAuthAuthorization": "stack_auth.models",
}


# Public submodules are attributes too, imported on first access: ``import stack_auth; stack_auth.errors.UserNotFound``.
__getattr__ = lazy_attributes(__name__, _LAZY, submodules=True)

__all__ = [
    "NOT_GIVEN",
    "APIConnectionError",
    "APITimeoutError",
    "AccessTokenClaims",
    "AsyncStackClientApp",
    "AsyncStackServerApp",
    "AuthenticationError",
    "BulkProgress",
    "BulkResult",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "InternalServerError",
    "InvalidArgumentError",
    "FileTokenStore",
    "InvalidTokenError",
    "KeyringTokenStore",
    "MalformedResponseError",
    "NotFoundError",
    "NotGiven",
    "OAuthAuthorization",
    "PermissionDeniedError",
    "RateLimitError",
    "StackAuthApiError",
    "StackAuthError",
    "StackClientApp",
    "StackServerApp",
    "TokenRequiredError",
    "TokenStore",
    "__version__",
]
