"""Stack's trusted-domain check for callback and redirect URLs (``validateRedirectUrl`` in
``apps/backend/src/lib/redirect-urls.tsx``): a URL is allowed when it is on one of the project's trusted domains, or
on localhost while the project allows localhost (development). Refusals are REDIRECT_URL_NOT_WHITELISTED."""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from stack_auth.testing import known

if TYPE_CHECKING:
    from stack_auth.testing.state import Project

_LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]", "::1")


def is_trusted(project: Project, url: str) -> bool:
    """Whether ``url`` may receive the user back: a trusted domain (``https://*.example.com`` patterns allowed, same
    scheme and host) or, with ``allow_localhost``, any localhost URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return False
    if project.config.allow_localhost and (host in _LOCAL_HOSTS or host.endswith(".localhost")):
        return True
    for domain in project.config.trusted_domains:
        trusted = urlsplit(domain if "://" in domain else f"https://{domain}")
        if trusted.scheme == parts.scheme and fnmatch.fnmatchcase(parts.netloc.lower(), trusted.netloc.lower()):
            return True
    return False


def check_redirect_url(project: Project, url: str) -> None:
    """Raise REDIRECT_URL_NOT_WHITELISTED unless ``url`` is trusted by the project (see :func:`is_trusted`)."""
    if not is_trusted(project, url):
        raise known.redirect_url_not_whitelisted()
