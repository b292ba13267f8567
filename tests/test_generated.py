"""Generated code is fresh, and the sync API mirrors the async one: same names, parameters and docstrings."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import stack_auth._async
import stack_auth._sync

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import gen_sync  # noqa: E402


@pytest.mark.parametrize("script", ["gen_sync.py", "gen_errors.py"])
def test_generated_files_are_fresh(script: str) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / script), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_staleness_check_catches_a_hand_edit(tmp_path: Path) -> None:
    expected = gen_sync.generate()
    some_file = next(iter(expected))
    edited = {path: text for path, text in expected.items()}
    edited[some_file] = expected[some_file] + "\n# edited by hand\n"
    original = some_file.read_text()
    try:
        some_file.write_text(edited[some_file])
        assert gen_sync.stale(expected) == [str(some_file.relative_to(ROOT))]
    finally:
        some_file.write_text(original)
    assert gen_sync.stale(expected) == []


def _modules(package: ModuleType) -> dict[str, ModuleType]:
    found = {}
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        found[info.name.removeprefix(package.__name__)] = importlib.import_module(info.name)
    return found


def _public_classes(module: ModuleType) -> dict[str, type]:
    return {
        name: obj
        for name, obj in vars(module).items()
        if inspect.isclass(obj) and obj.__module__ == module.__name__ and not name.startswith("_")
    }


def _is_async_api(obj: object) -> bool:
    return inspect.iscoroutinefunction(obj) or inspect.isasyncgenfunction(obj)


def _sync_name(name: str) -> str:
    twins = {"__aenter__": "__enter__", "__aexit__": "__exit__", "__aiter__": "__iter__", "__anext__": "__next__"}
    return {**twins, "aclose": "close"}.get(name, name)


def test_every_async_api_has_a_sync_twin() -> None:
    async_modules = _modules(stack_auth._async)
    sync_modules = _modules(stack_auth._sync)
    assert set(async_modules) == set(sync_modules)
    checked = 0
    for suffix, async_module in async_modules.items():
        sync_classes = _public_classes(sync_modules[suffix])
        for class_name, async_cls in _public_classes(async_module).items():
            twin_name = class_name.removeprefix("Async")
            assert twin_name in sync_classes, f"{class_name} has no sync twin {twin_name}"
            sync_cls = sync_classes[twin_name]
            assert inspect.getdoc(sync_cls) == gen_sync.unasync(inspect.getdoc(async_cls) or "", "").split("\n", 1)[1]
            for attr, member in vars(async_cls).items():
                if not _is_async_api(member) or (attr.startswith("_") and not attr.startswith("__")):
                    continue
                twin = getattr(sync_cls, _sync_name(attr), None)
                assert twin is not None, f"{class_name}.{attr} has no sync twin"
                assert not _is_async_api(twin)
                async_params = list(inspect.signature(member).parameters)
                assert list(inspect.signature(twin).parameters) == async_params, f"{class_name}.{attr}"
                expected_doc = gen_sync.unasync(member.__doc__ or "", "").split("\n", 1)[1]
                assert (twin.__doc__ or "") == expected_doc, f"{class_name}.{attr} docstring"
                checked += 1
    assert checked >= 20  # the users, teams and sessions resources alone have more


def test_async_source_may_not_import_an_event_loop_library() -> None:
    with pytest.raises(SystemExit, match="event-loop library"):
        gen_sync.unasync("import anyio\n", "x.py")
