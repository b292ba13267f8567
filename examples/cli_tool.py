"""A command-line tool whose user signs in through the browser once; later runs find the session in a file.

export STACK_PROJECT_ID=... STACK_PUBLISHABLE_CLIENT_KEY=... MYTOOL_APP_URL=https://myapp.example
python examples/cli_tool.py login      # opens <app>/handler/cli-auth-confirm; waits until you sign in there
python examples/cli_tool.py whoami
python examples/cli_tool.py logout
"""

from __future__ import annotations

import argparse
import os
import webbrowser
from collections.abc import Callable, Sequence

from stack_auth import StackClientApp


def main(argv: Sequence[str] | None = None, *, browser: Callable[[str], object] = webbrowser.open) -> int:
    parser = argparse.ArgumentParser(prog="mytool")
    parser.add_argument("command", choices=["login", "whoami", "logout"])
    args = parser.parse_args(argv)
    with StackClientApp.from_env(token_store="file") as app:  # ~/.config/stack-auth/session-<project>.json, 0600
        if args.command == "login":
            app.cli_login(app_url=os.environ.get("MYTOOL_APP_URL", "http://localhost:3000"), open_browser=browser)
        if args.command == "logout":
            app.current_user.sign_out()
        user = app.current_user.get()
        print(f"signed in as {user.primary_email or user.id}" if user else "not signed in")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
