"""What a server receives from the SDK's own HTTP backends: every request body whole, framed by its
``Content-Length``, once, on one kept-alive connection, whatever its size.

The backends write request bodies their own way for speed (``benchmarks``, P1): on asyncio a small body follows
its headers in the same step, without aiohttp's writer task (bigger ones take aiohttp's path, with flow control); the
sync backend sends a request's head and body in one write. A raw recording server shows what arrives, byte for byte.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from emulator_helpers import samples

from stack_auth import AsyncStackServerApp, StackServerApp
from stack_auth._aiohttp_pool import INLINE_BODY_LIMIT

PROJECT_ID = "a7e02ba4-8d2b-4bcb-bc08-1d1f0b6a5f4e"
USER_ID = "4c0c2f4e-0a5c-4c5e-9d8c-1f5b2f9b8c11"
ANSWER = json.dumps(samples()["users.get (server)"]["body"]).encode()
# The PATCH body of ``users.update(USER_ID, server_metadata={"blob": "x" * n})`` is this many bytes plus n.
BODY_OVERHEAD = len('{"server_metadata":{"blob":""}}')
# Around the inline limit, and far past it (several socket buffers: flow control on the way).
BLOB_SIZES = [
    10,
    INLINE_BODY_LIMIT - BODY_OVERHEAD,
    INLINE_BODY_LIMIT - BODY_OVERHEAD + 1,
    1_000_000,
]


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    reads: int  # how many recv() calls brought the request in


@dataclass
class RecordingServer:
    """An HTTP/1.1 server on 127.0.0.1 that answers every request with a real user and keeps what it received."""

    base_url: str = ""
    requests: list[Received] = field(default_factory=list)
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def serve(self, conn: socket.socket) -> None:
        with conn:
            buffered = b""
            while True:
                reads = 0
                while b"\r\n\r\n" not in buffered:
                    chunk = conn.recv(1 << 20)
                    if not chunk:
                        return
                    buffered += chunk
                    reads += 1
                head, buffered = buffered.split(b"\r\n\r\n", 1)
                request_line, *lines = head.decode("latin-1").split("\r\n")
                headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
                length = int(headers.get("content-length", "0"))
                while len(buffered) < length:
                    chunk = conn.recv(1 << 20)
                    if not chunk:
                        return
                    buffered += chunk
                    reads += 1
                body, buffered = buffered[:length], buffered[length:]
                method, path, _ = request_line.split(" ")
                with self.lock:
                    self.requests.append(Received(method, path, headers, body, reads))
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    + f"content-length: {len(ANSWER)}\r\n\r\n".encode()
                    + ANSWER
                )


@pytest.fixture
def recording_server() -> Iterator[RecordingServer]:
    server = RecordingServer()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)  # a blocked accept() would not see the listener close
    server.base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(None)
            with server.lock:
                server.connections += 1
            threading.Thread(target=server.serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        done.set()
        thread.join(timeout=5)
        listener.close()


def credentials(server: RecordingServer) -> dict[str, str]:
    return {"project_id": PROJECT_ID, "secret_server_key": "ssk_recording", "base_url": server.base_url}


def assert_received_whole(server: RecordingServer) -> None:
    assert server.connections == 1
    assert [(r.method, r.path) for r in server.requests] == [("PATCH", f"/api/v1/users/{USER_ID}")] * len(BLOB_SIZES)
    for received, size in zip(server.requests, BLOB_SIZES, strict=True):
        assert received.headers["content-length"] == str(len(received.body)) == str(BODY_OVERHEAD + size)
        assert received.headers["content-type"] == "application/json"
        assert json.loads(received.body) == {"server_metadata": {"blob": "x" * size}}


@pytest.mark.anyio
async def test_async_bodies_of_every_size_arrive_whole_and_once(recording_server: RecordingServer) -> None:
    async with AsyncStackServerApp(**credentials(recording_server)) as app:
        for size in BLOB_SIZES:
            user = await app.users.update(USER_ID, server_metadata={"blob": "x" * size})
            assert user.id == samples()["users.get (server)"]["body"]["id"]
    assert_received_whole(recording_server)


def test_sync_bodies_of_every_size_arrive_whole_and_once(recording_server: RecordingServer) -> None:
    with StackServerApp(**credentials(recording_server)) as app:
        for size in BLOB_SIZES:
            app.users.update(USER_ID, server_metadata={"blob": "x" * size})
    assert_received_whole(recording_server)


def test_sync_requests_leave_in_one_write(recording_server: RecordingServer) -> None:
    """A small request (head and body) is one send, so the server's first read has all of it; without the held
    write, the body comes as a second packet and the server reads twice (when it is quicker than the client)."""
    with StackServerApp(**credentials(recording_server)) as app:
        for _ in range(20):
            app.users.update(USER_ID, display_name="Ada")
            app.users.get(USER_ID)
    assert [r.reads for r in recording_server.requests] == [1] * 40
    assert recording_server.connections == 1


def test_sync_requests_from_threads_arrive_whole(recording_server: RecordingServer) -> None:
    """Held writes belong to a connection, never to a thread: eight threads share the pool."""
    with StackServerApp(**credentials(recording_server)) as app:

        def work(n: int) -> None:
            for i in range(10):
                app.users.update(USER_ID, server_metadata={"thread": n, "call": i})

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    metadata = [json.loads(r.body)["server_metadata"] for r in recording_server.requests]
    assert sorted((m["thread"], m["call"]) for m in metadata) == [(n, i) for n in range(8) for i in range(10)]
