"""The ``stack-auth`` command line (and ``python -m stack_auth``): export and import users, list teams, revoke sessions.

::

    stack-auth users export > users.jsonl              # JSON Lines, page by page (or --format csv, --output FILE)
    stack-auth users import users.jsonl                # bulk create; safe to re-run (existing emails are skipped)
    stack-auth teams list
    stack-auth sessions revoke-all 3241a285-8329-4d69-8f3d-316e08cf140c
    stack-auth --emulator users export                 # try it on an embedded emulator, no project needed
    stack-auth demo                                    # a tour of the SDK on the emulator

Credentials come from ``STACK_PROJECT_ID``, ``STACK_SECRET_SERVER_KEY`` and ``STACK_API_URL``, or the flags of the
same names. Exit status: 0 done, 1 an API error or rows that failed, 2 a usage error, 130 interrupted.

The command line uses the sync API: reading and writing files happens in the main thread while the bulk job's
threads make the requests, so nothing ever blocks an event loop. The API is imported once a command runs: ``--help``
and argparse's usage errors cost less than importing an HTTP library.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import importlib
import importlib.util
import inspect
import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import attrs

from stack_auth._config import DEFAULT_BASE_URL, ENV_API_URL, ENV_PROJECT_ID, ENV_SECRET_SERVER_KEY
from stack_auth._exceptions import (
    APIConnectionError,
    AuthenticationError,
    ConfigurationError,
    InvalidArgumentError,
    PermissionDeniedError,
    RateLimitError,
    StackAuthApiError,
    StackAuthError,
)
from stack_auth._version import __version__
from stack_auth.models import ServerUser
from stack_auth.models._converter import wire_name

# The Python API of this module is the entry point; the command line itself is documented by --help and the README.
__all__ = ["main"]
if TYPE_CHECKING:
    from stack_auth._sync._app import StackServerApp

PROG = "stack-auth"
DEFAULT_IMPORT_CONCURRENCY = 16
#: Failed rows listed on stderr; the rest are counted (all of them go to ``--failures FILE``).
SHOWN_FAILURES = 20

#: Fields a user export has that ``users.create`` does not take: ignored on import without a warning.
READ_FIELDS = frozenset(
    name for f in attrs.fields(ServerUser) for name in (f.name, wire_name(f)) if f.name != "extra"
) | {"auth_with_email", "requires_totp_mfa", "selected_team"}
BOOL_COLUMNS = frozenset(
    {"primary_email_verified", "primary_email_auth_enabled", "otp_auth_enabled", "passkey_auth_enabled", "is_anonymous"}
)
JSON_COLUMNS = frozenset({"client_metadata", "client_read_only_metadata", "server_metadata", "oauth_providers"})
CSV_COLUMNS = (
    "id",
    "primary_email",
    "primary_email_verified",
    "primary_email_auth_enabled",
    "display_name",
    "profile_image_url",
    "signed_up_at",
    "last_active_at",
    "has_password",
    "is_anonymous",
    "selected_team_id",
    "country_code",
    "client_metadata",
    "client_read_only_metadata",
    "server_metadata",
)


@functools.cache
def create_arguments() -> frozenset[str]:
    """The arguments of ``users.create`` (the sync API is imported here, when a command runs, not for ``--help``)."""
    from stack_auth._sync.resources.users import Users

    params = inspect.signature(Users.create).parameters.values()
    return frozenset(p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY)


def fatal_errors() -> tuple[type[StackAuthError], ...]:
    """Errors about the whole run (credentials, project, network), not about one row: the import stops at the first."""
    from stack_auth._known_errors import CurrentProjectNotFound, ProjectAuthenticationError

    return (
        APIConnectionError,
        AuthenticationError,
        PermissionDeniedError,
        ProjectAuthenticationError,
        CurrentProjectNotFound,
        RateLimitError,
    )


class UsageError(Exception):
    """A mistake in how the command was called (exit status 2)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error argparse already reported
        return exc.code if isinstance(exc.code, int) else 2
    if args.command == "demo":
        from stack_auth._demo import main as demo

        return demo()
    try:
        with open_app(args) as app:
            status: int = args.handler(app, args)
            return status
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        return fail(str(exc), status=2)
    except (ConfigurationError, InvalidArgumentError) as exc:
        return fail(str(exc), status=2)
    except StackAuthError as exc:
        return fail(reason(exc) if isinstance(exc, StackAuthApiError) else str(exc))
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):  # e.g. `stack-auth users export | head`
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 1
        return fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
    except KeyboardInterrupt:
        return fail("interrupted", status=130)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Manage the users, teams and sessions of a Stack Auth project.",
        epilog=f"Credentials: {ENV_PROJECT_ID}, {ENV_SECRET_SERVER_KEY} and {ENV_API_URL} (or the flags).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--project-id", help=f"Stack project id (default: ${ENV_PROJECT_ID})")
    parser.add_argument(
        "--secret-server-key",
        help=f"secret server key (default: ${ENV_SECRET_SERVER_KEY}; prefer the variable, command lines are visible)",
    )
    parser.add_argument("--api-url", help=f"API base URL (default: ${ENV_API_URL} or {DEFAULT_BASE_URL})")
    parser.add_argument("--rate-limit", type=positive_float, help="at most this many requests per second")
    parser.add_argument(
        "--emulator",
        action="store_true",
        help="run against an embedded emulator seeded with a few users (state ends with the command)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    users = commands.add_parser("users", help="export or import users").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    export = users.add_parser("export", help="write every user, page by page, as JSON Lines or CSV")
    export.add_argument("-o", "--output", help="file to write (default: stdout)")
    export.add_argument("--format", choices=("jsonl", "csv"), help="default: from the output's extension, else jsonl")
    export.add_argument("--query", help="only users whose email or display name matches")
    export.add_argument("--page-size", type=positive_int, default=200, help="users per request (default: 200)")
    export.set_defaults(handler=users_export)

    imp = users.add_parser(
        "import", help="create users from a JSON Lines or CSV file (rows whose email exists are skipped)"
    )
    imp.add_argument("file", help="JSON Lines (one user object per line) or CSV (a header row of field names)")
    imp.add_argument("--format", choices=("jsonl", "csv"), help="default: from the file's extension, else jsonl")
    imp.add_argument(
        "--concurrency",
        type=positive_int,
        default=DEFAULT_IMPORT_CONCURRENCY,
        help=f"requests in flight (default: {DEFAULT_IMPORT_CONCURRENCY})",
    )
    imp.add_argument("--failures", help="write the failed rows with their reasons to this JSON Lines file")
    imp.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        help="show a progress bar (default: when stderr is a terminal and tqdm is installed)",
    )
    imp.set_defaults(handler=users_import)

    teams = commands.add_parser("teams", help="list teams").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    listing = teams.add_parser("list", help="every team of the project, or a user's teams")
    listing.add_argument("--user-id", help="only the teams of this user")
    listing.add_argument("--format", choices=("table", "jsonl"), default="table")
    listing.set_defaults(handler=teams_list)

    sessions = commands.add_parser("sessions", help="revoke sessions").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    revoke = sessions.add_parser("revoke-all", help="sign a user out everywhere: revoke all their sessions")
    revoke.add_argument("user_id", metavar="USER_ID")
    revoke.set_defaults(handler=sessions_revoke_all)

    commands.add_parser("demo", help="a tour of the SDK on an embedded emulator")
    return parser


# --- the app --------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def open_app(args: argparse.Namespace) -> Iterator[StackServerApp]:
    from stack_auth._sync._app import StackServerApp

    with contextlib.ExitStack() as stack:
        if args.emulator:
            base_url, project_id, key = stack.enter_context(emulator_url())
            print(f"{PROG}: using an embedded emulator at {base_url}", file=sys.stderr)
        else:
            base_url = args.api_url or os.environ.get(ENV_API_URL) or DEFAULT_BASE_URL
            project_id = args.project_id or os.environ.get(ENV_PROJECT_ID) or ""
            key = args.secret_server_key or os.environ.get(ENV_SECRET_SERVER_KEY) or ""
            if not project_id:
                raise UsageError(f"no project: set {ENV_PROJECT_ID} or pass --project-id (or try --emulator)")
            if not key:
                raise UsageError(f"no secret server key: set {ENV_SECRET_SERVER_KEY} or pass --secret-server-key")
        yield stack.enter_context(
            StackServerApp(
                project_id=project_id,
                secret_server_key=key,
                base_url=base_url,
                rate_limit=args.rate_limit,
                max_concurrency=max(getattr(args, "concurrency", 0), DEFAULT_IMPORT_CONCURRENCY),
            )
        )


@contextlib.contextmanager
def emulator_url() -> Iterator[tuple[str, str, str]]:
    """An emulator served on 127.0.0.1, seeded with a few users and a team: ``(base_url, project_id, key)``."""
    try:
        from stack_auth.testing import Emulator
    except ImportError as exc:
        raise UsageError(f"--emulator needs the testing extra: pip install 'stack-auth[testing]' ({exc})") from None
    emulator = Emulator()
    people = [
        ("Ada Lovelace", "ada@example.com"),
        ("Alan Turing", "alan@example.com"),
        ("Grace Hopper", "grace@example.com"),
    ]
    ids = [
        emulator.create_user(display_name=name, primary_email=email, primary_email_auth_enabled=True)["id"]
        for name, email in people
    ]
    team = emulator.create_team("Analytical Engines")
    for user_id in ids[:2]:
        emulator.add_team_member(team["id"], user_id)
    emulator.create_session(ids[0])
    with emulator.serve() as base_url:
        yield base_url, emulator.project_id, emulator.secret_server_key


# --- users export ----------------------------------------------------------------------------------------------------


def users_export(app: StackServerApp, args: argparse.Namespace) -> int:
    fmt = args.format or ("csv" if args.output and Path(args.output).suffix.lower() == ".csv" else "jsonl")
    count = 0
    with output(args.output) as out:
        users = app.users.list(query=args.query, limit=args.page_size)
        if fmt == "csv":
            writer = csv.DictWriter(out, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
            writer.writeheader()
            for user in users:
                writer.writerow({column: csv_cell(getattr(user, column)) for column in CSV_COLUMNS})
                count += 1
        else:
            for user in users:
                out.write(json.dumps(to_wire(user), ensure_ascii=False, separators=(",", ":")) + "\n")
                count += 1
    print(f"exported {count} user{'s' * (count != 1)}", file=sys.stderr)
    return 0


@contextlib.contextmanager
def output(path: str | None) -> Iterator[IO[str]]:
    if path is None or path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    with open(path, "w", encoding="utf-8", newline="") as f:
        yield f


def to_wire(value: Any) -> Any:
    """A model as the API's JSON: wire names (``signed_up_at_millis``), epoch milliseconds, unknown keys kept."""
    if attrs.has(type(value)):
        data = {wire_name(f): to_wire(getattr(value, f.name)) for f in attrs.fields(type(value)) if f.name != "extra"}
        data.update(getattr(value, "extra", {}))
        return data
    if isinstance(value, datetime):
        return round(value.timestamp() * 1000)
    if isinstance(value, (list, tuple)):
        return [to_wire(v) for v in value]
    return value


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


# --- users import ----------------------------------------------------------------------------------------------------


@attrs.frozen
class Row:
    """One row of an import file: its line, its fields, or why it cannot be read."""

    line: int
    data: Mapping[str, Any] | None
    problem: str | None = None


def users_import(app: StackServerApp, args: argparse.Namespace) -> int:
    from stack_auth._known_errors import UserEmailAlreadyExists

    fatal = fatal_errors()
    path = Path(args.file)
    fmt = args.format or ("csv" if path.suffix.lower() == ".csv" else "jsonl")
    read = read_csv if fmt == "csv" else read_jsonl
    if args.progress and not has_tqdm():
        raise UsageError("--progress draws with tqdm, which is not installed: pip install 'stack-auth[progress]'")
    show_bar = has_tqdm() and (sys.stderr.isatty() if args.progress is None else args.progress)
    total = sum(1 for _ in read(path)) if show_bar else None
    # Messages go above the progress bar, not through it.
    say = importlib.import_module("tqdm").tqdm.write if show_bar else print
    warned: set[str] = set()
    created = skipped = failed = 0

    def create(row: Row) -> bool:
        """True: created; False: a user with this email exists already (imported on an earlier run)."""
        try:
            app.users.create(**create_fields(row))
        except UserEmailAlreadyExists:
            return False
        return True

    with contextlib.ExitStack() as stack:
        failures = stack.enter_context(open(args.failures, "w", encoding="utf-8")) if args.failures else None
        job = stack.enter_context(
            app.bulk.map(
                create, read(path), concurrency=args.concurrency, progress=show_bar, total=total, label="import users"
            )
        )
        for result in job:
            row = result.input
            for name in sorted(set(row.data or ()) - create_arguments() - READ_FIELDS - warned):
                warned.add(name)
                say(f"{PROG}: warning: ignoring unknown field {name!r} (line {row.line})", file=sys.stderr)
            if result.error is None:
                created += bool(result.value)
                skipped += not result.value
                continue
            if isinstance(result.error, fatal):
                if created:
                    say(f"created {created} before this error; a re-run skips them", file=sys.stderr)
                raise result.error
            failed += 1
            why = reason(result.error)
            if failed <= SHOWN_FAILURES:
                say(f"line {row.line}: {row_label(row)}{why}", file=sys.stderr)
            if failures is not None:
                failures.write(json.dumps({"line": row.line, "row": row.data, "error": why}, ensure_ascii=False) + "\n")
    if failed > SHOWN_FAILURES:
        print(f"... and {failed - SHOWN_FAILURES} more failed rows", file=sys.stderr)
    print(
        f"created {created}, skipped {skipped} (already there), failed {failed}"
        + (f" (see {args.failures})" if failed and args.failures else ""),
        file=sys.stderr,
    )
    return 1 if failed else 0


def create_fields(row: Row) -> dict[str, Any]:
    """The ``users.create`` arguments of a row; email auth on, so the email is unique and re-runs skip the row."""
    if row.problem is not None:
        raise InvalidArgumentError(row.problem)
    fields = {k: v for k, v in (row.data or {}).items() if k in create_arguments()}
    if not isinstance(fields.get("primary_email"), str) or not fields["primary_email"]:
        raise InvalidArgumentError(
            "no primary_email (rows are matched by email, so without one a re-run would duplicate it)"
        )
    fields["primary_email_auth_enabled"] = True
    return fields


def read_jsonl(path: Path) -> Iterator[Row]:
    with open(path, encoding="utf-8-sig") as f:
        for line_number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except ValueError as exc:
                yield Row(line_number, None, f"not JSON: {exc}")
                continue
            if isinstance(data, dict):
                yield Row(line_number, data)
            else:
                yield Row(line_number, None, f"expected a JSON object, got {type(data).__name__}")


def read_csv(path: Path) -> Iterator[Row]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        for record in reader:
            data: dict[str, Any] = {}
            problems = []
            for column, cell in record.items():
                if column is None or cell is None or cell == "":
                    continue  # extra cells without a header, or a short row's missing ones
                try:
                    data[column] = csv_value(column, cell)
                except ValueError as exc:
                    problems.append(f"{column}: {exc}")
            yield Row(reader.line_num, data, "; ".join(problems) or None)


def csv_value(column: str, cell: str) -> Any:
    if column in BOOL_COLUMNS:
        lowered = cell.strip().lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise ValueError(f"expected true or false, got {cell!r}")
    if column in JSON_COLUMNS:
        try:
            return json.loads(cell)
        except ValueError:
            raise ValueError(f"expected JSON, got {cell!r}") from None
    return cell


def row_label(row: Row) -> str:
    email = (row.data or {}).get("primary_email")
    return f"{email}: " if isinstance(email, str) and email else ""


def has_tqdm() -> bool:
    return importlib.util.find_spec("tqdm") is not None


# --- teams list, sessions revoke-all -------------------------------------------------------------------------------


def teams_list(app: StackServerApp, args: argparse.Namespace) -> int:
    teams = app.teams.list(user_id=args.user_id)
    if args.format == "jsonl":
        for team in teams:
            print(json.dumps(to_wire(team), ensure_ascii=False, separators=(",", ":")))
        return 0
    rows = [("ID", "NAME", "CREATED")] + [
        (t.id, t.display_name or "", t.created_at.strftime("%Y-%m-%d %H:%M") if t.created_at else "") for t in teams
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    for r in rows:
        print(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]}".rstrip())
    print(f"{len(teams)} team{'s' * (len(teams) != 1)}", file=sys.stderr)
    return 0


def sessions_revoke_all(app: StackServerApp, args: argparse.Namespace) -> int:
    user_id: str = args.user_id
    sessions = app.sessions.list(user_id)
    results = app.bulk.map(lambda s: app.sessions.revoke(s.id, user_id=user_id), sessions).collect()
    failed = [r for r in results if not r.ok]
    for r in failed:
        print(f"session {r.input.id}: {reason(r.error)}", file=sys.stderr)
    print(f"revoked {len(results) - len(failed)} of {len(results)} sessions of user {user_id}")
    return 1 if failed else 0


# --- output helpers --------------------------------------------------------------------------------------------------


def reason(exc: BaseException | None) -> str:
    """One line saying what went wrong: ``USER_EMAIL_ALREADY_EXISTS: A user with email ... already exists``."""
    if isinstance(exc, StackAuthApiError):
        text = f"{exc.code or exc.status}: {exc.message}"
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def fail(message: str, *, status: int = 1) -> int:
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr)
    return status


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value
