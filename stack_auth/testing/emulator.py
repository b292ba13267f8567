"""The :class:`Emulator`: a stateful, in-memory Stack Auth API for tests and benchmarks."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from stack_auth.testing import defaults
from stack_auth.testing.api_keys_api import issue_api_key, key_view
from stack_auth.testing.app import ApiApp, build_asgi_app
from stack_auth.testing.context import Services
from stack_auth.testing.faults import Faults
from stack_auth.testing.mail import SentMail
from stack_auth.testing.operations import create_session, create_team, create_user
from stack_auth.testing.outbox import QueuedEmail
from stack_auth.testing.passwords import hash_password
from stack_auth.testing.payments_api import CUSTOMER_TYPES
from stack_auth.testing.state import SEEDED_TEAM_PERMISSION_DEFINITIONS, Project, ProjectConfig, Store
from stack_auth.testing.stats import Stats
from stack_auth.testing.tokens import TokenService
from stack_auth.testing.users_api import CREATE_FIELDS
from stack_auth.testing.validation import Validator
from stack_auth.testing.views import session_view, team_server, user_server
from stack_auth.testing.webhooks import Webhooks

if TYPE_CHECKING:
    from starlette.applications import Starlette

_PROJECT_SETTINGS = {f.name for f in dataclasses.fields(ProjectConfig)} - {
    "project_id",
    "publishable_client_key",
    "secret_server_key",
}


def _emails_vault_payments_settings(
    email_server: str,
    data_vault_stores: Iterable[str],
    items: Mapping[str, Mapping[str, Any]] | None,
    products: Mapping[str, Mapping[str, Any]] | None,
) -> dict[str, Any]:
    """The :class:`ProjectConfig` settings of the ``Emulator`` options of those areas, checked."""
    if email_server not in ("custom", "shared"):
        raise ValueError(f"email_server must be 'custom' or 'shared', got {email_server!r}")
    if isinstance(data_vault_stores, str):
        raise TypeError("data_vault_stores is a list of store ids: data_vault_stores=['secrets']")
    payments: dict[str, dict[str, dict[str, Any]]] = {}
    for option, given in (("items", items), ("products", products)):
        payments[option] = {}
        for config_id, config in (given or {}).items():
            if config.get("customer_type") not in CUSTOMER_TYPES:
                raise ValueError(f"{option}[{config_id!r}] needs a customer_type of {', '.join(CUSTOMER_TYPES)}")
            payments[option][config_id] = dict(config)
    return {"email_server": email_server, "data_vault_stores": tuple(data_vault_stores), **payments}


class Emulator:
    """An in-memory Stack Auth REST API (server and client access, several projects, faults on demand).

    In-process, through httpx's ASGI transport::

        emu = Emulator(seed=1)
        transport = httpx.ASGITransport(app=emu.asgi_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            r = await client.post("/api/v1/users", json={"primary_email": "a@example.com"},
                                  headers=emu.headers("server"))
            assert r.status_code == 201

    Over a real loopback socket (uvicorn in a background thread)::

        with emu.serve() as base_url:          # "http://127.0.0.1:54321"
            app = StackServerApp(project_id=emu.project_id, secret_server_key=emu.secret_server_key,
                                 base_url=base_url)

    Defaults mirror a local development Stack backend: project ``internal`` with the local-only keys in
    ``stack_auth.testing.defaults``. ``seed`` makes ids, refresh tokens, signing keys and fault decisions
    reproducible. ``access_token_lifetime`` is in seconds (default 600). ``create_personal_team`` and
    ``require_publishable_client_key`` are settings of the default project (see :class:`ProjectConfig`).
    ``password_hash_iterations`` is the PBKDF2 cost of stored passwords. ``base_url`` fixes the token issuer's
    base; by default it is the URL each request was sent to.

    Permissions: Stack's six ``$`` team permissions, and ``team_admin`` (given to a team's creator) and
    ``team_member`` (given to members) as a project created through Stack's API defines them (``team_admin``
    holds all six, ``team_member`` ``$read_members`` and ``$invite_members``); ``seeded_permissions=True`` gives the
    narrower ones a development backend seeds for ``internal`` instead (``team_admin``: ``$read_members``,
    ``$remove_members``, ``$update_team``; ``team_member``: ``$read_members``). Define more, each id mapped to the
    ids it contains, with ``team_permissions={"read_secrets": [], "manage_secrets": ["read_secrets"]}`` and
    ``project_permissions={"admin": []}`` (or later with :meth:`define_permissions`).

    Emails, data vault and payments (settings of the default project, see :class:`ProjectConfig`):
    ``email_server="shared"`` makes ``send-email`` answer REQUIRES_CUSTOM_EMAIL_SERVER (default ``"custom"``:
    sending works); ``data_vault_stores=["secrets"]`` configures vault stores; ``items={"credits":
    {"customer_type": "user", "display_name": "Credits"}}`` and ``products={"pro": {"customer_type": "user"}}``
    configure payments; ``email_templates={template_id: tsx_source}`` are the templates ``send-email`` accepts. By
    default no store, item, product or template exists.

    Everything here is thread-safe; state can be read and changed while the emulator serves.
    """

    def __init__(
        self,
        project_id: str = defaults.DEFAULT_PROJECT_ID,
        publishable_client_key: str = defaults.DEFAULT_PUBLISHABLE_CLIENT_KEY,
        secret_server_key: str = defaults.DEFAULT_SECRET_SERVER_KEY,
        *,
        seed: int | None = None,
        access_token_lifetime: float = defaults.DEFAULT_ACCESS_TOKEN_LIFETIME,
        create_personal_team: bool = True,
        require_publishable_client_key: bool = True,
        password_hash_iterations: int = defaults.DEFAULT_PASSWORD_HASH_ITERATIONS,
        base_url: str | None = None,
        team_permissions: Mapping[str, Iterable[str]] | None = None,
        project_permissions: Mapping[str, Iterable[str]] | None = None,
        seeded_permissions: bool = False,
        email_server: str = "custom",
        data_vault_stores: Iterable[str] = (),
        items: Mapping[str, Mapping[str, Any]] | None = None,
        products: Mapping[str, Mapping[str, Any]] | None = None,
        email_templates: Mapping[str, str] | None = None,
    ) -> None:
        self.seed = seed
        self._store = Store(seed)
        self._tokens = TokenService(seed, self._store.clock, access_token_lifetime)
        #: The fault knobs (see :class:`~stack_auth.testing.faults.Faults`).
        self.faults = Faults(seed)
        #: Per-route request statistics (see :class:`~stack_auth.testing.stats.Stats`).
        self.stats = Stats()
        self._services = Services(self._store, self._tokens, password_hash_iterations, base_url)
        #: The webhooks Stack would send, delivered to endpoints (see :class:`~stack_auth.testing.webhooks.Webhooks`).
        self.webhooks = Webhooks(project_id, seed=seed)
        self.project_id = project_id
        self.publishable_client_key = publishable_client_key
        self.secret_server_key = secret_server_key
        self.add_project(
            project_id,
            publishable_client_key,
            secret_server_key,
            create_personal_team=create_personal_team,
            require_publishable_client_key=require_publishable_client_key,
            email_templates=dict(email_templates or {}),
            **_emails_vault_payments_settings(email_server, data_vault_stores, items, products),
        )
        with self._store.lock:
            project = self._project(project_id)
            if seeded_permissions:
                project.permission_definitions.update(SEEDED_TEAM_PERMISSION_DEFINITIONS)
            project.define_permissions(team_permissions or {}, "team")
            project.define_permissions(project_permissions or {}, "project")
        self._api = ApiApp(self._services, self.faults, self.stats)
        self._asgi_app: Starlette | None = None
        self._served_urls: list[str] = []

    # --- serving -------------------------------------------------------------------------------------------------

    @property
    def asgi_app(self) -> Starlette:
        """The ASGI application (Starlette): ``/api/v1/...`` and the control API ``/__emulator__/...``."""
        if self._asgi_app is None:
            self._asgi_app = build_asgi_app(self, self._api)
        return self._asgi_app

    @contextmanager
    def serve(
        self, port: int = 0, host: str = "127.0.0.1", *, log_level: str = "warning", http: str = "auto"
    ) -> Iterator[str]:
        """Serve over ``host:port`` with uvicorn in a background thread; yields the base URL.

        ``port=0`` picks a free port. The server stops (and its thread ends) when the block exits.
        """
        from stack_auth.testing.server import ServerThread

        server = ServerThread(self.asgi_app, host, port, log_level=log_level, http=http)
        url = server.start()
        self._served_urls.append(url)
        try:
            yield url
        finally:
            self._served_urls.remove(url)
            server.stop()

    def headers(
        self,
        access_type: str = "server",
        *,
        project_id: str | None = None,
        access_token: str | None = None,
        refresh_token: str | None = None,
    ) -> dict[str, str]:
        """Request headers of a project's access type (keys included), optionally acting for a user."""
        config = self.project(project_id)
        out = {"x-stack-project-id": config.project_id, "x-stack-access-type": access_type}
        if access_type == "client" and config.publishable_client_key:
            out["x-stack-publishable-client-key"] = config.publishable_client_key
        elif access_type == "server" and config.secret_server_key:
            out["x-stack-secret-server-key"] = config.secret_server_key
        elif access_type == "admin" and config.super_secret_admin_key:
            out["x-stack-super-secret-admin-key"] = config.super_secret_admin_key
        if access_token is not None:
            out["x-stack-access-token"] = access_token
        if refresh_token is not None:
            out["x-stack-refresh-token"] = refresh_token
        return out

    # --- projects ------------------------------------------------------------------------------------------------

    def add_project(
        self,
        project_id: str | None = None,
        publishable_client_key: str | None = None,
        secret_server_key: str | None = None,
        **settings: Any,
    ) -> ProjectConfig:
        """Add a project (a UUID id and random keys unless given); ``settings`` are :class:`ProjectConfig` fields."""
        unknown = set(settings) - _PROJECT_SETTINGS
        if unknown:
            raise TypeError(f"unknown project settings: {', '.join(sorted(unknown))}")
        with self._store.lock:
            ids = self._store.ids
            pid = project_id or ids.uuid()
            if pid in self._store.projects:
                raise ValueError(f"project {pid!r} exists already")
            config = ProjectConfig(
                pid,
                publishable_client_key if publishable_client_key is not None else f"pck_{ids.secret(40)}",
                secret_server_key if secret_server_key is not None else f"ssk_{ids.secret(40)}",
                **settings,
            )
            self._store.projects[pid] = Project(config, ids=ids, on_change=self.webhooks.announce)
            return config

    def project(self, project_id: str | None = None) -> ProjectConfig:
        """The settings of a project (the default one when ``project_id`` is None)."""
        with self._store.lock:
            return self._project(project_id).config

    def projects(self) -> list[ProjectConfig]:
        """The configuration of every project, the default one first."""
        with self._store.lock:
            return [p.config for p in self._store.projects.values()]

    def configure_project(self, project_id: str | None = None, **settings: Any) -> ProjectConfig:
        """Change settings of a project (``create_personal_team=False``, ``client_team_creation_enabled=True``...)."""
        unknown = set(settings) - _PROJECT_SETTINGS
        if unknown:
            raise TypeError(f"unknown project settings: {', '.join(sorted(unknown))}")
        with self._store.lock:
            project = self._project(project_id)
            project.config = dataclasses.replace(project.config, **settings)
            return project.config

    def _project(self, project_id: str | None) -> Project:
        return self._store.project(project_id or self.project_id)

    # --- inspection ----------------------------------------------------------------------------------------------

    def users(self, project_id: str | None = None) -> list[dict[str, Any]]:
        """Every user of a project as the server reads it, in ``GET /users`` order (anonymous ones included)."""
        with self._store.lock:
            project = self._project(project_id)
            return [user_server(project, project.users[uid]) for _, uid in project.order]

    def user_count(self, project_id: str | None = None) -> int:
        """How many users the project has (default project when ``project_id`` is None)."""
        with self._store.lock:
            return len(self._project(project_id).users)

    def emails(self, project_id: str | None = None) -> list[str]:
        """Primary emails of every user (with repeats, so tests can count duplicates)."""
        with self._store.lock:
            project = self._project(project_id)
            return [u.primary_email for u in project.users.values() if u.primary_email is not None]

    def mail(self, to: str | None = None, *, kind: str | None = None, project_id: str | None = None) -> list[SentMail]:
        """The mails the project "sent" (oldest first), to one address and of one kind when given.

        Kinds: ``"sign_in_code"``, ``"password_reset"``, ``"email_verification"``, ``"team_invitation"``.
        """
        with self._store.lock:
            return [
                m
                for m in self._project(project_id).mail
                if (to is None or m.to == to) and (kind is None or m.kind == kind)
            ]

    def last_code(self, to: str, *, kind: str | None = None, project_id: str | None = None) -> str:
        """The full code the last mail to ``to`` carries in its link (for a sign-in code: what
        ``sign_in_with_code`` takes), so a test can go through a flow without a mailbox::

            await app.send_sign_in_code("a@example.com", callback_url="http://localhost:3000/magic")
            await app.sign_in_with_code(emu.last_code("a@example.com"))

        Raises ``LookupError`` when no such mail was sent.
        """
        sent = self.mail(to, kind=kind, project_id=project_id)
        if not sent:
            what = f"{kind} mail" if kind else "mail"
            raise LookupError(f"no {what} was sent to {to!r}")
        return sent[-1].code

    def set_oauth_account(
        self, provider: str, account_id: str, email: str | None = None, *, project_id: str | None = None
    ) -> None:
        """The account the emulated OAuth ``provider`` signs in next (by default ``emulated-<provider>-user``,
        ``<provider>-user@example.com``): a known account signs its user in, a new one signs a user up."""
        with self._store.lock:
            self._project(project_id).flows.oauth_accounts[provider] = (account_id, email)

    def outbox(self, user_id: str | None = None, *, project_id: str | None = None) -> list[QueuedEmail]:
        """The emails ``POST /emails/send-email`` queued (oldest first), to one user when given: each has
        ``user_id``, ``to_email``, ``subject``, ``html``, ``template_id``, ``variables``, ``notification_category``,
        ``status`` and ``skipped_reason`` (``"USER_UNSUBSCRIBED"`` when the user turned the category off)."""
        with self._store.lock:
            return [m for m in self._project(project_id).outbox if user_id in (None, m.user_id)]

    def item_quantity(
        self, item_id: str, customer_id: str, *, customer_type: str = "user", project_id: str | None = None
    ) -> int:
        """A customer's quantity of an item (0 when it never changed)."""
        with self._store.lock:
            return self._project(project_id).item_quantities.get((customer_type, customer_id, item_id), 0)

    def vault_entries(self, store_id: str, *, project_id: str | None = None) -> dict[str, str]:
        """What a vault store holds: hashed key -> encrypted value, exactly as clients sent them."""
        with self._store.lock:
            vault = self._project(project_id).vault
            return {hashed: value for (store, hashed), value in vault.items() if store == store_id}

    def get_user(self, user_id: str, project_id: str | None = None) -> dict[str, Any] | None:
        """A user as Stack's server view shows it (``emu.get_user(uid)["display_name"]``), None if unknown."""
        with self._store.lock:
            project = self._project(project_id)
            user = project.users.get(user_id)
            return user_server(project, user) if user is not None else None

    def teams(self, project_id: str | None = None) -> list[dict[str, Any]]:
        """Every team of the project, as Stack's server view shows them."""
        with self._store.lock:
            return [team_server(t) for t in self._project(project_id).teams.values()]

    def team_members(self, team_id: str, project_id: str | None = None) -> list[str]:
        """The user ids of a team's members."""
        with self._store.lock:
            return list(self._project(project_id).members.get(team_id, {}))

    def sessions(self, user_id: str | None = None, project_id: str | None = None) -> list[dict[str, Any]]:
        """The live sessions of the project, or of one user, as ``GET /auth/sessions`` shows them."""
        with self._store.lock:
            project = self._project(project_id)
            return [session_view(s, None) for s in project.sessions.values() if user_id in (None, s.user_id)]

    # --- seeding -------------------------------------------------------------------------------------------------

    def create_user(
        self,
        project_id: str | None = None,
        *,
        password: str | None = None,
        personal_team: bool | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Create a user directly (no HTTP); ``fields`` are ``POST /users`` body fields. Returns the server read.

        ``personal_team`` overrides the project's ``create_personal_team`` for this user.
        """
        if password is not None:
            fields["password"] = password
        v = Validator("POST", "/api/v1/users")
        data = v.body(fields, CREATE_FIELDS)
        if v.errors:
            raise ValueError("; ".join(v.errors))
        password_hash = (
            hash_password(data["password"], self._services.password_iterations) if data.get("password") else None
        )
        with self._store.lock:
            project = self._project(project_id)
            user, _ = create_user(self._store, project, data, password_hash, personal_team=personal_team)
            return user_server(project, user)

    def create_team(
        self,
        display_name: str,
        *,
        creator_user_id: str | None = None,
        project_id: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Create a team directly (the creator, if any, becomes a member with the creator permissions)."""
        with self._store.lock:
            project = self._project(project_id)
            team = create_team(
                self._store, project, {"display_name": display_name, **fields}, creator_user_id=creator_user_id
            )
            return team_server(team)

    def add_team_member(self, team_id: str, user_id: str, project_id: str | None = None) -> None:
        """Make a user a member of a team directly (idempotent); KeyError for an unknown team or user."""
        with self._store.lock:
            project = self._project(project_id)
            if team_id not in project.teams or user_id not in project.users:
                raise KeyError("unknown team or user")
            if not project.is_member(team_id, user_id):
                project.add_member(team_id, user_id, creator=False)

    def create_api_key(
        self,
        owner_id: str,
        *,
        team: bool = False,
        description: str = "",
        is_public: bool = False,
        expires_at_millis: int | None = None,
        project_id: str | None = None,
    ) -> dict[str, Any]:
        """Issue an API key of a user (of a team with ``team=True``) directly: the create answer, whose ``value``
        is the key, e.g. to send as ``X-Stack-Api-Key`` in a test of your own routes."""
        with self._store.lock:
            project = self._project(project_id)
            if owner_id not in (project.teams if team else project.users):
                raise KeyError(f"unknown {'team' if team else 'user'} {owner_id!r}")
            key = issue_api_key(
                self._store,
                project,
                "team" if team else "user",
                owner_id,
                description=description,
                is_public=is_public,
                expires_at=expires_at_millis,
            )
            return key_view(key, first_view=True)

    def define_permissions(
        self,
        team: Mapping[str, Iterable[str]] | None = None,
        project: Mapping[str, Iterable[str]] | None = None,
        *,
        project_id: str | None = None,
    ) -> None:
        """Define team and project permissions (id -> contained ids), as the dashboard does on a real server::

        emu.define_permissions(team={"manage_secrets": ["read_secrets"], "read_secrets": []})
        """
        with self._store.lock:
            target = self._project(project_id)
            target.define_permissions(team or {}, "team")
            target.define_permissions(project or {}, "project")

    def add_team_permission_definition(
        self, permission_id: str, contained: tuple[str, ...] = (), project_id: str | None = None
    ) -> None:
        """Define a team permission (what the dashboard does on a real server)."""
        with self._store.lock:
            self._project(project_id).permission_definitions[permission_id] = tuple(contained)

    def create_session(
        self,
        user_id: str,
        *,
        project_id: str | None = None,
        expires_in_millis: int = defaults.DEFAULT_SESSION_EXPIRES_IN_MILLIS,
        base_url: str | None = None,
    ) -> dict[str, str]:
        """Sign a user in directly: ``{"access_token", "refresh_token", "session_id"}``.

        ``base_url`` sets the access token's issuer base: by default the emulator's ``base_url``, else the URL it
        is being served at (:meth:`serve`), else ``http://testserver``. The emulator itself accepts any issuer base.
        """
        issuer_base = base_url or self._services.base_url or (self._served_urls[-1] if self._served_urls else None)
        with self._store.lock:
            project = self._project(project_id)
            user = project.users[user_id]
            session, token = create_session(
                self._store,
                self._tokens,
                project,
                user,
                base_url=issuer_base or "http://testserver",
                expires_in_millis=expires_in_millis,
            )
            return {"access_token": token, "refresh_token": session.refresh_token, "session_id": session.id}

    def jwks(self, project_id: str | None = None, *, include_anonymous: bool = False) -> dict[str, Any]:
        """The JWKS the API serves for a project."""
        pid = self.project(project_id).project_id
        return self._tokens.jwks(pid, include_restricted=include_anonymous, include_anonymous=include_anonymous)

    # --- time and reset ------------------------------------------------------------------------------------------

    def now(self) -> float:
        """The emulator's clock (epoch seconds, including :meth:`advance_time`)."""
        return self._store.clock.now()

    def advance_time(self, seconds: float) -> None:
        """Move the emulator's clock forward: tokens and sessions expire without sleeping.

        Tokens issued afterwards carry the shifted ``iat``/``exp``: a client checking them against the real clock
        will see them as issued in the future.
        """
        if seconds < 0:
            raise ValueError("time only moves forward")
        with self._store.lock:
            self._store.clock.offset += seconds

    def reset(self, *, data: bool = True, faults: bool = True, stats: bool = True) -> None:
        """Forget users, teams and sessions (projects, settings, permission definitions stay), faults, stats."""
        if data:
            with self._store.lock:
                for pid, project in list(self._store.projects.items()):
                    self._store.projects[pid] = Project(
                        project.config,
                        permission_definitions=dict(project.permission_definitions),
                        project_permission_definitions=dict(project.project_permission_definitions),
                        ids=self._store.ids,
                        on_change=project.on_change,
                    )
        if faults:
            self.faults.clear()
            self.faults.seed(self.seed)
        if stats:
            self.stats.reset()

    def __repr__(self) -> str:
        return f"Emulator(project_id={self.project_id!r}, projects={len(self._store.projects)})"
