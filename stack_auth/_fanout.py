"""Fan-out primitives of the bulk API, in async and sync twins (the generated ``_sync/_bulk.py`` names the twin).

- :class:`AsyncFanOut` runs calls in an anyio task group: ``concurrency`` long-lived workers take calls from a memory
  object stream, so a job costs a fixed number of tasks however many items it has.
- :class:`FanOut` runs them in a ``ThreadPoolExecutor`` of ``concurrency`` threads (the sync app's ``httpx.Client``
  is shared by all of them; it is thread-safe).

Both catch an ``Exception`` raised by a call and hand it back as that call's outcome, so one failing item never
stops the others; cancellation (``BaseException``) goes through. Neither reads inputs nor orders results: the bulk job
(``_async/_bulk.py``) submits a bounded window of calls and claims their outcomes in submission order.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar, Union

import attrs

from stack_auth._exceptions import InvalidArgumentError

if TYPE_CHECKING:
    import anyio
    from anyio.abc import TaskGroup
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

T = TypeVar("T")
R = TypeVar("R")

#: The sync twin of :class:`AsyncHandle`: the executor's future.
Handle = Future
#: What a bulk job reads its inputs from: any iterable, or (async side) any async iterable.
AsyncInputs = Union[Iterable[T], AsyncIterable[T]]  # noqa: UP007 (a generic alias must stay subscriptable on 3.10)
Inputs = Iterable[T]


@attrs.frozen
class BulkResult(Generic[T, R]):
    """The outcome of one input of a bulk job: ``value`` when it worked, else ``error`` (the typed exception).

    ``index`` is the input's position (results come in input order); ``input`` the input itself.
    """

    index: int
    input: T
    value: R | None = None
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def unwrap(self) -> R:
        """The value, or raise the item's error."""
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]  # None is a valid R when the call returns None


class AsyncHandle(Generic[R]):
    """The pending outcome of one call submitted to an :class:`AsyncFanOut`."""

    __slots__ = ("_done", "error", "value")

    def __init__(self, done: anyio.Event) -> None:
        self._done = done
        self.value: R | None = None
        self.error: Exception | None = None


#: A call queued for a worker: the function, its input, where its outcome goes.
_Call = tuple[Callable[[Any], Awaitable[Any]], Any, AsyncHandle[Any]]


class AsyncFanOut:
    """At most ``concurrency`` calls at a time, in a task group that lives as long as the ``async with`` block.

    Leaving the block cancels calls still running or queued (their outcomes are never claimed).
    """

    def __init__(self, concurrency: int) -> None:
        self.concurrency = _check_concurrency(concurrency)
        self._task_group: TaskGroup | None = None
        self._send: MemoryObjectSendStream[_Call] | None = None
        self._new_event: Callable[[], anyio.Event] | None = None

    async def __aenter__(self) -> AsyncFanOut:
        import anyio

        send, receive = anyio.create_memory_object_stream[_Call](float("inf"))
        self._new_event = anyio.Event
        task_group = anyio.create_task_group()
        await task_group.__aenter__()
        for _ in range(self.concurrency):
            task_group.start_soon(self._worker, receive.clone())
        receive.close()
        self._task_group, self._send = task_group, send
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        task_group, send = self._task_group, self._send
        if task_group is None or send is None:
            return None
        self._task_group = self._send = None
        send.close()
        task_group.cancel_scope.cancel()
        # Only our workers run in the group and they never fail (an outcome holds the error): an exception from the
        # block is the caller's, and reaches them as it is rather than wrapped in an exception group.
        await task_group.__aexit__(None, None, None)
        return None

    def submit(self, fn: Callable[[T], Awaitable[R]], item: T) -> AsyncHandle[R]:
        """Queue ``fn(item)``; it starts as soon as a worker is free. Never blocks (the caller bounds the queue)."""
        if self._send is None or self._new_event is None:
            raise RuntimeError("AsyncFanOut.submit() outside 'async with'")
        handle: AsyncHandle[R] = AsyncHandle(self._new_event())
        self._send.send_nowait((fn, item, handle))
        return handle

    @staticmethod
    async def outcome(handle: AsyncHandle[R]) -> tuple[R | None, Exception | None]:
        """Wait for the call: ``(value, None)`` or ``(None, error)``."""
        import anyio.lowlevel

        if handle._done.is_set():  # a finished call costs no trip through the event loop, but still heeds cancelling
            await anyio.lowlevel.checkpoint_if_cancelled()
        else:
            await handle._done.wait()
        return handle.value, handle.error

    @staticmethod
    async def _worker(receive: MemoryObjectReceiveStream[_Call]) -> None:
        import anyio
        import anyio.lowlevel

        async with receive:
            while True:
                try:
                    try:
                        fn, item, handle = receive.receive_nowait()  # queued work: no trip through the event loop
                    except anyio.WouldBlock:
                        fn, item, handle = await receive.receive()
                except anyio.EndOfStream:
                    return
                await anyio.lowlevel.checkpoint_if_cancelled()  # cancelled: start nothing new
                try:
                    handle.value = await fn(item)
                except Exception as exc:
                    handle.error = exc
                handle._done.set()


class FanOut:
    """At most ``concurrency`` calls at a time, in threads that live as long as the ``with`` block.

    Leaving the block drops queued calls and waits for the running ones (a thread cannot be interrupted; each
    request is bounded by the app's timeout).
    """

    def __init__(self, concurrency: int) -> None:
        self.concurrency = _check_concurrency(concurrency)
        self._executor: ThreadPoolExecutor | None = None

    def __enter__(self) -> FanOut:
        self._executor = ThreadPoolExecutor(self.concurrency, thread_name_prefix="stack-auth-bulk")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        return None

    def submit(self, fn: Callable[[T], R], item: T) -> Future[R]:
        """Queue ``fn(item)``; it starts as soon as a thread is free. Never blocks (the caller bounds the queue)."""
        if self._executor is None:
            raise RuntimeError("FanOut.submit() outside 'with'")
        return self._executor.submit(fn, item)

    @staticmethod
    def outcome(handle: Future[R]) -> tuple[R | None, Exception | None]:
        """Wait for the call: ``(value, None)`` or ``(None, error)``."""
        error = handle.exception()
        if error is None:
            return handle.result(), None
        if not isinstance(error, Exception):
            raise error  # KeyboardInterrupt, SystemExit: not an item's failure
        return None, error


class _AsyncIteratorOf(Generic[T]):
    """A sync iterator seen as an async one (without an async generator, so nothing is left to finalize)."""

    __slots__ = ("_iterator",)

    def __init__(self, iterator: Iterator[T]) -> None:
        self._iterator = iterator

    def __aiter__(self) -> _AsyncIteratorOf[T]:
        return self

    async def __anext__(self) -> T:
        try:
            return next(self._iterator)
        except StopIteration:
            raise StopAsyncIteration from None


def async_iterate(inputs: AsyncInputs[T]) -> AsyncIterator[T]:
    """An async iterator over an iterable or an async iterable (read lazily, one item at a time)."""
    if isinstance(inputs, AsyncIterable):
        return aiter(inputs)
    return _AsyncIteratorOf(iter(inputs))


def iterate(inputs: Inputs[T]) -> Iterator[T]:
    """The sync twin of :func:`async_iterate`."""
    return iter(inputs)


def _check_concurrency(concurrency: object) -> int:
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1:
        raise InvalidArgumentError(f"concurrency must be a whole number >= 1, got {concurrency!r}")
    return concurrency
