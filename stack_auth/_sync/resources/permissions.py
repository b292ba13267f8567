# GENERATED from stack_auth/_async/resources/permissions.py by scripts/gen_sync.py: edit the source, not this file.
"""Project permissions of users (server access): ``app.users.grant_permission`` and friends.

A mixin of :class:`~stack_auth._sync.resources.users.Users`, kept in its own module so that the users module
stays about users.
"""

from __future__ import annotations

import builtins

from stack_auth._sync._transport import Transport
from stack_auth._validate import path_segment, text_arg, uuid_arg
from stack_auth.models import ProjectPermission, structure


class UserPermissions:
    """Grant, revoke, list and check a user's project-wide permissions (``/project-permissions``)."""

    _transport: Transport

    def grant_permission(self, user_id: str, permission_id: str) -> ProjectPermission:
        """Grant a project permission: ``app.users.grant_permission(user.id, "admin")``.

        Granting one the user holds already is not an error. Raises :class:`~stack_auth.errors.PermissionNotFound`
        when the project defines no such permission, :class:`~stack_auth.errors.WrongPermissionScope` for a team
        permission, :class:`~stack_auth.errors.UserNotFound` for an unknown user.
        """
        path = _path(user_id, permission_id)
        return structure(self._transport.request("POST", path, json={}), ProjectPermission)

    def revoke_permission(self, user_id: str, permission_id: str) -> None:
        """Revoke a project permission the user holds directly.

        Raises :class:`~stack_auth.errors.PermissionNotFound` when the user does not hold it (Stack words it as if
        the definition were missing).
        """
        self._transport.request("DELETE", _path(user_id, permission_id))

    def list_permissions(
        self, user_id: str, *, recursive: bool = True, permission_id: str | None = None
    ) -> builtins.list[ProjectPermission]:
        """The project permissions ``user_id`` holds, as one complete list (Stack does not paginate it).

        ``recursive=True`` (the default, as in Stack's JS SDK) includes the permissions contained in the ones held
        directly; ``recursive=False`` lists only the direct grants. ``permission_id`` keeps only that one.
        """
        params = {
            "user_id": uuid_arg(user_id, "user_id"),
            "permission_id": None if permission_id is None else text_arg(permission_id, "permission_id"),
            "recursive": recursive,
        }
        data = self._transport.request("GET", "/project-permissions", params=params)
        return [structure(item, ProjectPermission) for item in data["items"]]

    def has_permission(self, user_id: str, permission_id: str) -> bool:
        """Whether the user holds ``permission_id``, directly or contained in another one (one request).

        ``if app.users.has_permission(user.id, "admin"): ...``
        """
        found = self.list_permissions(user_id, recursive=True, permission_id=permission_id)
        return any(p.id == permission_id for p in found)


def _path(user_id: str, permission_id: str) -> str:
    return f"/project-permissions/{uuid_arg(user_id, 'user_id')}/{path_segment(permission_id, 'permission_id')}"
