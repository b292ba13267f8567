"""Pytest fixtures for the emulator (registered as the ``stack_auth`` pytest11 entry point).

This module imports nothing optional at import time: starlette, uvicorn and pyjwt load inside the fixtures.

* ``stack_emulator``: a fresh :class:`~stack_auth.testing.Emulator` per test (seed 0, default project ``internal``
  with the local development keys);
* ``stack_emulator_url``: that emulator served over a loopback socket; the base URL (``http://127.0.0.1:PORT``).

::

    def test_create_user(stack_emulator_url, stack_emulator):
        ...
        assert stack_emulator.stats.count("POST /users") == 1
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from stack_auth.testing.emulator import Emulator


@pytest.fixture
def stack_emulator() -> Emulator:
    """A fresh emulator for this test."""
    from stack_auth.testing.emulator import Emulator

    return Emulator(seed=0)


@pytest.fixture
def stack_emulator_url(stack_emulator: Emulator) -> Iterator[str]:
    """``stack_emulator`` served by uvicorn on 127.0.0.1 (a free port) for the duration of the test."""
    with stack_emulator.serve() as url:
        yield url
