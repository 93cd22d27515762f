"""Narrowed reads: the columns a planned query reads of each table, so loaders select only those.

A big answer's rows were read whole: 17 columns an instalment, 23 an invoice, where the query
asks for five. Decoding the rest (two timestamps a row, numerics) was a fifth of the CPU of the
peer benchmark's deep queries. The compiled plan knows every field it will resolve, so for a
document whose every field declares what it reads, it records per model the columns read:

* a plain attribute field reads its column;
* a `Money` field reads what its projection names (`__flat_projection__`), a global id `id`;
* a resolver marked `keys_only` reads no column of its source or of the rows it loads but the
  keys: the primary and foreign keys and a page's sort columns, which every narrowed read keeps
  (`loaders.rows.narrow_columns`), like the columns a loader groups or orders by.

Any other field (a resolver that computes from its row, a field left to graphql-core, a type
whose objects may be rows of an unknown table) leaves the whole document unnarrowed. A narrowed
row holds `UNREAD` in the columns left out, which raises on any use: a wrong declaration fails
loudly, never answers a wrong value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from graphql import GraphQLObjectType
from sqlalchemy import inspect as sa_inspect
from sqlmodel import SQLModel
from strawberry.schema.schema_converter import GraphQLCoreConverter

from loaders.rows import LightRow, row_type
from schema.flat import NO_DEFAULT

if TYPE_CHECKING:
    from schema.execution import FieldPlan

F = TypeVar("F", bound=Callable[..., Any])

OPEN: Any = None  # a document whose reads are not all known


def keys_only(resolver: F) -> F:
    """Declares that `resolver` reads only key columns (primary and foreign keys, a page's sort
    columns) of its source and of the rows it loads: it hands rows on (a list, a page, a
    parent), the fields of their own types read the rest."""
    resolver.__keys_only__ = True  # type: ignore[attr-defined]
    return resolver


def row_free(cls: type[Any]) -> type[Any]:
    """Declares a type whose objects are never rows (a root, a page and its edges, a `Money`):
    what its attribute fields read is not a table's column."""
    cls.__row_free__ = True
    return cls


class Reads:
    """What one plan's fields read, per model; `columns` is OPEN once any field may read more."""

    __slots__ = ("columns",)

    def __init__(self) -> None:
        self.columns: dict[type[Any], set[str]] | None = {}

    def note(self, object_type: GraphQLObjectType, fields: Iterable[FieldPlan]) -> None:
        """The reads of one object type's selected fields."""
        if self.columns is None:
            return
        models = _models_of(object_type)
        if not models and not _is_row_free(object_type):
            self.columns = OPEN  # its objects may be rows, of a table it does not say
            return
        names: set[str] = set()
        optional: set[str] = set()
        for field in fields:
            read = _field_reads(field)
            if read is None:
                self.columns = OPEN
                return
            names |= read[0]
            optional |= read[1]
        for model in models:
            columns = _columns_of(model)
            row = row_type(model)
            # An attribute that is no column is a property or method of the model, which may
            # read anything; one read with a default must not exist on the row at all.
            if not names <= columns or any(
                name not in columns and hasattr(row, name) for name in optional
            ):
                self.columns = OPEN
                return
            self.columns.setdefault(model, set()).update(names, optional & columns)

    def unknown(self) -> None:
        """A field whose values the plan does not complete itself (an interface or a union,
        left to graphql-core): what their fields read is not seen."""
        self.columns = OPEN

    def narrow(self) -> dict[type[Any], frozenset[str]]:
        """Per model, the columns the plan's fields read; empty when any read is unknown."""
        if self.columns is None:
            return {}
        return {model: frozenset(names) for model, names in self.columns.items()}


def _field_reads(field: FieldPlan) -> tuple[set[str], set[str]] | None:
    """The attributes a field reads of its source, and those it reads with a default when the
    source has none (a `Money`'s currency on an instalment); None when unknown."""
    if field.name == "__typename":
        return set(), set()
    definition = field.strawberry_field
    if field.delegate or definition is None:
        return None
    resolver = field.resolver
    if resolver is None:
        return {definition.python_name}, set()  # a plain attribute
    projection = getattr(resolver, "__flat_projection__", None)
    if projection is not None:
        read = projection.fields.values()
        always = {projection.present, *(name for name, default in read if default is NO_DEFAULT)}
        return always, {name for name, default in read if default is not NO_DEFAULT}
    if getattr(resolver, "__flat_global_id__", None) is not None:
        return {"id"}, set()
    if getattr(resolver, "__keys_only__", False):
        return set(), set()
    return None


def _models_of(object_type: GraphQLObjectType) -> tuple[type[SQLModel], ...]:
    """The tables whose light rows a node type's check accepts (schema/base.py)."""
    kinds = getattr(getattr(object_type.is_type_of, "__func__", None), "__flat_kinds__", None)
    return tuple(kind._model for kind in kinds or () if issubclass(kind, LightRow))


def _is_row_free(object_type: GraphQLObjectType) -> bool:
    definition = (object_type.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    origin = getattr(definition, "origin", None)
    return bool(getattr(origin, "__row_free__", False))


def _columns_of(model: type[Any]) -> set[str]:
    return {attribute.key for attribute in sa_inspect(model).column_attrs}
