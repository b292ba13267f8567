"""``python -m stack_auth.testing``: run the emulator in the foreground on a loopback port.

Prints the base URL, the project id and its keys, then serves until SIGINT or SIGTERM (clean shutdown, exit 0)::

    python -m stack_auth.testing --port 8102
    python -m stack_auth.testing --port 0 --project-id my-project --seed 1
    python -m stack_auth.testing --item credits=user --data-vault-store secrets --email-server shared
    python -m stack_auth.testing --webhook http://127.0.0.1:8000/webhooks/stack   # prints the endpoint's secret
"""

from __future__ import annotations

import argparse
import signal
import sys

from stack_auth.testing import defaults


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m stack_auth.testing", description="Emulated Stack Auth REST API")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1, loopback only)")
    p.add_argument("--port", type=int, default=8102, help="port (0 picks a free one; default: 8102)")
    p.add_argument("--project-id", default=defaults.DEFAULT_PROJECT_ID)
    p.add_argument("--publishable-client-key", default=defaults.DEFAULT_PUBLISHABLE_CLIENT_KEY)
    p.add_argument("--secret-server-key", default=defaults.DEFAULT_SECRET_SERVER_KEY)
    p.add_argument("--seed", type=int, default=None, help="make ids, keys and faults reproducible")
    p.add_argument(
        "--access-token-lifetime",
        type=float,
        default=defaults.DEFAULT_ACCESS_TOKEN_LIFETIME,
        help="seconds (default: 600)",
    )
    p.add_argument("--no-personal-team", action="store_true", help="do not create a team for each new user")
    p.add_argument(
        "--item",
        action="append",
        default=[],
        metavar="ID=CUSTOMER_TYPE",
        help="a payments item, e.g. credits=user (customer type user, team or custom); repeatable",
    )
    p.add_argument("--data-vault-store", action="append", default=[], metavar="ID", help="a vault store; repeatable")
    p.add_argument(
        "--email-server",
        choices=("custom", "shared"),
        default="custom",
        help="shared: sending email answers REQUIRES_CUSTOM_EMAIL_SERVER (default: custom, sending works)",
    )
    p.add_argument(
        "--webhook",
        action="append",
        default=[],
        metavar="URL",
        help="send the webhooks Stack would send to URL (repeatable); prints each endpoint's whsec_ secret",
    )
    p.add_argument("--log-level", default="warning")
    p.add_argument("--http", default="auto", help="uvicorn HTTP implementation: auto, h11 or httptools")
    return p


def _items(parser: argparse.ArgumentParser, specs: list[str]) -> list[tuple[str, str]]:
    pairs = [spec.partition("=") for spec in specs]
    bad = [spec for spec, (_, eq, kind) in zip(specs, pairs, strict=True) if not eq or not kind]
    if bad:
        parser.error(f"--item wants ID=CUSTOMER_TYPE (e.g. credits=user), got {bad[0]!r}")
    return [(item_id, kind) for item_id, _, kind in pairs]


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    from stack_auth.testing.emulator import Emulator
    from stack_auth.testing.server import bind_socket, make_server, url_of

    emu = Emulator(
        args.project_id,
        args.publishable_client_key,
        args.secret_server_key,
        seed=args.seed,
        access_token_lifetime=args.access_token_lifetime,
        create_personal_team=not args.no_personal_team,
        items={
            item_id: {"customer_type": kind, "display_name": item_id} for item_id, kind in _items(parser, args.item)
        },
        data_vault_stores=args.data_vault_store,
        email_server=args.email_server,
    )
    secrets: list[tuple[str, str]] = []
    for endpoint in args.webhook:
        try:
            secrets.append((endpoint, emu.webhooks.add_endpoint(endpoint)))
        except ValueError as exc:
            parser.error(str(exc))
    sock = bind_socket(args.host, args.port)
    url = url_of(sock)
    print(f"Stack Auth emulator listening on {url}", flush=True)
    print(f"  base URL:               {url}  (API at {url}/api/v1)")
    print(f"  project id:             {emu.project_id}")
    print(f"  publishable client key: {emu.publishable_client_key}")
    print(f"  secret server key:      {emu.secret_server_key}")
    print(f"  control API:            {url}/__emulator__/ (faults, stats, reset)", flush=True)
    for endpoint, secret in secrets:
        print(f"  webhook:                {endpoint}  secret {secret}", flush=True)
    server = make_server(emu.asgi_app, log_level=args.log_level, http=args.http)
    stop_signals: list[int] = []

    def remember(signum: int, frame: object) -> None:
        stop_signals.append(signum)

    # uvicorn turns SIGINT/SIGTERM into a graceful shutdown, then re-raises the signal to the handler that was
    # installed before it: with these, that ends in a normal exit (status 0) instead of a signal death.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, remember)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    print("Stack Auth emulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
