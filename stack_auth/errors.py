"""The error tree of the SDK.

Every error raised by ``stack_auth`` is a :class:`StackAuthError`. Answers from the server that are errors become a
:class:`StackAuthApiError` (``status``, ``code``, ``message``, ``details``, ``method``, ``url``), which is also an
instance of the class for its HTTP status (:class:`NotFoundError`, :class:`RateLimitError`, ...). Each of Stack's
known error codes has its own class, generated from ``known-errors.json`` into ``stack_auth._known_errors`` with
Stack's hierarchy kept, so catching a base code catches its children::

    from stack_auth.errors import InvalidAccessToken, NotFoundError

    try:
        await app.users.update(user_id, display_name="x")
    except NotFoundError:            # any 404, e.g. UserNotFound
        ...
    except InvalidAccessToken:       # also catches AccessTokenExpired
        ...

Transport failures are :class:`APIConnectionError` (and :class:`APITimeoutError` for timeouts). Messages never
contain keys or tokens: only the method, the URL (which carries no secrets) and what the server said.
"""

from stack_auth._exceptions import *  # noqa: F403
from stack_auth._exceptions import __all__ as _base_names
from stack_auth._known_errors import *  # noqa: F403
from stack_auth._known_errors import __all__ as _code_names
from stack_auth._vault_crypto import DataVaultDecryptionError

__all__ = [*_base_names, *_code_names, "DataVaultDecryptionError"]
