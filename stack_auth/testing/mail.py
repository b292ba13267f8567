"""The emails Stack would send (sign-in codes, password resets, verifications, invitations), kept for tests.

Stack mails a link carrying a code; the emulator sends nothing and records the mail instead, so a test can read
the code a user would click (``emu.last_code("a@example.com")``) and go through a flow without a mailbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


@dataclass(frozen=True)
class SentMail:
    """One mail the emulated project "sent": to whom, what for, the full code its link carries, and the link."""

    to: str
    kind: str
    # Codes sign users in: kept out of repr, like every secret.
    code: str = field(repr=False)
    link: str | None = field(repr=False)
    sent_at_millis: int


def link_with_code(callback_url: str | None, code: str) -> str | None:
    """The link Stack puts in the mail: the callback URL with ``code=`` added to its query."""
    if callback_url is None:
        return None
    parts = urlsplit(callback_url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), ("code", code)]
    return urlunsplit(parts._replace(query=urlencode(query)))
