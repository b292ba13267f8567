# GENERATED from stack_auth/_async/_app.py by scripts/gen_sync.py: edit the source, not this file.
"""The app objects: options, lifecycle, resources. ``StackServerApp`` is the one most code needs."""

from __future__ import annotations

import os
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from stack_auth._sync._transport import Transport, Credentials
from stack_auth._sync.resources.api_keys import TeamApiKeys, UserApiKeys
from stack_auth._sync.resources.contact_channels import ContactChannels
from stack_auth._sync.resources.oauth_providers import OAuthProviders
from stack_auth._sync.resources.sessions import Sessions
from stack_auth._sync.resources.teams import Teams
from stack_auth._sync.resources.users import Users
from stack_auth._sync_http import HttpBackend
from stack_auth._concurrency import Limiter, RateGate
from stack_auth._config import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ENV_API_URL,
    ENV_PROJECT_ID,
    ENV_PUBLISHABLE_CLIENT_KEY,
    ENV_SECRET_SERVER_KEY,
)
from stack_auth._exceptions import ConfigurationError
from stack_auth._http import HTTPClient, TimeoutTypes
from stack_auth._httpx import classes
from stack_auth._retry import RetryPolicy
from stack_auth._validate import text_arg
from stack_auth.models import NOT_GIVEN, NotGiven, Project, ServerUser, structure

if TYPE_CHECKING:
    from stack_auth._sync._bulk import Bulk
    from stack_auth._sync._token_session import TokenSession
    from stack_auth._sync.resources.current_user import CurrentUser
    from stack_auth._sync.resources.data_vault import DataVault
    from stack_auth._sync.resources.emails import Emails
    from stack_auth._sync.resources.payments import Payments
    from stack_auth.tokens import AccessTokenClaims

AppT = TypeVar("AppT", bound="AppBase")


class AppBase:
    """What the server and client apps share: credentials, transport, lifecycle, per-call options."""

    _access_type: ClassVar[str]

    def __init__(
        self,
        *,
        project_id: str,
        secret_server_key: str | None = None,
        publishable_client_key: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        http_client: HTTPClient | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        rate_limit: float | None = None,
        token_issuer_url: str | None = None,
    ) -> None:
        _check_text("project_id", project_id)
        if publishable_client_key is not None:
            _check_text("publishable_client_key", publishable_client_key)
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ConfigurationError(f"base_url must be an http:// or https:// URL, got {base_url!r}")
        if token_issuer_url is not None and not str(token_issuer_url).startswith(("http://", "https://")):
            raise ConfigurationError(f"token_issuer_url must be an http:// or https:// URL, got {token_issuer_url!r}")
        if http_client is not None and not isinstance(http_client, classes("Client")):
            raise ConfigurationError(
                f"http_client must be an httpx.Client or an httpx2.Client for {type(self).__name__}, "
                f"got {type(http_client).__name__}"
            )
        if not isinstance(max_retries, int) or max_retries < 0:
            raise ConfigurationError(f"max_retries must be a whole number >= 0, got {max_retries!r}")
        try:
            limiter = Limiter(max_concurrency)
            gate = RateGate(rate_limit)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        credentials = Credentials(
            project_id=project_id,
            access_type=self._access_type,
            secret_server_key=secret_server_key,
            publishable_client_key=publishable_client_key,
        )
        self._setup(
            Transport(
                credentials,
                base_url=base_url,
                http=HttpBackend(http_client=http_client, max_connections=max_concurrency),
                limiter=limiter,
                gate=gate,
                retry=RetryPolicy(max_retries=max_retries),
                timeout=timeout,
                token_issuer_url=token_issuer_url,
            )
        )

    def _setup(self, transport: Transport) -> None:
        self._transport = transport

    @property
    def project_id(self) -> str:
        return self._transport.credentials.project_id

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    def with_options(
        self: AppT,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> AppT:
        """A cheap copy with other per-call options, sharing this app's connections, limits and rate gate.

        ``app.with_options(timeout=5, max_retries=0).users.get(user_id)``
        """
        if not isinstance(max_retries, NotGiven) and (not isinstance(max_retries, int) or max_retries < 0):
            raise ConfigurationError(f"max_retries must be a whole number >= 0, got {max_retries!r}")
        copy = object.__new__(type(self))
        copy._setup(self._transport.with_options(timeout=timeout, max_retries=max_retries))
        return copy

    def get_project(self) -> Project:
        """The project this app talks to, with its public settings (``GET /projects/current``).

        ``project = app.get_project(); project.config.sign_up_enabled``
        """
        return structure(self._transport.request("GET", "/projects/current"), Project)

    def close(self) -> None:
        """Close the connections this app opened (idempotent). A caller's own ``http_client`` stays open."""
        self._transport.close()

    def __enter__(self: AppT) -> AppT:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(project_id={self.project_id!r}, base_url={self.base_url!r})"


class StackServerApp(AppBase):
    """Server access to a Stack project: manage users, teams and sessions with the secret server key.

    Create one per process and close it at shutdown::

        with StackServerApp(project_id="...", secret_server_key="...") as app:
            user = app.users.create(primary_email="a@example.com", primary_email_auth_enabled=True)
            for u in app.users.list(query="example.com"):
                print(u.id, u.primary_email)

    Options: ``base_url`` (self-hosted Stack), ``timeout`` (seconds, or an ``httpx.Timeout`` or ``httpx2.Timeout``),
    ``max_retries``, ``max_concurrency`` (in-flight requests, also the pool size), ``rate_limit`` (requests per second,
    client side), ``http_client`` (your own ``httpx.Client`` or ``httpx2.Client``; we never close it),
    ``token_issuer_url`` (the API URL the Stack server knows itself by, when you reach it at another address: its
    access tokens' issuer is built from it).
    """

    _access_type = "server"
    users: Users
    teams: Teams
    sessions: Sessions
    user_api_keys: UserApiKeys
    team_api_keys: TeamApiKeys
    oauth_providers: OAuthProviders
    contact_channels: ContactChannels

    def __init__(
        self,
        *,
        project_id: str,
        secret_server_key: str,
        publishable_client_key: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        http_client: HTTPClient | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        rate_limit: float | None = None,
        token_issuer_url: str | None = None,
    ) -> None:
        _check_text("secret_server_key", secret_server_key, hint=f" (or set {ENV_SECRET_SERVER_KEY})")
        super().__init__(
            project_id=project_id,
            secret_server_key=secret_server_key,
            publishable_client_key=publishable_client_key,
            base_url=base_url,
            http_client=http_client,
            timeout=timeout,
            max_retries=max_retries,
            max_concurrency=max_concurrency,
            rate_limit=rate_limit,
            token_issuer_url=token_issuer_url,
        )

    def _setup(self, transport: Transport) -> None:
        super()._setup(transport)
        self.users = Users(transport)
        self.teams = Teams(transport)
        self.sessions = Sessions(transport)
        self.user_api_keys = UserApiKeys(transport)
        self.team_api_keys = TeamApiKeys(transport)
        self.oauth_providers = OAuthProviders(transport)
        self.contact_channels = ContactChannels(transport)

    # Built on first use, so that importing and creating an app stays cheap for code that never needs them.
    @cached_property
    def bulk(self) -> Bulk:
        """Bulk jobs over many inputs (see :class:`~stack_auth._sync._bulk.Bulk`)."""
        from stack_auth._sync._bulk import Bulk

        return Bulk(self.users, concurrency=self._transport.limiter.limit)

    @cached_property
    def emails(self) -> Emails:
        """Send emails to users, read the outbox, manage notification preferences (``app.emails.send(...)``)."""
        from stack_auth._sync.resources.emails import Emails

        return Emails(self._transport)

    @cached_property
    def data_vault(self) -> DataVault:
        """The encrypted key-value stores: ``app.data_vault.store("secrets").get(key, secret=...)``."""
        from stack_auth._sync.resources.data_vault import DataVault

        return DataVault(self._transport)

    @cached_property
    def payments(self) -> Payments:
        """Items (credits, quotas) per customer and purchase URLs (``app.payments.try_decrease_item_quantity``)."""
        from stack_auth._sync.resources.payments import Payments

        return Payments(self._transport)

    @cached_property
    def _tokens(self) -> TokenSession:
        from stack_auth._sync._token_session import TokenSession

        return TokenSession(self._transport)

    @cached_property
    def current_user(self) -> CurrentUser[ServerUser]:
        """Act as a user with their tokens (``tokens=`` on every call), e.g. of a session this app created:
        ``app.current_user.get(tokens=app.sessions.create(user_id))``."""
        from stack_auth._sync.resources.current_user import CurrentUser

        return CurrentUser(self._tokens, ServerUser)

    def verify_access_token(
        self, token: str, *, allow_anonymous: bool = False, allow_restricted: bool = False
    ) -> AccessTokenClaims:
        """Verify an end user's access token locally (no call to Stack once the project's JWKS is cached).

        ``claims = app.verify_access_token(token)``; ``claims.id`` is the user id. ES256 signatures only,
        checked against the project's JWKS (cached per its Cache-Control); audience and issuer of this project;
        expiry and issue time with a small leeway. Anonymous users' tokens are accepted only with
        ``allow_anonymous=True`` (which also accepts restricted users), restricted users' only with
        ``allow_restricted=True``. Raises an :class:`~stack_auth.errors.InvalidTokenError` subclass saying why a
        token is refused; connection errors while fetching the JWKS are raised as such.
        """
        return self._tokens.verify(token, allow_anonymous=allow_anonymous, allow_restricted=allow_restricted)

    def get_user_from_token(
        self, token: str | None, *, allow_anonymous: bool = False, allow_restricted: bool = False
    ) -> ServerUser | None:
        """The user of an access token, fresh from Stack (``GET /users/me``), or None when the token is missing,
        invalid or expired, or its user is anonymous/restricted and not allowed.

        ``user = app.get_user_from_token(request.headers.get("x-stack-access-token"))``. One request per
        call; :meth:`verify_access_token` answers locally. To act as a user with refresh, pass their tokens to
        ``app.current_user`` methods.
        """
        if not token:
            return None
        current = self.current_user
        return current.get(tokens=token, allow_anonymous=allow_anonymous, allow_restricted=allow_restricted)

    def complete_cli_login(self, login_code: str, refresh_token: str) -> None:
        """Complete a command-line tool's browser login for the user signed in to your web app: the
        ``login_code`` of the page's URL and that user's refresh token (``POST /auth/cli/complete``). The tool's
        ``cli_login`` then receives the session. Stack answers 400 for a login code that is unknown, expired or
        already completed, and for a refresh token it does not know."""
        body = {
            "login_code": text_arg(login_code, "login_code"),
            "refresh_token": text_arg(refresh_token, "refresh_token"),
        }
        self._transport.request("POST", "/auth/cli/complete", json=body)

    @classmethod
    def from_env(cls, **options: Any) -> StackServerApp:
        """An app configured from ``STACK_PROJECT_ID``, ``STACK_SECRET_SERVER_KEY``, ``STACK_PUBLISHABLE_CLIENT_KEY``
        and ``STACK_API_URL``; keyword arguments override them."""
        return cls(**from_env_options(options, server=True))


def _check_text(name: str, value: object, *, hint: str = "") -> None:
    """A credential sent in a header: a non-empty string without control characters (never echoed: it may be a key)."""
    if not isinstance(value, str) or not value.strip():
        shown = "an empty string" if value == "" else type(value).__name__
        raise ConfigurationError(f"{name} must be a non-empty string{hint}, got {shown}")
    if not value.isprintable():
        raise ConfigurationError(
            f"{name} contains a line break or another control character (read from a file or the environment with "
            "its newline?): remove it"
        )


def from_env_options(options: dict[str, Any], *, server: bool) -> dict[str, Any]:
    """The app options from the ``STACK_*`` environment, overridden by ``options``; says which one is missing."""
    names = {
        "project_id": ENV_PROJECT_ID,
        "publishable_client_key": ENV_PUBLISHABLE_CLIENT_KEY,
        "base_url": ENV_API_URL,
    }
    if server:
        names["secret_server_key"] = ENV_SECRET_SERVER_KEY
    found: dict[str, Any] = {option: os.environ[env] for option, env in names.items() if os.environ.get(env)}
    found.update(options)
    required = ["project_id", "secret_server_key"] if server else ["project_id"]
    for option in required:
        if not found.get(option):
            raise ConfigurationError(f"{names[option]} is not set: set it, or pass {option}=")
    return found
