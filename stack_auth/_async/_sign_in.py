"""Sign-in flows of the client app: password, one-time code, anonymous users, MFA, password reset, OAuth, CLI login.

Every call that signs a user in stores the new session in the app's token store (when it has one) and returns its
:class:`~stack_auth.models.SessionTokens`. Two rules keep the store honest:

- A refused sign-in clears the store: the app never goes on acting as whoever was signed in before an attempt to
  sign in as someone else (a refused upgrade of an anonymous user keeps that user, whose session it was sent with).
- Sign-ins and token refreshes of one store are serialized (the store's refresh lock): a refresh finishing late can
  never write an old session's token beside a new session's, and concurrent sign-ins leave one whole session.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from stack_auth._async._cli_login import AsyncCliLogin
from stack_auth._async._token_session import AsyncTokenSession
from stack_auth._async._transport import AsyncTransport
from stack_auth._async.resources.current_user import NOT_SIGNED_IN
from stack_auth._config import PUBLIC_CLIENT_SECRET
from stack_auth._exceptions import InvalidArgumentError, MalformedResponseError, OAuthCallbackError, StackAuthApiError
from stack_auth._known_errors import VerificationError
from stack_auth._validate import code_arg, path_segment, text_arg, url_arg
from stack_auth.models import OAuthAuthorization, SessionTokens, structure

if TYPE_CHECKING:
    from stack_auth._async.resources.current_user import AsyncCurrentUser
    from stack_auth.models import ClientUser

#: The OTP a user types is the first characters of the full code; the send call returned the rest (the nonce).
OTP_LENGTH = 6


def _pkce_pair() -> tuple[str, str]:
    """A PKCE verifier (43 URL-safe characters, RFC 7636) and its S256 challenge."""
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()
    return verifier, challenge


class AsyncSignIn:
    """The sign-in methods of :class:`~stack_auth.AsyncStackClientApp` (a mixin; the app provides the attributes)."""

    _transport: AsyncTransport
    _tokens: AsyncTokenSession
    current_user: AsyncCurrentUser[ClientUser]

    # --- storing sessions --------------------------------------------------------------------------------------

    async def _sign_in(
        self,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        form: Mapping[str, str] | None = None,
        with_session: bool = False,
    ) -> SessionTokens:
        """Send a sign-in request and store the session it answers with (see the module's rules).

        ``with_session``: send the signed-in user's tokens too, so Stack upgrades an anonymous user in place.
        """
        store = self._tokens.state.default_store
        headers: dict[str, str] = {}
        if with_session and store is not None and not store.is_empty:
            with contextlib.suppress(*NOT_SIGNED_IN):
                access = await self._tokens.usable_access_token(store)
                if access is not None:
                    headers = {"x-stack-access-token": access, "x-stack-allow-anonymous-user": "true"}
        url = self._transport.url(path)
        if store is None:
            return _session_tokens(await self._transport.request("POST", path, json=json, form=form), url)
        async with store.async_refresh_lock:
            try:
                data = await self._transport.request("POST", path, json=json, form=form, headers=headers)
                tokens = _session_tokens(data, url)
            except StackAuthApiError:
                if not headers:
                    store.clear()
                raise
            store.set(tokens.access_token, tokens.refresh_token)
            return tokens

    # --- password ------------------------------------------------------------------------------------------------

    async def sign_up_with_password(
        self, email: str, password: str, *, verification_callback_url: str | None = None
    ) -> SessionTokens:
        """Create a user with an email and password and sign them in (``POST /auth/password/sign-up``).

        ``tokens = await app.sign_up_with_password("ada@example.com", "correct horse battery")``. Signed in as an
        anonymous user, this upgrades that user (same id, their data kept). ``verification_callback_url``: where the
        verification mail links to (must be on the project's trusted domains). Raises
        :class:`~stack_auth.errors.UserEmailAlreadyExists`, :class:`~stack_auth.errors.PasswordRequirementsNotMet`
        (``PasswordTooShort``...), :class:`~stack_auth.errors.SignUpNotEnabled`,
        :class:`~stack_auth.errors.PasswordAuthenticationNotEnabled`.
        """
        body = {"email": text_arg(email, "email"), "password": text_arg(password, "password")}
        if verification_callback_url is not None:
            body["verification_callback_url"] = url_arg(verification_callback_url, "verification_callback_url")
        return await self._sign_in("/auth/password/sign-up", json=body, with_session=True)

    async def sign_in_with_password(self, email: str, password: str) -> SessionTokens:
        """Sign a user in with their email and password (``POST /auth/password/sign-in``).

        Raises :class:`~stack_auth.errors.EmailPasswordMismatch`, or
        :class:`~stack_auth.errors.MultiFactorAuthenticationRequired` when the user has MFA on: then ask for their
        authenticator code and finish with :meth:`sign_in_with_mfa`::

            try:
                tokens = await app.sign_in_with_password(email, password)
            except MultiFactorAuthenticationRequired as exc:
                tokens = await app.sign_in_with_mfa(exc.attempt_code, input("Authenticator code: "))
        """
        body = {"email": text_arg(email, "email"), "password": text_arg(password, "password")}
        return await self._sign_in("/auth/password/sign-in", json=body)

    async def sign_in_with_mfa(self, attempt_code: str, totp_code: str) -> SessionTokens:
        """Finish a sign-in that raised ``MultiFactorAuthenticationRequired``: its ``attempt_code`` and the six
        digits of the user's authenticator app (``POST /auth/mfa/sign-in``). Raises
        :class:`~stack_auth.errors.InvalidTotpCode` (the attempt stays usable) or a
        :class:`~stack_auth.errors.VerificationError` for an unknown, used or expired attempt code."""
        body = {
            "type": "totp",
            "totp": text_arg(totp_code, "totp_code"),
            "code": code_arg(attempt_code, "attempt_code"),
        }
        return await self._sign_in("/auth/mfa/sign-in", json=body)

    async def send_password_reset_code(self, email: str, *, callback_url: str) -> None:
        """Mail a password-reset link to ``email`` (``callback_url?code=...``, on the project's trusted domains).
        Stack answers the same whether or not the address has an account, so this reveals nothing."""
        body = {"email": text_arg(email, "email"), "callback_url": url_arg(callback_url, "callback_url")}
        await self._transport.request("POST", "/auth/password/send-reset-code", json=body)

    async def check_password_reset_code(self, code: str) -> bool:
        """Whether a reset code (the ``code`` of the mailed link) is still usable, without using it: check before
        showing a new-password form."""
        body = {"code": code_arg(code)}
        try:
            await self._transport.request("POST", "/auth/password/reset/check-code", json=body)
        except VerificationError:
            return False
        return True

    async def reset_password(self, code: str, new_password: str) -> None:
        """Set a new password with a reset code (``POST /auth/password/reset``). Raises a
        :class:`~stack_auth.errors.VerificationError` for a bad code, ``PasswordRequirementsNotMet`` for a weak
        password. The user is not signed in by this: sign in with the new password."""
        body = {"code": code_arg(code), "password": text_arg(new_password, "new_password")}
        await self._transport.request("POST", "/auth/password/reset", json=body)

    # --- one-time codes (magic link / OTP) and anonymous users -------------------------------------------------

    async def send_sign_in_code(self, email: str, *, callback_url: str) -> str:
        """Mail a sign-in code to ``email`` (a magic link to ``callback_url`` and six digits to type); returns the
        nonce that completes the typed digits (keep it for :meth:`sign_in_with_code`). An unknown address gets an
        account when it signs in (if the project allows sign-up)."""
        body = {"email": text_arg(email, "email"), "callback_url": url_arg(callback_url, "callback_url")}
        data = await self._transport.request("POST", "/auth/otp/send-sign-in-code", json=body)
        nonce = data.get("nonce") if isinstance(data, dict) else None
        if not isinstance(nonce, str):
            raise MalformedResponseError(
                "the send-sign-in-code answer has no nonce",
                status=200,
                method="POST",
                url=self._transport.url("/auth/otp/send-sign-in-code"),
            )
        return nonce

    async def sign_in_with_code(self, code: str, *, nonce: str | None = None) -> SessionTokens:
        """Sign in with a mailed code (``POST /auth/otp/sign-in``): the ``code`` of the magic link, or the six
        digits the user typed plus the ``nonce`` :meth:`send_sign_in_code` returned (Stack's code is the two
        joined)::

            nonce = await app.send_sign_in_code(email, callback_url="https://myapp.example/magic")
            tokens = await app.sign_in_with_code(input("Code from the mail: "), nonce=nonce)

        ``tokens.extra["is_new_user"]`` says whether this signed a new user up.
        """
        full = "".join(text_arg(code, "code").split())  # typed codes come with stray spaces ("123 456")
        if nonce is not None:
            if len(full) != OTP_LENGTH:
                raise InvalidArgumentError(f"with nonce=, code must be the {OTP_LENGTH} characters the user typed")
            full += text_arg(nonce, "nonce")
        return await self._sign_in("/auth/otp/sign-in", json={"code": code_arg(full).lower()}, with_session=True)

    async def sign_up_anonymously(self) -> SessionTokens:
        """Create an anonymous user and sign them in (``POST /auth/anonymous/sign-up``): a session before any
        sign-up. Signing up later with a password or a code upgrades this same user. Raises
        :class:`~stack_auth.errors.AnonymousAccountsNotEnabled` where the project does not allow them."""
        return await self._sign_in("/auth/anonymous/sign-up", json={})

    # --- OAuth ---------------------------------------------------------------------------------------------------

    async def oauth_authorization_url(
        self,
        provider: str,
        *,
        redirect_uri: str,
        after_callback_redirect_url: str | None = None,
        error_redirect_uri: str | None = None,
        provider_scope: str | None = None,
    ) -> OAuthAuthorization:
        """Start an OAuth sign-in: the URL to open, with a fresh random ``state`` and a PKCE verifier whose S256
        challenge the URL carries. No request is sent (it is awaited like the other sign-in calls).

        ::

            auth = await app.oauth_authorization_url("github", redirect_uri="http://localhost:8765/callback")
            webbrowser.open(auth.url)
            ...                                    # the browser comes back to redirect_uri?code=...&state=...
            tokens = await app.complete_oauth(callback_url, auth)

        ``redirect_uri`` must be an absolute http(s) URL on the project's trusted domains.
        """
        provider_id = path_segment(provider, "provider")
        redirect_uri = url_arg(redirect_uri, "redirect_uri")
        verifier, challenge = _pkce_pair()
        state = secrets.token_urlsafe(32)
        credentials = self._transport.credentials
        query = {
            "client_id": credentials.project_id,
            "client_secret": credentials.publishable_client_key or PUBLIC_CLIENT_SECRET,
            "redirect_uri": redirect_uri,
            "scope": "legacy",
            "state": state,
            "grant_type": "authorization_code",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "response_type": "code",
        }
        optional = {
            "after_callback_redirect_url": after_callback_redirect_url,
            "error_redirect_uri": error_redirect_uri,
        }
        for name, value in optional.items():
            if value is not None:
                query[name] = url_arg(value, name)
        if provider_scope is not None:
            query["provider_scope"] = text_arg(provider_scope, "provider_scope")
        url = self._transport.url(f"/auth/oauth/authorize/{provider_id}") + "?" + urlencode(query)
        return OAuthAuthorization(url, state, verifier, redirect_uri=redirect_uri, provider=provider)

    async def complete_oauth(self, callback_url: str, auth: OAuthAuthorization) -> SessionTokens:
        """Finish an OAuth sign-in with the URL the provider sent the browser back to: checks its ``state`` against
        ``auth`` (a missing or foreign state raises :class:`~stack_auth.errors.OAuthCallbackError` before any
        request), then exchanges the code with the PKCE verifier (``POST /auth/oauth/token``, the only request the
        verifier is ever sent in). ``tokens.extra["is_new_user"]`` says whether this signed a new user up."""
        if not isinstance(auth, OAuthAuthorization):
            raise InvalidArgumentError("auth must be the OAuthAuthorization that oauth_authorization_url returned")
        params = dict(parse_qsl(urlsplit(text_arg(callback_url, "callback_url")).query))
        state = params.get("state")
        if state is None or not hmac.compare_digest(state.encode(), auth.state.encode()):
            raise OAuthCallbackError("the callback's state does not match this sign-in: not its answer, or forged")
        if "error" in params:
            raise OAuthCallbackError(
                f"the OAuth provider refused the sign-in: {params['error']}",
                error=params["error"],
                error_description=params.get("error_description"),
            )
        code = params.get("code")
        if not code:
            raise OAuthCallbackError("the callback URL has no authorization code")
        credentials = self._transport.credentials
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": auth.redirect_uri,
            "code_verifier": auth.code_verifier,
            "client_id": credentials.project_id,
            "client_secret": credentials.publishable_client_key or PUBLIC_CLIENT_SECRET,
        }
        return await self._sign_in("/auth/oauth/token", form=form)

    # --- command-line tools ------------------------------------------------------------------------------------

    async def cli_login(
        self,
        *,
        app_url: str,
        open_browser: bool | Callable[[str], object] = True,
        timeout: float = 300.0,
        prompt_link: Callable[[str, str], object] | None = None,
        poll_interval: float = 2.0,
        confirm_path: str = "/handler/cli-auth-confirm",
        anon_refresh_token: str | None = None,
    ) -> SessionTokens:
        """Sign the user of a command-line tool in through their browser (Stack's ``promptCliLogin``).

        ::

            app = StackClientApp(project_id=..., publishable_client_key=..., token_store="file")
            tokens = app.cli_login(app_url="https://myapp.example")

        When the store already holds a valid session, that session is returned and no browser opens. Otherwise a
        CLI login is created (``POST /auth/cli``), the page ``app_url + confirm_path?login_code=...`` of your web app
        (Stack's ``cli-auth-confirm`` handler) is opened in the browser (``open_browser``: True, False, or your own
        function taking the URL), handed to ``prompt_link(url, login_code)`` instead when given, or printed when no
        browser can be opened; then ``/auth/cli/poll`` is polled every ``poll_interval`` seconds (longer after a
        429) until the web app completes the login. The session is stored and returned.
        ``anon_refresh_token``: an anonymous user's session the web app may take over (its confirm page then sees
        ``cli_session_state: "anonymous"`` and can claim it instead of signing in).

        Raises :class:`~stack_auth.errors.CliAuthExpiredError` / :class:`~stack_auth.errors.CliAuthUsedError` for a
        login code that expired or was used, :class:`~stack_auth.errors.CliLoginTimeoutError` after ``timeout``
        seconds. Ctrl-C (or cancelling the task) stops polling and leaves the store as it was.
        """
        login = AsyncCliLogin(
            self._transport,
            app_url=app_url,
            open_browser=open_browser,
            timeout=timeout,
            prompt_link=prompt_link,
            poll_interval=poll_interval,
            confirm_path=confirm_path,
            anon_refresh_token=anon_refresh_token,
        )
        store = self._tokens.state.default_store
        if store is not None and not store.is_empty and await self.current_user.get() is not None:
            access, refresh = store.snapshot()
            if access is not None:
                return SessionTokens(access, refresh)
        refresh_token = await login.run()
        access, new_refresh = await self._tokens.refresh_with(refresh_token)
        tokens = SessionTokens(access, new_refresh or refresh_token)
        if store is not None:
            async with store.async_refresh_lock:
                store.set(tokens.access_token, tokens.refresh_token)
        return tokens


def _session_tokens(data: Any, url: str) -> SessionTokens:
    """The session of a sign-in answer (its other keys, e.g. ``user_id`` and ``is_new_user``, go to ``extra``)."""
    if not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
        raise MalformedResponseError("the sign-in answer has no access_token", status=200, method="POST", url=url)
    return structure(data, SessionTokens)
