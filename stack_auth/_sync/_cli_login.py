# GENERATED from stack_auth/_async/_cli_login.py by scripts/gen_sync.py: edit the source, not this file.
"""Browser login for command-line tools: ``promptCliLogin`` of Stack's SDK spec (``sdks/spec/src/apps/client-app
.spec.md``).

1. ``POST /auth/cli`` creates a login attempt: a ``polling_code`` (kept here) and a ``login_code`` (for the browser).
2. The user opens ``<app_url>/handler/cli-auth-confirm?login_code=...``; the web app, where they sign in, completes
   the attempt with its session (``POST /auth/cli/complete``, e.g. ``server_app.complete_cli_login``).
3. ``POST /auth/cli/poll`` answers ``waiting`` until then, then once ``success`` with a refresh token, then ``used``;
   ``expired`` after the attempt's lifetime.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from stack_auth._sync._transport import Transport
from stack_auth._concurrency import sleep
from stack_auth._exceptions import (
    APIConnectionError,
    CliLoginTimeoutError,
    InvalidArgumentError,
    MalformedResponseError,
    RateLimitError,
)
from stack_auth._known_errors import CliAuthExpiredError, CliAuthUsedError
from stack_auth._validate import text_arg

logger = logging.getLogger("stack_auth")

#: Stack's longest CLI login attempt (``expires_in_millis`` of ``POST /auth/cli``).
MAX_CLI_ATTEMPT_MILLIS = 24 * 3600 * 1000
#: How much longer than ``timeout`` a login attempt lives on the server.
ATTEMPT_GRACE_SECONDS = 30.0
#: The longest wait between polls after the server asked us to slow down.
MAX_POLL_INTERVAL = 30.0


class CliLogin:
    """One run of the CLI login: create the attempt, show its link, poll until it is completed."""

    def __init__(
        self,
        transport: Transport,
        *,
        app_url: str,
        open_browser: bool | Callable[[str], object],
        timeout: float,
        prompt_link: Callable[[str, str], object] | None,
        poll_interval: float,
        confirm_path: str,
        anon_refresh_token: str | None = None,
    ) -> None:
        parts = urlsplit(app_url) if isinstance(app_url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidArgumentError(f"app_url must be your web app's http:// or https:// URL, got {app_url!r}")
        if not isinstance(timeout, (int, float)) or not 0 < timeout <= MAX_CLI_ATTEMPT_MILLIS / 1000:
            raise InvalidArgumentError(f"timeout must be more than 0 and at most 86400 seconds, got {timeout!r}")
        if not isinstance(poll_interval, (int, float)) or poll_interval <= 0:
            raise InvalidArgumentError(f"poll_interval must be a positive number of seconds, got {poll_interval!r}")
        if not isinstance(confirm_path, str) or not confirm_path.startswith("/"):
            raise InvalidArgumentError(f"confirm_path must start with '/', got {confirm_path!r}")
        self._transport = transport
        self._confirm_url = app_url.rstrip("/") + confirm_path
        self._open_browser = open_browser
        self._timeout = float(timeout)
        self._prompt_link = prompt_link
        self._interval = float(poll_interval)
        self._anon_refresh_token = (
            None if anon_refresh_token is None else text_arg(anon_refresh_token, "anon_refresh_token")
        )

    def run(self) -> str:
        """The refresh token of the session the user signed in with in the browser."""
        started = time.monotonic()
        # The attempt outlives our own deadline a little, so that giving up is always ours to say (a timeout), not
        # a race with the server's expiry.
        lifetime = min(int((self._timeout + ATTEMPT_GRACE_SECONDS) * 1000), MAX_CLI_ATTEMPT_MILLIS)
        body: dict[str, object] = {"expires_in_millis": lifetime}
        if self._anon_refresh_token is not None:
            body["anon_refresh_token"] = self._anon_refresh_token
        attempt = self._transport.request("POST", "/auth/cli", json=body)
        if not isinstance(attempt, dict):
            attempt = {}
        polling_code, login_code = attempt.get("polling_code"), attempt.get("login_code")
        if not isinstance(polling_code, str) or not isinstance(login_code, str):
            raise MalformedResponseError(
                "the /auth/cli answer has no polling_code or login_code",
                status=200,
                method="POST",
                url=self._transport.url("/auth/cli"),
            )
        self._show(self._confirm_url + "?" + urlencode({"login_code": login_code}), login_code)
        return self._poll(polling_code, deadline=started + self._timeout)

    def _show(self, url: str, login_code: str) -> None:
        if self._prompt_link is not None:
            self._prompt_link(url, login_code)
            return
        opened = False
        if self._open_browser is True:
            import webbrowser  # only command-line tools need it: not imported with the client app (subprocess etc.)

            try:
                opened = webbrowser.open(url)
            except webbrowser.Error:
                opened = False
        elif callable(self._open_browser):
            # Like webbrowser.open: False means "could not open" (anything else, e.g. None, counts as opened).
            opened = self._open_browser(url) is not False
        if not opened:
            print(f"To sign in, open this link in your browser:\n\n    {url}\n", file=sys.stderr)

    def _poll(self, polling_code: str, *, deadline: float) -> str:
        interval = self._interval
        while True:
            try:
                answer = self._transport.request("POST", "/auth/cli/poll", json={"polling_code": polling_code})
            except RateLimitError:
                # The transport already waited as told; poll less often from now on.
                interval = min(interval * 2, MAX_POLL_INTERVAL)
                answer = {"status": "waiting"}
            except APIConnectionError as exc:
                # A network blip must not end a login the user is halfway through; polling again is safe (a success
                # whose answer was lost then reads "used": the login has to be run again).
                logger.info("CLI login: poll failed, polling again: %s", exc)
                answer = {"status": "waiting"}
            status = answer.get("status") if isinstance(answer, dict) else None
            if status == "success" and isinstance(answer.get("refresh_token"), str):
                return str(answer["refresh_token"])
            if status == "expired":
                raise CliAuthExpiredError(
                    "the CLI login expired before it was completed in the browser; run the login again",
                    status=400,
                    code=CliAuthExpiredError.code_for_class,
                )
            if status == "used":
                raise CliAuthUsedError(
                    "this CLI login was already used; run the login again",
                    status=400,
                    code=CliAuthUsedError.code_for_class,
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CliLoginTimeoutError(f"the login was not completed in the browser within {self._timeout:g} s")
            logger.debug("CLI login: %s, polling again in %.1f s", status, interval)
            sleep(min(interval, remaining))
