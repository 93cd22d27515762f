"""Loader base classes and the per-request registry.

Every batch takes its own pooled read connection: two loaders never share one, and read
connections run in autocommit, so a batch is exactly one SELECT (a `ByIdLoader`'s is shared
with the requests that ask in the same turn of the event loop: hub/shared_reads.py). A query's
plan may narrow the columns row loaders select (schema/narrow.py). Loaders answer light rows
(loaders/rows.py) read by Core statements built once per loader class (loaders/statements.py),
never ORM entities: a write loads what it changes in its own session.

A batch reads through a `RowReader`: on PostgreSQL asyncpg itself (hub/raw_reads.py), which
answers a list of rows; elsewhere a SQLAlchemy connection, which answers a result. Loaders only
iterate those rows and unpack or index each one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from functools import lru_cache
from types import MappingProxyType
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import Column, Select, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import SQLModel

from loaders.rows import light_rows, narrow_columns, narrowed, row_columns
from loaders.statements import KEYS, KeysIn

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")
M = TypeVar("M", bound=SQLModel)
L = TypeVar("L", bound="BaseLoader[Any, Any]")


class RowReader(Protocol):
    """What a loader batch reads through: its statements' rows, to iterate once."""

    async def execute(
        self, statement: Select[Any], parameters: Mapping[str, Any], /
    ) -> Iterable[Any]:
        """The rows of `statement` with these bound values; each row unpacks as a tuple."""
        ...


class ReadSessions(Protocol):
    def read(self) -> AbstractAsyncContextManager[AsyncSession]: ...

    async def reading(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """`work` in a read session, once more if the connection was cut under it."""
        ...

    async def reading_rows(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """`work` on a bare read connection, once more if the connection was cut under it."""
        ...

    async def reading_batch(self, work: Callable[[RowReader], Awaitable[T]]) -> T:
        """`work` on a loader batch's `RowReader`, once more if the connection was cut."""
        ...

    @property
    def shared(self) -> SharedRows: ...


class SharedRows(Protocol):
    async def rows(self, statement: Select[Any], keys: list[Any]) -> list[Any]:
        """The rows of `statement` for `keys` (and maybe others'), one statement for the
        requests that ask in the same turn of the event loop (hub/shared_reads.py)."""
        ...


NOT_NARROWED: Mapping[type[Any], frozenset[str]] = MappingProxyType({})


class BaseLoader(DataLoader, Generic[K, V]):
    # The columns a query's plan reads of each model (schema/narrow.py), shared with the
    # request's registry; a model not in it is read whole.
    narrow: Mapping[type[Any], frozenset[str]] = NOT_NARROWED

    def __init__(self, db: ReadSessions) -> None:
        super().__init__()
        self.db = db

    def narrowed_to(self, model: type[SQLModel], *needed: str) -> frozenset[str] | None:
        """The columns of `model` this batch selects (with those the loader itself reads:
        its key, its order), or None for all of them."""
        wanted = self.narrow.get(model)
        return None if wanted is None else narrow_columns(model, wanted.union(needed))

    async def batch_load_fn(self, keys: Sequence[K]) -> list[V]:
        return await self.db.reading_batch(lambda reader: self.load_batch(reader, list(keys)))

    async def load_batch(self, connection: RowReader, keys: list[K]) -> list[V]:
        raise NotImplementedError


class Loaders:
    """The loaders of one request, created on first use inside the running event loop."""

    def __init__(self, db: ReadSessions, *, narrowable: bool = False) -> None:
        self._db = db
        self._cache: dict[type[Any], Any] = {}
        # Filled by the compiled executor for the one query of an HTTP request; never on a
        # WebSocket, whose operations share one registry and may run at once.
        self.narrowable = narrowable
        self.narrow: dict[type[Any], frozenset[str]] = {}

    def __getitem__(self, cls: type[L]) -> L:
        loader = self._cache.get(cls)
        if loader is None:
            loader = self._cache[cls] = cls(self._db)
            loader.narrow = self.narrow
        return loader

    def narrowed_for(self, narrow: Mapping[type[Any], frozenset[str]]) -> None:
        """The reads of the one operation this registry serves (an HTTP request carries one:
        batching is off). Only once: a later operation narrows nothing more."""
        self.narrowable = False
        self.narrow.update(narrow)

    def clear(self) -> None:
        """After a write: the next read sees the database, not this request's cache."""
        self._cache.clear()


def column(model: type[SQLModel], name: str) -> InstrumentedAttribute[Any]:
    return getattr(model, name)


def table_column(model: type[SQLModel], name: str) -> Column[Any]:
    """A Core column of the model's table (no ORM annotations for the statement to carry)."""
    return model.__table__.c[name]  # type: ignore[attr-defined]


class BuiltOnce:
    """A loader class's statement, built on first use and kept on that very class."""

    @classmethod
    def build(cls) -> Select[Any]:
        raise NotImplementedError

    @classmethod
    def statement(cls) -> Select[Any]:
        built: Select[Any] | None = cls.__dict__.get("_statement")  # never a parent's
        if built is None:
            built = cls.build()
            cls._statement = built  # type: ignore[attr-defined]
        return built


class ByIdLoader(BuiltOnce, BaseLoader[int, M | None]):
    model: ClassVar[type[SQLModel]]

    @classmethod
    def build(cls) -> Select[Any]:
        return select(*row_columns(cls.model)).where(KeysIn(table_column(cls.model, "id")))

    async def batch_load_fn(self, keys: Sequence[int]) -> list[M | None]:
        """Through the process's shared reads: requests asking for rows of this table in the
        same turn of the loop share one statement, and each keeps the rows of its keys."""
        columns = self.narrowed_to(self.model)
        statement = narrowed_statement(self, columns)
        found = await self.db.shared.rows(statement, list(keys))
        at, wanted = _id_position(statement), set(keys)
        return self._by_id([row for row in found if row[at] in wanted], columns, keys)

    async def load_batch(self, connection: RowReader, keys: list[int]) -> list[M | None]:
        columns = self.narrowed_to(self.model)
        found = await connection.execute(narrowed_statement(self, columns), {KEYS: keys})
        return self._by_id(found, columns, keys)

    def _by_id(
        self, found: Iterable[Any], columns: frozenset[str] | None, keys: Sequence[int]
    ) -> list[M | None]:
        rows: list[Any] = light_rows(self.model, found, columns)
        by_id = {row.id: row for row in rows}
        return [by_id.get(key) for key in keys]


class ManyByKeyLoader(BuiltOnce, BaseLoader[int, list[M]]):
    """All rows whose `key` column is in the batch, grouped by it, in `order_by` order.

    A subclass narrows the rows by extending `build` (`super().build().where(…)`)."""

    model: ClassVar[type[SQLModel]]
    key: ClassVar[str]
    order_by: ClassVar[tuple[str, ...]] = ("id",)

    @classmethod
    def build(cls) -> Select[Any]:
        order = [table_column(cls.model, name) for name in cls.order_by]
        keys = KeysIn(table_column(cls.model, cls.key))
        return select(*row_columns(cls.model)).where(keys).order_by(*order)

    async def load_batch(self, connection: RowReader, keys: list[int]) -> list[list[M]]:
        columns = self.narrowed_to(self.model, self.key, *self.order_by)
        result = await connection.execute(narrowed_statement(self, columns), {KEYS: keys})
        return group_by(light_rows(self.model, result, columns), self.key, keys)


def narrowed_statement(loader: Any, columns: frozenset[str] | None) -> Select[Any]:
    """A row loader's statement, selecting `columns` only when given."""
    whole: Select[Any] = loader.statement()
    if columns is None:
        return whole
    return _narrowed_statement(whole, loader.model, columns)


@lru_cache(maxsize=1024)
def _narrowed_statement(
    whole: Select[Any], model: type[SQLModel], columns: frozenset[str]
) -> Select[Any]:
    # Kept like the whole statement: the raw read path prepares a statement once per object.
    return whole.with_only_columns(*narrowed(model, columns).columns)


@lru_cache(maxsize=1024)
def _id_position(statement: Select[Any]) -> int:
    """Where a row loader's statement selects the primary key (rows others asked for in a
    shared read are dropped before they are made light rows)."""
    return [column.key for column in statement.selected_columns].index("id")


def group_by(rows: Iterable[Any], attribute: str, keys: list[Any]) -> list[list[Any]]:
    groups: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        groups[getattr(row, attribute)].append(row)
    return [groups.get(key, []) for key in keys]
