"""What the emulator keeps between the steps of the CLI login and of an OAuth sign-in. Held per project in
``Project.flows``; read and changed under the store lock by :mod:`stack_auth.testing.cli_api` and
:mod:`stack_auth.testing.oauth_api`. (Mailed codes and MFA attempt codes are in ``Project.codes``: see
:mod:`stack_auth.testing.codes`.)
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CliAttempt:
    """One ``POST /auth/cli``: the CLI polls with ``polling_code``; the browser completes ``login_code``."""

    polling_code: str = field(repr=False)
    login_code: str = field(repr=False)
    expires_at: int
    anon_refresh_token: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    collected: bool = False


@dataclass
class OAuthRequest:
    """An app's ``/auth/oauth/authorize`` call, waiting for the provider to send the user back."""

    provider: str
    redirect_uri: str
    state: str = field(repr=False)
    code_challenge: str = field(repr=False)
    after_callback_redirect_url: str | None
    #: The code the emulated provider sent back to Stack's callback (set by its consent page).
    provider_code: str | None = field(default=None, repr=False)


@dataclass
class OAuthGrant:
    """The authorization code the app gets on its redirect URI; exchanged once at ``/auth/oauth/token``."""

    code: str = field(repr=False)
    user_id: str
    is_new_user: bool
    redirect_uri: str
    code_challenge: str = field(repr=False)
    after_callback_redirect_url: str | None
    expires_at: int
    used: bool = False


@dataclass
class SignInFlows:
    """A project's pending flows."""

    cli: dict[str, CliAttempt] = field(default_factory=dict)
    oauth_requests: dict[str, OAuthRequest] = field(default_factory=dict)
    oauth_grants: dict[str, OAuthGrant] = field(default_factory=dict)
    #: provider -> (account id, email) of the account the emulated provider signs in (``Emulator.set_oauth_account``).
    oauth_accounts: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    def cli_by_login_code(self, login_code: str) -> CliAttempt | None:
        return next((a for a in self.cli.values() if a.login_code == login_code), None)

    def oauth_account(self, provider: str) -> tuple[str, str | None]:
        return self.oauth_accounts.get(provider, (f"emulated-{provider}-user", f"{provider}-user@example.com"))
