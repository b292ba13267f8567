"""The one cattrs converter: JSON answers in, request bodies out.

- ``*_millis`` fields (and sessions' ``created_at``/``last_used_at``) are epoch milliseconds on the wire and aware
  UTC datetimes in the models.
- Keys a model does not know are kept in its ``extra`` mapping, so a field the server adds tomorrow is neither an
  error nor lost; a missing optional key decodes to None.
- A model whose answer needs reshaping before decoding (an API key's ``value``: the secret once, else
  ``{"last_four"}``) defines a static ``_from_wire(data)``; it runs before the generated function.
- Structuring functions are generated once per class by cattrs (fast: decoding 100 users is on the hot path).
- Types are checked, not coerced: ``"false"`` for a boolean or ``5`` for a string is an answer that does not fit,
  and :func:`structure` raises :class:`~stack_auth.errors.MalformedResponseError` for it (and for a missing
  required key, a null where a value is required, an answer that is not an object), never another exception.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar, get_args, get_origin

import attrs

from stack_auth.models._types import Page

if TYPE_CHECKING:
    import cattrs

T = TypeVar("T")

_converter: cattrs.Converter | None = None
#: What a JSON value that does not fit a model raises in the converter (cattrs' errors are added with cattrs).
_decode_errors: tuple[type[BaseException], ...] = (
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    OverflowError,
    OSError,
)


def get_converter() -> cattrs.Converter:
    """The converter, built on first use (cattrs is not imported at ``import stack_auth``)."""
    global _converter, _decode_errors
    if _converter is None:
        import cattrs
        from cattrs.errors import BaseValidationError

        _decode_errors = (*_decode_errors, BaseValidationError)

        converter = cattrs.Converter()
        for kind in (str, bool, int, float):
            converter.register_structure_hook(kind, _exactly)
        converter.register_structure_hook_factory(_is_sequence, lambda t: _sequence_of(converter, t))
        converter.register_structure_hook(datetime, _millis_to_datetime)
        converter.register_unstructure_hook(datetime, lambda dt: round(dt.timestamp() * 1000))
        converter.register_structure_hook_factory(
            lambda cls: attrs.has(cls) and any(f.name == "extra" for f in attrs.fields(cls)),
            lambda cls: _structure_fn_for(converter, cls),
        )
        _converter = converter
    return _converter


def _exactly(value: Any, kind: type) -> Any:
    """A JSON scalar of exactly ``kind`` (cattrs' default would call ``kind(value)``: ``bool("false")`` is True).

    Numbers are numbers whatever JSON spelled them: ``5.0`` fits an ``int`` field, ``5`` a ``float`` one.
    """
    if type(value) is kind:  # the hot path: json.loads makes exact types (and True is not an int here)
        return value
    if kind is float and type(value) is int:
        return float(value)
    if kind is int and type(value) is float and value.is_integer():
        return int(value)
    raise TypeError(f"expected {_JSON_NAMES[kind]}, got {_json_name(value)}")


def _is_sequence(cls: Any) -> bool:
    """``list[X]`` or ``tuple[X, ...]``."""
    args = get_args(cls)
    return (get_origin(cls) is list and len(args) == 1) or (get_origin(cls) is tuple and args[1:] == (Ellipsis,))


def _sequence_of(converter: cattrs.Converter, cls: Any) -> Callable[[Any, Any], Any]:
    """``tuple[X, ...]`` and ``list[X]`` from a JSON array only (cattrs would iterate a string or an object's keys)."""
    item = get_args(cls)[0]
    make = get_origin(cls)

    def structure(value: Any, _: Any) -> Any:
        if not isinstance(value, list):
            raise TypeError(f"expected an array, got {_json_name(value)}")
        return make(converter.structure(v, item) for v in value)

    return structure


def _millis_to_datetime(value: Any, _: type) -> datetime:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected milliseconds since the epoch, got {_json_name(value)}")
    return datetime.fromtimestamp(value / 1000, tz=timezone.utc)


_JSON_NAMES: dict[type, str] = {str: "a string", bool: "a boolean", int: "an integer", float: "a number"}


def _json_name(value: Any) -> str:
    """The JSON type of a decoded value (never the value: it may be a secret)."""
    if value is None:
        return "null"
    for kind in (bool, str, int, float):
        if isinstance(value, kind):
            return _JSON_NAMES[kind]
    return "an array" if isinstance(value, list) else "an object" if isinstance(value, dict) else type(value).__name__


def wire_name(field: attrs.Attribute[Any]) -> str:
    """The JSON key of a model field (``signed_up_at`` is ``signed_up_at_millis`` on the wire)."""
    return str(field.metadata.get("wire", field.name))


def _structure_fn_for(converter: cattrs.Converter, cls: type[T]) -> Callable[[Mapping[str, Any], type[T]], T]:
    from cattrs.gen import make_dict_structure_fn, override

    fields = [f for f in attrs.fields(cls) if f.name != "extra"]  # type: ignore[arg-type]
    overrides = {f.name: override(rename=wire_name(f)) for f in fields}
    base = make_dict_structure_fn(cls, converter, **overrides)  # type: ignore[arg-type]
    known = frozenset(wire_name(f) for f in fields)
    # A model whose wire form needs reshaping first (an API key's ``value``) says how in ``_from_wire``.
    prepare: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = getattr(cls, "_from_wire", None)

    def structure(data: Mapping[str, Any], _: type[T]) -> T:
        if not isinstance(data, dict):
            raise TypeError(f"expected an object, got {_json_name(data)}")
        if prepare is not None:
            data = prepare(data)
        obj = base(data, cls)
        extra = {k: v for k, v in data.items() if k not in known}
        if extra:
            object.__setattr__(obj, "extra", extra)
        return obj

    return structure


def structure(data: Any, cls: type[T]) -> T:
    """Decode a success answer's JSON into a model, or raise :class:`~stack_auth.errors.MalformedResponseError`.

    The error says where and what was expected (``$.primary_email_verified: expected a boolean, got a string``), never
    the value. Its ``status`` is 200: decoding only happens for success answers.
    """
    converter = _converter or get_converter()
    try:
        return converter.structure(data, cls)
    except _decode_errors as exc:
        raise _malformed(exc, cls) from None


def structure_items(data: Any, cls: type[T]) -> list[T]:
    """The models of a list answer (``{"items": [...]}``); :class:`~stack_auth.errors.MalformedResponseError` if the
    answer is not one or an item does not fit ``cls``: ``teams = structure_items(data, Team)``."""
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise _not_a_list(cls, "no items array")
    return [structure(item, cls) for item in items]


def structure_page(data: Any, cls: type[T]) -> Page[T]:
    """One page of a paginated list answer (``{"items": [...], "pagination": {"next_cursor": ...}}``)."""
    items = tuple(structure_items(data, cls))
    pagination = data.get("pagination") or {}
    cursor = pagination.get("next_cursor") if isinstance(pagination, dict) else None
    if not isinstance(pagination, dict) or not isinstance(cursor, (str, type(None))):
        raise _not_a_list(cls, "pagination.next_cursor is not a string or null")
    return Page(items=items, next_cursor=cursor)


def _not_a_list(cls: type[Any], why: str) -> Exception:
    from stack_auth._exceptions import MalformedResponseError

    return MalformedResponseError(f"the answer is not a list of {cls.__name__}: {why}", status=200)


def _malformed(exc: BaseException, cls: type[Any]) -> Exception:
    from cattrs import transform_error

    from stack_auth._exceptions import MalformedResponseError

    where = "; ".join(transform_error(exc, format_exception=_describe)[:3])
    return MalformedResponseError(f"the answer does not fit {cls.__name__}: {where}", status=200)


def _describe(exc: BaseException, _: type | None) -> str:
    if isinstance(exc, KeyError):
        return "required key missing"
    if isinstance(exc, TypeError) and str(exc).startswith("expected "):
        return str(exc)
    return f"not readable as this field ({type(exc).__name__})"
