"""Apps wired to an emulator in-process: no socket, no port, exact and fast."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from stack_auth._async._app import AsyncAppBase
    from stack_auth.testing.emulator import Emulator

AppT = TypeVar("AppT", bound="AsyncAppBase")

#: The base URL in-process apps use (nothing listens there: requests go to the ASGI app).
IN_PROCESS_URL = "http://stack-emulator.test"


@asynccontextmanager
async def in_process_app(emulator: Emulator, app_class: type[AppT], **options: Any) -> AsyncIterator[AppT]:
    """An open app of ``app_class`` on ``emulator`` through ``ASGITransport``, closed on exit.

    The transport and its client are httpx2's when it is installed, else httpx's: the library the SDK itself uses
    (see the README's "httpx or httpx2").

    The project's credentials fill themselves in (server apps get the secret key, client apps the publishable
    key); ``options`` are the app's other options::

        async with in_process_app(emu, AsyncStackServerApp, max_concurrency=8) as app:
            await app.users.create(display_name="x")
    """
    from stack_auth._httpx import library

    httpx = library()
    if getattr(app_class, "_access_type", None) == "server":
        options.setdefault("secret_server_key", emulator.secret_server_key)
    else:
        options.setdefault("publishable_client_key", emulator.publishable_client_key)
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator.asgi_app)) as client,
        app_class(project_id=emulator.project_id, base_url=IN_PROCESS_URL, http_client=client, **options) as app,
    ):
        yield app
