"""Trusted callback URLs: the one check behind every route that mails or redirects to a caller's URL.

Stack refuses a ``callback_url`` (verification, invitation, password reset, magic link, OAuth redirect) whose origin
is not one of the project's trusted domains with REDIRECT_URL_NOT_WHITELISTED (``validateRedirectUrl`` in
``apps/backend/src/lib/redirect-urls.tsx``); localhost is trusted while the project allows it, as in development.
A trusted domain is an origin (``https://app.example.com``, ``http://localhost:3000``), its host may use ``*``
wildcards (``https://*.example.com``); configure them with ``emu.configure_project(trusted_domains=(...))``.
"""

from __future__ import annotations

import fnmatch
from urllib.parse import urlsplit

from stack_auth.testing import known
from stack_auth.testing.state import Project

_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def is_trusted_url(project: Project, url: str) -> bool:
    """Whether ``url`` is an http(s) URL on one of the project's trusted domains (or on localhost, if allowed)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return False
    if project.config.allow_localhost and (host in _LOCAL_HOSTS or host.endswith(".localhost")):
        return True
    default_port = 443 if parts.scheme == "https" else 80
    for domain in project.config.trusted_domains:
        trusted = urlsplit(domain if "://" in domain else f"https://{domain}")
        trusted_host = (trusted.hostname or "").lower()
        trusted_port = trusted.port or (443 if trusted.scheme == "https" else 80)
        if (
            trusted.scheme == parts.scheme
            and fnmatch.fnmatchcase(host, trusted_host)
            and trusted_port == (port or default_port)
        ):
            return True
    return False


def check_redirect_url(project: Project, url: str) -> None:
    """REDIRECT_URL_NOT_WHITELISTED unless ``url`` is trusted by the project (see :func:`is_trusted_url`)."""
    if not is_trusted_url(project, url):
        raise known.redirect_url_not_whitelisted()
