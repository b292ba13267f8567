"""Small helpers the tests share (pytest puts this folder on sys.path)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from stack_auth.testing import Emulator

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def server_app_kwargs(emulator: Emulator) -> dict[str, Any]:
    """The credentials of the emulator's default project, for a server app."""
    return {"project_id": emulator.project_id, "secret_server_key": emulator.secret_server_key}


def load_example(filename: str) -> ModuleType:
    """Import ``examples/<filename>`` as a fresh module (the examples are scripts, not a package)."""
    return _load_file(EXAMPLES / filename, f"example_{Path(filename).stem}")


def load_script(name: str) -> ModuleType:
    """Import ``scripts/<name>.py`` as a fresh module (the scripts are not a package)."""
    return _load_file(SCRIPTS / f"{name}.py", name)


def _load_file(path: Path, module_name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@contextmanager
def served_with_env(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Serve the emulator and point the ``STACK_*`` variables at it (what ``from_env()`` reads): the base URL."""
    with emulator.serve() as url:
        monkeypatch.setenv("STACK_PROJECT_ID", emulator.project_id)
        monkeypatch.setenv("STACK_SECRET_SERVER_KEY", emulator.secret_server_key)
        monkeypatch.setenv("STACK_API_URL", url)
        yield url


def session_for(emulator: Emulator, url: str, **fields: object) -> dict[str, str]:
    """A new user signed in directly on the emulator: its id and session tokens issued for ``url``."""
    fields = {"primary_email": "ada@example.com", "display_name": "Ada", **fields}
    user = emulator.create_user(**fields)
    return {"user_id": user["id"], **emulator.create_session(user["id"], base_url=url)}


class FakeClock:
    """A ``time.monotonic`` moved by hand (tests patch it into the module whose clock they drive)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def browser_that_notes_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make the user's browser (``$BROWSER``, which the standard ``webbrowser`` honours) a script that notes the URL
    it is asked to open in the file returned; a real browser would show that page."""
    import sys
    import webbrowser

    opened = tmp_path / "opened.txt"
    script = tmp_path / "browser.py"
    script.write_text(f"import sys\nopen({str(opened)!r}, 'w').write(sys.argv[1])\n")
    monkeypatch.setenv("BROWSER", f"{sys.executable} {script} %s")
    monkeypatch.setattr(webbrowser, "_tryorder", None)  # registered again from $BROWSER on first use
    return opened


def wait_for_file(path: Path, timeout: float = 10.0) -> str:
    """The text of ``path`` once it exists (polled; ``timeout`` seconds at most)."""
    import time

    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return path.read_text()
