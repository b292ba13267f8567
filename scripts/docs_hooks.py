"""mkdocs hooks: the site is generated at build time from README.md and from the package, so it never drifts.

* **Guides**: one page per ``## `` section of README.md (the text before the first one is the home page), in the
  README's order. A new README section is a new page.
* **Reference**: one page per resource module, public module, model module, the error tree and the emulator, as
  ``scripts/public_api.py`` defines them, plus the emulator's routes read from each module's ``ROUTES``. A new
  module in ``stack_auth/_async/resources/``, ``stack_auth/models/`` or a new public name gets its page or section
  with no edit here.
* **Strict**: every public module, class and function without a docstring is a warning, so ``mkdocs build
  --strict`` (``nox -s docs``) fails on it, as on a cross-reference that does not resolve.
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # mkdocs itself is imported only by the hooks it calls, so the page builders run without it
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files

sys.path.insert(0, str(Path(__file__).resolve().parent))

import public_api  # beside this file, not a package

log = logging.getLogger("mkdocs.hooks.stack_auth")
README = public_api.ROOT / "README.md"
SECTION = re.compile(r"^## (.+)$", re.M)


def readme_pages() -> list[tuple[str, str, str]]:
    """(path, title, markdown) of the home page and one guide per README section."""
    text = README.read_text()
    starts = [m.start() for m in SECTION.finditer(text)]
    parts = [("index.md", "Home", text[: starts[0]] if starts else text)]
    for start, end in zip(starts, [*starts[1:], len(text)], strict=True):
        section = text[start:end]
        title = SECTION.match(section)
        assert title is not None
        name = title.group(1).strip()
        # "## Title" becomes the page's "# Title"; its "###" subsections its "##".
        parts.append((f"guides/{_slug(name)}.md", name, re.sub(r"^#(#+) ", r"\1 ", section, flags=re.M)))
    guides = {path.removeprefix("guides/").removesuffix(".md") for path, _, _ in parts[1:]}

    def relink(path: str, markdown: str) -> str:
        """The README's links to its own sections (``[x](#slug)``) point at their guide pages."""
        prefix = "" if path.startswith("guides/") else "guides/"
        return re.sub(
            r"\]\(#([a-z0-9-]+)\)",
            lambda m: f"]({prefix}{m.group(1)}.md)" if m.group(1) in guides else m.group(0),
            markdown,
        )

    return [(path, title, relink(path, markdown)) for path, title, markdown in parts]


def _slug(title: str) -> str:
    """GitHub's anchor of a heading, also the guide's file name: ``"httpx or httpx2"`` -> ``httpx-or-httpx2``."""
    return re.sub(r"[^a-z0-9 -]", "", title.lower()).replace(" ", "-")


def reference_pages() -> list[tuple[str, str, str]]:
    """(path, title, markdown) of the API reference."""
    package = public_api.load()
    out = []
    for page in public_api.pages(package):
        if len(page.sections) == 1:
            # A public module: its own heading (the page's title, and the anchor its cross-references point at).
            [section] = page.sections
            blocks = [_block(section, heading_level=1, root_heading=True, inherited=section.module == "stack_auth")]
        else:
            # A resource: its async class and the generated sync twin, under the page's title.
            blocks = [f"# {page.title}\n"]
            for heading, section in zip(("Async API", "Sync API"), page.sections, strict=True):
                blocks += [f"## {heading}\n", _block(section, heading_level=3, root_heading=False, inherited=True)]
        if page.path == "reference/errors.md":
            blocks.insert(1, error_tree(package))
        out.append((page.path, page.title, "\n".join(blocks)))
    out.append(("reference/testing/routes.md", "Emulator routes", routes_page(package)))
    return out


def _block(section: public_api.Section, *, heading_level: int, root_heading: bool, inherited: bool) -> str:
    """A mkdocstrings block showing ``section.members`` of ``section.module``."""
    return (
        f"::: {section.module}\n"
        "    options:\n"
        f"      members: [{', '.join(section.members)}]\n"
        f"      show_root_heading: {str(root_heading).lower()}\n"
        "      show_root_full_path: true\n"
        f"      inherited_members: {str(inherited).lower()}\n"
        f"      heading_level: {heading_level}\n"
    )


def error_tree(package: Any) -> str:
    """The error classes as a nested list, from the bases in the source (children under their parents)."""
    errors = package["errors"]
    classes = {}
    for name in errors.exports or []:
        target = errors[name].final_target
        if target.is_class:
            classes[str(name)] = target
    children: dict[str, list[str]] = {}
    roots = []
    for name, cls in classes.items():
        parents = [str(base).rsplit(".", 1)[-1] for base in cls.bases if str(base).rsplit(".", 1)[-1] in classes]
        if parents:
            children.setdefault(parents[0], []).append(name)
        else:
            roots.append(name)
    lines = ["## The tree\n", "Each class also inherits the classes listed after it in its signature.\n"]

    def walk(name: str, depth: int) -> None:
        lines.append(f"{'    ' * depth}- [`{name}`][stack_auth.errors.{name}]")
        for child in children.get(name, []):
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    return "\n".join(lines) + "\n"


def routes_page(package: Any) -> str:
    lines = [
        "# Emulator routes\n",
        "The routes the emulator serves (under `/api/v1`), by module, as each module's `ROUTES` lists them. Every "
        "route answers with Stack's semantics and errors; see [`Emulator`][stack_auth.testing.Emulator] for the "
        "Python side.\n",
    ]
    for module, routes in sorted(public_api.emulator_routes(package).items()):
        lines.append(f"## `{module}`\n")
        lines.append("| method | path | what it does |\n|---|---|---|")
        lines.extend(f"| `{method}` | `{path}` | {what.replace('|', '/')} |" for method, path, what in routes)
        lines.append("")
    return "\n".join(lines)


def _nav(pages: list[tuple[str, str, str]]) -> list[Any]:
    """Nested nav from page paths: a directory is a section, its index.md the section's own page."""
    root: list[Any] = []
    sections: dict[str, list[Any]] = {}
    for path, title, _ in pages:
        parts = path.split("/")
        items = root
        for depth in range(1, len(parts)):
            key = "/".join(parts[:depth])
            if key not in sections:
                sections[key] = []
                items.append({_section_title(parts[depth - 1]): sections[key]})
            items = sections[key]
        items.append(path if parts[-1] == "index.md" and len(parts) > 1 else {title: path})
    return root


def _section_title(directory: str) -> str:
    return {"guides": "Guides", "reference": "API reference", "testing": "Emulator"}.get(
        directory, directory.replace("_", " ").capitalize()
    )


_generated: list[tuple[str, str, str]] = []


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    guides, reference = readme_pages(), reference_pages()
    _generated[:] = [*guides, *reference]
    # docs/reference/index.md (written by hand: what is public) opens the reference.
    config["nav"] = _nav([*guides, ("reference/index.md", "API reference", ""), *reference])
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    from mkdocs.structure.files import File

    for path, _, content in _generated:
        files.append(File.generated(config, path, content=content))
    return files


def on_pre_build(config: MkDocsConfig) -> None:
    for path in public_api.undocumented(public_api.load()):
        log.warning("public name without a docstring: %s (add one; the reference shows it)", path)
