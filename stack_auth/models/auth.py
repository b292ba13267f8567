"""Models of the sign-in flows (``app.oauth_authorization_url``)."""

from __future__ import annotations

import attrs


@attrs.frozen
class OAuthAuthorization:
    """An OAuth sign-in in progress: open ``url`` in the user's browser, keep this object, and hand it to
    ``app.complete_oauth(callback_url, auth)`` when the provider sends the user back to ``redirect_uri``.

    ``state`` (checked against the callback) and ``code_verifier`` (PKCE, sent only in the token exchange) are
    secrets of this one sign-in: they never appear in ``repr`` and are never logged.
    """

    url: str = attrs.field(repr=False)
    state: str = attrs.field(repr=False)
    code_verifier: str = attrs.field(repr=False)
    #: Where the provider sends the user back; the token exchange must name it again.
    redirect_uri: str
    provider: str
