"""Loader batches on PostgreSQL's raw read path (hub/raw_reads.py) fail as SQLAlchemy's did: a
connection the server closed is replaced and the batch read again, once; a full pool answers
the coded SERVICE_UNAVAILABLE; a batch cancelled mid-statement closes its connection. And
their statements are counted and echoed like every other."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from sqlalchemy import Select, event, exc, func, select, text

from auth.errors import ServiceUnavailableError
from hub.db import Database
from loaders.base import BaseLoader, Loaders
from loaders.client import ClientByIdLoader
from tests.conftest import Hub, count_statements

GUARD_SECONDS = 60  # far above every wait here: a hang fails, slowness does not
KILL_ITSELF: Select[Any] = select(func.pg_terminate_backend(func.pg_backend_pid()))


# The raw read path is PostgreSQL's (asyncpg): collected for PostgreSQL only, never skipped.
pytestmark = pytest.mark.parametrize("backend", ["postgresql"], scope="session")


@pytest.fixture
def pg_url(hub: Hub) -> str:
    assert hub.db.read_engine.dialect.driver == "asyncpg"
    return hub.db.read_engine.url.render_as_string(hide_password=False)


@pytest.fixture
async def small(pg_url: str) -> AsyncIterator[Database]:
    """A database handle of its own: a read pool of two connections, a 0.2 s wait for one."""
    db = Database.from_url(pg_url, pool_size=1, pool_timeout=0.2)
    yield db
    await db.dispose()


async def _a_client_id(db: Database) -> int:
    async with db.read() as session:
        return int((await session.execute(text("SELECT min(id) FROM clients"))).scalar_one())


async def _read_pool_pids(db: Database) -> set[int]:
    """The server processes behind every connection of the read pool (it holds two)."""
    async with AsyncExitStack() as held:
        pids = set()
        for _ in range(2):
            # Through the hub's own bare connection, which first gives back the connections
            # the raw path keeps idle (hub/raw_reads.py), so both of the pool's are seen.
            connection = await held.enter_async_context(db.read_connection())
            pids.add(
                int((await connection.exec_driver_sql("SELECT pg_backend_pid()")).scalar_one())
            )
        return pids


async def _terminate(db: Database, pids: set[int]) -> None:
    """The server ends those connections (as a restart does), waiting until they are gone."""
    async with db.engine.connect() as admin:
        for pid in pids:
            ended = text("SELECT pg_terminate_backend(:pid, 5000)")
            assert (await admin.execute(ended, {"pid": pid})).scalar_one()


class _KillsItsConnection(BaseLoader[int, int]):
    """Each batch's statement ends its own server process, as a restart under it would."""

    async def load_batch(self, connection: Any, keys: list[int]) -> list[int]:
        await connection.execute(KILL_ITSELF, {})
        return keys


class _FirstTryKilled(BaseLoader[int, Any]):
    """The first try's connection dies under it; the second reads a client."""

    tries = 0

    async def load_batch(self, connection: Any, keys: list[int]) -> list[Any]:
        type(self).tries += 1
        if type(self).tries == 1:
            await connection.execute(KILL_ITSELF, {})
        return await ClientByIdLoader(self.db).load_batch(connection, keys)


async def test_a_batch_on_connections_the_server_closed_is_read_again_on_a_fresh_one(
    small: Database,
) -> None:
    client_id = await _a_client_id(small)
    expected = await Loaders(small)[ClientByIdLoader].load(client_id)
    dead = await _read_pool_pids(small)
    async with asyncio.timeout(GUARD_SECONDS):
        await _terminate(small, dead)
        with count_statements(small) as statements:
            row = await Loaders(small)[ClientByIdLoader].load(client_id)
    assert row == expected
    assert len(statements) == 2  # read, found cut, read again: the client never saw it
    # Both pooled connections were dead; the first one's fault replaced the other too.
    assert (await _read_pool_pids(small)).isdisjoint(dead)


async def test_a_batch_cut_under_its_statement_is_read_again_once(small: Database) -> None:
    client_id = await _a_client_id(small)
    _FirstTryKilled.tries = 0
    async with asyncio.timeout(GUARD_SECONDS):
        row = await Loaders(small)[_FirstTryKilled].load(client_id)
    assert row is not None and row.id == client_id
    assert _FirstTryKilled.tries == 2


async def test_a_batch_cut_on_both_tries_answers_service_unavailable(small: Database) -> None:
    async with asyncio.timeout(GUARD_SECONDS):
        with (
            count_statements(small) as statements,
            pytest.raises(ServiceUnavailableError) as caught,
        ):
            await Loaders(small)[_KillsItsConnection].load(1)
    assert caught.value.code == "SERVICE_UNAVAILABLE"
    assert isinstance(caught.value.__cause__, exc.DBAPIError)
    assert caught.value.__cause__.connection_invalidated
    assert len(statements) == 2  # once more, and no more


async def test_a_batch_that_waits_past_the_pool_timeout_answers_service_unavailable(
    small: Database,
) -> None:
    """The raw path checks its connections out of the read engine's own pool: held by
    SQLAlchemy connections, it has none to give."""
    client_id = await _a_client_id(small)
    async with asyncio.timeout(GUARD_SECONDS):
        async with AsyncExitStack() as held:
            for _ in range(2):
                await held.enter_async_context(small.read_engine.connect())
            with pytest.raises(ServiceUnavailableError) as caught:
                await Loaders(small)[ClientByIdLoader].load(client_id)
        assert await Loaders(small)[ClientByIdLoader].load(client_id) is not None
    assert caught.value.code == "SERVICE_UNAVAILABLE"
    assert isinstance(caught.value.__cause__, exc.TimeoutError)


async def test_a_batch_cancelled_mid_statement_closes_its_connection(small: Database) -> None:
    """Its connection may still be answering the cancelled statement: it is not pooled again."""
    client_id = await _a_client_id(small)
    invalidated: list[Any] = []

    def record(_dbapi_connection: Any, _record: Any, error: Any) -> None:
        invalidated.append(error)

    async def sleep(reader: Any) -> Any:
        return await reader.execute(select(func.pg_sleep(2)), {})

    engine = small.read_engine.sync_engine
    event.listen(engine, "invalidate", record)
    try:
        async with asyncio.timeout(GUARD_SECONDS):
            batch = asyncio.create_task(small.reading_batch(sleep))
            await asyncio.sleep(0.3)
            batch.cancel()
            with pytest.raises(asyncio.CancelledError):
                await batch
            for _ in range(3):  # the pool still serves, on new or untouched connections
                assert await Loaders(small)[ClientByIdLoader].load(client_id) is not None
    finally:
        event.remove(engine, "invalidate", record)
    assert len(invalidated) == 1 and isinstance(invalidated[0], asyncio.CancelledError)


async def test_a_batch_sent_straight_to_asyncpg_is_counted_and_echoed(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    db = Database.from_url(pg_url, echo=True)
    try:
        client_id = await _a_client_id(db)
        sql = str(ClientByIdLoader.statement().compile(dialect=db.read_engine.dialect))
        caplog.clear()
        with (
            count_statements(db) as statements,
            caplog.at_level(logging.INFO, logger="sqlalchemy.engine.Engine"),
        ):
            await Loaders(db)[ClientByIdLoader].load_many([client_id, client_id + 1])
    finally:
        await db.dispose()
    assert statements == [sql]
    logged = [record.getMessage() for record in caplog.records]
    assert sql in logged
    assert "parameters hidden" in logged[logged.index(sql) + 1]
    assert str(client_id) not in logged[logged.index(sql) + 1]


async def test_consecutive_batches_reuse_an_idle_connection_without_the_pool(
    small: Database,
) -> None:
    client_id = await _a_client_id(small)
    checkouts: list[object] = []

    def checked_out(*_args: object) -> None:
        checkouts.append(_args)

    pool = small.read_engine.sync_engine.pool
    event.listen(pool, "checkout", checked_out)
    try:
        for _ in range(5):
            assert await Loaders(small)[ClientByIdLoader].load(client_id) is not None
    finally:
        event.remove(pool, "checkout", checked_out)
    assert len(checkouts) <= 1  # the first batch's connection served the four after it


async def test_an_idle_connection_never_keeps_a_waiting_reader_from_the_pool(
    small: Database,
) -> None:
    """The read pool holds two: with one busy elsewhere and one kept idle, twenty parallel
    batches and a session read all get a connection within the pool's 0.2 s wait."""
    client_id = await _a_client_id(small)
    await Loaders(small)[ClientByIdLoader].load(client_id)  # leaves one connection idle
    async with asyncio.timeout(GUARD_SECONDS):
        rows = await asyncio.gather(
            *(Loaders(small)[ClientByIdLoader].load(client_id) for _ in range(20)),
            _a_client_id(small),
        )
    assert all(row is not None for row in rows)
