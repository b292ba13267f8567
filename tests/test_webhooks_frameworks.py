"""The webhook receivers of stack_auth.fastapi, stack_auth.flask and stack_auth.django, through each framework's
own test client: the view gets the verified event, a refused delivery is a 400 saying why (and the view never runs),
the secret comes from STACK_WEBHOOK_SECRET unless given."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

from stack_auth.fastapi import StackWebhook, require_webhook
from stack_auth.webhooks import TeamDeleted, UserCreated, WebhookEvent

try:
    from .test_webhooks_verify import OTHER_SECRET, SECRET, USER_ID, delivery
except ImportError:  # tests/ run as a directory, not a package
    from test_webhooks_verify import OTHER_SECRET, SECRET, USER_ID, delivery  # type: ignore[no-redef]

TEAM_DELETED = {"type": "team.deleted", "data": {"id": "ad962777-8244-496a-b6a2-e0c6a449c79e"}}


@pytest.fixture(autouse=True)
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACK_WEBHOOK_SECRET", SECRET)


# --- FastAPI -----------------------------------------------------------------------------------------------------


def fastapi_client(seen: list[WebhookEvent], **options: Any) -> Any:
    from fastapi import Depends, FastAPI
    from fastapi.testclient import TestClient

    app = FastAPI()

    if options:
        # Depends() as a default: this module's annotations are strings, resolved in module scope.
        @app.post("/hook")
        async def hook_with(event: WebhookEvent = Depends(require_webhook(**options))) -> dict[str, str]:  # noqa: B008
            seen.append(event)
            return {"type": event.type}

    else:

        @app.post("/hook")
        async def hook(event: StackWebhook) -> dict[str, str]:
            seen.append(event)
            return {"type": event.type}

    return TestClient(app)


def test_fastapi_gives_the_view_the_verified_event() -> None:
    seen: list[WebhookEvent] = []
    body, headers = delivery()
    r = fastapi_client(seen).post("/hook", content=body, headers=headers)
    assert (r.status_code, r.json()) == (200, {"type": "user.created"})
    (event,) = seen
    assert isinstance(event, UserCreated) and event.data.id == USER_ID and event.id == headers["svix-id"]


def test_fastapi_refuses_with_400_saying_why() -> None:
    seen: list[WebhookEvent] = []
    client = fastapi_client(seen)
    body, headers = delivery()
    tampered = client.post("/hook", content=body + b" ", headers=headers)
    assert (tampered.status_code, tampered.json()) == (
        400,
        {"detail": "no svix-signature matches this body, id and timestamp for this secret"},
    )
    unsigned = client.post("/hook", content=body)
    assert unsigned.status_code == 400
    assert unsigned.json()["detail"] == "missing header(s): svix-id, svix-timestamp, svix-signature"
    old_body, old_headers = delivery(age=3600)
    assert client.post("/hook", content=old_body, headers=old_headers).status_code == 400
    assert seen == []


def test_fastapi_takes_an_explicit_secret_and_tolerance() -> None:
    seen: list[WebhookEvent] = []
    from datetime import timedelta

    body, headers = delivery(age=600, key=b"another key of thirty-two bytes!")
    client = fastapi_client(seen, secret=OTHER_SECRET, tolerance=timedelta(minutes=15))
    assert client.post("/hook", content=body, headers=headers).status_code == 200
    assert isinstance(seen[0], UserCreated)


# --- Flask -------------------------------------------------------------------------------------------------------


def flask_client(seen: list[WebhookEvent]) -> Any:
    from flask import Flask

    from stack_auth.flask import verify_webhook_request

    app = Flask(__name__)

    @app.post("/hook")
    def hook() -> tuple[str, int]:
        event = verify_webhook_request()
        seen.append(event)
        return "", 204

    return app.test_client()


def test_flask_gives_the_view_the_verified_event() -> None:
    seen: list[WebhookEvent] = []
    body, headers = delivery(TEAM_DELETED)
    r = flask_client(seen).post("/hook", data=body, headers=headers, content_type="application/json")
    assert r.status_code == 204
    (event,) = seen
    assert isinstance(event, TeamDeleted) and event.data.id == TEAM_DELETED["data"]["id"]  # type: ignore[index]


def test_flask_refuses_with_a_json_400(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[WebhookEvent] = []
    body, headers = delivery()
    monkeypatch.setenv("STACK_WEBHOOK_SECRET", OTHER_SECRET)
    r = flask_client(seen).post("/hook", data=body, headers=headers, content_type="application/json")
    assert r.status_code == 400
    assert r.get_json() == {"detail": "no svix-signature matches this body, id and timestamp for this secret"}
    assert seen == []


# --- Django ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def django_ready() -> None:
    """Django's settings are process-wide: configure them as tests/test_frameworks_django.py does (through the
    example, registered under the same module name), whichever of the two runs first."""
    if "django_view_example" not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "examples" / "django_view.py"
        spec = importlib.util.spec_from_file_location("django_view_example", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["django_view_example"] = module
        spec.loader.exec_module(module)


def test_django_decorator_gives_the_view_the_event(django_ready: None) -> None:
    from django.http import HttpResponse
    from django.test import RequestFactory

    from stack_auth.django import stack_webhook

    seen: list[WebhookEvent] = []

    @stack_webhook
    def hook(request: Any, event: WebhookEvent) -> HttpResponse:
        seen.append(event)
        return HttpResponse(status=204)

    assert getattr(hook, "csrf_exempt", False) is True  # Stack's POSTs carry no CSRF token: the signature is proof
    body, headers = delivery()
    request = RequestFactory().post("/hook", data=body, content_type="application/json", headers=headers)
    assert hook(request).status_code == 204
    assert isinstance(seen[0], UserCreated)

    forged = RequestFactory().post(
        "/hook", data=body, content_type="application/json", headers={**headers, "svix-id": "msg_forged"}
    )
    refused = hook(forged)
    assert refused.status_code == 400
    assert refused.content == b'{"detail": "no svix-signature matches this body, id and timestamp for this secret"}'
    assert hook(RequestFactory().get("/hook")).status_code == 405
    assert len(seen) == 1


def test_django_decorator_with_options(django_ready: None) -> None:
    from django.http import HttpResponse
    from django.test import RequestFactory

    from stack_auth.django import stack_webhook

    @stack_webhook(secret=OTHER_SECRET)
    def hook(request: Any, event: WebhookEvent) -> HttpResponse:
        return HttpResponse(event.type)

    body, headers = delivery(key=b"another key of thirty-two bytes!")
    response = hook(RequestFactory().post("/hook", data=body, content_type="application/json", headers=headers))
    assert (response.status_code, response.content) == (200, b"user.created")
