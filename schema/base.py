"""Building blocks shared by every domain: Info, Money, Node, connections, scope permissions."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, Generic, TypeVar

import strawberry
from sqlmodel import SQLModel
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from auth.access import missing_scope, require_staff_permission
from auth.errors import ForbiddenError
from auth.scopes import Scope
from auth.staff import StaffPermission
from loaders.base import ByIdLoader
from loaders.paging import ChildPageLoader, Page
from loaders.rows import row_type
from models.audit import note_read
from models.base import stored_id
from models.client import Client as ClientRow
from models.contract import Currency
from resolvers.context import Context
from resolvers.ids import GlobalIds
from resolvers.node import Access, register_node
from resolvers.paging import page_query
from schema.flat import NO_DEFAULT, Projection
from schema.narrow import keys_only, row_free

Info = strawberry.Info[Context, None]
T = TypeVar("T")

CurrencyEnum = strawberry.enum(Currency, description="ISO 4217 currency code.")


@row_free
@strawberry.type(description="An amount of money; never a float.")
class Money:
    amount: Decimal
    currency: Currency


def money(attribute: str, description: str) -> Any:
    """A Money field read from a Decimal attribute and the row's currency (PLN by default)."""

    def resolve(root: Any) -> Money | None:
        amount = getattr(root, attribute)
        if amount is None:
            return None
        return Money(amount=amount, currency=getattr(root, "currency", Currency.PLN))

    # What the compiled path may read instead of building a Money (schema/flat.py).
    resolve.__flat_projection__ = Projection(  # type: ignore[attr-defined]
        present=attribute,
        fields={"amount": (attribute, NO_DEFAULT), "currency": ("currency", Currency.PLN)},
    )
    return strawberry.field(resolver=resolve, description=description)


@strawberry.interface(description="An object with a global id, fetchable with `node(id)`.")
class Node:
    id: strawberry.ID


def node_id(type_name: str) -> Any:
    made = GlobalIds(type_name)

    def resolve(root: Any) -> strawberry.ID:
        return strawberry.ID(made(root.id))

    # What the compiled path may call on the row's `id` instead (schema/flat.py).
    resolve.__flat_global_id__ = made  # type: ignore[attr-defined]
    return strawberry.field(resolver=resolve, description="Opaque global id.")


def node_type(
    model: type[SQLModel],
    *,
    loader: type[ByIdLoader[Any]],
    access: Access,
    id_name: str | None = None,
) -> Callable[[type[T]], type[T]]:
    """Declares a Node type: resolved from its model row, and fetchable with `node(id)`.

    `id_name` is the type name inside its global ids (`node_id`), the class name by default.
    """

    def decorate(cls: type[T]) -> type[T]:
        register_node(id_name or cls.__name__, type_name=cls.__name__, loader=loader, access=access)
        # Loaders answer light rows, writes answer entities: either is this type's object.
        kinds = (model, row_type(model))
        is_type_of = lambda _cls, obj, _info: isinstance(obj, kinds)  # noqa: E731
        is_type_of.__flat_kinds__ = kinds  # type: ignore[attr-defined]  # for schema/flat.py
        cls.is_type_of = classmethod(is_type_of)  # type: ignore[attr-defined]
        return cls

    return decorate


_CLIENT_KINDS = (ClientRow, row_type(ClientRow))  # an entity or a light row of a client


def _is_client(source: object) -> bool:
    return isinstance(source, _CLIENT_KINDS)


def client_id_of(source: Any) -> int:
    return stored_id(source) if _is_client(source) else source.client_id


class HasScope(BasePermission):
    """Declared on a field: the viewer needs `scope` in the client that owns the parent object."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.message = str(missing_scope(scope))

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        viewer = info.context.viewer
        client_id = client_id_of(source)
        allowed = viewer.has_scope(client_id, self.scope)
        if allowed and viewer.looks_as_staff:  # a person at the lessor: the access log
            note_read(client_id, self.scope)
        return allowed

    def on_unauthorized(self) -> None:
        """The same ForbiddenError as `require_scope`'s: coded, and translated with the rest."""
        raise ForbiddenError(missing_scope(self.scope))


def scoped(scope: Scope) -> list[FieldExtension]:
    return [PermissionExtension(permissions=[HasScope(scope)], use_directives=False)]


class HasStaffPermission(BasePermission):
    """Declared on a staff field or mutation: the viewer's role grants `permission`."""

    def __init__(self, permission: StaffPermission) -> None:
        self.permission = permission

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        # Raises the coded error itself: anonymous, not staff, or the role lacks it.
        require_staff_permission(info.context.viewer, self.permission)
        return True


def staff_permission(permission: StaffPermission) -> list[FieldExtension]:
    return [PermissionExtension(permissions=[HasStaffPermission(permission)], use_directives=False)]


@row_free
@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    page: strawberry.Private[Page[Any]]

    @strawberry.field
    @keys_only
    def start_cursor(self) -> str | None:
        return self.page.cursor(self.page.rows[0]) if self.page.rows else None

    @strawberry.field
    @keys_only
    def end_cursor(self) -> str | None:
        return self.page.cursor(self.page.rows[-1]) if self.page.rows else None


@row_free
@strawberry.type
class Edge(Generic[T]):
    node: T
    page: strawberry.Private[Page[Any]]

    @strawberry.field
    @keys_only
    def cursor(self) -> str:
        return self.page.cursor(self.node)


@keys_only
def _edges_of(root: Any) -> list[Any]:
    return [Edge(node=row, page=root.page) for row in root.page.rows]


@row_free
@strawberry.type(description="A page of a list, with keyset cursors.")
class Connection(Generic[T]):
    # Made when asked: a page of 60 instalments built 60 Edge objects nobody read.
    edges: list[Edge[T]] = strawberry.field(resolver=_edges_of)
    nodes: list[T]
    page_info: PageInfo
    page: strawberry.Private[Page[Any]]

    @strawberry.field(description="Size of the whole filtered list; costs one COUNT when asked.")
    @keys_only
    async def total_count(self) -> int:
        return await self.page.total_count()


def connection(page: Page[Any]) -> Connection[Any]:
    return Connection(
        nodes=page.rows,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            page=page,
        ),
        page=page,
    )


async def child_page(
    info: Info,
    loader: type[ChildPageLoader[Any]],
    parent_id: int,
    *,
    first: int | None,
    after: str | None = None,
    filters: Any = None,
) -> Page[Any]:
    """One parent's page through the batched page loader of its list."""
    query = page_query(
        model=loader.model,
        ordering=loader.ordering,
        first=first,
        after=after,
        max_first=info.context.settings.page_size_max,
        filters=filters,
    )
    return await info.context.loaders[loader].load((parent_id, query))


async def child_connection(
    info: Info,
    loader: type[ChildPageLoader[Any]],
    parent_id: int,
    *,
    first: int | None,
    after: str | None,
    filters: Any = None,
) -> Connection[Any]:
    page = await child_page(info, loader, parent_id, first=first, after=after, filters=filters)
    return connection(page)
