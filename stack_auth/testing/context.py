"""What a route handler gets: the parsed request, the caller's auth, and the emulator's services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stack_auth.testing.auth import Auth
from stack_auth.testing.state import Store
from stack_auth.testing.tokens import TokenService
from stack_auth.testing.validation import Validator


@dataclass
class Services:
    """The emulator's shared state and settings, as handlers see them."""

    store: Store
    tokens: TokenService
    password_iterations: int
    #: Base URL used in token issuers; None = taken from each request (scheme and Host header).
    base_url: str | None = None


@dataclass
class ApiRequest:
    method: str
    #: Path below ``/api/v1`` (``/users/abc``).
    path: str
    #: Full request path (``/api/v1/users/abc``), as Stack's messages show it.
    full_path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    params: dict[str, str]
    #: ``scheme://host`` the request was sent to.
    origin: str


@dataclass
class Ctx:
    services: Services
    request: ApiRequest
    auth: Auth | None

    @property
    def base_url(self) -> str:
        return self.services.base_url or self.request.origin

    def validator(self) -> Validator:
        return Validator(self.request.method, self.request.full_path)
