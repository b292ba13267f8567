"""A griffe extension for the reference site: the docstrings' Sphinx roles become cross-references.

The docstrings are written for ``help()`` and editors, in reStructuredText's spelling: ``:class:`~stack_auth.tokens.
TokenStore```, ``:meth:`text <target>```, literal blocks after ``::``. mkdocstrings reads Markdown, so this turns
each role into an autorefs link (``[`TokenStore`][stack_auth.tokens.TokenStore]``), resolving a short name against
the docstring's class and module the way Sphinx would. A target that names nothing, or nothing the site documents,
stays a link that autorefs cannot resolve: ``mkdocs build --strict`` then fails on it, which is the point.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|meth|func|mod|attr|exc|obj|data|const):`(~?)([^`<]+?)(?:\s*<([^>`]+)>)?`")
LITERAL_BLOCK = re.compile(r"::(?=\n\n)")
BARE_LITERAL_BLOCK = re.compile(r"^[ \t]*::\n(?=\n)", re.M)


class SphinxRoles(griffe.Extension):
    """Rewrites every docstring of the package once it is loaded."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        for obj in _walk(pkg):
            if obj.docstring is not None:
                obj.docstring.value = convert(obj.docstring.value, obj)


def _walk(obj: griffe.Object) -> Any:
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _walk(member)


def convert(text: str, where: griffe.Object) -> str:
    """The docstring ``text`` of ``where`` with roles as autorefs links and ``::`` blocks as plain ones."""

    def link(match: re.Match[str]) -> str:
        tilde, first, explicit = match.groups()
        target = (explicit or first).strip().lstrip("~")
        short = target.rsplit(".", 1)[-1] if tilde else target
        title = first.strip() if explicit else short
        return f"[`{title}`][{resolve(target, where)}]"

    # "text::" introduces a code block as "text:"; a "::" line on its own goes.
    return LITERAL_BLOCK.sub(":", BARE_LITERAL_BLOCK.sub("", ROLE.sub(link, text)))


def resolve(target: str, where: griffe.Object) -> str:
    """The full path ``target`` names as seen from ``where`` (itself, its class, its module, the package), or
    ``target`` unchanged when it names nothing (autorefs then reports it)."""
    collection = where.modules_collection
    scopes: list[griffe.Object] = []
    scope: griffe.Object | None = where
    while scope is not None:
        scopes.append(scope)
        scope = scope.parent
    for candidate in [target, *(f"{s.path}.{target}" for s in scopes)]:
        try:
            found = collection.get_member(candidate)
            # An alias: where it is defined (mkdocstrings registers that anchor too). An alias of a module outside
            # the package (``hashlib``) cannot be resolved: left as written, the strict build reports it.
            return str(found.canonical_path)
        except (KeyError, ValueError, griffe.AliasResolutionError):
            continue
    return target
