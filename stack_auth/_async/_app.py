"""The app objects: options, lifecycle, resources. ``AsyncStackServerApp`` is the one most code needs."""

from __future__ import annotations

import os
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from stack_auth._async._transport import AsyncTransport, Credentials
from stack_auth._async.resources.api_keys import AsyncTeamApiKeys, AsyncUserApiKeys
from stack_auth._async.resources.contact_channels import AsyncContactChannels
from stack_auth._async.resources.oauth_providers import AsyncOAuthProviders
from stack_auth._async.resources.sessions import AsyncSessions
from stack_auth._async.resources.teams import AsyncTeams
from stack_auth._async.resources.users import AsyncUsers
from stack_auth._async_http import AsyncHttpBackend
from stack_auth._concurrency import AsyncLimiter, RateGate
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
from stack_auth._http import AsyncHTTPClient, TimeoutTypes
from stack_auth._httpx import classes
from stack_auth._retry import RetryPolicy
from stack_auth._validate import text_arg
from stack_auth.models import NOT_GIVEN, NotGiven, Project, ServerUser, structure

if TYPE_CHECKING:
    from stack_auth._async._bulk import AsyncBulk
    from stack_auth._async._token_session import AsyncTokenSession
    from stack_auth._async.resources.current_user import AsyncCurrentUser
    from stack_auth._async.resources.data_vault import AsyncDataVault
    from stack_auth._async.resources.emails import AsyncEmails
    from stack_auth._async.resources.payments import AsyncPayments
    from stack_auth.tokens import AccessTokenClaims

AppT = TypeVar("AppT", bound="AsyncAppBase")


class AsyncAppBase:
    """What the server and client apps share: credentials, transport, lifecycle, per-call options."""

    _access_type: ClassVar[str]

    def __init__(
        self,
        *,
        project_id: str,
        secret_server_key: str | None = None,
        publishable_client_key: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        http_client: AsyncHTTPClient | None = None,
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
        if http_client is not None and not isinstance(http_client, classes("AsyncClient")):
            raise ConfigurationError(
                f"http_client must be an httpx.AsyncClient or an httpx2.AsyncClient for {type(self).__name__}, "
                f"got {type(http_client).__name__}"
            )
        if not isinstance(max_retries, int) or max_retries < 0:
            raise ConfigurationError(f"max_retries must be a whole number >= 0, got {max_retries!r}")
        try:
            limiter = AsyncLimiter(max_concurrency)
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
            AsyncTransport(
                credentials,
                base_url=base_url,
                http=AsyncHttpBackend(http_client=http_client, max_connections=max_concurrency),
                limiter=limiter,
                gate=gate,
                retry=RetryPolicy(max_retries=max_retries),
                timeout=timeout,
                token_issuer_url=token_issuer_url,
            )
        )

    def _setup(self, transport: AsyncTransport) -> None:
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

        ``await app.with_options(timeout=5, max_retries=0).users.get(user_id)``
        """
        if not isinstance(max_retries, NotGiven) and (not isinstance(max_retries, int) or max_retries < 0):
            raise ConfigurationError(f"max_retries must be a whole number >= 0, got {max_retries!r}")
        copy = object.__new__(type(self))
        copy._setup(self._transport.with_options(timeout=timeout, max_retries=max_retries))
        return copy

    async def get_project(self) -> Project:
        """The project this app talks to, with its public settings (``GET /projects/current``).

        ``project = await app.get_project(); project.config.sign_up_enabled``
        """
        return structure(await self._transport.request("GET", "/projects/current"), Project)

    async def aclose(self) -> None:
        """Close the connections this app opened (idempotent). A caller's own ``http_client`` stays open."""
        await self._transport.aclose()

    async def __aenter__(self: AppT) -> AppT:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(project_id={self.project_id!r}, base_url={self.base_url!r})"


class AsyncStackServerApp(AsyncAppBase):
    """Server access to a Stack project: manage users, teams and sessions with the secret server key.

    Create one per process and close it at shutdown::

        async with AsyncStackServerApp(project_id="...", secret_server_key="...") as app:
            user = await app.users.create(primary_email="a@example.com", primary_email_auth_enabled=True)
            async for u in app.users.list(query="example.com"):
                print(u.id, u.primary_email)

    Options: ``base_url`` (self-hosted Stack), ``timeout`` (seconds, or an ``httpx.Timeout`` or ``httpx2.Timeout``),
    ``max_retries``, ``max_concurrency`` (in-flight requests, also the pool size), ``rate_limit`` (requests per second,
    client side), ``http_client`` (your own ``httpx.AsyncClient`` or ``httpx2.AsyncClient``; we never close it),
    ``token_issuer_url`` (the API URL the Stack server knows itself by, when you reach it at another address: its
    access tokens' issuer is built from it).
    """

    _access_type = "server"
    users: AsyncUsers
    teams: AsyncTeams
    sessions: AsyncSessions
    user_api_keys: AsyncUserApiKeys
    team_api_keys: AsyncTeamApiKeys
    oauth_providers: AsyncOAuthProviders
    contact_channels: AsyncContactChannels

    def __init__(
        self,
        *,
        project_id: str,
        secret_server_key: str,
        publishable_client_key: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        http_client: AsyncHTTPClient | None = None,
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

    def _setup(self, transport: AsyncTransport) -> None:
        super()._setup(transport)
        self.users = AsyncUsers(transport)
        self.teams = AsyncTeams(transport)
        self.sessions = AsyncSessions(transport)
        self.user_api_keys = AsyncUserApiKeys(transport)
        self.team_api_keys = AsyncTeamApiKeys(transport)
        self.oauth_providers = AsyncOAuthProviders(transport)
        self.contact_channels = AsyncContactChannels(transport)

    # Built on first use, so that importing and creating an app stays cheap for code that never needs them.
    @cached_property
    def bulk(self) -> AsyncBulk:
        """Bulk jobs over many inputs (see :class:`~stack_auth._async._bulk.AsyncBulk`)."""
        from stack_auth._async._bulk import AsyncBulk

        return AsyncBulk(self.users, concurrency=self._transport.limiter.limit)

    @cached_property
    def emails(self) -> AsyncEmails:
        """Send emails to users, read the outbox, manage notification preferences (``app.emails.send(...)``)."""
        from stack_auth._async.resources.emails import AsyncEmails

        return AsyncEmails(self._transport)

    @cached_property
    def data_vault(self) -> AsyncDataVault:
        """The encrypted key-value stores: ``await app.data_vault.store("secrets").get(key, secret=...)``."""
        from stack_auth._async.resources.data_vault import AsyncDataVault

        return AsyncDataVault(self._transport)

    @cached_property
    def payments(self) -> AsyncPayments:
        """Items (credits, quotas) per customer and purchase URLs (``app.payments.try_decrease_item_quantity``)."""
        from stack_auth._async.resources.payments import AsyncPayments

        return AsyncPayments(self._transport)

    @cached_property
    def _tokens(self) -> AsyncTokenSession:
        from stack_auth._async._token_session import AsyncTokenSession

        return AsyncTokenSession(self._transport)

    @cached_property
    def current_user(self) -> AsyncCurrentUser[ServerUser]:
        """Act as a user with their tokens (``tokens=`` on every call), e.g. of a session this app created:
        ``await app.current_user.get(tokens=await app.sessions.create(user_id))``."""
        from stack_auth._async.resources.current_user import AsyncCurrentUser

        return AsyncCurrentUser(self._tokens, ServerUser)

    async def verify_access_token(
        self, token: str, *, allow_anonymous: bool = False, allow_restricted: bool = False
    ) -> AccessTokenClaims:
        """Verify an end user's access token locally (no call to Stack once the project's JWKS is cached).

        ``claims = await app.verify_access_token(token)``; ``claims.id`` is the user id. ES256 signatures only,
        checked against the project's JWKS (cached per its Cache-Control); audience and issuer of this project;
        expiry and issue time with a small leeway. Anonymous users' tokens are accepted only with
        ``allow_anonymous=True`` (which also accepts restricted users), restricted users' only with
        ``allow_restricted=True``. Raises an :class:`~stack_auth.errors.InvalidTokenError` subclass saying why a
        token is refused; connection errors while fetching the JWKS are raised as such.
        """
        return await self._tokens.verify(token, allow_anonymous=allow_anonymous, allow_restricted=allow_restricted)

    async def get_user_from_token(
        self, token: str | None, *, allow_anonymous: bool = False, allow_restricted: bool = False
    ) -> ServerUser | None:
        """The user of an access token, fresh from Stack (``GET /users/me``), or None when the token is missing,
        invalid or expired, or its user is anonymous/restricted and not allowed.

        ``user = await app.get_user_from_token(request.headers.get("x-stack-access-token"))``. One request per
        call; :meth:`verify_access_token` answers locally. To act as a user with refresh, pass their tokens to
        ``app.current_user`` methods.
        """
        if not token:
            return None
        current = self.current_user
        return await current.get(tokens=token, allow_anonymous=allow_anonymous, allow_restricted=allow_restricted)

    async def complete_cli_login(self, login_code: str, refresh_token: str) -> None:
        """Complete a command-line tool's browser login for the user signed in to your web app: the
        ``login_code`` of the page's URL and that user's refresh token (``POST /auth/cli/complete``). The tool's
        ``cli_login`` then receives the session. Stack answers 400 for a login code that is unknown, expired or
        already completed, and for a refresh token it does not know."""
        body = {
            "login_code": text_arg(login_code, "login_code"),
            "refresh_token": text_arg(refresh_token, "refresh_token"),
        }
        await self._transport.request("POST", "/auth/cli/complete", json=body)

    @classmethod
    def from_env(cls, **options: Any) -> AsyncStackServerApp:
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
