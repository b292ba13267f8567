"""Models decode the real server's answers, keep unknown fields, and hide tokens."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from stack_auth.models import ClientUser, ServerUser, SessionInfo, SessionTokens, Team, structure


def test_server_user_from_real_answers(samples: dict[str, Any]) -> None:
    for name in ("users.create (server)", "users.get (server)", "users.me (server, access token)"):
        body = samples[name]["body"]
        user = structure(body, ServerUser)
        assert user.id == body["id"]
        assert user.signed_up_at == datetime.fromtimestamp(body["signed_up_at_millis"] / 1000, tz=timezone.utc)
        assert user.server_metadata == body["server_metadata"]
        assert user.extra == {}, f"{name}: fields the model does not know: {set(user.extra)}"
    listed = samples["users.list (server, limit=2)"]["body"]["items"]
    users = [structure(item, ServerUser) for item in listed]
    assert users[0].oauth_providers[0].id == "github"


def test_client_user_and_client_team_subset(samples: dict[str, Any]) -> None:
    user = structure(samples["users.me (client, access token)"]["body"], ClientUser)
    assert user.selected_team is not None and user.selected_team.created_at is None
    assert user.extra == {}


def test_team_session_and_tokens(samples: dict[str, Any]) -> None:
    team = structure(samples["teams.create (server)"]["body"], Team)
    assert team.server_metadata == {"tier": 1} and team.created_at is not None
    session = structure(samples["sessions.list (server)"]["body"]["items"][0], SessionInfo)
    assert session.created_at.tzinfo is timezone.utc
    tokens = structure(samples["sessions.create (server)"]["body"], SessionTokens)
    assert tokens.access_token.startswith("eyJ")
    assert tokens.access_token not in repr(tokens) and str(tokens.refresh_token) not in repr(tokens)


def test_unknown_fields_are_kept_and_missing_optional_fields_are_none() -> None:
    user = structure({"id": "u1", "brand_new_field": {"x": 1}}, ServerUser)
    assert user.extra == {"brand_new_field": {"x": 1}}
    assert user.display_name is None and user.selected_team is None and user.last_active_at is None
