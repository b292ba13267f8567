"""The public API of ``stack_auth``, defined once for the reference site and for the API snapshot.

    python scripts/public_api.py           # rewrite tests/public-api.txt: accept an intended API change
    python scripts/public_api.py --check   # exit 1, with a diff, when the source's public API differs from it

What is public (read from the source with griffe, nothing is imported):

* the names in ``__all__`` of ``stack_auth`` and of every module whose path has no ``_`` part; a module without
  ``__all__`` exposes the names it defines that do not start with ``_``;
* the resource classes, reached as ``app.users``, ``app.bulk``, ...: the public classes of every module in
  ``stack_auth/_async/resources/`` (and ``stack_auth/_async/_bulk.py``), with their generated sync twins;
* the members of a public class that do not start with ``_`` (``__init__`` shows as the class's signature).

The submodules of ``stack_auth.testing`` are the emulator's implementation: its API is the package's ``__all__`` and
the pytest plugin's fixtures; the routes it serves are listed from each module's ``ROUTES``.

Every public object lives on one reference page, its *home*: the most specific public module that exports it (an
error exported by ``stack_auth`` and ``stack_auth.errors`` is documented under ``stack_auth.errors``).
"""

from __future__ import annotations

import argparse
import ast
import difflib
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import griffe

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "stack_auth"
SNAPSHOT = ROOT / "tests" / "public-api.txt"
#: Modules beside the resources whose classes an app hands out as attributes (``app.bulk``).
APP_PARTS = ("_bulk",)
#: Submodules of ``stack_auth.testing`` that are API (the rest is the emulator's implementation).
TESTING_API = ("pytest_plugin",)


@dataclass
class Section:
    """One ``::: module`` block of a page: the module and the members it shows."""

    module: str
    members: list[str] = field(default_factory=list)


@dataclass
class Page:
    """One reference page: where it goes, its title, what it shows."""

    path: str
    title: str
    sections: list[Section] = field(default_factory=list)


def load(root: Path = ROOT) -> griffe.Module:
    """The package as griffe reads it from the checkout at ``root``."""
    package = griffe.load(
        PACKAGE, search_paths=[str(root)], try_relative_path=False, resolve_aliases=True, resolve_external=False
    )
    assert isinstance(package, griffe.Module)
    return package


def _is_private(path: str) -> bool:
    return any(part.startswith("_") for part in path.split(".")[1:])


def _exported(module: griffe.Module) -> list[str]:
    """The public names of a module: its ``__all__``, else what it defines without a leading ``_``."""
    if module.exports is not None:
        return [str(name) for name in module.exports]
    return [
        name
        for name, member in module.members.items()
        if not name.startswith("_") and not member.is_alias and not member.is_module
    ]


def public_modules(package: griffe.Module) -> list[griffe.Module]:
    """``stack_auth`` and its modules without a ``_`` part, the testing package's implementation left out."""
    found: list[griffe.Module] = []

    def walk(module: griffe.Module) -> None:
        found.append(module)
        for name, member in sorted(module.members.items()):
            if member.is_alias or not member.is_module or name.startswith("_"):
                continue
            assert isinstance(member, griffe.Module)
            if module.path == f"{PACKAGE}.testing" and name not in TESTING_API:
                continue
            walk(member)

    walk(package)
    return found


def resource_modules(package: griffe.Module) -> list[tuple[griffe.Module, griffe.Module]]:
    """(async, sync) module pairs whose classes an app hands out: ``app.users`` and its sync twin, ``app.bulk``..."""
    async_side = package["_async"]
    sync_side = package["_sync"]
    names = [name for name in sorted(async_side["resources"].members) if not name.startswith("_")]
    pairs = [(async_side["resources"][name], sync_side["resources"][name]) for name in names]
    pairs += [(async_side[name], sync_side[name]) for name in APP_PARTS]
    return pairs


def _title(module: str) -> str:
    return module.rsplit(".", 1)[-1].replace("_", " ").capitalize()


def pages(package: griffe.Module) -> list[Page]:
    """The reference pages, each public object on exactly one (its home): ``stack_auth``, the resources, then the
    other public modules."""
    resources: list[Page] = []
    for async_module, sync_module in resource_modules(package):
        sections = [Section(m.path, [n for n in _exported(m) if m[n].is_class]) for m in (async_module, sync_module)]
        name = async_module.name.lstrip("_")
        resources.append(Page(f"reference/resources/{name}.md", _title(name), sections))

    homes: dict[str, str] = {}  # canonical path -> module that documents it
    modules = public_modules(package)
    for module in modules:
        for name in _exported(module):
            canonical = module[name].canonical_path
            home = homes.get(canonical)
            if home is None or len(module.path) > len(home):
                homes[canonical] = module.path
    out: list[Page] = []
    by_module: dict[str, list[str]] = {}
    for module in modules:
        by_module[module.path] = [n for n in _exported(module) if homes[module[n].canonical_path] == module.path]
    for module in modules:
        if module.path == PACKAGE:
            path, title = "reference/stack_auth.md", "stack_auth"
        else:
            relative = module.path.removeprefix(PACKAGE + ".").replace(".", "/")
            is_package = any(not m.is_alias and m.is_module for m in module.members.values())
            path = f"reference/{relative}/index.md" if is_package else f"reference/{relative}.md"
            title = module.path
        out.append(Page(path, title, [Section(module.path, by_module[module.path])]))
    return [out[0], *resources, *out[1:]]


def documented_objects(package: griffe.Module) -> Iterator[tuple[str, griffe.Object]]:
    """Every object the reference shows, by the path it shows it under, classes' public members included.

    A member a class inherits from another documented class is listed under that class only: a change to it then
    shows once, not once per subclass (the error tree has 144 classes)."""
    homed = [(section.module, name) for page in pages(package) for section in page.sections for name in section.members]
    documented = {package.modules_collection[module][name].canonical_path for module, name in homed}

    def members(path: str, obj: griffe.Object) -> Iterator[tuple[str, griffe.Object]]:
        yield path, obj
        if obj.is_class:
            for name, member in sorted(obj.all_members.items()):
                target = member.final_target if member.is_alias else member
                if name.startswith("_") or _is_external(target) or _inherited_from(target, obj, documented):
                    continue
                yield from members(f"{path}.{name}", target)

    for module_path in dict.fromkeys(module for module, _ in homed):
        yield module_path, package.modules_collection[module_path]
    for module_path, name in homed:
        member = package.modules_collection[module_path][name]
        yield from members(f"{module_path}.{name}", member.final_target if member.is_alias else member)


def _inherited_from(member: griffe.Object, cls: griffe.Object, documented: set[str]) -> bool:
    """Whether ``member`` of ``cls`` is defined on another class that the reference documents."""
    owner = member.parent
    return owner is not None and owner.path != cls.path and owner.canonical_path in documented


def _is_external(obj: griffe.Object) -> bool:
    return not obj.path.startswith(PACKAGE + ".")


def undocumented(package: griffe.Module) -> list[str]:
    """Public modules, classes and functions without a docstring (the strict docs build fails on each)."""
    return sorted(
        {
            obj.path  # where the docstring goes (an inherited method shows under its subclasses too)
            for _, obj in documented_objects(package)
            if (obj.is_module or obj.is_class or obj.is_function)
            and not (obj.docstring and obj.docstring.value.strip())
        }
    )


def _parameters(function: griffe.Function) -> str:
    """``(a: int, /, b: str = 'x', *, c: bool = False, **kw: Any)``: names, kinds, annotations and defaults."""
    out: list[str] = []
    kinds = [param.kind.name for param in function.parameters]
    for i, param in enumerate(function.parameters):
        kind = param.kind.name
        if kind == "keyword_only" and "keyword_only" not in kinds[:i] and "var_positional" not in kinds[:i]:
            out.append("*")
        text = {"var_positional": "*", "var_keyword": "**"}.get(kind, "") + param.name
        if param.annotation is not None:
            text += f": {param.annotation}"
        if param.default is not None and kind not in ("var_positional", "var_keyword"):
            text += f" = {param.default}"
        out.append(text)
        if kind == "positional_only" and (i + 1 == len(kinds) or kinds[i + 1] != "positional_only"):
            out.append("/")
    return f"({', '.join(out)})"


def _signature(obj: griffe.Object, documented: set[str]) -> str:
    if isinstance(obj, griffe.Function):
        labels = "".join(f"@{label} " for label in sorted(obj.labels) if label in ("property", "classmethod"))
        returns = f" -> {obj.returns}" if obj.returns is not None else ""
        kind = "async def" if "async" in obj.labels else "def"
        return f"{labels}{kind} {_parameters(obj)}{returns}"
    if isinstance(obj, griffe.Class):
        init = obj.all_members.get("__init__")
        target = init.final_target if init is not None and init.is_alias else init
        shown = isinstance(target, griffe.Function) and not _is_external(target)
        shown = shown and target is not None and not _inherited_from(target, obj, documented)
        made = _parameters(target) if shown and isinstance(target, griffe.Function) else ""
        return f"class ({', '.join(str(base) for base in obj.bases)}){made}"
    if isinstance(obj, griffe.Attribute):
        return f"attribute: {obj.annotation}" if obj.annotation is not None else "attribute"
    return "module"


def snapshot(package: griffe.Module) -> str:
    """One line per public object: its path and signature, sorted (a stable text to diff)."""
    documented = {obj.canonical_path for _, obj in documented_objects(package)}
    lines = {f"{path} {_signature(obj, documented)}" for path, obj in documented_objects(package)}
    return "\n".join(sorted(lines)) + "\n"


def emulator_routes(package: griffe.Module) -> dict[str, list[tuple[str, str, str]]]:
    """The routes the emulator serves, by module: (method, path template, what the handler's docstring says) from
    each ``ROUTES`` list of ``(method, path, handler)`` tuples; an entry that is not such a tuple shows as written."""
    found: dict[str, list[tuple[str, str, str]]] = {}
    for module in _all_modules(package["testing"]):
        routes = module.members.get("ROUTES")
        if routes is None or routes.is_alias or not isinstance(routes, griffe.Attribute) or routes.value is None:
            continue
        node = ast.parse(str(routes.value), mode="eval").body
        items = node.elts if isinstance(node, (ast.List, ast.Tuple)) else [node]
        found[module.path] = [_route(module, item) for item in items]
    return found


def _route(module: griffe.Module, item: ast.expr) -> tuple[str, str, str]:
    parts = item.elts if isinstance(item, ast.Tuple) else []
    if len(parts) < 3 or not all(isinstance(p, ast.Constant) and isinstance(p.value, str) for p in parts[:2]):
        return ("", ast.unparse(item), "")
    method, path = (p.value for p in parts[:2] if isinstance(p, ast.Constant))
    handler = ast.unparse(parts[2])
    member = module.members.get(handler)
    target = member.final_target if member is not None and member.is_alias else member
    doc = target.docstring.value.strip().split("\n\n")[0].replace("\n", " ") if target and target.docstring else ""
    return (method, path, doc or f"`{handler}`")


def _all_modules(module: griffe.Module) -> Iterator[griffe.Module]:
    yield module
    for member in module.members.values():
        if not member.is_alias and member.is_module:
            assert isinstance(member, griffe.Module)
            yield from _all_modules(member)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail when the snapshot is not the source's API")
    args = parser.parse_args(argv)
    current = snapshot(load())
    if not args.check:
        SNAPSHOT.write_text(current)
        print(f"wrote {SNAPSHOT} ({current.count(chr(10))} public names)")
        return 0
    committed = SNAPSHOT.read_text() if SNAPSHOT.exists() else ""
    if committed == current:
        return 0
    diff = difflib.unified_diff(
        committed.splitlines(), current.splitlines(), "committed public API", "the source's public API", lineterm=""
    )
    print("\n".join(diff))
    print(check_message())
    return 1


def check_message() -> str:
    return (
        "The public API of stack_auth changed (diff above: - removed or changed, + new).\n"
        "If the change is intended, accept it with one command and commit the file:\n"
        "    python scripts/public_api.py        (or: nox -s api-snapshot)\n"
        "If it is not, a removed or changed line is a breaking change for users: restore it."
    )


if __name__ == "__main__":
    sys.exit(main())
