"""``tests/data`` is what ``scripts/gen_test_data.py`` writes: checked against its manifest always, and against
``../shared/stack-api`` whenever that folder is beside the repository (as in CI)."""

from __future__ import annotations

import json
from types import ModuleType

from apps import load_script


def _generator() -> ModuleType:
    return load_script("gen_test_data")


def test_every_data_file_matches_the_manifest() -> None:
    gen = _generator()
    manifest = json.loads((gen.TARGET / gen.MANIFEST).read_text(encoding="utf-8"))
    assert set(manifest) == {*gen.COPIED, *gen.TRIMMED}
    files = {name: (gen.TARGET / name).read_text(encoding="utf-8") for name in manifest}
    assert gen.manifest_of(files) == manifest, "tests/data was edited by hand: run python scripts/gen_test_data.py"


def test_data_is_fresh_when_the_shared_documents_are_beside_the_repo() -> None:
    gen = _generator()
    if gen.SOURCE.is_dir():
        assert gen.stale(gen.expected_files()) == []
    else:
        # A plain clone: the manifest test above is the check; the trimmed documents still hold every path.
        doc = json.loads((gen.TARGET / "openapi-server.json").read_text(encoding="utf-8"))
        assert "/users/{user_id}" in doc["paths"]


def test_trimming_keeps_fields_named_like_prose() -> None:
    gen = _generator()
    schema = {"description": "drop", "properties": {"description": {"type": "string", "description": "drop"}}}
    assert gen.strip_prose(schema) == {"properties": {"description": {"type": "string"}}}
