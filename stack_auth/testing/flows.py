"""What the emulator keeps between the steps of a sign-in flow: one-time codes (sign-in, password reset, MFA
attempt), CLI login attempts and OAuth grants. Held per project in ``Project.flows``; read and changed under the
store lock by :mod:`stack_auth.testing.signin_api`.

Codes follow Stack's ``createVerificationCodeHandler`` (``apps/backend/src/route-handlers/verification-code-handler
.tsx``): 45 lowercase characters, matched case-insensitively, used once, at most 20 attempts for codes sharing the
last 39 characters (the OTP nonce), expired after their lifetime.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Tries of one code (or of codes sharing a nonce) before VERIFICATION_CODE_MAX_ATTEMPTS_REACHED.
MAX_ATTEMPTS_PER_CODE = 20
CODE_LENGTH = 45
#: The digits a user types: the first characters of a sign-in code (the rest is the nonce the send call returned).
OTP_LENGTH = 6


@dataclass
class Code:
    """A one-time code: its kind (``sign_in``, ``password_reset``, ``mfa``), what it is for, and its state."""

    kind: str
    code: str = field(repr=False)
    expires_at: int
    data: dict[str, Any]
    used: bool = False
    attempts: int = 0


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

    codes: dict[str, Code] = field(default_factory=dict)
    cli: dict[str, CliAttempt] = field(default_factory=dict)
    oauth_requests: dict[str, OAuthRequest] = field(default_factory=dict)
    oauth_grants: dict[str, OAuthGrant] = field(default_factory=dict)
    #: provider -> (account id, email) of the account the emulated provider signs in (``Emulator.set_oauth_account``).
    oauth_accounts: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    def cli_by_login_code(self, login_code: str) -> CliAttempt | None:
        return next((a for a in self.cli.values() if a.login_code == login_code), None)

    def oauth_account(self, provider: str) -> tuple[str, str | None]:
        return self.oauth_accounts.get(provider, (f"emulated-{provider}-user", f"{provider}-user@example.com"))
