"""Which httpx the SDK builds its own clients with: ``httpx2`` when it is installed, else ``httpx``.

httpx2 is the maintained fork of httpx, with the same API (``pip install 'stack-auth[httpx2]'``). The SDK prefers it
for the clients it creates (the sync API, the async API on trio, the emulator's in-process transport) and falls back
to httpx, which stays a dependency. ``STACK_AUTH_HTTPX=httpx`` (or ``httpx2``) makes the choice explicit.

``isinstance`` and ``except`` do not cross between the two packages: an ``httpx.ReadTimeout`` is not an
``httpx2.TimeoutException``. Code that must recognise a caller's client or an exception raised inside either library
asks :func:`classes` for the class of every library that is loaded. It looks in ``sys.modules`` only: a library that
was never imported cannot have built the caller's client nor raised the exception, and importing it just to ask
would slow down ``import stack_auth``.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import sys
from collections.abc import Iterable
from types import ModuleType

from stack_auth._config import ENV_HTTPX
from stack_auth._exceptions import ConfigurationError

#: Preferred first.
LIBRARIES = ("httpx2", "httpx")


def chosen_name() -> str:
    """The library the SDK's own clients use, by name, without importing it; a bad choice is a ConfigurationError."""
    wanted = os.environ.get(ENV_HTTPX, "").strip()
    if wanted and wanted not in LIBRARIES:
        raise ConfigurationError(f"{ENV_HTTPX} must be 'httpx2' or 'httpx', got {wanted!r}")
    for name in (wanted,) if wanted else LIBRARIES:
        if importlib.util.find_spec(name) is not None:
            return name
    raise ConfigurationError(
        f"{ENV_HTTPX}={wanted} but {wanted} is not installed: pip install 'stack-auth[httpx2]', or unset {ENV_HTTPX}"
    )


@functools.cache
def library() -> ModuleType:
    """The httpx module the SDK builds its own clients with (imported on first call)."""
    return importlib.import_module(chosen_name())


def installed() -> tuple[ModuleType, ...]:
    """httpx2 and httpx, those of the two that are installed, imported (the chosen one first)."""
    names = sorted(LIBRARIES, key=lambda name: name != chosen_name())
    return _unique(importlib.import_module(name) for name in names if importlib.util.find_spec(name) is not None)


def loaded() -> tuple[ModuleType, ...]:
    """httpx2 and httpx, those of the two that are imported (one module when httpx2 aliases itself as httpx)."""
    return _unique(module for name in LIBRARIES if (module := sys.modules.get(name)) is not None)


def _unique(modules: Iterable[ModuleType]) -> tuple[ModuleType, ...]:
    return tuple({id(module): module for module in modules}.values())


def classes(*names: str) -> tuple[type, ...]:
    """The classes ``names`` (``"TransportError"``, ``"AsyncClient"``, ...) of every loaded library, for
    ``isinstance`` and ``except``."""
    return tuple(getattr(module, name) for module in loaded() for name in names)


def error_classes(*names: str) -> tuple[type[Exception], ...]:
    """:func:`classes` for exceptions (``"TransportError"``, ``"TimeoutException"``, ...), for ``except``."""
    return tuple(cls for cls in classes(*names) if issubclass(cls, Exception))
