"""Module attributes loaded on first use (PEP 562), so that importing a package stays cheap."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(package: str, where: Mapping[str, str], *, submodules: bool = False) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``where[name]`` on first access and caches the attribute. With
    ``submodules=True``, any other public name that is a submodule of the package is imported on first access::

        __getattr__ = lazy_attributes(__name__, {"App": "pkg._app"}, submodules=True)

    Then ``import pkg; pkg.errors.SomeError`` works without ``import pkg.errors`` and costs nothing until used.
    """
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is not None:
            value = getattr(importlib.import_module(module), name)
            namespace[name] = value
            return value
        if submodules and not name.startswith("_") and importlib.util.find_spec(f"{package}.{name}") is not None:
            # Importing a submodule binds it on its package: this runs once per submodule.
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
