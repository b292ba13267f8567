"""OAuth sign-in: ``GET /auth/oauth/authorize/{provider_id}`` (307, or 200 ``{"location"}`` with
``stack_response_mode=json``), the emulated provider's consent page (control API), Stack's callback, and the
``authorization_code`` grant of ``/auth/oauth/token`` with PKCE S256 checked.

The provider is emulated: it consents at once and signs in the account set with ``Emulator.set_oauth_account``
(default ``emulated-<provider>-user``); a new account signs a user up.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from stack_auth.testing import known
from stack_auth.testing.context import Ctx
from stack_auth.testing.defaults import CONTROL_PREFIX
from stack_auth.testing.flows import OAuthGrant, OAuthRequest
from stack_auth.testing.operations import create_user
from stack_auth.testing.redirects import check_redirect_url
from stack_auth.testing.signin_api import signed_in
from stack_auth.testing.state import Project, Store
from stack_auth.testing.wire import Response, StatusError, dumps, json_response

_OAUTH_CODE_LIFETIME_MS = 10 * 60 * 1000


_AUTHORIZE_REQUIRED = (
    "client_id",
    "client_secret",
    "redirect_uri",
    "scope",
    "state",
    "grant_type",
    "code_challenge",
    "code_challenge_method",
    "response_type",
)
_AUTHORIZE_OPTIONAL = (
    "type",
    "token",
    "provider_scope",
    "error_redirect_uri",
    "after_callback_redirect_url",
    "stack_response_mode",
)


def with_query(url: str, **params: str) -> str:
    """``url`` with ``params`` added to its query (what a redirect back to an app carries)."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _redirect(location: str, json_mode: bool) -> Response:
    if json_mode:
        return json_response({"location": location})
    return Response(307, b"", [(b"location", location.encode("latin-1"))])


async def oauth_authorize(ctx: Ctx) -> Response:
    q = ctx.request.query
    provider = ctx.request.params["provider_id"]
    v = ctx.validator()
    for name in _AUTHORIZE_REQUIRED:
        if name not in q:
            v.fail(f"query.{name} must be defined")
    v.unknown("query", q, (*_AUTHORIZE_REQUIRED, *_AUTHORIZE_OPTIONAL))
    v.one_of("query", "code_challenge_method", q.get("code_challenge_method"), ("S256",))
    v.one_of("query", "type", q.get("type"), ("authenticate", "link"))
    v.done()
    store = ctx.services.store
    with store.lock:
        project = store.projects.get(q["client_id"].split("#")[0])
    if project is None:
        raise known.invalid_oauth_client_id_or_secret(q["client_id"])
    if q["client_secret"] != project.config.publishable_client_key:
        raise known.invalid_publishable_client_key(project.id)
    if provider not in project.config.enabled_oauth_providers:
        raise known.oauth_provider_not_found_or_not_enabled()
    if q.get("provider_scope") and provider in project.config.shared_oauth_providers:
        raise known.oauth_extra_scope_not_available_with_shared_oauth_keys()
    if q.get("type") == "link":
        raise StatusError(400, "?token= query parameter is required for link type")
    check_redirect_url(project, q["redirect_uri"])
    if q.get("after_callback_redirect_url"):
        check_redirect_url(project, q["after_callback_redirect_url"])
    with store.lock:
        inner_state = store.ids.secret(43)
        project.flows.oauth_requests[inner_state] = OAuthRequest(
            provider, q["redirect_uri"], q["state"], q["code_challenge"], q.get("after_callback_redirect_url")
        )
    # To the provider's consent page (emulated in the control API), which answers Stack's callback.
    provider_query = {
        "client_id": f"emulated-{provider}-client",
        "scope": "user:email",
        "response_type": "code",
        "redirect_uri": f"{ctx.base_url}/api/v1/auth/oauth/callback/{provider}",
        "code_challenge_method": "S256",
        "code_challenge": _s256(store.ids.secret(43)),
        "state": inner_state,
        "access_type": "offline",
        "prompt": "consent",
    }
    location = f"{ctx.base_url}{CONTROL_PREFIX}/oauth/{provider}/authorize?{urlencode(provider_query)}"
    return _redirect(location, q.get("stack_response_mode") == "json")


def provider_consent(store: Store, provider: str, query: Mapping[str, str]) -> str:
    """The emulated provider's consent page: the user agrees at once, and it sends them back to Stack's callback
    (its ``redirect_uri``) with a code and the ``state`` it was given. ValueError for a request Stack did not make."""
    state = query.get("state", "")
    with store.lock:
        request = next(
            (p.flows.oauth_requests[state] for p in store.projects.values() if state in p.flows.oauth_requests), None
        )
        if request is None or request.provider != provider or "redirect_uri" not in query:
            raise ValueError("no OAuth sign-in waits for this state")
        request.provider_code = store.ids.secret(20)
    return with_query(query["redirect_uri"], code=request.provider_code, state=state)


async def oauth_callback(ctx: Ctx) -> Response:
    provider = ctx.request.params["provider_id"]
    store = ctx.services.store
    with store.lock:
        found = next(
            (
                (p, r)
                for p in store.projects.values()
                if (r := p.flows.oauth_requests.get(ctx.request.query.get("state", ""))) is not None
            ),
            None,
        )
        if found is None or found[1].provider != provider or found[1].provider_code is None:
            raise StatusError(400, "Invalid OAuth state: the sign-in took too long or was started elsewhere.")
        project, request = found
        if not hmac.compare_digest(ctx.request.query.get("code", ""), request.provider_code or ""):
            raise StatusError(400, "Invalid OAuth code from the provider.")
        del project.flows.oauth_requests[ctx.request.query["state"]]
        account_id, email = project.flows.oauth_account(provider)
        user = next(
            (
                u
                for u in project.users.values()
                if any(p.get("id") == provider and p.get("account_id") == account_id for p in u.oauth_providers)
            ),
            None,
        )
        is_new_user = user is None
        if user is None:
            if not project.config.sign_up_enabled:
                raise known.sign_up_not_enabled()
            fields = {
                "primary_email": email,
                "primary_email_verified": email is not None,
                "oauth_providers": [{"id": provider, "account_id": account_id, "email": email}],
            }
            user, _ = create_user(store, project, fields, None)
        grant = OAuthGrant(
            store.ids.secret(),
            user.id,
            is_new_user,
            request.redirect_uri,
            request.code_challenge,
            request.after_callback_redirect_url,
            store.clock.now_ms() + _OAUTH_CODE_LIFETIME_MS,
        )
        project.flows.oauth_grants[grant.code] = grant
    return _redirect(with_query(request.redirect_uri, code=grant.code, state=request.state), False)


def _invalid_grant(description: str) -> Response:
    return Response(
        400,
        dumps({"error": "invalid_grant", "error_description": description}),
        [(b"content-type", b"application/json; charset=utf-8"), (b"cache-control", b"no-store")],
    )


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def authorization_code_grant(ctx: Ctx, project: Project, body: dict[str, Any]) -> Response:
    """``grant_type=authorization_code`` at ``/auth/oauth/token``: the code once, its redirect URI, and PKCE S256."""
    store = ctx.services.store
    with store.lock:
        grant = project.flows.oauth_grants.get(str(body.get("code", "")))
        if grant is None or grant.used or grant.expires_at < store.clock.now_ms():
            raise known.invalid_authorization_code()
        if body.get("redirect_uri") != grant.redirect_uri:
            return _invalid_grant("Invalid grant: `redirect_uri` is not valid")
        verifier = str(body.get("code_verifier", ""))
        if not verifier or not hmac.compare_digest(_s256(verifier), grant.code_challenge):
            return _invalid_grant("Invalid grant: code verifier is invalid")
        grant.used = True
        user = project.users.get(grant.user_id)
        if user is None:
            raise known.invalid_authorization_code()
        tokens = signed_in(ctx, project, user)
    after = grant.after_callback_redirect_url
    answer = {
        "access_token": tokens["access_token"],
        "token_type": "Bearer",
        "expires_in": 3600,
        "refresh_token": tokens["refresh_token"],
        "scope": "legacy",
        "is_new_user": grant.is_new_user,
        "afterCallbackRedirectUrl": after,
        "after_callback_redirect_url": after,
    }
    return json_response(answer, cache_control=b"no-store")


ROUTES = [
    ("GET", "/auth/oauth/authorize/{provider_id}", oauth_authorize),
    ("GET", "/auth/oauth/callback/{provider_id}", oauth_callback),
]
