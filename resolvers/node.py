"""`node(id)`: any object by its global id, through the same tenancy and scope checks.

Every `Node` type of the schema registers itself here (`schema.base.node_type`) with its loader
and its access rule, so a new type cannot be left out of `node(id)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from auth.access import require_authenticated, require_client, require_scope
from auth.errors import NotFoundError
from auth.scopes import Scope
from auth.staff import StaffPermission
from auth.viewer import Viewer
from loaders.base import ByIdLoader
from loaders.rows import is_row_of
from models.client import Client
from models.identity import TokenKind
from resolvers.attachments import read_scope
from resolvers.context import Context
from resolvers.ids import from_global_id

# Raises NotFoundError (or ForbiddenError for a missing scope) when the viewer may not see the row.
Access = Callable[[Viewer, Any], None]


@dataclass(frozen=True, slots=True)
class NodeKind:
    type_name: str  # the GraphQL type
    loader: type[ByIdLoader[Any]]
    access: Access


NODE_KINDS: dict[str, NodeKind] = {}  # by the type name inside global ids


def register_node(
    id_name: str, *, type_name: str, loader: type[ByIdLoader[Any]], access: Access
) -> None:
    if id_name in NODE_KINDS:
        raise ValueError(f"two Node types use the global id name {id_name!r}")
    NODE_KINDS[id_name] = NodeKind(type_name, loader, access)


def in_client(scope: Scope | None) -> Access:
    """A row of one client: membership (or staff) and, when given, the scope in that client."""

    def check(viewer: Viewer, row: Any) -> None:
        client_id = row.id if is_row_of(row, Client) else row.client_id
        if scope is None:
            require_client(viewer, client_id)
        else:
            require_scope(viewer, client_id, scope)

    return check


def attachment_access(viewer: Viewer, row: Any) -> None:
    """An attachment is read with what it hangs on (a request's stage, a message), a file not
    used yet with what it was uploaded for."""
    require_scope(viewer, row.client_id, read_scope(row))


def shared(viewer: Viewer, _row: Any) -> None:
    """Public reference data (the centre network): any signed-in viewer."""


def own_api_token(viewer: Viewer, row: Any) -> None:
    if row.kind is not TokenKind.API or row.user_id != viewer.user_id:
        raise NotFoundError


def staff_only(viewer: Viewer, _row: Any) -> None:
    """People's accounts: staff who look people up; a client learns nothing about them."""
    if not viewer.has_staff_permission(StaffPermission.CLIENTS_READ):
        raise NotFoundError


def managed_subaccount(viewer: Viewer, row: Any) -> None:
    if row.is_main:
        raise NotFoundError
    require_scope(viewer, row.client_id, Scope.SUBACCOUNTS_MANAGE)


async def resolve_node(ctx: Context, global_id: str) -> Any:
    require_authenticated(ctx.viewer)
    id_name, pk = from_global_id(global_id)
    kind = NODE_KINDS.get(id_name)
    if kind is None:
        raise NotFoundError
    row = await ctx.loaders[kind.loader].load(pk)
    if row is None:
        raise NotFoundError
    kind.access(ctx.viewer, row)
    return row
