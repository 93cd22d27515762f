"""PostgreSQL's fast read path: loader statements sent straight to asyncpg.

A loader batch is one SELECT. Through SQLAlchemy's async engine it cost 0.20 ms of CPU (a
Connection, a greenlet, an execution context, a CursorResult); asyncpg's own `fetch` of the
same prepared statement costs 0.05 ms, and a dashboard sends eight of them. What this path
keeps from SQLAlchemy, so that a row is value for value and type for type what the SQLAlchemy
path answers:

* The SQL. A statement is compiled once per read engine, by SQLAlchemy's asyncpg compiler
  (cached on the statement object: loaders build theirs once, loaders/base.py `BuiltOnce`, and
  page statements are kept by `lru_cache`): the very text, `$n` order and casts SQLAlchemy would
  send. Values fixed in the statement (an enum compared with, an `IN` list of a filter) are
  bound once; the batch's own parameters (`keys`, a day, a page size) every time.
* The values. Bind processors turn parameters into what asyncpg takes (an enum member into its
  string); each column's result processor, chosen by the column's type OID as SQLAlchemy
  chooses it, turns what asyncpg returns into what the model says (a string into its enum
  member, a timestamp into a UTC-aware one).
* The connections: the read engine's own pool, checked out raw, and a few kept idle between
  batches while the pool has others free (`RawReads.take`). Its size, timeout and
  connection settings (no JIT, JSON codecs, prepared statements) hold for both paths; a full
  pool raises its `TimeoutError`. A connection found dead is invalidated with every pooled
  connection older than it, as SQLAlchemy does on a disconnect, and the error is raised as a
  `DBAPIError` with `connection_invalidated` set, so `Database.reading_batch` reads once more.
  A read cancelled mid-statement (a client gone) closes its connection, as SQLAlchemy does.

Statements are prepared once per connection by asyncpg's own statement cache (sized in
hub/db.py `make_engine`). They reach `before_cursor_execute` listeners no more: statement
listeners (`Database.statement_listeners`) see them instead, and echo logs them through the
engine's logger (`sqlalchemy.engine.Engine`), with the parameters hidden as there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC
from types import TracebackType
from typing import Any, Final
from weakref import WeakKeyDictionary

from sqlalchemy import exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import ClauseElement, sqltypes

from models.base import UTCDateTime

StatementListener = Callable[[str], None]

# PostgreSQL SQLSTATE classes of a lost or refused connection: 08 connection exception,
# 57P admin shutdown / crash shutdown / cannot connect now.
UNAVAILABLE_STATES: Final = ("08", "57P")


def has_unavailable_state(error: BaseException | None) -> bool:
    """A driver error whose SQLSTATE says the connection is gone or cannot be had."""
    state = getattr(error, "sqlstate", None)
    return isinstance(state, str) and state.startswith(UNAVAILABLE_STATES)


class UnsupportedStatementError(TypeError):
    """A statement this path cannot send as one prepared text (see `PreparedRead`)."""


_PER_BATCH: Final = object()  # a parameter's slot that each batch fills
_HIDDEN = "[raw read] [SQL parameters hidden due to hide_parameters=True]"


class PreparedRead:
    """One statement compiled for asyncpg: its text, where each parameter goes, and how each
    column's values are converted (learnt from the first connection that prepares it)."""

    __slots__ = ("_convert", "_converted", "_dialect", "_slots", "_types", "sql")

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled: Any = statement.compile(dialect=dialect)
        binds = compiled.binds.values()
        if any(bind.callable is not None for bind in binds):
            raise UnsupportedStatementError("a parameter's value is computed at each execution")
        batch = {bind.key for bind in binds if bind.required}
        if any(bind.required and bind.expanding for bind in binds):
            # An expanding IN of the batch's values is a new text for each count of them:
            # loaders send their keys as one array instead (loaders/statements.py `KeysIn`).
            raise UnsupportedStatementError("an IN list of the batch's values")
        # The text as SQLAlchemy sends it: `IN` lists fixed in the statement rendered out.
        state = compiled.construct_expanded_state(dict.fromkeys(batch))
        processors = {**compiled._bind_processors, **state.processors}
        unescaped = {escaped: name for name, escaped in compiled.escaped_bind_names.items()}
        slots: list[tuple[str, Callable[[Any], Any] | None, Any]] = []
        for position in state.positiontup or ():
            name, process = unescaped.get(position, position), processors.get(position)
            if name in batch:
                slots.append((name, process, _PER_BATCH))
            else:  # bound in the statement itself: converted once
                value = state.parameters[position]
                slots.append((name, None, value if process is None else process(value)))
        self.sql: str = state.statement
        self._slots = tuple(slots)
        self._types = [column[3] for column in compiled._result_columns]
        self._dialect = dialect
        self._converted: tuple[tuple[int, Callable[[Any], Any]], ...] | None = None
        self._convert: Callable[[list[Any]], list[Any]] | None = None

    def arguments(self, parameters: Mapping[str, Any]) -> list[Any]:
        """The positional arguments of `$1…$n`: the batch's own values, the fixed ones."""
        arguments = []
        for name, process, value in self._slots:
            if value is _PER_BATCH:
                try:
                    value = parameters[name]
                except KeyError:
                    message = f"A value is required for bind parameter {name!r}"
                    raise exc.InvalidRequestError(message) from None
                if process is not None:
                    value = process(value)
            arguments.append(value)
        return arguments

    @property
    def learnt(self) -> bool:
        return self._converted is not None

    def learn(self, column_oids: Sequence[int]) -> None:
        """The result processor of each column, as SQLAlchemy picks it: by the column's type
        and the OID of what the server sends (a NUMERIC column and a float are not read alike)."""
        if len(column_oids) != len(self._types):
            raise UnsupportedStatementError("result columns differ from the statement's")
        pairs = list(zip(self._types, column_oids, strict=True))
        processors = [type_._cached_result_processor(self._dialect, oid) for type_, oid in pairs]
        self._converted = tuple(
            (index, process) for index, process in enumerate(processors) if process is not None
        )
        self._convert = _converter(pairs, processors, self._dialect) if self._converted else None

    def rows(self, records: list[Any]) -> list[Any]:
        """asyncpg's records, each column through its result processor (records as they came
        when no column has one: they unpack and index as tuples do)."""
        if self._convert is None:
            return records
        try:
            return self._convert(records)
        except Exception:  # noqa: S110 - an inlined conversion failed: the processors say why
            pass
        return self._processed(records)

    def _processed(self, records: list[Any]) -> list[Any]:
        converted = self._converted or ()
        rows = []
        for record in records:
            values = list(record)
            for index, process in converted:
                values[index] = process(values[index])
            rows.append(tuple(values))
        return rows


def _converter(
    pairs: Sequence[tuple[Any, int]],
    processors: Sequence[Callable[[Any], Any] | None],
    dialect: Dialect,
) -> Callable[[list[Any]], list[Any]]:
    """All of a statement's records converted by one generated comprehension: the usual
    conversions inline (an enum's lookup, a UTC timestamp), other processors called. A value
    the inline form cannot take raises, and `rows` converts the records again the slow way,
    which raises SQLAlchemy's own error or gives the same values."""
    names: dict[str, Any] = {"UTC": UTC}
    values = []
    for index, ((type_, oid), process) in enumerate(zip(pairs, processors, strict=True)):
        value = f"r[{index}]"
        if process is None:
            values.append(value)
        elif _plain_utc(type_, oid, dialect):
            values.append(
                f"(None if (v{index} := {value}) is None else v{index}.astimezone(UTC) "
                f"if v{index}.tzinfo is not None else v{index}.replace(tzinfo=UTC))"
            )
        elif (lookup := _plain_enum_lookup(type_, oid, dialect)) is not None:
            names[f"m{index}"] = lookup
            values.append(f"m{index}[{value}]")
        else:
            names[f"p{index}"] = process
            values.append(f"p{index}({value})")
    source = f"def convert(records):\n    return [({', '.join(values)},) for r in records]\n"
    exec(compile(source, "<raw rows>", "exec"), names)  # noqa: S102 - our own text, no input
    return names["convert"]


def _plain_utc(type_: Any, oid: int, dialect: Dialect) -> bool:
    """models.base.UTCDateTime over a driver value needing no processing of its own."""
    return isinstance(type_, UTCDateTime) and (
        type_.impl_instance.result_processor(dialect, oid) is None
    )


def _plain_enum_lookup(type_: Any, oid: int, dialect: Dialect) -> Mapping[Any, Any] | None:
    """A string-stored Enum's value → member table, when that lookup is all its processor does."""
    implementation = type_.dialect_impl(dialect)
    if type(implementation) is not sqltypes.Enum:
        return None
    if sqltypes.String.result_processor(implementation, dialect, oid) is not None:
        return None
    return implementation._object_lookup


IDLE_MAX: Final = 4  # connections kept idle between batches (see `RawReads.take`)


class RawReads:
    """The fast read path of one read engine (asyncpg only): what `RawReader`s share."""

    __slots__ = ("_idle", "_prepared", "dialect", "engine", "idle_max", "listeners")

    def __init__(
        self, engine: AsyncEngine, listeners: list[StatementListener], *, idle_max: int = IDLE_MAX
    ) -> None:
        if engine.dialect.driver != "asyncpg":
            raise ValueError(f"raw reads are asyncpg's, not {engine.dialect.driver}'s")
        self.engine = engine
        self.dialect = engine.dialect
        self.listeners = listeners  # the caller's list: listeners it adds later are heard
        # Keyed on the statement object, dropped with it (a page statement leaving its cache).
        self._prepared: WeakKeyDictionary[ClauseElement, PreparedRead] = WeakKeyDictionary()
        self._idle: list[PoolProxiedConnection] = []
        self.idle_max = idle_max

    # A checkout from SQLAlchemy's async pool runs in a greenlet and a check-in resets the
    # record: two-thirds of a small query's connection handling. A few connections a batch
    # gave back are kept checked out here, idle, for the next batch to take as they are. Only
    # while the pool has free connections too, so that nobody waiting on the pool is passed
    # over; a session on the read engine, a lost connection and `dispose` give them all back.

    async def take(self) -> PoolProxiedConnection:
        idle = self._idle
        while idle:
            fairy = idle.pop()
            if fairy.is_valid:
                return fairy
            fairy.close()
        return await self.engine.raw_connection()

    def give_back(self, fairy: PoolProxiedConnection) -> None:
        pool: Any = self.engine.sync_engine.pool
        keep = len(self._idle) < self.idle_max and pool.checkedout() < pool.size()
        if keep and fairy.is_valid:
            self._idle.append(fairy)
        else:
            fairy.close()

    def release_idle(self) -> None:
        """Every idle connection back to the pool."""
        idle, self._idle = self._idle, []
        for fairy in idle:
            fairy.close()

    def prepared(self, statement: ClauseElement) -> PreparedRead:
        read = self._prepared.get(statement)
        if read is None:
            read = self._prepared[statement] = PreparedRead(statement, self.dialect)
        return read

    def open(self) -> RawReader:
        """A read connection for one batch: `async with reads.open() as reader`."""
        return RawReader(self)


class RawReader:
    """A pooled read connection's asyncpg connection, with `execute` as loaders call it."""

    __slots__ = ("_driver", "_echo", "_fairy", "_reads")

    def __init__(self, reads: RawReads) -> None:
        self._reads = reads
        self._fairy: PoolProxiedConnection | None = None
        self._driver: Any = None
        self._echo = False

    async def __aenter__(self) -> RawReader:
        reads = self._reads
        self._fairy = fairy = await reads.take()
        self._driver = fairy.driver_connection
        self._echo = reads.engine.sync_engine.logger.isEnabledFor(logging.INFO)  # as a Connection
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        fairy, self._fairy, self._driver = self._fairy, None, None
        if fairy is not None:
            self._reads.give_back(fairy)  # no transaction to end, nothing to await

    async def execute(self, statement: ClauseElement, parameters: Mapping[str, Any]) -> list[Any]:
        """The statement's rows, as sequences of the values the SQLAlchemy path answers."""
        read = self._reads.prepared(statement)
        arguments = read.arguments(parameters)
        sql = read.sql
        for listener in self._reads.listeners:
            listener(sql)
        if self._echo:
            logger = self._reads.engine.sync_engine.logger
            logger.info(sql)
            logger.info(_HIDDEN)
        driver = self._driver
        try:
            if not read.learnt:
                attributes = (await driver.prepare(sql)).get_attributes()
                read.learn([attribute.type.oid for attribute in attributes])
            records = await driver.fetch(sql, *arguments)
        except Exception as error:
            if driver.is_closed() or has_unavailable_state(error):
                self._invalidate(error, pool=True)
                raise exc.DBAPIError(
                    sql, None, error, hide_parameters=True, connection_invalidated=True
                ) from error
            raise
        except BaseException as error:  # cancelled mid-statement: the connection is unsure
            self._invalidate(error, pool=False)
            raise
        return read.rows(records)

    def _invalidate(self, error: BaseException, *, pool: bool) -> None:
        """Closes this connection; with `pool`, also every pooled one made before it (a restart
        killed them all), to be replaced at its next checkout, as SQLAlchemy does."""
        fairy = self._fairy
        if fairy is None:
            return
        if pool:
            self._reads.release_idle()  # made before the loss too: replaced at their checkout
            self._reads.engine.sync_engine.pool._invalidate(fairy, error)
        else:
            fairy.invalidate(error)
