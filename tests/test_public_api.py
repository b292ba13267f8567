"""The public API is the committed snapshot (``tests/public-api.txt``), and the reference covers what a new module adds.

An accidental change (a renamed argument, a removed method, a keyword that became positional) fails here with a
diff; an intended one is accepted with ``python scripts/public_api.py`` (or ``nox -s api-snapshot``).
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path
from types import ModuleType

import pytest
from apps import load_script

ROOT = Path(__file__).resolve().parents[1]


def _public_api() -> ModuleType:
    return load_script("public_api")


def test_the_public_api_is_the_committed_snapshot() -> None:
    api = _public_api()
    current = api.snapshot(api.load())
    committed = api.SNAPSHOT.read_text(encoding="utf-8")
    if current != committed:
        diff = difflib.unified_diff(committed.splitlines(), current.splitlines(), "committed", "source", lineterm="")
        pytest.fail("\n".join([*diff, api.check_message()]), pytrace=False)


def test_the_check_fails_with_a_diff_and_says_how_to_accept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    api = _public_api()
    changed = api.SNAPSHOT.read_text(encoding="utf-8").replace(
        "stack_auth.AsyncStackServerApp.with_options def (self: AppT, *, timeout",
        "stack_auth.AsyncStackServerApp.with_options def (self: AppT, timeout",
    )
    monkeypatch.setattr(api, "SNAPSHOT", tmp_path / "public-api.txt")
    api.SNAPSHOT.write_text(changed, encoding="utf-8")
    assert api.main(["--check"]) == 1
    out = capsys.readouterr().out
    assert "-stack_auth.AsyncStackServerApp.with_options def (self: AppT, timeout" in out
    assert "+stack_auth.AsyncStackServerApp.with_options def (self: AppT, *, timeout" in out
    assert "python scripts/public_api.py" in out
    assert api.main([]) == 0  # accepting: one command
    assert api.main(["--check"]) == 0


def test_a_new_resource_and_model_module_get_pages_and_must_be_documented(tmp_path: Path) -> None:
    """What another engineer's new modules get with no edit to the docs: pages, and the strict docstring check."""
    api = _public_api()
    shutil.copytree(ROOT / "stack_auth", tmp_path / "stack_auth", ignore=shutil.ignore_patterns("__pycache__"))
    widgets = (
        '"""Widgets: ``app.widgets``."""\n\n\n'
        'class {prefix}Widgets:\n    """The widgets."""\n\n    {a}def get(self) -> None:\n        pass\n'
    )
    (tmp_path / "stack_auth/_async/resources/widgets.py").write_text(widgets.format(prefix="Async", a="async "))
    (tmp_path / "stack_auth/_sync/resources/widgets.py").write_text(widgets.format(prefix="", a=""))
    (tmp_path / "stack_auth/models/widgets.py").write_text(
        '"""Widget models."""\n\n\nclass Widget:\n    """One widget."""\n\n\ndef widget_count() -> int:\n    return 0\n'
    )
    package = api.load(tmp_path)
    pages = {page.path: page for page in api.pages(package)}
    assert [(s.module, s.members) for s in pages["reference/resources/widgets.md"].sections] == [
        ("stack_auth._async.resources.widgets", ["AsyncWidgets"]),
        ("stack_auth._sync.resources.widgets", ["Widgets"]),
    ]
    assert [(s.module, s.members) for s in pages["reference/models/widgets.md"].sections] == [
        ("stack_auth.models.widgets", ["Widget", "widget_count"])
    ]
    assert api.undocumented(package) == [
        "stack_auth._async.resources.widgets.AsyncWidgets.get",
        "stack_auth._sync.resources.widgets.Widgets.get",
        "stack_auth.models.widgets.widget_count",
    ]
    assert "stack_auth._async.resources.widgets.AsyncWidgets.get async def (self) -> None" in api.snapshot(package)


def test_the_source_has_a_docstring_for_every_public_name() -> None:
    assert _public_api().undocumented(_public_api().load()) == []


def test_every_readme_section_is_a_guide_page_and_its_links_follow() -> None:
    hooks = load_script("docs_hooks")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pages = {path: (title, markdown) for path, title, markdown in hooks.readme_pages()}
    sections = [line[3:] for line in readme.splitlines() if line.startswith("## ")]
    assert [title for path, (title, _) in pages.items() if path != "index.md"] == sections
    guide = pages["guides/httpx-or-httpx2.md"][1]
    assert guide.startswith("# httpx or httpx2\n")  # the section's heading is the page's
    home = pages["index.md"][1]
    assert home.startswith("# stack-auth\n")
    assert "(guides/httpx-or-httpx2.md)" in home  # the README's "(#httpx-or-httpx2)", on the site


def test_the_reference_has_a_page_per_resource_and_public_module_and_the_emulator_routes() -> None:
    hooks = load_script("docs_hooks")
    pages = {path: markdown for path, _, markdown in hooks.reference_pages()}
    resources = sorted(p.stem for p in (ROOT / "stack_auth/_async/resources").glob("[!_]*.py"))
    shown = sorted(p.removeprefix("reference/resources/").removesuffix(".md") for p in pages if "/resources/" in p)
    assert shown == sorted([*resources, "bulk"])
    assert "::: stack_auth._async.resources.users\n" in pages["reference/resources/users.md"]
    assert "::: stack_auth._sync.resources.users\n" in pages["reference/resources/users.md"]
    assert "- [`NotFoundError`][stack_auth.errors.NotFoundError]" in pages["reference/errors.md"]
    assert "    - [`UserNotFound`][stack_auth.errors.UserNotFound]" in pages["reference/errors.md"]
    assert "| `POST` | `/users` |" in pages["reference/testing/routes.md"]
