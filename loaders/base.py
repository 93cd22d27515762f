"""Loader base classes and the per-request registry.

Every batch opens its own short read session: two loaders never share one AsyncSession, and
read sessions run in autocommit, so a batch is exactly one SELECT.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import SQLModel

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")
M = TypeVar("M", bound=SQLModel)
L = TypeVar("L", bound="BaseLoader[Any, Any]")


class ReadSessions(Protocol):
    def read(self) -> AbstractAsyncContextManager[AsyncSession]: ...

    async def reading(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """`work` in a read session, once more if the connection was cut under it."""
        ...


class BaseLoader(DataLoader, Generic[K, V]):
    def __init__(self, db: ReadSessions) -> None:
        super().__init__()
        self.db = db

    async def batch_load_fn(self, keys: Sequence[K]) -> list[V]:
        return await self.db.reading(lambda session: self.load_batch(session, list(keys)))

    async def load_batch(self, session: AsyncSession, keys: list[K]) -> list[V]:
        raise NotImplementedError


class Loaders:
    """The loaders of one request, created on first use inside the running event loop."""

    def __init__(self, db: ReadSessions) -> None:
        self._db = db
        self._cache: dict[type[Any], Any] = {}

    def __getitem__(self, cls: type[L]) -> L:
        loader = self._cache.get(cls)
        if loader is None:
            loader = self._cache[cls] = cls(self._db)
        return loader

    def clear(self) -> None:
        """After a write: the next read sees the database, not this request's cache."""
        self._cache.clear()


def column(model: type[SQLModel], name: str) -> InstrumentedAttribute[Any]:
    return getattr(model, name)


class ByIdLoader(BaseLoader[int, M | None]):
    model: ClassVar[type[SQLModel]]

    async def load_batch(self, session: AsyncSession, keys: list[int]) -> list[M | None]:
        id_column = column(self.model, "id")
        rows = (await session.execute(select(self.model).where(id_column.in_(keys)))).scalars()
        by_id = {row.id: row for row in rows}  # type: ignore[attr-defined]
        return [by_id.get(key) for key in keys]  # type: ignore[misc]


class ManyByKeyLoader(BaseLoader[int, list[M]]):
    """All rows whose `key` column is in the batch, grouped by it, in `order_by` order."""

    model: ClassVar[type[SQLModel]]
    key: ClassVar[str]
    order_by: ClassVar[tuple[str, ...]] = ("id",)

    def query(self, keys: list[int]) -> Select[Any]:
        order = [column(self.model, name) for name in self.order_by]
        return select(self.model).where(column(self.model, self.key).in_(keys)).order_by(*order)

    async def load_batch(self, session: AsyncSession, keys: list[int]) -> list[list[M]]:
        rows = (await session.execute(self.query(keys))).scalars()
        return group_by(rows, self.key, keys)


def group_by(rows: Iterable[Any], attribute: str, keys: list[Any]) -> list[list[Any]]:
    groups: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        groups[getattr(row, attribute)].append(row)
    return [groups.get(key, []) for key in keys]
