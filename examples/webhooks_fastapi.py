"""A FastAPI receiver of Stack's webhooks that keeps a local SQLite copy of users, teams and memberships.

    STACK_WEBHOOK_SECRET=whsec_... WEBHOOKS_DB=stack.sqlite3 uvicorn examples.webhooks_fastapi:app

Point a webhook endpoint of your Stack project (or ``python -m stack_auth.testing --webhook URL``) at
``/webhooks/stack``. Each delivery is verified (``StackWebhook``: 400 unless the signature and timestamp check out),
then applied in one SQLite transaction together with its delivery id: Stack retries a delivery until it gets a 2xx,
so the same delivery can arrive again after it was applied, and is then recognised and skipped.

What Stack sends shapes the tables: ``user.created`` carries the user before its personal team exists, no event
announces a team's creator as a member, and a deleted user or team takes its memberships and permissions along.
"""

from __future__ import annotations

import json
import os
import sqlite3
from typing import Any

from fastapi import FastAPI

from stack_auth.fastapi import StackWebhook
from stack_auth.webhooks import (
    TeamCreated,
    TeamDeleted,
    TeamMembershipCreated,
    TeamMembershipDeleted,
    TeamPermissionCreated,
    TeamPermissionDeleted,
    TeamUpdated,
    UserCreated,
    UserDeleted,
    UserUpdated,
    WebhookEvent,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, primary_email TEXT, display_name TEXT, server_metadata TEXT);
CREATE TABLE IF NOT EXISTS teams (id TEXT PRIMARY KEY, display_name TEXT);
CREATE TABLE IF NOT EXISTS team_members (team_id TEXT, user_id TEXT, PRIMARY KEY (team_id, user_id));
CREATE TABLE IF NOT EXISTS team_permissions (
    team_id TEXT, user_id TEXT, permission_id TEXT, PRIMARY KEY (team_id, user_id, permission_id));
CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY, type TEXT NOT NULL);
"""


def connect(path: str) -> sqlite3.Connection:
    # Autocommit mode: each delivery opens its own transaction (BEGIN IMMEDIATE serialises concurrent writers).
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    conn.executescript(SCHEMA)
    return conn


def apply(conn: sqlite3.Connection, event: WebhookEvent) -> None:
    """Change the tables as the event says."""
    match event:
        case UserCreated(data=user) | UserUpdated(data=user):
            conn.execute(
                "INSERT OR REPLACE INTO users VALUES (?, ?, ?, ?)",
                (user.id, user.primary_email, user.display_name, json.dumps(user.server_metadata)),
            )
        case UserDeleted(data=gone):
            conn.execute("DELETE FROM users WHERE id = ?", (gone.id,))
            conn.execute("DELETE FROM team_members WHERE user_id = ?", (gone.id,))
            conn.execute("DELETE FROM team_permissions WHERE user_id = ?", (gone.id,))
        case TeamCreated(data=team) | TeamUpdated(data=team):
            conn.execute("INSERT OR REPLACE INTO teams VALUES (?, ?)", (team.id, team.display_name))
        case TeamDeleted(data=team_ref):
            for table, column in (("teams", "id"), ("team_members", "team_id"), ("team_permissions", "team_id")):
                conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (team_ref.id,))
        case TeamMembershipCreated(data=m):
            conn.execute("INSERT OR IGNORE INTO team_members VALUES (?, ?)", (m.team_id, m.user_id))
        case TeamMembershipDeleted(data=m):
            conn.execute("DELETE FROM team_members WHERE team_id = ? AND user_id = ?", (m.team_id, m.user_id))
            conn.execute("DELETE FROM team_permissions WHERE team_id = ? AND user_id = ?", (m.team_id, m.user_id))
        case TeamPermissionCreated(data=p):
            conn.execute("INSERT OR IGNORE INTO team_permissions VALUES (?, ?, ?)", (p.team_id, p.user_id, p.id))
        case TeamPermissionDeleted(data=p):
            conn.execute(
                "DELETE FROM team_permissions WHERE team_id = ? AND user_id = ? AND permission_id = ?",
                (p.team_id, p.user_id, p.id),
            )
        case _:
            pass  # an event type this receiver does not use (or this SDK does not know yet)


def create_app(db_path: str) -> FastAPI:
    connect(db_path).close()  # the tables exist before the first delivery
    app = FastAPI()

    @app.post("/webhooks/stack")
    def receive(event: StackWebhook) -> dict[str, Any]:
        conn = connect(db_path)
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("INSERT INTO deliveries VALUES (?, ?)", (event.id, event.type))
            except sqlite3.IntegrityError:
                conn.execute("ROLLBACK")
                return {"applied": False}  # a retry of a delivery applied before: answer 2xx, change nothing
            apply(conn, event)
            conn.execute("COMMIT")
            return {"applied": True}
        finally:
            conn.close()

    return app


app = create_app(os.environ.get("WEBHOOKS_DB", "stack-webhooks.sqlite3"))
