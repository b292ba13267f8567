"""The emulator's data: projects, users, teams, memberships, team permissions and sessions.

All of it lives in one :class:`Store` guarded by one re-entrant lock (``store.lock``): request handlers (on the event
loop of the ASGI server) and test code (in any thread) take it around every read-modify-write. Nothing blocking or
awaiting happens while it is held.
"""

from __future__ import annotations

import bisect
import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stack_auth.testing import known
from stack_auth.testing.channels import ContactChannel, ContactChannels
from stack_auth.testing.flows import SignInFlows
from stack_auth.testing.mail import SentMail, link_with_code
from stack_auth.testing.outbox import QueuedEmail
from stack_auth.testing.validation import PERMISSION_ID_RE

if TYPE_CHECKING:
    from stack_auth.testing.codes import VerificationCode

SYSTEM_TEAM_PERMISSIONS: tuple[str, ...] = (
    "$update_team",
    "$delete_team",
    "$read_members",
    "$remove_members",
    "$invite_members",
    "$manage_api_keys",
)
#: The team permission definitions of a project created through Stack's API (``lib/projects.tsx``):
#: id -> contained permission ids.
DEFAULT_TEAM_PERMISSION_DEFINITIONS: dict[str, tuple[str, ...]] = {
    **{p: () for p in SYSTEM_TEAM_PERMISSIONS},
    "team_admin": SYSTEM_TEAM_PERMISSIONS,
    "team_member": ("$read_members", "$invite_members"),
}
#: The team permission definitions a development backend seeds for its ``internal`` project (``prisma/seed.ts``),
#: as the real samples show: a team creator cannot invite, delete the team or manage its API keys there.
SEEDED_TEAM_PERMISSION_DEFINITIONS: dict[str, tuple[str, ...]] = {
    **{p: () for p in SYSTEM_TEAM_PERMISSIONS},
    "team_admin": ("$read_members", "$remove_members", "$update_team"),
    "team_member": ("$read_members",),
}


def expand_permissions(direct: set[str], definitions: dict[str, tuple[str, ...]]) -> set[str]:
    """``direct`` plus every permission they contain, through ``contained_permission_ids`` (cycles are fine)."""
    out: set[str] = set()
    stack = list(direct)
    while stack:
        p = stack.pop()
        if p in out:
            continue
        out.add(p)
        stack.extend(definitions.get(p, ()))
    return out


@dataclass
class ProjectConfig:
    """Settings of one emulated project (the subset of Stack's project config the emulated routes read).

    ``create_personal_team``: a new user gets "<name>'s Team" and has it selected (Stack's default: on).
    ``require_publishable_client_key``: client access must send the publishable key (and ``/auth/oauth/token``
    refuses the public client secret ``__stack_public_client__``).
    ``users_default_limit``: page size of ``GET /users`` without ``limit`` (Stack: None, meaning every user).
    ``email_server``: ``"custom"`` (sending works) or ``"shared"`` (``send-email`` answers
    REQUIRES_CUSTOM_EMAIL_SERVER, as on Stack). ``data_vault_stores``: the ids of the configured vault stores.
    ``items`` / ``products``: payments config, id -> ``{"customer_type": "user"|"team"|"custom",
    "display_name": ...}``. ``email_templates``: template id -> TSX source,
    the templates ``send-email`` accepts as ``template_id``.
    """

    project_id: str
    publishable_client_key: str | None
    secret_server_key: str | None
    super_secret_admin_key: str | None = None
    create_personal_team: bool = True
    require_publishable_client_key: bool = True
    sign_up_enabled: bool = True
    password_auth_enabled: bool = True
    client_team_creation_enabled: bool = False
    client_user_deletion_enabled: bool = False
    users_default_limit: int | None = None
    team_creator_default_permissions: tuple[str, ...] = ("team_admin",)
    team_member_default_permissions: tuple[str, ...] = ("team_member",)
    #: Sign-in flows (:mod:`stack_auth.testing.signin_api`): OTP / magic link, anonymous sign-up, OAuth providers.
    magic_link_enabled: bool = True
    anonymous_sign_up_enabled: bool = True
    enabled_oauth_providers: tuple[str, ...] = ("github", "google")
    #: Providers on Stack's shared development keys (no extra ``provider_scope`` allowed).
    shared_oauth_providers: tuple[str, ...] = ("google",)
    #: Where callback and redirect URLs may point (``https://app.example.com``, ``https://*.example.com``);
    #: localhost is trusted while ``allow_localhost`` is on (Stack's development default).
    trusted_domains: tuple[str, ...] = ()
    allow_localhost: bool = True
    #: Project permissions every new user receives (Stack's "default user permissions"; none by default).
    user_default_permissions: tuple[str, ...] = ()
    #: What ``GET /projects/current`` shows (``internal`` is "Stack Dashboard" on a development backend).
    display_name: str = "Stack Dashboard"
    passkey_enabled: bool = False
    #: Stack's ``apiKeys.enabled.user`` / ``.team``: off in a new Stack project, on here as in the captured project
    #: (``configure_project(allow_user_api_keys=False)`` gives Stack's refusal).
    allow_user_api_keys: bool = True
    allow_team_api_keys: bool = True
    email_server: str = "custom"
    data_vault_stores: tuple[str, ...] = ()
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    email_templates: dict[str, str] = field(default_factory=dict)


@dataclass
class User:
    id: str
    signed_up_at: int
    last_active_at: int
    display_name: str | None = None
    primary_email: str | None = None
    primary_email_verified: bool = False
    primary_email_auth_enabled: bool = False
    profile_image_url: str | None = None
    client_metadata: Any = None
    client_read_only_metadata: Any = None
    server_metadata: Any = None
    password_hash: str | None = None
    otp_auth_enabled: bool = False
    passkey_auth_enabled: bool = False
    totp_secret_base64: str | None = None
    oauth_providers: list[dict[str, Any]] = field(default_factory=list)
    selected_team_id: str | None = None
    is_anonymous: bool = False
    restricted_by_admin: bool = False
    restricted_by_admin_reason: str | None = None
    restricted_by_admin_private_details: str | None = None
    country_code: str | None = None
    risk_bot: int = 0
    risk_free_trial_abuse: int = 0
    #: Set by a server update with ``totp_secret_base64`` (a create stores the secret but does not require MFA).
    totp_required: bool = False

    @property
    def restricted_reason(self) -> dict[str, str] | None:
        if self.is_anonymous:
            return {"type": "anonymous"}
        if self.restricted_by_admin:
            return {"type": "restricted_by_administrator"}
        return None

    @property
    def is_restricted(self) -> bool:
        return self.restricted_reason is not None

    @property
    def requires_totp_mfa(self) -> bool:
        return self.totp_secret_base64 is not None and self.totp_required


@dataclass
class Team:
    id: str
    display_name: str
    created_at: int
    profile_image_url: str | None = None
    client_metadata: Any = None
    client_read_only_metadata: Any = None
    server_metadata: Any = None


@dataclass
class Session:
    """A refresh token and what Stack keeps with it."""

    id: str
    user_id: str
    refresh_token: str
    created_at: int
    last_used_at: int
    expires_at: int | None
    is_impersonation: bool = False


@dataclass
class ApiKey:
    """A user or team API key (``type`` says which; ``owner_id`` is the user or team id)."""

    id: str
    type: str
    owner_id: str
    secret: str
    description: str
    is_public: bool
    created_at: int
    expires_at: int | None
    revoked_at: int | None = None


@dataclass
class OAuthAccount:
    """An OAuth account linked to a user (``/oauth-providers``); users' ``oauth_providers`` mirror these."""

    id: str
    user_id: str
    provider_config_id: str
    account_id: str
    email: str | None
    allow_sign_in: bool
    allow_connected_accounts: bool


class Clock:
    """Wall-clock milliseconds plus an offset tests can move forward (``Emulator.advance_time``)."""

    def __init__(self) -> None:
        self.offset = 0.0
        self._last_tick = 0

    def now(self) -> float:
        """Seconds since the epoch, as the emulator sees them."""
        return time.time() + self.offset

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    def tick_ms(self) -> int:
        """A creation timestamp: now, but strictly after the previous one (call under the store lock).

        Lists ordered by creation time (users by ``signed_up_at`` then id, teams, sessions) then follow creation
        order even when many objects are created within one millisecond, as they do on a real server.
        """
        self._last_tick = max(self.now_ms(), self._last_tick + 1)
        return self._last_tick


class Ids:
    """Ids and secrets; reproducible from ``seed`` when one is given (call under the store lock)."""

    _ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"

    def __init__(self, seed: int | None) -> None:
        self.rng = random.Random(seed if seed is not None else int.from_bytes(os.urandom(16), "big"))

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def secret(self, length: int = 45) -> str:
        return "".join(self.rng.choices(self._ALPHABET, k=length))


#: Receives each change Stack announces by webhook: ``(project, event type, data factory)``. Called with the store
#: lock held, so it must not block; it calls the factory at once (a snapshot) only when someone listens.
ChangeSink = Callable[["Project", str, Callable[[], dict[str, Any]]], None]


@dataclass
class Project(ContactChannels):
    """One project's data. Methods expect the store lock to be held."""

    config: ProjectConfig
    users: dict[str, User] = field(default_factory=dict)
    #: (signed_up_at, id) of every user, sorted: the order of ``GET /users``.
    order: list[tuple[int, str]] = field(default_factory=list)
    #: normalized email -> user id, for emails used for auth (unique per project).
    auth_emails: dict[str, str] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    #: team id -> member user ids (insertion ordered).
    members: dict[str, dict[str, None]] = field(default_factory=dict)
    #: user id -> team ids.
    user_teams: dict[str, dict[str, None]] = field(default_factory=dict)
    #: (team id, user id) -> directly granted team permission ids.
    team_permissions: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    permission_definitions: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: dict(DEFAULT_TEAM_PERMISSION_DEFINITIONS)
    )
    #: Project-scoped permission definitions: id -> contained (project) permission ids.
    project_permission_definitions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: user id -> directly granted project permission ids.
    project_permissions: dict[str, set[str]] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)
    refresh_index: dict[str, str] = field(default_factory=dict)
    #: Every mail the project "sent", oldest first (see :mod:`stack_auth.testing.mail`).
    mail: list[SentMail] = field(default_factory=list)
    #: API keys by id, and key ids by secret.
    api_keys: dict[str, ApiKey] = field(default_factory=dict)
    api_key_ids: dict[str, str] = field(default_factory=dict)
    #: Linked OAuth accounts by id, in creation order.
    oauth_accounts: dict[str, OAuthAccount] = field(default_factory=dict)
    #: Pending sign-in codes, CLI logins and OAuth grants (see :mod:`stack_auth.testing.flows`).
    flows: SignInFlows = field(default_factory=SignInFlows)
    #: user id -> channel id -> contact channel, in creation order (the order of ``GET /contact-channels``).
    channels: dict[str, dict[str, ContactChannel]] = field(default_factory=dict)
    #: (team id, user id) -> the member's team profile overrides: ``display_name``, ``profile_image_url``.
    member_profiles: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    #: Verification codes by code (see :mod:`stack_auth.testing.codes`).
    codes: dict[str, VerificationCode] = field(default_factory=dict)
    #: Where new ids come from (the emulator's seeded source; a fresh random one for a bare ``Project``).
    ids: Ids = field(default_factory=lambda: Ids(None), repr=False)
    #: Where changes are announced (the emulator's webhooks); None drops them.
    on_change: ChangeSink | None = field(default=None, repr=False)
    #: Stack's email outbox (``/emails/outbox``): what ``send-email`` queued, oldest first.
    outbox: list[QueuedEmail] = field(default_factory=list)
    #: (user id, notification category id) -> enabled, for the preferences a user changed.
    notification_preferences: dict[tuple[str, str], bool] = field(default_factory=dict)
    #: (store id, hashed key) -> encrypted value, exactly as the client sent it (the emulator sees no plaintext).
    vault: dict[tuple[str, str], str] = field(default_factory=dict)
    #: (customer type, customer id, item id) -> quantity.
    item_quantities: dict[tuple[str, str, str], int] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.config.project_id

    def announce(self, event_type: str, data: Callable[[], dict[str, Any]]) -> None:
        """Announce a change as the webhook event Stack sends for it (``data`` builds its payload's data)."""
        if self.on_change is not None:
            self.on_change(self, event_type, data)

    def send_mail(self, to: str, kind: str, code: str, callback_url: str | None, now_ms: int) -> SentMail:
        """Record the mail Stack would send to ``to``: a link to ``callback_url`` carrying ``code``."""
        mail = SentMail(to, kind, code, link_with_code(callback_url, code), now_ms)
        self.mail.append(mail)
        return mail

    # --- users ---------------------------------------------------------------------------------------------------

    def insert_user(self, user: User) -> None:
        """Add ``user``; USER_EMAIL_ALREADY_EXISTS when its auth email is taken (checked atomically here).

        Its primary email becomes its primary contact channel.
        """
        email = user.primary_email
        if email is not None and user.primary_email_auth_enabled and email in self.auth_emails:
            raise known.user_email_already_exists(email)
        self.users[user.id] = user
        bisect.insort(self.order, (user.signed_up_at, user.id))
        self.user_teams[user.id] = {}
        self.channels[user.id] = {}
        if user.primary_email is not None:
            self.add_channel(
                user,
                user.primary_email,
                is_verified=user.primary_email_verified,
                used_for_auth=user.primary_email_auth_enabled,
                is_primary=True,
            )
        if self.config.user_default_permissions:
            self.project_permissions[user.id] = set(self.config.user_default_permissions)

    def upgrade_anonymous(self, user: User, now_ms: int) -> None:
        """An anonymous user signs up: no longer anonymous, and signed up now (as Stack records it)."""
        i = bisect.bisect_left(self.order, (user.signed_up_at, user.id))
        if i < len(self.order) and self.order[i] == (user.signed_up_at, user.id):
            del self.order[i]
        user.is_anonymous = False
        user.signed_up_at = now_ms
        bisect.insort(self.order, (now_ms, user.id))

    def set_email(self, user: User, email: str | None, verified: bool, auth_enabled: bool) -> None:
        """Change a user's primary email (its primary contact channel), keeping the auth-email index unique.

        USER_EMAIL_ALREADY_EXISTS, before any change, when another user uses ``email`` for auth.
        """
        if email is not None and auth_enabled and self.auth_emails.get(email, user.id) != user.id:
            raise known.user_email_already_exists(email)
        primary = self.primary_channel(user.id)
        if email is None:
            if primary is not None:
                self.delete_channel(primary)
            return
        same_value = self.channel_by_value(user.id, email)
        if same_value is not None and same_value is not primary:
            self.delete_channel(same_value)  # the email becomes the primary one rather than a second channel
        if primary is None:
            self.add_channel(user, email, is_verified=verified, used_for_auth=auth_enabled, is_primary=True)
        else:
            self.change_channel(primary, value=email, is_verified=verified, used_for_auth=auth_enabled)

    def delete_user(self, user_id: str) -> None:
        """Remove a user with its memberships, permissions, contact channels and sessions; announce as Stack does:
        one ``team_membership.deleted`` per team (oldest team first), then ``user.deleted`` with those teams."""
        for channel in list(self.channels.get(user_id, {}).values()):
            self.delete_channel(channel)
        self.channels.pop(user_id, None)
        user = self.users.pop(user_id)
        team_ids = sorted(self.user_teams.get(user_id, {}), key=lambda t: self.teams[t].created_at)
        i = bisect.bisect_left(self.order, (user.signed_up_at, user_id))
        if i < len(self.order) and self.order[i] == (user.signed_up_at, user_id):
            del self.order[i]
        for team_id in list(self.user_teams.pop(user_id, {})):
            self.members.get(team_id, {}).pop(user_id, None)
            self.team_permissions.pop((team_id, user_id), None)
        for session in [s for s in self.sessions.values() if s.user_id == user_id]:
            self.delete_session(session.id)
        self._drop_api_keys("user", user_id)
        for account_id in [a.id for a in self.oauth_accounts.values() if a.user_id == user_id]:
            del self.oauth_accounts[account_id]
        self.project_permissions.pop(user_id, None)
        for team_id in team_ids:
            self.announce_membership("team_membership.deleted", team_id, user_id)
        self.announce("user.deleted", lambda: {"id": user_id, "teams": [{"id": t} for t in team_ids]})

    # --- teams ---------------------------------------------------------------------------------------------------

    def insert_team(self, team: Team) -> None:
        self.teams[team.id] = team
        self.members[team.id] = {}

    def delete_team(self, team_id: str) -> None:
        """Remove a team with its memberships and their permissions (Stack announces only ``team.deleted``)."""
        del self.teams[team_id]
        self._drop_api_keys("team", team_id)
        self.announce("team.deleted", lambda: {"id": team_id})
        for user_id in self.members.pop(team_id, {}):
            self.user_teams.get(user_id, {}).pop(team_id, None)
            self.team_permissions.pop((team_id, user_id), None)
            user = self.users.get(user_id)
            if user is not None and user.selected_team_id == team_id:
                user.selected_team_id = None

    def add_member(self, team_id: str, user_id: str, *, creator: bool) -> None:
        """Add a membership and grant the default permissions (creator or member ones).

        A member's is announced (``team_membership.created``, then ``team_permission.created`` per default
        permission); a creator's is not: Stack adds the creator inside the team create, past its webhook senders.
        """
        self.members[team_id][user_id] = None
        self.user_teams[user_id][team_id] = None
        self.member_profiles.pop((team_id, user_id), None)
        defaults = (
            self.config.team_creator_default_permissions if creator else self.config.team_member_default_permissions
        )
        self.team_permissions[(team_id, user_id)] = set(defaults)
        if not creator:
            self.announce_membership("team_membership.created", team_id, user_id)
            for permission_id in defaults:
                self.announce_permission("team_permission.created", team_id, user_id, permission_id)

    def announce_membership(self, event_type: str, team_id: str, user_id: str) -> None:
        """Announce ``team_membership.created`` or ``.deleted``."""
        self.announce(event_type, lambda: {"team_id": team_id, "user_id": user_id})

    def announce_permission(self, event_type: str, team_id: str, user_id: str, permission_id: str) -> None:
        """Announce ``team_permission.created`` or ``.deleted``."""
        self.announce(event_type, lambda: {"id": permission_id, "user_id": user_id, "team_id": team_id})

    def remove_member(self, team_id: str, user_id: str) -> None:
        self.member_profiles.pop((team_id, user_id), None)
        self.announce_membership("team_membership.deleted", team_id, user_id)
        self.members[team_id].pop(user_id, None)
        self.user_teams[user_id].pop(team_id, None)
        self.team_permissions.pop((team_id, user_id), None)
        user = self.users.get(user_id)
        if user is not None and user.selected_team_id == team_id:
            user.selected_team_id = None

    def is_member(self, team_id: str, user_id: str) -> bool:
        return user_id in self.members.get(team_id, {})

    def permissions_of(self, team_id: str, user_id: str, *, recursive: bool) -> set[str]:
        direct = self.team_permissions.get((team_id, user_id), set())
        return expand_permissions(direct, self.permission_definitions) if recursive else set(direct)

    def project_permissions_of(self, user_id: str, *, recursive: bool) -> set[str]:
        direct = self.project_permissions.get(user_id, set())
        return expand_permissions(direct, self.project_permission_definitions) if recursive else set(direct)

    def define_permissions(self, definitions: Mapping[str, Iterable[str]], scope: str) -> None:
        """Add (or replace) permission definitions of ``scope`` ("team" or "project"): id -> contained ids.

        What the dashboard (or ``rbac.permissions`` in the config) does on a real server. Raises ``ValueError`` for
        an id Stack would refuse, an id defined in the other scope, or a contained id not defined in this scope.
        """
        own, other = (
            (self.permission_definitions, self.project_permission_definitions)
            if scope == "team"
            else (self.project_permission_definitions, self.permission_definitions)
        )
        new = {pid: tuple(contained) for pid, contained in definitions.items()}
        for pid, contained in new.items():
            if not PERMISSION_ID_RE.match(pid) or pid.startswith("$"):
                raise ValueError(f"permission id {pid!r}: only lowercase letters, digits, ':' and '_' are allowed")
            if pid in other:
                raise ValueError(f"permission {pid!r} is defined in the other scope already")
            for child in contained:
                if child not in own and child not in new:
                    raise ValueError(f"permission {pid!r} contains {child!r}, which is not a {scope} permission")
        own.update(new)

    def permission_scope(self, permission_id: str) -> str | None:
        """``"team"`` or ``"project"``: the scope a permission is defined in (None: not defined at all)."""
        if permission_id in self.permission_definitions:
            return "team"
        if permission_id in self.project_permission_definitions:
            return "project"
        return None

    # --- API keys and OAuth accounts -------------------------------------------------------------------------------

    def insert_api_key(self, key: ApiKey) -> None:
        self.api_keys[key.id] = key
        self.api_key_ids[key.secret] = key.id

    def _drop_api_keys(self, key_type: str, owner_id: str) -> None:
        for key in [k for k in self.api_keys.values() if k.type == key_type and k.owner_id == owner_id]:
            del self.api_keys[key.id]
            self.api_key_ids.pop(key.secret, None)

    def link_oauth_account(self, account: OAuthAccount) -> None:
        self.oauth_accounts[account.id] = account
        self.sync_oauth_providers(account.user_id)

    def unlink_oauth_account(self, account_id: str) -> None:
        account = self.oauth_accounts.pop(account_id)
        self.sync_oauth_providers(account.user_id)

    def sync_oauth_providers(self, user_id: str) -> None:
        """Rebuild a user's ``oauth_providers`` (what ``GET /users/{id}`` shows) from their linked accounts."""
        user = self.users.get(user_id)
        if user is not None:
            user.oauth_providers = [
                {"id": a.provider_config_id, "account_id": a.account_id, "email": a.email}
                for a in self.oauth_accounts.values()
                if a.user_id == user_id
            ]

    # --- sessions ------------------------------------------------------------------------------------------------

    def insert_session(self, session: Session) -> None:
        self.sessions[session.id] = session
        self.refresh_index[session.refresh_token] = session.id

    def delete_session(self, session_id: str) -> None:
        session = self.sessions.pop(session_id)
        self.refresh_index.pop(session.refresh_token, None)

    def session_by_refresh_token(self, refresh_token: str, now_ms: int) -> Session | None:
        """The live session of a refresh token (None when unknown, expired, or its user is gone)."""
        session_id = self.refresh_index.get(refresh_token)
        if session_id is None:
            return None
        session = self.sessions[session_id]
        if session.expires_at is not None and session.expires_at < now_ms:
            return None
        if session.user_id not in self.users:
            return None
        return session


class Store:
    """Every project of one emulator, its clock, its id source and the lock guarding them."""

    def __init__(self, seed: int | None) -> None:
        self.lock = threading.RLock()
        self.clock = Clock()
        self.ids = Ids(seed)
        self.projects: dict[str, Project] = {}

    def project(self, project_id: str) -> Project:
        try:
            return self.projects[project_id]
        except KeyError:
            raise KeyError(f"no emulated project {project_id!r}") from None
