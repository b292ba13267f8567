"""Checking answers against Stack's OpenAPI documents and real recorded answers.

Stack's generated OpenAPI documents lost nullability (``"type": "string"`` where the server answers ``null``), so
:func:`nullable_schema` reads every ``type`` as "that type or null" before validating. :func:`shape` reduces a JSON
value to its keys, types and nulls, to compare an answer with a real one regardless of ids and times::

    doc = load_document(spec_dir / "openapi-server.json")
    errors = validate_response(doc, "GET", "/users/{user_id}", 200, body)   # [] when it conforms
    assert shape(body) == shape(sample["body"])
    errors = validate_webhook(load_document(spec_dir / "openapi-webhooks.json"), "user.created", payload)

``validate_response`` needs ``jsonschema`` (a development dependency, imported on first use).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any


def load_document(path: str | Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def nullable_schema(schema: Any) -> Any:
    """A copy of ``schema`` where every ``type: T`` accepts null too (``type: [T, "null"]``)."""
    if isinstance(schema, list):
        return [nullable_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type" and isinstance(value, str):
            out[key] = [value, "null"]
        elif key in ("example", "examples", "description"):
            out[key] = value
        else:
            out[key] = nullable_schema(value)
    return out


def response_schema(doc: dict[str, Any], method: str, template: str, status: int) -> dict[str, Any] | None:
    """The (nullable-read) JSON schema of an answer, or None when the document does not describe it."""
    operation = doc.get("paths", {}).get(template, {}).get(method.lower())
    if operation is None:
        return None
    response = operation.get("responses", {}).get(str(status))
    if response is None:
        return None
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return None
    result: dict[str, Any] = nullable_schema(schema)
    return result


def validate_response(doc: dict[str, Any], method: str, template: str, status: int, body: Any) -> list[str]:
    """Schema violations of ``body`` (empty when it conforms or when no schema exists for it)."""
    schema = response_schema(doc, method, template, status)
    return [] if schema is None else _violations(schema, body)


def webhook_schema(doc: dict[str, Any], event_type: str) -> dict[str, Any] | None:
    """The (nullable-read) JSON schema of a webhook event's payload (``openapi-webhooks.json``), or None."""
    operation = doc.get("webhooks", {}).get(event_type, {}).get("post")
    if operation is None:
        return None
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return None
    result: dict[str, Any] = nullable_schema(schema)
    return result


def validate_webhook(doc: dict[str, Any], event_type: str, payload: Any) -> list[str]:
    """Schema violations of a webhook payload ``{"type", "data"}``; an event type the document lacks is one."""
    schema = webhook_schema(doc, event_type)
    return [f"no schema for {event_type}"] if schema is None else _violations(schema, payload)


def _violations(schema: dict[str, Any], value: Any) -> list[str]:
    jsonschema = importlib.import_module("jsonschema")
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in validator.iter_errors(value)]


def shape(value: Any) -> Any:
    """Keys, JSON types and nulls of ``value`` (lists keep their length)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def shape_differences(actual: Any, expected: Any, path: str = "$") -> list[str]:
    """Where ``actual`` and ``expected`` differ in keys, types or nulls (empty when the shapes match)."""
    a, e = shape(actual), shape(expected)
    out: list[str] = []
    _diff(a, e, path, out)
    return out


def _diff(a: Any, e: Any, path: str, out: list[str]) -> None:
    if isinstance(e, dict) and isinstance(a, dict):
        for key in sorted(set(a) | set(e)):
            if key not in a:
                out.append(f"{path}.{key}: missing")
            elif key not in e:
                out.append(f"{path}.{key}: unexpected")
            else:
                _diff(a[key], e[key], f"{path}.{key}", out)
    elif isinstance(e, list) and isinstance(a, list):
        if len(a) != len(e):
            out.append(f"{path}: {len(a)} items, expected {len(e)}")
        for i, (x, y) in enumerate(zip(a, e, strict=False)):
            _diff(x, y, f"{path}[{i}]", out)
    elif a != e:
        out.append(f"{path}: {a}, expected {e}")
