"""Progress of bulk jobs: counts handed to a callback, and an optional tqdm progress bar (extra ``progress``).

The bulk job reports each result from the task or thread that consumes the results, in input order, so a callback
never runs concurrently with itself and needs no locking.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from typing import Any

import attrs

from stack_auth._exceptions import ConfigurationError


@attrs.frozen
class BulkProgress:
    """Where a bulk job stands: items done (``succeeded + failed``), out of ``total`` when known."""

    done: int
    succeeded: int
    failed: int
    total: int | None
    elapsed: float

    @property
    def rate(self) -> float:
        """Items per second so far."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0


ProgressCallback = Callable[[BulkProgress], object]


class ProgressTracker:
    """Counts results; calls ``on_progress`` after each one and moves a tqdm bar when ``bar`` is set."""

    def __init__(self, *, total: int | None, on_progress: ProgressCallback | None, bar: bool, label: str) -> None:
        self.total = total
        self._on_progress = on_progress
        self._label = label
        self._tqdm: Any = _tqdm_class() if bar else None
        self._bar: Any = None
        self._started = 0.0
        self.succeeded = 0
        self.failed = 0

    def start(self) -> None:
        self._started = time.monotonic()
        if self._tqdm is not None:
            self._bar = self._tqdm(total=self.total, desc=self._label, unit="item", dynamic_ncols=True)

    def record(self, ok: bool) -> None:
        if ok:
            self.succeeded += 1
        else:
            self.failed += 1
        if self._bar is not None:
            if not ok:
                self._bar.set_postfix(failed=self.failed, refresh=False)
            self._bar.update(1)
        if self._on_progress is not None:
            self._on_progress(
                BulkProgress(
                    done=self.succeeded + self.failed,
                    succeeded=self.succeeded,
                    failed=self.failed,
                    total=self.total,
                    elapsed=time.monotonic() - self._started,
                )
            )

    def close(self) -> None:
        bar, self._bar = self._bar, None
        if bar is not None:
            bar.close()


def _tqdm_class() -> Any:
    try:
        return importlib.import_module("tqdm.auto").tqdm
    except ImportError:
        raise ConfigurationError(
            "progress=True draws a progress bar with tqdm, which is not installed: pip install 'stack-auth[progress]'"
        ) from None
