"""Keyset pagination of child lists, batched across parents.

A page of every parent in a batch comes from one statement: `row_number()` partitioned by the
parent column cuts each parent's rows at `first + 1` (the extra row says there is a next page).
Cursors carry the sort values of the last row, so a page never shifts when rows are added.

The statements are built once per list, filters and shape (`page_statement`) and take the
parent ids, the page size and the cursor's values as bound parameters.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, ClassVar, Generic, Protocol

from sqlalchemy import Integer, Select, asc, bindparam, desc, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from loaders.base import BaseLoader, M, RowReader, column, table_column
from loaders.rows import light_rows, model_of, narrowed, row_columns
from loaders.statements import KEYS, KeysIn

PAGE_LIMIT = "page_limit"  # first + 1: the extra row says there is a next page


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
    raw = json.dumps([_list_name(model_of(row), ordering), *values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


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
    return [direction(table_column(model, key)) for key in ordering.sort_keys()]


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
    """A page of a list with no parent (a root field): `query` selects the filtered rows of
    `model` (as entities or columns); the page holds light rows of its columns."""
    query = after_position(query.with_only_columns(*row_columns(model)), model, ordering, page)
    query = query.order_by(*order_clauses(model, ordering)).limit(page.first + 1)
    rows = light_rows(model, await session.execute(query))
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

    async def _rows(self, connection: RowReader, parent_ids: list[int], page: PageQuery) -> list[M]:
        single = len(parent_ids) == 1  # one parent needs no row_number() over partitions
        columns = self.narrowed_to(self.model, self.parent, *self.ordering.sort_keys())
        shape = (self.model, self.parent, self.ordering)
        statement = page_statement(*shape, page.filters, page.after is not None, single, columns)
        values: dict[str, Any] = {KEYS: parent_ids, PAGE_LIMIT: page.first + 1}
        if page.after is not None:
            values.update(zip(_after_names(len(page.after)), page.after, strict=True))
        result = await connection.execute(statement, values)
        rows: list[Any] = light_rows(self.model, result, columns)
        return rows

    async def load_batch(
        self, connection: RowReader, keys: list[tuple[int, PageQuery]]
    ) -> list[Page[M]]:
        by_query: dict[PageQuery, list[int]] = {}
        for parent_id, page in keys:
            by_query.setdefault(page, []).append(parent_id)
        rows_by_key: dict[tuple[int, PageQuery], list[M]] = {}
        for page, parent_ids in by_query.items():
            for row in await self._rows(connection, parent_ids, page):
                rows_by_key.setdefault((getattr(row, self.parent), page), []).append(row)
        counts = self.counts()
        return [self._page(key, rows_by_key.get(key, []), counts) for key in keys]

    def _page(self, key: tuple[int, PageQuery], rows: list[M], counts: Counts) -> Page[M]:
        parent_id, page = key
        return make_page(rows, page, self.ordering, lambda: counts.load((parent_id, page.filters)))

    def counts(self) -> Counts:
        if not hasattr(self, "_counts"):
            self._counts = Counts(self.db, type(self))
        return self._counts


class Counts:
    """A page's `totalCount`, its loader made when a count is first asked for. The pages hold
    this rather than their own loader, whose cache holds them: a cycle that kept every page
    and row of a request for the collector to find."""

    __slots__ = ("_db", "_loader", "_pages")

    def __init__(self, db: Any, pages: type[ChildPageLoader[Any]]) -> None:
        self._db, self._pages = db, pages
        self._loader: ChildCountLoader | None = None

    def load(self, key: tuple[int, ListFilter | None]) -> Awaitable[int]:
        if self._loader is None:
            self._loader = ChildCountLoader(self._db, self._pages)
        return self._loader.load(key)


@lru_cache(maxsize=512)
def page_statement(
    model: type[SQLModel],
    parent_name: str,
    ordering: Ordering,
    filters: ListFilter | None,
    after: bool,
    single: bool,
    columns: frozenset[str] | None = None,
) -> Select[Any]:
    """The page statement of a list for these filters, once. Filters are hashable values (a
    day, statuses, a contract id) and become part of the statement; the parent ids
    (`KEYS`), `PAGE_LIMIT` and a cursor's values (`_after_names`) are bound per batch.
    `columns`: a narrowed read's (loaders/rows.py), all of the model's when None."""
    parent = table_column(model, parent_name)
    order = order_clauses(model, ordering)
    rank = func.row_number().over(partition_by=parent, order_by=order).label("page_rank")
    selected = row_columns(model) if columns is None else narrowed(model, columns).columns
    query = select(*selected, *(() if single else (rank,))).where(KeysIn(parent))
    query = ChildPageLoader.filtered(query, filters)
    if after:
        query = query.where(_after_bound(model, ordering))
    limit = bindparam(PAGE_LIMIT, type_=Integer)
    if single:
        return query.order_by(*order).limit(limit)
    ranked = query.subquery()
    fields = [ranked.c[column.key] for column in selected]
    return select(*fields).where(ranked.c.page_rank <= limit).order_by(ranked.c.page_rank)


def _after_names(count: int) -> list[str]:
    """The bound parameters of a cursor's sort values, by position."""
    return [f"after_{position}" for position in range(count)]


def _after_bound(model: type[SQLModel], ordering: Ordering) -> Any:
    """Rows after a cursor's position, its values bound as `_after_names` parameters."""
    columns = [table_column(model, key) for key in ordering.sort_keys()]
    names = _after_names(len(columns))
    values = [bindparam(name, type_=c.type) for name, c in zip(names, columns, strict=True)]
    if ordering.descending:
        return tuple_(*columns) < tuple_(*values)
    return tuple_(*columns) > tuple_(*values)


class ChildCountLoader(BaseLoader[tuple[int, ListFilter | None], int]):
    """`totalCount` of a child list: one grouped COUNT per batch, only when it is asked for."""

    def __init__(self, db: Any, pages: type[ChildPageLoader[Any]]) -> None:
        super().__init__(db)
        self.pages = pages

    async def load_batch(
        self, connection: RowReader, keys: list[tuple[int, ListFilter | None]]
    ) -> list[int]:
        counts: dict[tuple[int, ListFilter | None], int] = {}
        by_filters: dict[ListFilter | None, list[int]] = {}
        for parent_id, filters in keys:
            by_filters.setdefault(filters, []).append(parent_id)
        for filters, parent_ids in by_filters.items():
            statement = count_statement(self.pages.model, self.pages.parent, filters)
            for parent_id, count in await connection.execute(statement, {KEYS: parent_ids}):
                counts[(parent_id, filters)] = count
        return [counts.get(key, 0) for key in keys]


@lru_cache(maxsize=256)
def count_statement(
    model: type[SQLModel], parent_name: str, filters: ListFilter | None
) -> Select[Any]:
    """The grouped COUNT of a list for these filters, once; the parent ids are bound."""
    parent = table_column(model, parent_name)
    query = select(parent, func.count()).where(KeysIn(parent)).group_by(parent)
    return ChildPageLoader.filtered(query, filters)
