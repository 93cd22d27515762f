"""Light rows: what read loaders answer with instead of ORM entities.

A profile of a big query (one client → contracts → instalments + invoices) spent a fifth of its
CPU in SQLAlchemy's ORM loading and instrumentation, and more in pydantic's `__getattr__` (the
`Money` fields look for a `currency` an instalment does not have). The schema only reads
columns, so loaders select a table's columns with Core and wrap each row in a class generated
per model: a named tuple, with the model's column names as fields.

* Built in C (`tuple.__new__`), fields read through C getters: no identity map, no instance
  state, nothing per row for the collector to follow.
* Immutable: a write path handed one by mistake fails at once (a field cannot be set and a
  session refuses an unmapped object), and rows a loader caches never change under another
  resolver. Writes load ORM entities in their own session (`Database.write`).
* One class per model, so a Node type still recognises its rows (`is_row_of`) and a cursor
  still names its table (`model_of`).

Loaders are typed as answering the model: a light row has exactly the model's column
attributes, minus the columns in `NOT_READ`, and the model's own properties and methods. A
narrowed read (schema/narrow.py) answers rows of a subclass whose left-out columns raise when
read.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping
from functools import cache, lru_cache
from inspect import isfunction
from typing import Any, ClassVar, TypeVar, cast

from sqlalchemy import Column, Table
from sqlalchemy import inspect as sa_inspect
from sqlmodel import SQLModel

from models.attachment import Attachment

M = TypeVar("M", bound=SQLModel)

# Columns no type reads and that would make every row heavy: an attachment's bytes are sent
# by the download route, which reads them itself.
NOT_READ: Mapping[type[SQLModel], frozenset[str]] = {Attachment: frozenset({"content"})}


class LightRow(tuple[Any, ...]):
    """Base of every generated row class: `isinstance(x, LightRow)` tells a read row."""

    __slots__ = ()
    _model: ClassVar[type[Any]]


def _behaviour(namespace: Mapping[str, Any]) -> dict[str, Any]:
    """The properties and plain methods a model class defines itself: they only read
    attributes, so they work on its light row as they do on the entity."""
    return {
        name: value
        for name, value in namespace.items()
        if not name.startswith("__") and (isinstance(value, property) or isfunction(value))
    }


def make_row_type(model: type[Any], table: Table, excluded: Iterable[str] = ()) -> type[LightRow]:
    """A named tuple of `table`'s columns (in table order) that also carries `model`'s own
    properties and methods; `excluded` columns are left out."""
    skip = frozenset(excluded)
    names = [column.key for column in table.columns if column.key not in skip]
    fields = namedtuple(f"{model.__name__}Row", names)  # type: ignore[misc]
    namespace = {"__slots__": (), "_model": model, **_behaviour(vars(model))}
    return type(fields.__name__, (fields, LightRow), namespace)


@cache
def row_type(model: type[SQLModel]) -> type[LightRow]:
    """The light row class of a table model, made once."""
    table = _table(model)
    attributes = {attribute.key for attribute in sa_inspect(model).column_attrs}
    if attributes != set(table.columns.keys()):  # a field is named after its column
        raise TypeError(f"{model.__name__}: attribute names differ from column names")
    return make_row_type(model, table, NOT_READ.get(model, ()))


@cache
def row_columns(model: type[SQLModel]) -> tuple[Column[Any], ...]:
    """The columns a light row of `model` is read from, in its fields' order."""
    table = _table(model)
    return tuple(table.c[name] for name in row_type(model)._fields)  # type: ignore[attr-defined]


def _table(model: type[SQLModel]) -> Table:
    table = getattr(model, "__table__", None)
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not a table model")
    return table


def light_rows(
    model: type[M], rows: Iterable[Iterable[Any]], columns: frozenset[str] | None = None
) -> list[M]:
    """Rows of `row_columns(model)` as light rows (typed as the model: see the module's note);
    rows of `narrow_columns(model, columns)` when a narrowed read gives `columns`."""
    if columns is not None:
        return cast(list[M], narrowed(model, columns).make(rows))
    make = row_type(model)._make  # type: ignore[attr-defined]
    return cast(list[M], list(map(make, rows)))


class UnreadColumnError(RuntimeError):
    """A column a narrowed read left out was used: the query's plan missed a field's reads."""


class Unread:
    """The value of a column a narrowed read left out (schema/narrow.py). Whatever uses it
    (compares, hashes, prints, tests its truth) raises, so a field that reads such a column
    fails loudly instead of answering a wrong value."""

    __slots__ = ()

    def _refuse(self, *_args: Any) -> Any:
        raise UnreadColumnError("a column this query's plan did not read was used")

    __bool__ = __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _refuse
    __hash__ = __str__ = __format__ = __int__ = __float__ = __index__ = __iter__ = _refuse

    def __repr__(self) -> str:
        return "<unread column>"


UNREAD: Any = Unread()


class Narrowed:
    """A model's light rows read from a subset of its columns: the statement's columns, and a
    function that makes rows of them. Their class is a subclass of the model's row class (type
    checks, cursors and `model_of` work as ever) whose left-out columns raise when read, and
    hold `UNREAD` should anything index the tuple."""

    __slots__ = ("columns", "make")

    def __init__(self, model: type[SQLModel], names: frozenset[str]) -> None:
        row = row_type(model)
        fields: tuple[str, ...] = row._fields  # type: ignore[attr-defined]
        kept = [name for name in fields if name in names]
        table = _table(model)
        self.columns: tuple[Column[Any], ...] = tuple(table.c[name] for name in kept)
        left_out = {name: property(_unread(model, name)) for name in fields if name not in names}
        narrow_row = type(row.__name__, (row,), {"__slots__": (), **left_out})
        position = {name: index for index, name in enumerate(kept)}
        values = ", ".join(f"r[{position[name]}]" if name in position else "U" for name in fields)
        source = f"def make(rows):\n    return [new(Row, ({values},)) for r in rows]\n"
        names_: dict[str, Any] = {"new": tuple.__new__, "Row": narrow_row, "U": UNREAD}
        exec(compile(source, "<narrowed rows>", "exec"), names_)  # noqa: S102 - our own text
        self.make: Callable[[Iterable[Any]], list[Any]] = names_["make"]


def _unread(model: type[SQLModel], name: str) -> Callable[[Any], Any]:
    def read(_row: Any) -> Any:
        raise UnreadColumnError(f"{model.__name__}.{name} was left out of a narrowed read")

    return read


@lru_cache(maxsize=1024)
def narrowed(model: type[SQLModel], names: frozenset[str]) -> Narrowed:
    """Made once per model and column set (bounded: the documents a client may send are not)."""
    return Narrowed(model, names)


def narrow_columns(model: type[SQLModel], wanted: frozenset[str]) -> frozenset[str] | None:
    """The columns a narrowed read of `model` selects: those `wanted` and its keys (tenancy
    and scope checks, parents and links read them); None when that is every column anyway."""
    fields: tuple[str, ...] = row_type(model)._fields  # type: ignore[attr-defined]
    kept = wanted.union(_keys(model)).intersection(fields)
    return None if len(kept) == len(fields) else kept


@cache
def _keys(model: type[SQLModel]) -> frozenset[str]:
    """The primary key and the foreign keys (`client_id`, `contract_id` …) of a table."""
    table = _table(model)
    return frozenset(
        column.key for column in table.columns if column.primary_key or column.foreign_keys
    )


def is_row_of(obj: object, model: type[SQLModel]) -> bool:
    """An entity of `model` (a write's result) or a light row read from its table."""
    return isinstance(obj, (model, row_type(model)))


def model_of(row: object) -> type[Any]:
    """The table model behind an entity or a light row."""
    return row._model if isinstance(row, LightRow) else type(row)
