# GENERATED from stack_auth/_async/_bulk.py by scripts/gen_sync.py: edit the source, not this file.
"""Bulk jobs: one operation over many inputs, bounded in concurrency and memory, results in input order.

``app.bulk`` runs a function over the inputs of an iterable (or an async iterable), the sync API in threads::

    with app.bulk.create_users(rows, progress=True) as results:
        for result in results:
            if not result.ok:
                print(f"row {result.index}: {result.error}")

A job reads its input lazily, keeps at most ``concurrency * WINDOW_PER_WORKER`` items between the next result it
hands out and the last input it read, and hands out one :class:`~stack_auth._fanout.BulkResult` per input, in input
order: the value, or the typed error of that item (a failure never stops the others). Requests still go through the
app's transport: its ``max_concurrency``, its ``rate_limit`` and its shared rate-limit gate (one 429 holds every
request of the app until the server's ``Retry-After``) apply to bulk jobs as to any call.
"""

from __future__ import annotations

import inspect
from collections import deque
from collections.abc import Iterator, Callable, Mapping, Sized
from types import TracebackType
from typing import Any, Generic, TypeVar

from stack_auth._sync.resources.users import Users
from stack_auth._exceptions import InvalidArgumentError
from stack_auth._fanout import FanOut, Handle, Inputs, BulkResult, iterate
from stack_auth._progress import ProgressCallback, ProgressTracker
from stack_auth.models import ServerUser

T = TypeVar("T")
R = TypeVar("R")

#: Inputs a job reads ahead of the result it waits for, per unit of concurrency: enough to keep every worker busy
#: behind one slow item, few enough that memory stays bounded however long the input is.
WINDOW_PER_WORKER = 4


class BulkJob(Generic[T, R]):
    """A bulk job: enter it with ``with``, then iterate its results (one per input, in input order).

    ::

        with app.bulk.map(fn, inputs, concurrency=32) as results:
            for result in results:
                ...

    ``job.collect()`` runs it to the end and returns every result in a list (memory then grows with the
    input). Leaving the block early (``break``, an exception, cancellation) stops the job: no new call starts, the
    calls in flight are cancelled, and the app stays usable. A job runs once.
    """

    def __init__(
        self,
        fn: Callable[[T], R],
        inputs: Inputs[T],
        *,
        concurrency: int,
        progress: bool,
        on_progress: ProgressCallback | None,
        total: int | None,
        label: str,
    ) -> None:
        self._fn = fn
        self._source = inputs
        self._fan_out = FanOut(concurrency)
        self._window = concurrency * WINDOW_PER_WORKER
        if total is None and isinstance(inputs, Sized):
            total = len(inputs)
        self._tracker = ProgressTracker(total=total, on_progress=on_progress, bar=progress, label=label)
        self._inputs: Iterator[T] | None = None
        self._pending: deque[tuple[int, T, Handle[R]]] = deque()
        self._read = 0
        self._exhausted = False
        self._entered = False

    @property
    def succeeded(self) -> int:
        """Results handed out so far that succeeded."""
        return self._tracker.succeeded

    @property
    def failed(self) -> int:
        """Results handed out so far that failed."""
        return self._tracker.failed

    def __enter__(self) -> BulkJob[T, R]:
        if self._entered:
            raise RuntimeError("a bulk job runs once: start a new one with app.bulk")
        self._entered = True
        self._fan_out.__enter__()
        self._inputs = iterate(self._source)
        self._tracker.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        self._inputs = None
        self._pending.clear()
        try:
            return self._fan_out.__exit__(exc_type, exc, tb)
        finally:
            self._tracker.close()

    def __iter__(self) -> BulkJob[T, R]:
        return self

    def __next__(self) -> BulkResult[T, R]:
        """The next result in input order, reading inputs ahead to keep the window full."""
        if self._inputs is None:
            raise RuntimeError("iterate a bulk job inside its block: with app.bulk.map(...) as results: ...")
        while not self._exhausted and len(self._pending) < self._window:
            try:
                item = next(self._inputs)
            except StopIteration:
                self._exhausted = True
                break
            self._pending.append((self._read, item, self._fan_out.submit(self._fn, item)))
            self._read += 1
        if not self._pending:
            raise StopIteration
        index, item, handle = self._pending.popleft()
        outcome = self._fan_out.outcome(handle)
        self._tracker.record(outcome[1] is None)
        return BulkResult(index, item, *outcome)

    def collect(self) -> list[BulkResult[T, R]]:
        """Run the job to the end: ``results = app.bulk.delete_users(ids).collect()``."""
        with self:
            return [result for result in self]


class Bulk:
    """Bulk operations with bounded concurrency: ``app.bulk``.

    Every method returns an :class:`BulkJob` (use it with ``with`` and ``for``, or ``await
    job.collect()``) and takes these options:

    - ``concurrency``: calls in flight at once (default: the app's ``max_concurrency``);
    - ``progress=True``: draw a progress bar on stderr (needs ``pip install 'stack-auth[progress]'``);
    - ``on_progress``: called with a :class:`~stack_auth._progress.BulkProgress` after each result;
    - ``total``: the number of inputs, for the progress bar and callback (found by ``len()`` when inputs have one).

    Inputs are read one at a time, in the task (or thread) that iterates the results: a list, a generator, or on the
    async API an async iterable (use one, or the sync API, to read a big file without blocking the event loop).
    """

    def __init__(self, users: Users, *, concurrency: int) -> None:
        self._users = users
        self.concurrency = concurrency

    def map(
        self,
        fn: Callable[[T], R],
        inputs: Inputs[T],
        *,
        concurrency: int | None = None,
        progress: bool = False,
        on_progress: ProgressCallback | None = None,
        total: int | None = None,
        label: str = "bulk",
    ) -> BulkJob[T, R]:
        """Call ``fn`` on each input: one :class:`~stack_auth._fanout.BulkResult` per input, in input order.

        ``fn`` may do anything per input, for instance several API calls::

            def add_to_team(user_id: str) -> None:
                app.teams.add_member(team_id, user_id)

            with app.bulk.map(add_to_team, user_ids) as results:
                failed = [r for r in results if not r.ok]

        An ``Exception`` raised by ``fn`` becomes that input's ``error``; cancellation propagates. ``label`` names
        the job on the progress bar.
        """
        return self._job(fn, inputs, label, concurrency, progress, on_progress, total)

    def create_users(
        self,
        rows: Inputs[Mapping[str, Any]],
        *,
        concurrency: int | None = None,
        progress: bool = False,
        on_progress: ProgressCallback | None = None,
        total: int | None = None,
    ) -> BulkJob[Mapping[str, Any], ServerUser]:
        """Create a user from each row (the keyword arguments of ``app.users.create``, as a mapping).

        ``rows = [{"primary_email": "a@x.io", "primary_email_auth_enabled": True, "display_name": "A"}, ...]``

        A row with a key ``users.create`` does not take fails (``InvalidArgumentError``) without a request. An email
        already in use fails with :class:`~stack_auth.errors.UserEmailAlreadyExists`; creates are never retried once
        they may have reached Stack, so a job never creates a user twice.
        """

        def create(row: Mapping[str, Any]) -> ServerUser:
            return self._users.create(**_fields(row, _CREATE_FIELDS, "create_users"))

        return self._job(create, rows, "create users", concurrency, progress, on_progress, total)

    def update_users(
        self,
        rows: Inputs[Mapping[str, Any]],
        *,
        concurrency: int | None = None,
        progress: bool = False,
        on_progress: ProgressCallback | None = None,
        total: int | None = None,
    ) -> BulkJob[Mapping[str, Any], ServerUser]:
        """Update users: each row is the user's ``id`` and the fields to change (as for ``app.users.update``).

        ``rows = ({"id": uid, "server_metadata": {"plan": "pro"}} for uid in ids)``; None clears a field, a
        field left out is left alone.
        """

        def update(row: Mapping[str, Any]) -> ServerUser:
            fields = dict(_fields(row, _UPDATE_FIELDS, "update_users"))
            user_id = fields.pop("id", None)
            if user_id is None:
                raise InvalidArgumentError("update_users: each row needs the user's 'id'")
            return self._users.update(user_id, **fields)

        return self._job(update, rows, "update users", concurrency, progress, on_progress, total)

    def delete_users(
        self,
        user_ids: Inputs[str],
        *,
        concurrency: int | None = None,
        progress: bool = False,
        on_progress: ProgressCallback | None = None,
        total: int | None = None,
    ) -> BulkJob[str, None]:
        """Delete each user id; a user that does not exist gives :class:`~stack_auth.errors.UserNotFound`."""
        return self._job(self._users.delete, user_ids, "delete users", concurrency, progress, on_progress, total)

    def _job(
        self,
        fn: Callable[[T], R],
        inputs: Inputs[T],
        label: str,
        concurrency: int | None,
        progress: bool,
        on_progress: ProgressCallback | None,
        total: int | None,
    ) -> BulkJob[T, R]:
        return BulkJob(
            fn,
            inputs,
            concurrency=self.concurrency if concurrency is None else concurrency,
            progress=progress,
            on_progress=on_progress,
            total=total,
            label=label,
        )


def _keyword_names(method: Callable[..., Any]) -> frozenset[str]:
    parameters = inspect.signature(method).parameters.values()
    return frozenset(p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY)


_CREATE_FIELDS = _keyword_names(Users.create)
_UPDATE_FIELDS = _keyword_names(Users.update) | {"id"}


def _fields(row: Mapping[str, Any], allowed: frozenset[str], what: str) -> Mapping[str, Any]:
    if not isinstance(row, Mapping):
        raise InvalidArgumentError(f"{what}: each row must be a mapping of fields, got {type(row).__name__}")
    unknown = sorted(str(key) for key in row if key not in allowed)
    if unknown:
        raise InvalidArgumentError(f"{what}: unknown field(s) {', '.join(unknown)}")
    return row
