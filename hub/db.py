"""Engines and sessions.

Two views of one database: `read` connections run in autocommit, so a loader batch costs one
SELECT and no BEGIN/ROLLBACK pair; `write()` opens one unit-of-work session that commits once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Insert, event, exc, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.util import await_only

from auth.errors import ServiceUnavailableError
from hub.events import ChangeFeed
from hub.raw_reads import RawReads, StatementListener, has_unavailable_state
from hub.settings import Settings
from hub.shared_reads import SharedReads
from models.audit import current_frame, record_writes
from models.search import register_sqlite_fold

if TYPE_CHECKING:
    from loaders.base import RowReader

T = TypeVar("T")
C = TypeVar("C")
RECONNECT_EVERY = 0.1  # seconds between tries to reach a PostgreSQL that refused
# Prepared statements kept per PostgreSQL connection (SQLAlchemy's default: 100). Every loader,
# filter combination, authentication step and write is a statement of its own; with room for
# them all, a mixed load does not keep evicting and preparing them again.
PREPARED_STATEMENTS = 500


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
    register_sqlite_fold(dbapi_connection)


def _no_driver_transactions(dbapi_connection: Any, _record: Any) -> None:
    """Switch off pysqlite's own BEGIN: it is deferred and sent late; `_begin_immediate` rules."""
    dbapi_connection.isolation_level = None


def _begin_immediate(connection: Any) -> None:
    """A write transaction takes SQLite's write lock at BEGIN, waiting up to busy_timeout.

    pysqlite's own BEGIN came only before the first INSERT/UPDATE, so what a unit of work read
    before it was not isolated (a check-then-write could be overtaken: lost updates, caps
    outrun), and a deferred transaction that has to upgrade its read lock fails at once with
    "database is locked" instead of waiting. Holding the lock from the first read avoids both.
    """
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    echo: bool = False,
    autocommit: bool = False,
    pool_timeout: float = 30.0,
    max_overflow: int | None = None,
    pre_ping: bool = True,
) -> AsyncEngine:
    # A request waits `pool_timeout` at most for a connection, then gets SERVICE_UNAVAILABLE.
    options: dict[str, Any] = {"echo": echo, "pool_timeout": pool_timeout}
    # Overflow connections are closed when given back; sized like the pool by default.
    options["max_overflow"] = pool_size if max_overflow is None else max_overflow
    # Errors (and echo) never print bound values: they hold token hashes and personal data.
    # aiosqlite's DEBUG lines would print each statement's values all the same.
    options["hide_parameters"] = True
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    if autocommit:
        options["isolation_level"] = "AUTOCOMMIT"
    if url.startswith("sqlite"):
        # Sized like PostgreSQL's, so LEASEHUB_DB_POOL_SIZE means the same on both.
        engine = create_async_engine(url, pool_size=pool_size, **options)
        event.listen(engine.sync_engine, "connect", _enable_sqlite_foreign_keys)
        if not autocommit:
            event.listen(engine.sync_engine, "connect", _no_driver_transactions)
            event.listen(engine.sync_engine, "begin", _begin_immediate)
        return engine
    # Pre-ping: a pooled connection that died with a server restart is replaced before use
    # (not on the read pool: its reads run again instead, see `Database.reading`).
    # JIT off: the hub sends short statements whose estimated cost can pass jit_above_cost (a
    # correlated subquery per invoice), and compiling them took 0.5 s of a 20 ms query.
    # Prepared statements: SQLAlchemy's asyncpg driver prepares every statement and keeps
    # `PREPARED_STATEMENTS` of them per connection, so a statement seen before skips the parse
    # round trip. Loaders send their keys as one array (loaders/statements.py): one text per
    # statement, whatever the batch size. Loader statements skip SQLAlchemy on PostgreSQL
    # (hub/raw_reads.py) and are prepared by asyncpg's own statement cache: as roomy, and
    # without its default 300 s lifetime, after which every entry would be prepared again.
    connect_args = {
        "server_settings": {"jit": "off"},
        "prepared_statement_cache_size": PREPARED_STATEMENTS,
        "statement_cache_size": PREPARED_STATEMENTS,
        "max_cached_statement_lifetime": 0,
    }
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        pool_pre_ping=pre_ping,
        connect_args=connect_args,
        **options,
    )
    event.listen(engine.sync_engine, "do_connect", _patient_connect(pool_timeout))
    return engine


def _ping(connection: Any) -> None:
    """The pool's pre-ping on a checked-out connection: the driver's own ping (no statement
    for listeners to see); a dead connection is invalidated and raised as a lost one."""
    dialect, dbapi_connection = connection.dialect, connection.connection.dbapi_connection
    try:
        dialect.do_ping(dbapi_connection)
    except Exception as error:
        if not dialect.is_disconnect(error, dbapi_connection, None):
            raise
        # As SQLAlchemy does on a disconnect: every connection of the pool made before now
        # is replaced at its next checkout (a restart killed them all), this one at once.
        connection.engine.pool._invalidate(connection.connection, error)
        raise exc.DBAPIError(None, None, error, connection_invalidated=True) from error


def _patient_connect(patience: float) -> Callable[..., Any]:
    """A new connection that is refused (the server restarting) is tried again for up to
    `patience` seconds: requests that arrive during a restart wait instead of failing."""

    def connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        deadline = time.monotonic() + patience
        while True:
            try:
                return dialect.connect(*cargs, **cparams)
            except Exception as error:
                if not is_unavailable(error) or time.monotonic() >= deadline:
                    raise
            await_only(asyncio.sleep(RECONNECT_EVERY))  # we run in SQLAlchemy's greenlet

    return connect


def _health_engine(url: str) -> AsyncEngine:
    """A fresh connection per probe, outside the request pools, so an exhausted pool never
    delays `/health`."""
    if url.startswith("sqlite"):
        return create_async_engine(url, poolclass=NullPool)
    return create_async_engine(url, poolclass=NullPool, connect_args={"timeout": 2})


def is_unavailable(error: BaseException) -> bool:
    """A database fault a retry may cure: pool exhausted, connection refused or lost."""
    if isinstance(error, exc.TimeoutError | OSError):  # OSError: asyncpg's refused connect
        return True
    cause: BaseException | None = error
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated:
            return True
        if "database is locked" in str(error.orig):
            return True  # SQLite's busy timeout ran out behind a long queue of writers
        cause = error.orig
    # asyncpg raises "the database system is starting up" on connect unwrapped, and the raw
    # read path (hub/raw_reads.py) checks its connections out of the pool unwrapped.
    return has_unavailable_state(cause)


def is_lost_connection(error: BaseException | None) -> bool:
    """The connection died under a statement (not a full pool, not a refused connect)."""
    if isinstance(error, exc.DBAPIError):
        return error.connection_invalidated or has_unavailable_state(error.orig)
    # A driver's own error (the raw read path): a shutdown or connection SQLSTATE.
    return has_unavailable_state(error)


@contextmanager
def unavailable_on_fault() -> Iterator[None]:
    """Turns a database fault into the coded SERVICE_UNAVAILABLE a client may retry on,
    instead of "Unexpected error."."""
    try:
        yield
    except Exception as error:
        if is_unavailable(error):
            raise ServiceUnavailableError() from error
        raise


async def _twice(
    opening: Callable[[], AbstractAsyncContextManager[C]], work: Callable[[C], Awaitable[T]]
) -> T:
    """`work` on what `opening` opens, and once more when the connection was cut under it."""
    try:
        async with opening() as opened:
            return await work(opened)
    except ServiceUnavailableError as error:
        if not is_lost_connection(error.__cause__):
            raise
    async with opening() as opened:
        return await work(opened)


@dataclass(slots=True)
class Database:
    """The process-wide engine pair; sessions are short and never shared between tasks."""

    engine: AsyncEngine
    read_engine: AsyncEngine
    health_engine: AsyncEngine | None = None
    # Called with the SQL of each statement the raw read path sends (hub/raw_reads.py), which
    # `before_cursor_execute` listeners of the engines never see. Empty, it costs nothing.
    statement_listeners: list[StatementListener] = field(default_factory=list)
    _raw: RawReads | None = field(default=None, init=False, repr=False)
    # What writes changed, for live subscriptions (hub/events.py).
    changes: ChangeFeed = field(init=False, repr=False)
    # Reads by primary key that requests arriving together share (hub/shared_reads.py).
    shared: SharedReads = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.changes = ChangeFeed(self.engine)
        self.shared = SharedReads(self.reading_batch)
        if self.read_engine.dialect.driver == "asyncpg":
            self._raw = RawReads(self.read_engine, self.statement_listeners)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls.from_url(
            settings.database_url,
            pool_size=settings.db_pool_size,
            echo=settings.sql_echo,
            pool_timeout=settings.db_pool_timeout_seconds,
        )

    @classmethod
    def from_url(
        cls, url: str, *, pool_size: int = 10, echo: bool = False, pool_timeout: float = 30.0
    ) -> Database:
        # A pool of its own for reads: switching one pool's connections in and out of
        # autocommit costs a reset on every check-in, which showed in the benchmark. And with
        # no overflow: a dashboard runs eight batches at once, so under load the overflow
        # connections were opened and closed all the time, and a new PostgreSQL backend costs
        # more CPU than the reads it serves (17 ms a dashboard, against 3 with a fixed pool of
        # the same largest size). Requests wait for a connection instead, as briefly.
        options: dict[str, Any] = {"echo": echo, "pool_timeout": pool_timeout}
        return cls(
            engine=make_engine(url, pool_size=pool_size, **options),
            # No pre-ping on reads: a ping is a round trip for every batch (half of a small
            # query's). A read that finds its connection dead runs again on a fresh one
            # (`reading`); `read`'s callers, who cannot be run again, ping first.
            read_engine=make_engine(
                url,
                pool_size=2 * pool_size,
                max_overflow=0,
                autocommit=True,
                pre_ping=False,
                **options,
            ),
            health_engine=_health_engine(url),
        )

    async def ping(self, seconds: float) -> bool:
        """Whether the database answers within `seconds`, on a connection of its own."""
        engine = self.health_engine or self.read_engine
        try:
            async with asyncio.timeout(seconds), engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:  # whatever went wrong, the answer is "not now"
            return False
        return True

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read session whose connection answered a ping: for reads that cannot be run
        again when a restart cut their connection (see `reading` for those that can)."""
        with unavailable_on_fault():
            async with await self._live_read_session() as session:
                yield session

    def _release_idle_reads(self) -> None:
        """The raw path's idle connections back to the read pool, before a session or a bare
        connection checks one out of it (hub/raw_reads.py `RawReads.take`)."""
        if self._raw is not None:
            self._raw.release_idle()

    async def _live_read_session(self) -> AsyncSession:
        """What pre-ping does, for `read` only: a dead connection is replaced, once."""
        self._release_idle_reads()
        for attempt in (1, 2):
            session = AsyncSession(self.read_engine, expire_on_commit=False)
            try:
                if self.read_engine.dialect.name != "sqlite":  # a file: nothing to lose
                    await (await session.connection()).run_sync(_ping)
            except exc.DBAPIError as error:
                await session.close()
                if attempt == 2 or not is_lost_connection(error):
                    raise
                continue
            except BaseException:
                await session.close()
                raise
            return session
        raise AssertionError("unreachable")  # pragma: no cover

    @asynccontextmanager
    async def _read_session(self) -> AsyncIterator[AsyncSession]:
        self._release_idle_reads()
        with unavailable_on_fault():
            async with AsyncSession(self.read_engine, expire_on_commit=False) as session:
                yield session

    @asynccontextmanager
    async def read_connection(self) -> AsyncIterator[AsyncConnection]:
        """A bare read connection for Core statements: no session to set up and close."""
        self._release_idle_reads()
        with unavailable_on_fault():
            async with self.read_engine.connect() as connection:
                yield connection

    async def reading(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Runs a read, and once more on a fresh connection when the first was cut (a server
        restart): a read changes nothing, so the client never sees the cut. A full pool is
        not retried; its wait has been spent already."""
        return await _twice(self._read_session, work)

    async def reading_rows(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """`reading` on a bare connection, for Core statements."""
        return await _twice(self.read_connection, work)

    async def reading_batch(self, work: Callable[[RowReader], Awaitable[T]]) -> T:
        """`reading_rows` for a loader batch: on PostgreSQL its statements go straight to
        asyncpg (hub/raw_reads.py), elsewhere through a bare SQLAlchemy connection."""
        if self._raw is None:
            return await _twice(self.read_connection, work)
        return await _twice(self._raw_reader, work)

    @asynccontextmanager
    async def _raw_reader(self) -> AsyncIterator[RowReader]:
        assert self._raw is not None
        with unavailable_on_fault():
            async with self._raw.open() as reader:
                yield reader

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits once at the end, rolls everything back on any error."""
        with unavailable_on_fault():
            async with AsyncSession(self.engine, expire_on_commit=False) as session:
                # Whoever writes (a request's mutation, a job), it is recorded in the same
                # transaction (models/audit.py).
                record_writes(session.sync_session, current_frame())
                try:
                    yield session
                    await session.commit()
                except BaseException:
                    await session.rollback()
                    raise
                self.changes.committed(session)

    async def append(self, statement: Insert, rows: Sequence[Mapping[str, Any]]) -> None:
        """Rows added to a log that nothing updates (the access log), as one statement: on
        PostgreSQL autocommitted on the read pool, one round trip with no BEGIN or COMMIT and
        no ORM session; the statement is compiled once for any number of rows."""
        engine = self.read_engine if self._raw is not None else self.engine
        with unavailable_on_fault():
            async with engine.begin() as connection:
                await connection.execute(statement, list(rows))

    async def dispose(self) -> None:
        self._release_idle_reads()
        await self.changes.close()
        await self.engine.dispose()
        await self.read_engine.dispose()
        if self.health_engine is not None:
            await self.health_engine.dispose()
