"""Token stores that keep a session across runs of a program: a JSON file, or the OS keychain.

For command-line tools and desktop apps, where the user signs in once (``app.cli_login``) and later runs find the
session again::

    app = StackClientApp(project_id=..., publishable_client_key=..., token_store="file")     # or "keyring"
    app = StackClientApp(..., token_store=FileTokenStore("~/.config/mytool/session.json"))

``"file"`` keeps the tokens in ``<user config dir>/stack-auth/session-<project id>.json`` (``$XDG_CONFIG_HOME`` or
``~/.config`` on Linux, ``~/Library/Application Support`` on macOS, ``%APPDATA%`` on Windows), created with mode
0600 in a directory of mode 0700, replaced atomically on every change. ``"keyring"`` keeps them in the OS keychain
through the ``keyring`` package (extra ``keyring``). Both remember which API URL the session belongs to, and forget
a session of another one. Every change the SDK makes (sign-in, refresh, sign-out) is saved at once.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from stack_auth._exceptions import ConfigurationError
from stack_auth.models import NOT_GIVEN, NotGiven
from stack_auth.tokens import TokenStore

__all__ = ["FileTokenStore", "KeyringTokenStore", "user_config_dir"]

logger = logging.getLogger("stack_auth")

KEYRING_SERVICE = "stack-auth"


def user_config_dir() -> Path:
    """The user's configuration directory, as platformdirs would give it (no dependency for one function)."""
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support"
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


class _PersistentTokenStore(TokenStore):
    """A :class:`~stack_auth.tokens.TokenStore` that loads its tokens when created and saves every change."""

    def __init__(self, base_url: str | None) -> None:
        self._base_url = base_url.rstrip("/") if base_url else None
        saved = self._load()
        access, refresh = None, None
        if isinstance(saved, dict) and (self._base_url is None or saved.get("base_url") == self._base_url):
            access, refresh = saved.get("access_token"), saved.get("refresh_token")
        super().__init__(access if isinstance(access, str) else None, refresh if isinstance(refresh, str) else None)

    def _load(self) -> Any:
        raise NotImplementedError

    def _write(self, text: str | None) -> None:
        raise NotImplementedError

    def _save(self) -> None:
        access, refresh = self.snapshot()
        if access is None and refresh is None:
            self._write(None)
            return
        self._write(json.dumps({"base_url": self._base_url, "access_token": access, "refresh_token": refresh}))

    def set(self, access_token: str | None, refresh_token: str | NotGiven | None = NOT_GIVEN) -> None:
        """Replace the tokens (see :meth:`TokenStore.set <stack_auth.tokens.TokenStore.set>`) and save them."""
        super().set(access_token, refresh_token)
        self._save()

    def clear(self) -> None:
        """Forget both tokens and remove them from where they were saved (sign-out)."""
        super().clear()
        self._save()

    def store_refreshed(self, access_token: str, refresh_token: str | None) -> None:
        """Keep and save the tokens of a refresh, so that the next run starts with them."""
        super().store_refreshed(access_token, refresh_token)
        self._save()


class FileTokenStore(_PersistentTokenStore):
    """Tokens in a JSON file readable by the user only (mode 0600), replaced atomically on every change.

    ``FileTokenStore(path)``; ``FileTokenStore.default(project_id, base_url)`` is what ``token_store="file"``
    uses. A file that cannot be read or parsed counts as signed out (and is replaced on the next sign-in).
    """

    def __init__(self, path: str | os.PathLike[str], *, base_url: str | None = None) -> None:
        self.path = Path(path).expanduser()
        super().__init__(base_url)

    @classmethod
    def default(cls, project_id: str, base_url: str) -> FileTokenStore:
        """The store ``token_store="file"`` uses: ``<user config dir>/stack-auth/session-<project id>.json``."""
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in project_id)
        return cls(user_config_dir() / "stack-auth" / f"session-{safe}.json", base_url=base_url)

    def _load(self) -> Any:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            logger.warning("ignoring the unreadable token file %s: %s", self.path, type(exc).__name__)
            return None

    def _write(self, text: str | None) -> None:
        if text is None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            return
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Written to a private temporary file in the same directory, then renamed over the old one: a crash never
        # leaves half a file, and the tokens are never readable by others, not even for a moment.
        fd, tmp = tempfile.mkstemp(prefix=".session-", dir=self.path.parent)
        try:
            os.chmod(tmp, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def __repr__(self) -> str:
        return f"<FileTokenStore {str(self.path)!r} {super().__repr__()[len('<TokenStore ') : -1]}>"


class KeyringTokenStore(_PersistentTokenStore):
    """Tokens in the OS keychain (macOS Keychain, Windows Credential Locker, Secret Service), through ``keyring``.

    One entry per project and API URL, under the service name ``stack-auth``.
    """

    def __init__(self, project_id: str, base_url: str) -> None:
        try:
            import keyring
        except ImportError:
            raise ConfigurationError(
                'token_store="keyring" needs the keyring package: pip install "stack-auth[keyring]"'
            ) from None
        self._keyring = keyring
        self.username = f"{project_id}@{base_url.rstrip('/')}"
        super().__init__(base_url)

    def _load(self) -> Any:
        text = self._keyring.get_password(KEYRING_SERVICE, self.username)
        try:
            return json.loads(text) if text else None
        except ValueError:
            return None

    def _write(self, text: str | None) -> None:
        if text is not None:
            self._keyring.set_password(KEYRING_SERVICE, self.username, text)
            return
        with contextlib.suppress(self._keyring.errors.PasswordDeleteError):
            self._keyring.delete_password(KEYRING_SERVICE, self.username)

    def __repr__(self) -> str:
        return f"<KeyringTokenStore {self.username!r} {super().__repr__()[len('<TokenStore ') : -1]}>"
