"""Request validation with Stack's (yup's) messages, collected into one ``SCHEMA_ERROR``.

Stack validates params, query and body of a request together and reports every failure at once::

    Request validation failed on POST /api/v1/users:
      - body.display_name must be a `string` type, but the final value was: `{ ... }`.
      - body.primary_email must be a valid email

:class:`Validator` reproduces that: each check appends a message, :meth:`Validator.done` raises the error.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from stack_auth.testing import known

# yup's uuid test (v1): RFC 4122 versions 1-8 plus the nil and max UUIDs, case-insensitive.
UUID_RE = re.compile(
    r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    r"|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$",
    re.IGNORECASE,
)
EMAIL_RE = re.compile(r"^[^\s@\"<>(),;:\\\[\]]+@[^\s@\"<>(),;:\\\[\]]+\.[^\s@\"<>(),;:\\\[\]]+$")
PERMISSION_ID_RE = re.compile(r"^\$?[a-z0-9_:]+$")
_IDENT_RE = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


def is_uuid(value: str) -> bool:
    return UUID_RE.match(value) is not None


def _simple(value: Any, quote: bool) -> str | None:
    """yup's ``printSimpleValue``."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return f'"{value}"' if quote else value
    return None


def print_value(value: Any, quote: bool = True) -> str:
    """yup's ``printValue``: primitives printed plainly, objects as 2-space JSON with primitives stringified."""
    simple = _simple(value, quote)
    if simple is not None:
        return simple

    def convert(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: convert(x) for k, x in v.items()}
        if isinstance(v, list):
            return [convert(x) for x in v]
        return _simple(v, quote)

    return json.dumps(convert(value), indent=2, ensure_ascii=False)


def path_of(prefix: str, key: str) -> str:
    """yup's path formatting: ``body.name`` or ``headers["x-stack-refresh-token"]``."""
    if _IDENT_RE.match(key):
        return f"{prefix}.{key}"
    return f"{prefix}[{json.dumps(key)}]"


def _type_message(path: str, type_name: str, value: Any, original: Any = None, cast: bool = False) -> str:
    text = f"{path} must be a `{type_name}` type, but the final value was: `{print_value(value)}`"
    if cast:
        text += f" (cast from the value `{print_value(original)}`)"
    return text + "."


@dataclass(frozen=True)
class Field:
    """One body field: ``kind`` is string, email, boolean, number, json, uuid, user_id_or_me or oauth_providers."""

    kind: str
    nullable: bool = False
    required: bool = False
    one_of: tuple[Any, ...] | None = None
    max: float | None = None
    non_empty: bool = False


class Validator:
    """Collects Stack-style validation messages for one request; :meth:`done` raises ``SCHEMA_ERROR``."""

    def __init__(self, method: str, full_path: str) -> None:
        self.method = method
        self.full_path = full_path
        self.errors: list[str] = []

    def fail(self, message: str) -> None:
        self.errors.append(message)

    def done(self) -> None:
        if self.errors:
            raise known.schema_error(self.method, self.full_path, self.errors)

    # --- params and query ----------------------------------------------------------------------------------------

    def uuid(self, where: str, name: str, value: str | None, *, required: bool = True) -> str | None:
        """A UUID param/query value (``params.user_id must be a valid UUID``)."""
        path = path_of(where, name)
        if value is None:
            if required:
                self.fail(f"{path} must be defined")
            return None
        if not is_uuid(value):
            self.fail(f"{path} must be a valid UUID")
            return None
        return value

    def user_id_or_me(
        self, where: str, name: str, value: str | None, current_user_id: str | None, *, required: bool = True
    ) -> str | None:
        """Stack's ``userIdOrMeSchema``: ``me`` becomes the current user (or raises CANNOT_GET_OWN_USER...)."""
        if value == "me":
            if current_user_id is None:
                raise known.cannot_get_own_user_without_user()
            return current_user_id
        return self.uuid(where, name, value, required=required)

    def permission_id(self, where: str, name: str, value: str) -> str | None:
        if not PERMISSION_ID_RE.match(value):
            self.fail(
                f'{path_of(where, name)} must match the following: "^\\$?[a-z0-9_:]+$": Only lowercase letters, '
                'numbers, ":", "_" and optional "$" at the beginning are allowed'
            )
            return None
        return value

    def unknown(self, where: str, given: Collection[str], allowed: Collection[str]) -> None:
        extra = [k for k in given if k not in allowed]
        if extra:
            self.fail(f"{where} contains unknown properties: {', '.join(extra)}")

    def one_of(self, where: str, name: str, value: str | None, options: tuple[str, ...]) -> str | None:
        if value is None:
            return None
        if value not in options:
            self.fail(f"{path_of(where, name)} must be one of the following values: {', '.join(options)}")
            return None
        return value

    def int_min(self, where: str, name: str, value: str | None, minimum: int) -> int | None:
        """An integer query value (``query.limit``), cast from its string like yup's ``number()``."""
        if value is None:
            return None
        path = path_of(where, name)
        try:
            number = float(value.strip()) if value.strip() else math.nan
        except ValueError:
            number = math.nan
        if math.isnan(number):
            self.fail(_type_message(path, "number", math.nan, value, cast=True))
            return None
        ok = True
        if not number.is_integer():
            self.fail(f"{path} must be an integer")
            ok = False
        if number < minimum:
            self.fail(f"{path} must be greater than or equal to {minimum}")
            ok = False
        return int(number) if ok else None

    # --- bodies --------------------------------------------------------------------------------------------------

    def body(self, body: Any, fields: Mapping[str, Field], *, allow_unknown: bool = False) -> dict[str, Any]:
        """Check a JSON object body; returns the fields that were present (absent stays absent)."""
        if body is None:
            self.fail("body must be defined")
            return {}
        if not isinstance(body, dict):
            self.fail(_type_message("body", "object", body))
            return {}
        out: dict[str, Any] = {}
        for name, spec in fields.items():
            path = path_of("body", name)
            if name not in body:
                if spec.required:
                    self.fail(f"{path} must be defined")
                continue
            value = body[name]
            checked, ok = self._value(path, value, spec)
            if ok:
                out[name] = checked
        if not allow_unknown:
            self.unknown("body", list(body), fields)
        return out

    def _value(self, path: str, value: Any, spec: Field) -> tuple[Any, bool]:
        if value is None:
            if spec.nullable:
                return None, True
            self.fail(f"{path} cannot be null")
            return None, False
        kind = spec.kind
        if kind in ("string", "email", "uuid"):
            if not isinstance(value, str):
                self.fail(_type_message(path, "string", value))
                return None, False
            if spec.non_empty and value == "":
                self.fail(f"{path} must not be empty")
                return None, False
            if kind == "email" and not EMAIL_RE.match(value):
                self.fail(f"{path} must be a valid email")
                return None, False
            if kind == "uuid" and not is_uuid(value):
                self.fail(f"{path} must be a valid UUID")
                return None, False
            if spec.max is not None and len(value) > spec.max:
                self.fail(f"{path} must be at most {int(spec.max)} characters")
                return None, False
        elif kind == "user_id_or_me":
            if not isinstance(value, str):
                self.fail(_type_message(path, "string", value))
                return None, False
            if value != "me" and not is_uuid(value):
                self.fail(f"{path} must be a valid UUID")
                return None, False
        elif kind == "boolean":
            if not isinstance(value, bool):
                self.fail(_type_message(path, "boolean", value))
                return None, False
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.fail(_type_message(path, "number", value))
                return None, False
            if spec.max is not None and value > spec.max:
                self.fail(f"{path} must be less than or equal to {print_value(spec.max)}")
                return None, False
        elif kind == "oauth_providers":
            return self._oauth_providers(path, value)
        # kind "json": any JSON value
        if spec.one_of is not None and value not in spec.one_of:
            options = ", ".join(print_value(o, quote=False) for o in spec.one_of)
            self.fail(f"{path} must be one of the following values: {options}")
            return None, False
        return value, True

    def _oauth_providers(self, path: str, value: Any) -> tuple[Any, bool]:
        if not isinstance(value, list):
            self.fail(_type_message(path, "array", value))
            return None, False
        ok = True
        out: list[dict[str, Any]] = []
        for i, item in enumerate(value):
            item_path = f"{path}[{i}]"
            if not isinstance(item, dict):
                self.fail(_type_message(item_path, "object", item))
                ok = False
                continue
            entry: dict[str, Any] = {}
            for key, nullable in (("id", False), ("account_id", False), ("email", True)):
                v = item.get(key)
                if v is None:
                    if not nullable:
                        self.fail(f"{item_path}.{key} must be defined")
                        ok = False
                    entry[key] = None
                elif not isinstance(v, str):
                    self.fail(_type_message(f"{item_path}.{key}", "string", v))
                    ok = False
                else:
                    entry[key] = v
            out.append(entry)
        return out, ok
