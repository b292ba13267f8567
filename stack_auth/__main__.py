"""``python -m stack_auth``: the ``stack-auth`` command line (see :mod:`stack_auth.cli`)."""

from stack_auth.cli import main

raise SystemExit(main())
