"""Start-up: ``import stack_auth`` stays light, its public submodules are attributes loaded on first access, and the
command line's help and the async API's import do not load the HTTP stack (benchmarks/imports.py times them)."""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys

import pytest

import stack_auth

HTTP_STACK = ["httpx", "aiohttp", "anyio", "yarl", "h11", "httpcore"]
PUBLIC_SUBMODULES = sorted(m.name for m in pkgutil.iter_modules(stack_auth.__path__) if not m.name.startswith("_"))


def run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=os.environ.copy(), check=False
    )
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    return done.stdout.strip()


def test_the_public_submodules_are_the_documented_ones() -> None:
    # New public modules join this list (and the parametrized test below covers them).
    assert {"cli", "django", "errors", "fastapi", "flask", "models", "testing", "tokens"} <= set(PUBLIC_SUBMODULES)


@pytest.mark.parametrize("name", PUBLIC_SUBMODULES)
def test_each_public_submodule_is_an_attribute_loaded_on_first_access(name: str) -> None:
    out = run(
        f"""
import sys, stack_auth
before = "stack_auth.{name}" in sys.modules
module = stack_auth.{name}
print(before, module is sys.modules["stack_auth.{name}"], module.__name__)
"""
    )
    loaded_with_the_package = name == "models"  # the models' NOT_GIVEN is a top-level name
    assert out == f"{loaded_with_the_package} True stack_auth.{name}"


def test_errors_reachable_from_the_package_alone() -> None:
    out = run("import stack_auth; print(stack_auth.errors.UserNotFound.__mro__[1].__name__, stack_auth.models.Team)")
    assert out == "NotFoundError <class 'stack_auth.models._types.Team'>"


def test_an_unknown_attribute_is_still_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        stack_auth.nope  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute '_private'"):
        stack_auth._private  # noqa: B018


def test_import_loads_no_public_submodule_but_models() -> None:
    out = run(f"import sys, stack_auth; print([m for m in {PUBLIC_SUBMODULES!r} if 'stack_auth.' + m in sys.modules])")
    assert out == "['models']"


def test_importing_the_async_api_loads_no_http_stack() -> None:
    loaded = f"[m for m in {HTTP_STACK} if m in sys.modules]"
    out = run(f"import sys\nfrom stack_auth import AsyncStackServerApp\nprint({loaded})")
    assert out == "[]"


def test_building_an_async_app_loads_the_http_stack_off_the_event_loop() -> None:
    out = run(
        f"""
import sys
from stack_auth import AsyncStackServerApp
AsyncStackServerApp(project_id="p", secret_server_key="k")
print([m for m in {HTTP_STACK[:3]!r} if m in sys.modules], "stack_auth._aiohttp_pool" in sys.modules)
"""
    )
    # On asyncio the requests go through aiohttp: httpx is not needed, so not imported.
    assert out == "['aiohttp', 'anyio'] True"


def test_cli_help_loads_no_http_stack_and_no_api() -> None:
    out = run(
        f"""
import contextlib, io, sys
from stack_auth import cli
with contextlib.redirect_stdout(io.StringIO()) as help_text:
    status = cli.main(["--help"])
print(status, help_text.getvalue().startswith("usage: stack-auth"))
print([m for m in {[*HTTP_STACK, "stack_auth._sync._app", "stack_auth._known_errors"]!r} if m in sys.modules])
"""
    )
    assert out.splitlines() == ["0 True", "[]"]
