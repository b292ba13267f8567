"""Copy the facts the tests need from ``../shared/stack-api/`` into ``tests/data/``: a plain clone tests as CI does.

The real samples are copied as they are; from each OpenAPI document only what the tests read is kept (paths,
methods, parameters, request bodies, response schemas), without prose (descriptions, summaries, examples).
``tests/data/MANIFEST.json`` records each written file's SHA-256, so a hand edit is caught even without
``../shared`` (``tests/test_test_data.py``).

    python scripts/gen_test_data.py            # (re)write tests/data
    python scripts/gen_test_data.py --check    # fail when tests/data differs from what ../shared gives
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT.parent / "shared" / "stack-api"
TARGET = ROOT / "tests" / "data"
MANIFEST = "MANIFEST.json"

COPIED = ("real-samples/samples.json", "real-samples/samples-wave2.json")
TRIMMED = ("openapi-server.json", "openapi-client.json", "openapi-webhooks.json")
PROSE_KEYS = frozenset({"description", "summary", "example", "examples", "externalDocs"})


def strip_prose(node: Any, *, in_properties: bool = False) -> Any:
    """``node`` without prose keys; a ``properties`` map keeps every key (a field may be named ``description``)."""
    if isinstance(node, list):
        return [strip_prose(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: strip_prose(value, in_properties=key == "properties" and not in_properties)
        for key, value in node.items()
        if in_properties or key not in PROSE_KEYS
    }


def trimmed_document(doc: dict[str, Any]) -> dict[str, Any]:
    keep = {key: doc[key] for key in ("openapi", "paths", "components", "webhooks") if key in doc}
    result: dict[str, Any] = strip_prose(keep)
    return result


def render(data: Any) -> str:
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def expected_files() -> dict[str, str]:
    """Relative path -> text of every file under tests/data, the manifest included."""
    if not SOURCE.is_dir():
        raise SystemExit(f"{SOURCE} not found: the generator reads the shared Stack API documents")
    files: dict[str, str] = {}
    for name in COPIED:
        files[name] = render(json.loads((SOURCE / name).read_text(encoding="utf-8")))
    for name in TRIMMED:
        files[name] = render(trimmed_document(json.loads((SOURCE / name).read_text(encoding="utf-8"))))
    files[MANIFEST] = render(manifest_of(files))
    return files


def manifest_of(files: dict[str, str]) -> dict[str, str]:
    return {name: hashlib.sha256(text.encode("utf-8")).hexdigest() for name, text in sorted(files.items())}


def stale(expected: dict[str, str]) -> list[str]:
    return [name for name, text in expected.items() if _read(TARGET / name) != text]


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


def main(argv: list[str]) -> int:
    expected = expected_files()
    if "--check" in argv:
        names = stale(expected)
        if names:
            print("stale test data (run python scripts/gen_test_data.py): " + ", ".join(names), file=sys.stderr)
            return 1
        return 0
    for name, text in expected.items():
        path = TARGET / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
