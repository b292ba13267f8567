"""What a server receives from the SDK's own HTTP backends, and how the sync pool copes with what servers do.

Every request body arrives whole, framed by its ``Content-Length``, once, on one kept-alive connection, whatever its
size. The backends write request bodies their own way for speed (``benchmarks``, P1): on asyncio a small body
follows its headers in the same step, without aiohttp's writer task (bigger ones take aiohttp's path, with flow
control); the sync pool (``http.client`` connections) sends a request's head and body in one write. A raw recording
server shows what arrives, byte for byte, and answers as told: chunked, closing, hanging up while idle, stalling.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from emulator_helpers import samples

from stack_auth import (
    APIConnectionError,
    APITimeoutError,
    AsyncStackClientApp,
    AsyncStackServerApp,
    StackClientApp,
    StackServerApp,
)
from stack_auth._aiohttp_pool import INLINE_BODY_LIMIT
from stack_auth._http import Timeouts
from stack_auth._httpx import library
from stack_auth._stdlib_pool import StdlibPool

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
    #: How to answer the next requests (then "keep" for the rest): see :meth:`answer`.
    modes: list[str] = field(default_factory=list)
    hung_up: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def answer(self, conn: socket.socket, mode: str) -> bool:
        """Answer one request; False: the connection is over.

        ``keep``: Content-Length, kept alive. ``chunked``: the body in chunks. ``close``: ``Connection: close``, then
        closed. ``hang-up``: kept alive as far as the client can tell, then closed by the server while idle.
        ``stall``: nothing until ``release`` is set. ``repeats``: headers in odd case, two of them twice."""
        head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        if mode == "stall":
            self.release.wait(timeout=30)
            return False
        if mode == "chunked":
            half = len(ANSWER) // 2
            chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (ANSWER[:half], ANSWER[half:]))
            conn.sendall(head + b"transfer-encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n")
            return True
        if mode == "repeats":
            head += b"X-Trace: one\r\nx-trace: two\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\n"
        if mode == "close":
            head += b"connection: close\r\n"
        conn.sendall(head + f"content-length: {len(ANSWER)}\r\n\r\n".encode() + ANSWER)
        if mode in ("close", "hang-up"):
            conn.close()
            self.hung_up.set()
            return False
        return True

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
                    mode = self.modes.pop(0) if self.modes else "keep"
                if not self.answer(conn, mode):
                    return


@contextmanager
def running(tls: ssl.SSLContext | None = None) -> Iterator[RecordingServer]:
    """A :class:`RecordingServer` on 127.0.0.1, over TLS with ``tls`` (a server context)."""
    server = RecordingServer()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)  # a blocked accept() would not see the listener close
    server.base_url = f"{'https' if tls else 'http'}://127.0.0.1:{listener.getsockname()[1]}"
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(10)
            try:
                conn = tls.wrap_socket(conn, server_side=True) if tls else conn
            except (ssl.SSLError, OSError):  # a client that refused the certificate
                conn.close()
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
        server.release.set()
        done.set()
        thread.join(timeout=5)
        listener.close()


@pytest.fixture
def recording_server() -> Iterator[RecordingServer]:
    with running() as server:
        yield server


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


@pytest.mark.anyio
async def test_async_requests_leave_in_one_write(recording_server: RecordingServer, anyio_backend: str) -> None:
    """On asyncio a small body is added to the write of its headers (on trio httpx writes them as it does)."""
    async with AsyncStackServerApp(**credentials(recording_server)) as app:
        for _ in range(20):
            await app.users.update(USER_ID, display_name="Ada")
            await app.users.get(USER_ID)
    assert [json.loads(r.body) for r in recording_server.requests if r.method == "PATCH"] == [
        {"display_name": "Ada"}
    ] * 20
    assert recording_server.connections == 1
    if anyio_backend == "asyncio":
        assert [r.reads for r in recording_server.requests] == [1] * 40


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


# --- the sync pool and what servers do -------------------------------------------------------------------------


def test_sync_pool_replaces_a_connection_the_server_closed_while_idle(recording_server: RecordingServer) -> None:
    """Checked before reuse: the request goes on a new connection instead of failing on the closed one (no retry
    hides it here: max_retries=0)."""
    recording_server.modes = ["hang-up"]
    with StackServerApp(**credentials(recording_server), max_retries=0) as app:
        app.users.get(USER_ID)
        assert recording_server.hung_up.wait(timeout=10)
        app.users.get(USER_ID)
        app.users.get(USER_ID)
    assert len(recording_server.requests) == 3
    assert recording_server.connections == 2


def test_sync_pool_reads_chunked_answers_and_honours_connection_close(recording_server: RecordingServer) -> None:
    recording_server.modes = ["chunked", "close", "chunked", "keep"]
    expected = samples()["users.get (server)"]["body"]["id"]
    with StackServerApp(**credentials(recording_server), max_retries=0) as app:
        assert [app.users.get(USER_ID).id for _ in range(4)] == [expected] * 4  # type: ignore[union-attr]
    assert recording_server.connections == 2  # a new one after the answer that closed its connection


def test_sync_answer_headers_are_case_insensitive_with_repeats_joined(recording_server: RecordingServer) -> None:
    recording_server.modes = ["repeats"]
    pool = StdlibPool(4)
    try:
        raw = pool.send("GET", f"{recording_server.base_url}/api/v1/x", {}, None, Timeouts(5, 5, 5, 5))
    finally:
        pool.close()
    assert raw.status == 200
    assert raw.headers["X-TRACE"] == raw.headers.get("x-trace") == "one, two"
    assert raw.headers["set-cookie"] == "a=1, b=2"
    assert "Content-Type" in raw.headers and "missing" not in raw.headers
    with pytest.raises(KeyError):
        raw.headers["missing"]
    assert json.loads(raw.content) == json.loads(ANSWER)
    [received] = recording_server.requests
    assert received.headers["host"] == recording_server.base_url.removeprefix("http://")
    assert received.headers["accept-encoding"] == "identity"  # nothing to decode


def test_sync_read_and_pool_timeouts_are_typed_and_say_whether_sent(recording_server: RecordingServer) -> None:
    """A stalled answer is a read timeout (maybe sent); waiting for a connection of a full pool is a pool timeout
    (never sent: safe to send again)."""
    recording_server.modes = ["stall"]
    pool = StdlibPool(1)
    url = f"{recording_server.base_url}/api/v1/x"
    failures: list[BaseException] = []

    def stalled() -> None:
        try:
            pool.send("GET", url, {}, None, Timeouts(5, 0.5, 5, 5))
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=stalled)
    thread.start()
    try:
        while not recording_server.requests:  # the only connection is taken
            threading.Event().wait(0.01)
        with pytest.raises(APITimeoutError) as pool_wait:
            pool.send("GET", url, {}, None, Timeouts(5, 5, 5, 0.05))
        assert not pool_wait.value.maybe_sent
        thread.join(timeout=10)
        [read_timeout] = failures
        assert isinstance(read_timeout, APITimeoutError) and read_timeout.maybe_sent
        # The pool is usable again: the timed-out connection was thrown away, not returned.
        assert pool.send("GET", url, {}, None, Timeouts(5, 5, 5, 5)).status == 200
    finally:
        recording_server.release.set()
        thread.join(timeout=10)
        pool.close()
    assert recording_server.connections == 2


def test_sync_connection_refused_is_a_typed_error_never_sent() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"  # bound, not listening: refused
        app = StackServerApp(project_id=PROJECT_ID, secret_server_key="k", base_url=url, max_retries=0)
        with app, pytest.raises(APIConnectionError) as info:
            app.users.create(display_name="x")
    assert not info.value.maybe_sent
    assert isinstance(info.value.__cause__, ConnectionRefusedError)


def test_sync_pool_keeps_to_its_connection_limit_across_threads(recording_server: RecordingServer) -> None:
    with StackServerApp(**credentials(recording_server), max_concurrency=2) as app:

        def work() -> None:
            for _ in range(20):
                app.users.get(USER_ID)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert len(recording_server.requests) == 160
    assert recording_server.connections <= 2


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key: (certificate, key) as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stack-auth test server")])
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_sync_pool_verifies_tls_with_the_trust_store_of_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A certificate nobody vouches for is refused before anything is sent; trusted through ``SSL_CERT_FILE`` (read
    by the preferred library's SSL context), the same server serves requests over one kept-alive connection."""
    cert, key = self_signed_certificate(tmp_path)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with running(tls) as server:
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        untrusted = StackServerApp(**credentials(server), max_retries=0)
        with untrusted, pytest.raises(APIConnectionError) as info:
            untrusted.users.create(display_name="x")
        assert not info.value.maybe_sent
        assert isinstance(info.value.__cause__, ssl.SSLCertVerificationError)
        assert server.requests == []

        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        with StackServerApp(**credentials(server), max_retries=0) as app:
            app.users.update(USER_ID, display_name="Ada")
            app.users.get(USER_ID)
    assert [(r.method, r.path) for r in server.requests] == [
        ("PATCH", f"/api/v1/users/{USER_ID}"),
        ("GET", f"/api/v1/users/{USER_ID}"),
    ]
    assert json.loads(server.requests[0].body) == {"display_name": "Ada"}
    assert server.connections == 1


def shown(exc: BaseException) -> list[str]:
    """What a user or a log could see of an exception: its text and repr, and those of its whole chain."""
    seen: list[str] = []
    found: BaseException | None = exc
    while found is not None:
        seen += [str(found), repr(found)]
        found = found.__cause__ or found.__context__
    return seen


@pytest.mark.anyio
async def test_async_token_that_is_not_a_header_is_refused_unsent_without_quoting_it(
    recording_server: RecordingServer,
) -> None:
    """A token with a line break would smuggle a header: a typed error, the token quoted nowhere."""
    token = "eyJ.secret-token.x\r\nX-Evil: 1"
    async with AsyncStackClientApp(
        project_id=PROJECT_ID, publishable_client_key="pck", base_url=recording_server.base_url, max_retries=0
    ) as app:
        with pytest.raises(APIConnectionError) as info:
            await app.current_user.get(tokens={"access_token": token, "refresh_token": None})
    assert not any("secret-token" in text for text in shown(info.value))
    assert recording_server.requests == []


@pytest.mark.parametrize("own_pool", [True, False], ids=["own pool", "http_client"])
def test_sync_token_that_is_not_a_header_is_refused_unsent_without_quoting_it(
    recording_server: RecordingServer, own_pool: bool
) -> None:
    token = "eyJ.secret-token.x\r\nX-Evil: 1"
    client = None if own_pool else library().Client()
    app = StackClientApp(
        project_id=PROJECT_ID,
        publishable_client_key="pck",
        base_url=recording_server.base_url,
        max_retries=0,
        http_client=client,
    )
    with app, pytest.raises(APIConnectionError) as info:
        app.current_user.get(tokens={"access_token": token, "refresh_token": None})
    if client is not None:
        client.close()
    assert not info.value.maybe_sent
    assert "not valid HTTP" in str(info.value)
    assert not any("secret-token" in text for text in shown(info.value))
    assert recording_server.requests == []
