"""Hand-written base classes of the error tree; the public module is :mod:`stack_auth.errors`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

__all__ = [
    "KNOWN_ERRORS",
    "error_class_for",
    "status_class",
    "APIConnectionError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "ConfigurationError",
    "InternalServerError",
    "InvalidArgumentError",
    "MalformedResponseError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "StackAuthApiError",
    "StackAuthError",
    "TokenRequiredError",
]


class StackAuthError(Exception):
    """Root of every error raised by ``stack_auth``."""


class ConfigurationError(StackAuthError, ValueError):
    """The SDK was set up or called with values that cannot work (missing key, bad option, wrong argument)."""


class InvalidArgumentError(StackAuthError, ValueError):
    """An argument cannot be sent as given (a malformed id, an out-of-range lifetime); the message says what to fix."""


class TokenRequiredError(StackAuthError):
    """A user-facing call had no user tokens to act with (pass ``tokens=`` or use a token store that has them)."""


class APIConnectionError(StackAuthError):
    """The request did not get an HTTP answer: connection refused or reset, DNS failure, protocol error."""

    def __init__(self, message: str, *, method: str, url: str, maybe_sent: bool = True) -> None:
        super().__init__(message)
        self.method = method
        self.url = url
        #: False when the connection could not even be opened: the request surely never reached the server.
        self.maybe_sent = maybe_sent


class APITimeoutError(APIConnectionError):
    """The request timed out (connect, read, write or pool timeout)."""


class StackAuthApiError(StackAuthError):
    """An error answer from the Stack API.

    ``code`` is Stack's known-error code (``"USER_NOT_FOUND"``) or None when the server gave no code (a proxy's HTML
    page, a plain-text error); ``message`` is the server's human-readable text (a short excerpt for non-JSON bodies);
    ``details`` the structured details Stack sent, if any.
    """

    #: The known-error code this class stands for (None on the generic classes).
    code_for_class: ClassVar[str | None] = None
    #: The HTTP status Stack uses for this code (None for abstract bases and generic classes).
    default_status: ClassVar[int | None] = None

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        details: Mapping[str, Any] | None = None,
        method: str = "",
        url: str = "",
        headers: Mapping[str, str] | None = None,
        retry_attempts: int = 0,
        waited_seconds: float = 0.0,
    ) -> None:
        self.message = message
        self.status = status
        self.code = code
        self.details: Mapping[str, Any] = details or {}
        self.method = method
        self.url = url
        self.headers: Mapping[str, str] = headers or {}
        #: How many retries were made before giving up (0 when the error was not retried).
        self.retry_attempts = retry_attempts
        #: Seconds spent waiting between those retries.
        self.waited_seconds = waited_seconds
        super().__init__(self._render())

    def _render(self) -> str:
        where = f" ({self.method} {self.url})" if self.method else ""
        code = f" {self.code}" if self.code else ""
        text = f"{self.status}{code}: {self.message}{where}"
        if self.retry_attempts:
            text += f" [gave up after {self.retry_attempts} retries, {self.waited_seconds:.1f}s of waiting]"
        return text

    def with_retry_info(self, attempts: int, waited_seconds: float) -> StackAuthApiError:
        """Record how many retries and how much waiting preceded this error (the message says so too)."""
        self.retry_attempts = attempts
        self.waited_seconds = waited_seconds
        self.args = (self._render(),)
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, message={self.message!r})"


class BadRequestError(StackAuthApiError):
    """HTTP 400."""


class AuthenticationError(StackAuthApiError):
    """HTTP 401: missing or invalid keys or tokens."""


class PermissionDeniedError(StackAuthApiError):
    """HTTP 403."""


class NotFoundError(StackAuthApiError):
    """HTTP 404."""


class ConflictError(StackAuthApiError):
    """HTTP 409 (for example ``USER_EMAIL_ALREADY_EXISTS``)."""


class RateLimitError(StackAuthApiError):
    """HTTP 429, after the retry policy gave up (the message says how many attempts and how long it waited)."""


class InternalServerError(StackAuthApiError):
    """HTTP 5xx."""


class MalformedResponseError(StackAuthApiError):
    """The answer broke the protocol: error code header and body disagree, or a success body is not valid JSON."""


#: Status classes by HTTP status; 5xx is handled by :func:`status_class`.
STATUS_CLASSES: dict[int, type[StackAuthApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def status_class(status: int) -> type[StackAuthApiError]:
    """The error class for an HTTP status without a known code."""
    if status >= 500:
        return InternalServerError
    return STATUS_CLASSES.get(status, StackAuthApiError)


def error_class_for(code: str | None, status: int) -> type[StackAuthApiError]:
    """The most specific class for a known-error code, or the status class for an unknown or absent code."""
    if code is not None:
        if not KNOWN_ERRORS:
            import stack_auth._known_errors  # noqa: F401  (fills KNOWN_ERRORS; loaded on the first error)
        known = KNOWN_ERRORS.get(code)
        if known is not None:
            return known
    return status_class(status)


#: Filled by the generated :mod:`stack_auth._known_errors`: one class per known-error code.
KNOWN_ERRORS: dict[str, type[StackAuthApiError]] = {}


# --- Local access-token verification (``verify_access_token``). Messages never contain the token. ---------------


class InvalidTokenError(StackAuthError):
    """An access token failed local verification; the subclass says why. Catch this one to treat all alike."""


class MalformedTokenError(InvalidTokenError):
    """Not a JWT at all: empty, truncated, garbage, bad base64 or JSON; or an unreadable ``x-stack-auth`` header."""


class TokenAlgorithmError(InvalidTokenError):
    """The token is not signed with ES256 (``alg: none``, HS256 and every other algorithm are refused)."""


class UnknownSigningKeyError(InvalidTokenError):
    """The token's ``kid`` is not in the project's JWKS, even after refetching it."""


class TokenSignatureError(InvalidTokenError):
    """The signature does not match the project's key: the token was forged or altered."""


class TokenExpiredError(InvalidTokenError):
    """The token's ``exp`` has passed (beyond the small clock leeway)."""


class TokenNotYetValidError(InvalidTokenError):
    """The token's ``iat`` or ``nbf`` is in the future (beyond the small clock leeway)."""


class TokenAudienceError(InvalidTokenError):
    """The token is for another project, or for a user type (anonymous, restricted) this call does not accept."""


class TokenIssuerError(InvalidTokenError):
    """The token was issued by another server or for another project or user type."""


class TokenClaimsError(InvalidTokenError):
    """A required claim (``sub``, ``exp``, ``iat``, ``aud``, ``iss``) is missing or has the wrong type."""


__all__ += [
    "InvalidTokenError",
    "MalformedTokenError",
    "TokenAlgorithmError",
    "TokenAudienceError",
    "TokenClaimsError",
    "TokenExpiredError",
    "TokenIssuerError",
    "TokenNotYetValidError",
    "TokenSignatureError",
    "UnknownSigningKeyError",
]


# --- sign-in flows (raised before or instead of a request) ----------------------------------------------------------


class OAuthCallbackError(StackAuthError):
    """The OAuth callback URL is not a successful answer to this sign-in: its ``state`` is missing or is not the one
    the sign-in started with (raised before any request), it has no ``code``, or the provider sent an ``error``
    (``.error``, ``.error_description``)."""

    def __init__(self, message: str, *, error: str | None = None, error_description: str | None = None) -> None:
        self.error = error
        self.error_description = error_description
        super().__init__(message)


class CliLoginTimeoutError(StackAuthError, TimeoutError):
    """``cli_login`` gave up: the user did not finish signing in in the browser within ``timeout`` seconds."""


__all__ += ["CliLoginTimeoutError", "OAuthCallbackError"]
