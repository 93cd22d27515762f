"""Keyset pagination of child lists, batched across parents.

A page of every parent in a batch comes from one statement: `row_number()` partitioned by the
parent column cuts each parent's rows at `first + 1` (the extra row says there is a next page).
Cursors carry the sort values of the last row, so a page never shifts when rows are added.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Generic, Protocol

from sqlalchemy import Select, asc, desc, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import SQLModel

from loaders.base import BaseLoader, M, column


class ListFilter(Protocol, Hashable):
    """A list's filter conditions: hashable (pages are batched by them), applied in SQL."""

    def apply(self, query: Select[Any]) -> Select[Any]: ...


class InvalidCursorError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Ordering:
    """Sort columns, all in one direction, with the primary key appended as the tie-breaker."""

    columns: tuple[str, ...]
    descending: bool = True

    def sort_keys(self) -> tuple[str, ...]:
        return (*self.columns, "id")


@dataclass(frozen=True, slots=True)
class PageQuery:
    first: int
    after: tuple[Any, ...] | None = None
    filters: ListFilter | None = None


@dataclass(slots=True)
class Page(Generic[M]):
    rows: list[M]
    ordering: Ordering
    has_next_page: bool
    has_previous_page: bool
    total_count: Callable[[], Awaitable[int]]

    def cursor(self, row: M) -> str:
        """Computed only when a client asks for it: dashboard lists never do."""
        return encode_cursor(row, self.ordering)


def _encode_value(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _list_name(model: type[SQLModel], ordering: Ordering) -> str:
    """Names the list a cursor belongs to: another list's cursor could decode to valid values."""
    return f"{model.__tablename__}:{','.join(ordering.columns)}"


def encode_cursor(row: SQLModel, ordering: Ordering) -> str:
    values = [_encode_value(getattr(row, key)) for key in ordering.sort_keys()]
    raw = json.dumps([_list_name(type(row), ordering), *values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, model: type[SQLModel], ordering: Ordering) -> tuple[Any, ...]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        named = json.loads(raw)
        keys = ordering.sort_keys()
        if not isinstance(named, list) or named[:1] != [_list_name(model, ordering)]:
            raise InvalidCursorError(cursor)
        values = named[1:]
        if len(values) != len(keys):
            raise InvalidCursorError(cursor)
        return tuple(
            _decode_value(_python_type(model, key), value)
            for key, value in zip(keys, values, strict=True)
        )
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError) as error:
        raise InvalidCursorError(cursor) from error


def _python_type(model: type[SQLModel], key: str) -> type:
    """The Python type of a column, looking through type decorators such as UTCDateTime."""
    column_type = column(model, key).type
    return getattr(column_type, "impl", column_type).python_type


def _decode_value(python_type: type, value: Any) -> Any:
    if python_type is datetime:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:  # every timestamp column is UTC-aware; ours never lack it
            raise InvalidCursorError(value)
        return moment
    if python_type is date:
        return date.fromisoformat(value)
    if python_type is Decimal:
        return Decimal(value)
    if python_type is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise InvalidCursorError(value)
    if python_type is str and not isinstance(value, str):
        raise InvalidCursorError(value)
    return value


def order_clauses(model: type[SQLModel], ordering: Ordering) -> list[Any]:
    direction = desc if ordering.descending else asc
    return [direction(column(model, key)) for key in ordering.sort_keys()]


def after_position(
    query: Select[Any], model: type[SQLModel], ordering: Ordering, page: PageQuery
) -> Select[Any]:
    if page.after is None:
        return query
    keys = tuple_(*(column(model, key) for key in ordering.sort_keys()))
    return query.where(keys < page.after if ordering.descending else keys > page.after)


def make_page(
    rows: list[M], page: PageQuery, ordering: Ordering, total: Callable[[], Awaitable[int]]
) -> Page[M]:
    """`rows` holds up to `first + 1` rows: the extra one only tells that a next page exists."""
    shown = rows[: page.first]
    return Page(
        rows=shown,
        ordering=ordering,
        has_next_page=len(rows) > page.first,
        has_previous_page=page.after is not None,
        total_count=total,
    )


async def root_page(
    session: AsyncSession,
    query: Select[Any],
    *,
    model: type[SQLModel],
    ordering: Ordering,
    page: PageQuery,
    total: Callable[[], Awaitable[int]],
) -> Page[Any]:
    """A page of a list with no parent (a root field): `query` selects the filtered rows."""
    query = after_position(query, model, ordering, page)
    query = query.order_by(*order_clauses(model, ordering)).limit(page.first + 1)
    rows = list((await session.execute(query)).scalars())
    return make_page(rows, page, ordering, total)


class ChildPageLoader(BaseLoader[tuple[int, PageQuery], Page[M]]):
    """Pages of rows per parent id; subclasses name the model, parent column and ordering."""

    model: ClassVar[type[SQLModel]]
    parent: ClassVar[str]
    ordering: ClassVar[Ordering]

    @staticmethod
    def filtered(
        query: Select[*tuple[Any, ...]], filters: ListFilter | None
    ) -> Select[*tuple[Any, ...]]:
        """A list's filters are a frozen dataclass of its domain that applies itself.

        Any row shape passes through (`Select[Any]` types a one-column SELECT)."""
        return filters.apply(query) if filters is not None else query

    def _base(self, parent_ids: list[int], page: PageQuery, *extra: Any) -> Select[Any]:
        query = select(self.model, *extra).where(column(self.model, self.parent).in_(parent_ids))
        return after_position(self.filtered(query, page.filters), self.model, self.ordering, page)

    async def _rows(self, session: AsyncSession, parent_ids: list[int], page: PageQuery) -> list[M]:
        order = order_clauses(self.model, self.ordering)
        if len(parent_ids) == 1:
            query = self._base(parent_ids, page).order_by(*order).limit(page.first + 1)
            return list((await session.execute(query)).scalars())
        rank = func.row_number().over(partition_by=column(self.model, self.parent), order_by=order)
        ranked = self._base(parent_ids, page, rank.label("page_rank")).subquery()
        pages: Select[Any] = select(aliased(self.model, ranked))
        pages = pages.where(ranked.c.page_rank <= page.first + 1)
        return list((await session.execute(pages.order_by(ranked.c.page_rank))).scalars())

    async def load_batch(
        self, session: AsyncSession, keys: list[tuple[int, PageQuery]]
    ) -> list[Page[M]]:
        by_query: dict[PageQuery, list[int]] = {}
        for parent_id, page in keys:
            by_query.setdefault(page, []).append(parent_id)
        rows_by_key: dict[tuple[int, PageQuery], list[M]] = {}
        for page, parent_ids in by_query.items():
            for row in await self._rows(session, parent_ids, page):
                rows_by_key.setdefault((getattr(row, self.parent), page), []).append(row)
        return [self._page(key, rows_by_key.get(key, [])) for key in keys]

    def _page(self, key: tuple[int, PageQuery], rows: list[M]) -> Page[M]:
        parent_id, page = key
        return make_page(
            rows, page, self.ordering, lambda: self.counter().load((parent_id, page.filters))
        )

    def counter(self) -> ChildCountLoader:
        if not hasattr(self, "_counter"):
            self._counter = ChildCountLoader(self.db, type(self))
        return self._counter


class ChildCountLoader(BaseLoader[tuple[int, ListFilter | None], int]):
    """`totalCount` of a child list: one grouped COUNT per batch, only when it is asked for."""

    def __init__(self, db: Any, pages: type[ChildPageLoader[Any]]) -> None:
        super().__init__(db)
        self.pages = pages

    async def load_batch(
        self, session: AsyncSession, keys: list[tuple[int, ListFilter | None]]
    ) -> list[int]:
        counts: dict[tuple[int, ListFilter | None], int] = {}
        by_filters: dict[ListFilter | None, list[int]] = {}
        for parent_id, filters in keys:
            by_filters.setdefault(filters, []).append(parent_id)
        parent = column(self.pages.model, self.pages.parent)
        for filters, parent_ids in by_filters.items():
            query = select(parent, func.count()).where(parent.in_(parent_ids)).group_by(parent)
            for parent_id, count in await session.execute(self.pages.filtered(query, filters)):
                counts[(parent_id, filters)] = count
        return [counts.get(key, 0) for key in keys]
