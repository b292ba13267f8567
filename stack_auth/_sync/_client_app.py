# GENERATED from stack_auth/_async/_client_app.py by scripts/gen_sync.py: edit the source, not this file.
"""The client-access app: acts for end users with their tokens (publishable key, never a secret key)."""

from __future__ import annotations

from typing import Any

from stack_auth._sync._app import AppBase, from_env_options
from stack_auth._sync._sign_in import SignIn
from stack_auth._sync._token_session import TokenSession
from stack_auth._sync._transport import Transport
from stack_auth._sync.resources import contact_channels
from stack_auth._sync.resources.current_user import CurrentUser
from stack_auth._config import DEFAULT_BASE_URL, DEFAULT_MAX_CONCURRENCY, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from stack_auth._http import HTTPClient, TimeoutTypes
from stack_auth._validate import code_arg
from stack_auth.models import ClientUser, TeamInvitationDetails, structure
from stack_auth.tokens import AccessTokenClaims, TokensInput, TokenStore, TokenStoreInit, resolve_default_store


class StackClientApp(SignIn, AppBase):
    """Client access to a Stack project: the publishable key and an end user's tokens.

    ::

        with StackClientApp(project_id="...", publishable_client_key="...") as app:
            app.token_store.set(access_token, refresh_token)      # e.g. after your sign-in flow
            user = app.current_user.get()                   # None when signed out
            app.current_user.update(display_name="Ada")
            app.current_user.sign_out()

    Sign-in flows store the session they start in the token store: ``app.sign_in_with_password(email,
    password)``, ``sign_up_with_password``, ``sign_in_with_code``, ``sign_in_with_mfa``, ``sign_up_anonymously``,
    ``complete_oauth``, ``cli_login``.

    ``token_store``: ``"memory"`` (default: one in-memory store per project, shared by the apps of the process), a
    :class:`~stack_auth.tokens.TokenStore`, tokens (``{"access_token": ..., "refresh_token": ...}``,
    ``SessionTokens``), ``"file"`` or ``"keyring"`` (kept across runs, see :mod:`stack_auth.token_stores`), a
    request (its ``x-stack-auth``, ``x-stack-access-token`` or ``Authorization: Bearer`` header), or None: then
    every user call must pass ``tokens=`` (in a backend: ``tokens=request``).
    """

    _access_type = "client"
    current_user: CurrentUser[ClientUser]

    def __init__(
        self,
        *,
        project_id: str,
        publishable_client_key: str | None = None,
        token_store: TokenStoreInit = "memory",
        base_url: str = DEFAULT_BASE_URL,
        http_client: HTTPClient | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        rate_limit: float | None = None,
        token_issuer_url: str | None = None,
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
            token_issuer_url=token_issuer_url,
        )
        self._tokens.state.default_store = resolve_default_store(token_store, self.project_id, self.base_url)

    def _setup(self, transport: Transport) -> None:
        super()._setup(transport)
        self._tokens = TokenSession(transport)
        self.current_user = CurrentUser(self._tokens, ClientUser)

    @property
    def token_store(self) -> TokenStore | None:
        """The app's token store (None when created with ``token_store=None``)."""
        return self._tokens.state.default_store

    def verify_access_token(
        self, token: str, *, allow_anonymous: bool = False, allow_restricted: bool = False
    ) -> AccessTokenClaims:
        """Verify an access token locally against the project's JWKS; see
        :meth:`StackServerApp.verify_access_token <stack_auth.StackServerApp.verify_access_token>`."""
        return self._tokens.verify(token, allow_anonymous=allow_anonymous, allow_restricted=allow_restricted)

    def verify_email(self, code: str) -> None:
        """Verify the email a verification link was mailed to, with the ``code`` from that link's query.

        ``app.verify_email(request.query_params["code"])``. Raises
        :class:`~stack_auth.errors.VerificationCodeNotFound`, ``...Expired`` or ``...AlreadyUsed`` (all
        :class:`~stack_auth.errors.VerificationError`).
        """
        contact_channels.verify_email(self._transport, code)

    def check_email_verification_code(self, code: str) -> bool:
        """Whether ``code`` would verify an email, without using it (e.g. before showing a confirm button)."""
        return contact_channels.check_code(self._transport, "/contact-channels/verify/check-code", code)

    def check_team_invitation_code(self, code: str) -> bool:
        """Whether an invitation code is still valid (unknown, expired, used and revoked ones are not), without
        accepting it."""
        return contact_channels.check_code(self._transport, "/team-invitations/accept/check-code", code)

    def team_invitation_details(self, code: str, *, tokens: TokensInput | None = None) -> TeamInvitationDetails:
        """The team an invitation code leads to, without accepting it (to show its name first); the invited user
        must be signed in (the app's token store, or ``tokens=``).

        ``details = app.team_invitation_details(code); print(details.team_display_name)``
        """
        store = self._tokens.store(tokens)
        body = {"code": code_arg(code)}
        data = self._tokens.request("POST", "/team-invitations/accept/details", store=store, json=body)
        return structure(data, TeamInvitationDetails)

    @classmethod
    def from_env(cls, **options: Any) -> StackClientApp:
        """An app configured from ``STACK_PROJECT_ID``, ``STACK_PUBLISHABLE_CLIENT_KEY`` and ``STACK_API_URL``."""
        return cls(**from_env_options(options, server=False))
