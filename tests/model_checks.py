"""One check for every answer model: frozen, unknown keys kept, and it knows every key of the OpenAPI schema and of
the real answer (``samples-wave2.json``), so nothing Stack sends lands in ``extra`` by accident."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from emulator_helpers import spec_dir

from stack_auth.models import structure
from stack_auth.models._converter import wire_name
from stack_auth.testing.openapi import load_document, response_schema


def check_model(
    cls: type[Any],
    sample: dict[str, Any],
    *,
    method: str,
    template: str,
    status: int = 200,
    item: bool = False,
    doc: str = "openapi-server.json",
) -> Any:
    """Decode ``sample`` (one answer object) into ``cls`` and check the model against ``template``'s schema.

    ``item``: the schema is a list answer's; its ``items`` describe the object. Returns the decoded model.
    """
    schema = response_schema(load_document(spec_dir() / doc), method, template, status)
    assert schema is not None, f"no schema for {method} {template} {status}"
    if item:
        schema = schema["properties"]["items"]["items"]
    fields = {wire_name(f) for f in attrs.fields(cls) if f.name != "extra"}
    assert set(schema.get("properties", {})) <= fields, f"{cls.__name__} lacks {set(schema['properties']) - fields}"
    model = structure(sample, cls)
    assert model.extra == {}, f"{cls.__name__} does not know {set(model.extra)} of the real answer"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        model.id = "changed"
    assert structure({**sample, "added_tomorrow": [1]}, cls).extra == {"added_tomorrow": [1]}
    return model
