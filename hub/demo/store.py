"""Storing a batch: bulk INSERTs in foreign-key order in the driver's own positional form (COPY
on PostgreSQL), a larger SQLite page cache while a batch loads, the refusal to load into a
database that already has clients, and PostgreSQL's sequences moved past the ids the demo
assigned."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cache
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import SQLModel, col

from hub.demo.rows import Batch, Row
from hub.demo.spec import DemoDataExists
from models import Client

INSERT_CHUNK = 5000  # rows per executemany: bounds the parameter lists a driver holds at once
SQLITE_LOAD_CACHE = -64 * 1024  # PRAGMA cache_size while loading (negative: in KiB, so 64 MiB)
Converter = Callable[[Any], Any]


@asynccontextmanager
async def bulk_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One batch's transaction. On SQLite the page cache is enlarged while it runs: the batch
    inserts random keys (KSeF numbers, dates) into big indexes, and with the default 2 MB cache
    SQLite spends a quarter of the load re-reading their pages."""
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # The batch is COPied through asyncpg's own connection, past SQLAlchemy, which sends
            # BEGIN only before its first statement: this one sends it, so the batch commits or
            # fails whole. (A batch is one long transaction by design: no statement timeout.)
            await conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
        if conn.dialect.name != "sqlite":
            yield conn
            return
        previous = int((await conn.exec_driver_sql("PRAGMA cache_size")).scalar_one())
        await conn.exec_driver_sql(f"PRAGMA cache_size = {SQLITE_LOAD_CACHE}")
        try:
            yield conn
        finally:
            await conn.exec_driver_sql(f"PRAGMA cache_size = {previous}")


async def refuse_non_empty(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        found = await conn.execute(sa.select(col(Client.id)).limit(1))
        if found.first() is not None:
            raise DemoDataExists("the database already has clients; demo data needs an empty one")


@dataclass(frozen=True, slots=True)
class _PositionalInsert:
    """A table's INSERT in the driver's own positional form, with its columns' converters."""

    sql: str
    columns: tuple[str, ...]  # the statement's columns, in its order
    pick: Callable[[Row], tuple[Any, ...]]  # a row's values in the statement's order
    converters: tuple[tuple[int, Converter], ...]  # (position, converter) where one is needed

    def values(self, rows: list[Row]) -> list[tuple[Any, ...]]:
        converted = []
        for row in rows:
            values = list(self.pick(row))
            for position, convert in self.converters:
                values[position] = convert(values[position])
            converted.append(tuple(values))
        return converted


class InsertPlans:
    """Bulk INSERTs in foreign-key order, handing the driver ready-made tuples.

    `conn.execute(insert(table), rows)` converts every value of every row on its own; the demo
    repeats the same dates, timestamps and enum members hundreds of thousands of times, so
    converting each distinct one once (with the column types' own bind processors) cuts the
    time spent storing by about a third. Columns the rows leave out are left out of the INSERT
    (NULL or the server default); drivers with named parameters, and columns whose Python-side
    default SQLAlchemy would compute, take the plain path.

    On PostgreSQL the same tuples go through asyncpg's binary COPY, which stores them about twice
    as fast as a prepared INSERT executed per row (asyncpg's `executemany`).
    """

    _REPEATED = (sa.Date, sa.DateTime, sa.Enum)  # value kinds worth converting once

    def __init__(self, dialect: sa.Dialect) -> None:
        self._dialect = dialect
        self._plans: dict[tuple[str, ...], _PositionalInsert | None] = {}

    async def insert(self, conn: AsyncConnection, rows: Batch) -> Counter[str]:
        counts: Counter[str] = Counter()
        for table in SQLModel.metadata.sorted_tables:  # parents (and corrected invoices) first
            table_rows = rows.get(table.name, [])
            for start in range(0, len(table_rows), INSERT_CHUNK):
                await self._execute(conn, table, table_rows[start : start + INSERT_CHUNK])
            counts[table.name] = len(table_rows)
        return counts

    async def _execute(self, conn: AsyncConnection, table: sa.Table, rows: list[Row]) -> None:
        given = (table.name, *rows[0])  # every row of a table carries the same keys
        if given not in self._plans:
            self._plans[given] = self._plan(table, given[1:])
        plan = self._plans[given]
        if plan is None:
            await conn.execute(sa.insert(table), rows)
        elif self._dialect.driver == "asyncpg":
            driver = (await conn.get_raw_connection()).driver_connection
            if driver is None or not driver.is_in_transaction():  # see `bulk_transaction`
                raise RuntimeError("demo rows are copied only inside the batch's transaction")
            await driver.copy_records_to_table(
                table.name, records=plan.values(rows), columns=plan.columns
            )
        else:
            await conn.exec_driver_sql(plan.sql, plan.values(rows))

    def _plan(self, table: sa.Table, given: Sequence[str]) -> _PositionalInsert | None:
        compiled = sa.insert(table).compile(dialect=self._dialect, column_keys=list(given))
        keys = compiled.positiontup
        if not compiled.positional or not keys or not set(keys) <= set(given):
            return None
        converters = []
        for position, key in enumerate(keys):
            column_type = table.c[key].type
            # The dialect's own type: SQLite stores timestamps in SQLAlchemy's text format, and
            # keyset cursors compare them as text, so the demo must write exactly that format.
            convert = column_type.dialect_impl(self._dialect).bind_processor(self._dialect)
            if convert is None:
                continue
            if isinstance(getattr(column_type, "impl_instance", column_type), self._REPEATED):
                convert = cache(convert)  # bounded: dates span five years, enums are few
            converters.append((position, convert))
        columns = tuple(table.c[key].name for key in keys)
        return _PositionalInsert(str(compiled), columns, itemgetter(*keys), tuple(converters))


async def analyze(engine: AsyncEngine) -> None:
    """Planner statistics for what was just loaded: without them PostgreSQL guesses every table
    small or huge until autovacuum comes by, and the first minutes of a fresh demo run on bad
    plans. SQLite plans from its indexes and needs nothing."""
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.exec_driver_sql("ANALYZE")


async def reset_sequences(engine: AsyncEngine) -> None:
    """Ids were given explicitly, so PostgreSQL's sequences still stand at 1: move them past."""
    async with engine.begin() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if "id" not in table.c:
                continue
            last_id = sa.select(sa.func.max(table.c.id)).scalar_subquery()
            sequence = sa.func.pg_get_serial_sequence(table.name, "id")
            # setval(seq, 1, false) on an empty table: its next id is 1 rather than 2.
            await conn.execute(
                sa.select(
                    sa.func.setval(sequence, sa.func.coalesce(last_id, 1), last_id.is_not(None))
                )
            )
