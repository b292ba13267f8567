"""Serving the emulator over a real loopback socket with uvicorn, in a background thread or in the foreground.

The socket is bound before uvicorn starts (port 0 picks a free port), so the URL is known at once. Intentional
connection drops (:class:`~stack_auth.testing.faults.DroppedConnection`) are kept out of uvicorn's error log.
"""

from __future__ import annotations

import logging
import socket
import threading
from typing import Any

from stack_auth.testing.faults import DroppedConnection

_STARTUP_TIMEOUT = 10.0
_SHUTDOWN_TIMEOUT = 10.0


class _DropFilter(logging.Filter):
    """Hides uvicorn's "Exception in ASGI application" records caused by emulated connection drops."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        while exc is not None:
            if isinstance(exc, DroppedConnection):
                return False
            exc = exc.__cause__ or exc.__context__
        return True


_filter_installed = False


def install_drop_filter() -> None:
    global _filter_installed
    if not _filter_installed:
        logging.getLogger("uvicorn.error").addFilter(_DropFilter())
        _filter_installed = True


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets of a TCP-proto listener
    # (without it every answer waits ~40 ms for the delayed ACK of its head).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def make_server(app: Any, *, log_level: str = "warning", http: str = "auto", keep_alive: int = 5) -> Any:
    """A uvicorn ``Server`` for ``app`` (no lifespan, no access log; loopback use). ``keep_alive``: seconds an idle
    connection is kept open (uvicorn's ``timeout_keep_alive``)."""
    import uvicorn

    install_drop_filter()
    config = uvicorn.Config(
        app,
        lifespan="off",
        access_log=False,
        log_level=log_level,
        http=http,
        loop="asyncio",
        timeout_graceful_shutdown=2,
        timeout_keep_alive=keep_alive,
        backlog=2048,
    )
    return uvicorn.Server(config)


class ServerThread:
    """uvicorn serving ``app`` on ``host:port`` in a daemon thread; :meth:`stop` shuts it down cleanly."""

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        log_level: str = "warning",
        http: str = "auto",
        keep_alive: int = 5,
    ) -> None:
        self._sock = bind_socket(host, port)
        self.url = url_of(self._sock)
        self._server = make_server(app, log_level=log_level, http=http, keep_alive=keep_alive)
        self._thread = threading.Thread(target=self._run, name=f"stack-emulator {self.url}", daemon=True)
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            self._server.run(sockets=[self._sock])
        except BaseException as exc:  # reported by start()
            self._error = exc

    def start(self) -> str:
        self._thread.start()
        waited = 0.0
        while not self._server.started:
            if not self._thread.is_alive():
                self._sock.close()
                raise RuntimeError(f"the emulator server failed to start: {self._error!r}")
            if waited >= _STARTUP_TIMEOUT:
                self.stop()
                raise RuntimeError("the emulator server did not start within 10 s")
            self._thread.join(0.01)
            waited += 0.01
        return self.url

    @property
    def open_connections(self) -> int:
        """Client connections the server holds open right now (a client that closes one is seen at once)."""
        return len(self._server.server_state.connections)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(_SHUTDOWN_TIMEOUT)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(_SHUTDOWN_TIMEOUT)
        self._sock.close()
