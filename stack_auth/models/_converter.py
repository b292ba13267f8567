"""The one cattrs converter: JSON answers in, request bodies out.

- ``*_millis`` fields (and sessions' ``created_at``/``last_used_at``) are epoch milliseconds on the wire and aware
  UTC datetimes in the models.
- Keys a model does not know are kept in its ``extra`` mapping, so a field the server adds tomorrow is neither an
  error nor lost; a missing optional key decodes to None.
- A model whose answer needs reshaping before decoding (an API key's ``value``: the secret once, else
  ``{"last_four"}``) defines a static ``_from_wire(data)``; it runs before the generated function.
- Structuring functions are generated once per class by cattrs (fast: decoding 100 users is on the hot path).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

if TYPE_CHECKING:
    import cattrs

T = TypeVar("T")

_converter: cattrs.Converter | None = None


def get_converter() -> cattrs.Converter:
    """The converter, built on first use (cattrs is not imported at ``import stack_auth``)."""
    global _converter
    if _converter is None:
        import cattrs

        converter = cattrs.Converter()
        converter.register_structure_hook(datetime, _millis_to_datetime)
        converter.register_unstructure_hook(datetime, lambda dt: round(dt.timestamp() * 1000))
        converter.register_structure_hook_factory(
            lambda cls: attrs.has(cls) and any(f.name == "extra" for f in attrs.fields(cls)),
            lambda cls: _structure_fn_for(converter, cls),
        )
        _converter = converter
    return _converter


def _millis_to_datetime(value: Any, _: type) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=timezone.utc)


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
        if prepare is not None:
            data = prepare(data)
        obj = base(data, cls)
        extra = {k: v for k, v in data.items() if k not in known}
        if extra:
            object.__setattr__(obj, "extra", extra)
        return obj

    return structure


def structure(data: Any, cls: type[T]) -> T:
    """Decode JSON data into a model."""
    return (_converter or get_converter()).structure(data, cls)
