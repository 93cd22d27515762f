"""Change signals from writers to live subscriptions, across processes on PostgreSQL.

A write that changes what a subscription shows names the topics it changed (`order:12`,
`invoice:34`) with `announce` inside its transaction. On PostgreSQL that is a
`pg_notify` on one channel: delivered to every process listening, and only if the transaction
commits. On SQLite the topics wait in the session until `Database.write` has committed and are
then signalled in this process only (one process serves an SQLite file).

A subscriber watches topics and gets an `asyncio.Event` that is set when any of them changed;
it then reads the state again itself, so a signal carries nothing that could go stale, and a
missed or doubled signal costs at most one read. Each process holds one listening connection,
opened with the first watcher; if it is lost, every watcher is woken (to read again) and the next
watcher opens a new one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.types import Text

logger = logging.getLogger("leasehub.events")

CHANNEL = "leasehub_changes"
PENDING = "leasehub_topics"  # the session.info key of topics waiting for the commit (SQLite)
CONNECT_SECONDS = 10.0
PING_SECONDS = 30.0  # how often the listening connection is checked to still answer
PAYLOAD_BYTES = 7_000  # PostgreSQL refuses a notification payload of 8,000 bytes or more

_NOTIFY = select(func.pg_notify(CHANNEL, func.unnest(bindparam("payloads", type_=ARRAY(Text)))))


def payloads(topics: Iterable[str]) -> list[str]:
    """The topics, space-separated, in as few payloads under the limit as they fit."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for topic in sorted(set(topics)):
        if current and size + len(topic) + 1 > PAYLOAD_BYTES:
            chunks.append(" ".join(current))
            current, size = [], 0
        current.append(topic)
        size += len(topic) + 1
    if current:
        chunks.append(" ".join(current))
    return chunks


async def announce(session: AsyncSession, topics: Iterable[str]) -> None:
    """Inside a write: these topics changed, signalled when (and if) it commits."""
    chunks = payloads(topics)
    if not chunks:
        return
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(_NOTIFY, {"payloads": chunks})
    else:
        session.info.setdefault(PENDING, []).extend(chunks)


class ChangeFeed:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"
        self._watchers: dict[str, set[asyncio.Event]] = {}
        self._listener: Any = None  # the asyncpg connection LISTENing, once opened
        self._checked = 0.0  # when it last answered (time.monotonic)
        self._closed = False
        self._opening = asyncio.Lock()

    # -- writers: `announce` below, then `committed` ----------------------------------------

    def committed(self, session: AsyncSession) -> None:
        """Called by `Database.write` after its commit: signals what waited (SQLite)."""
        for chunk in session.info.pop(PENDING, ()):
            self.signal(chunk.split())

    def signal(self, topics: Iterable[str]) -> None:
        for topic in topics:
            for event in self._watchers.get(topic, ()):
                event.set()

    # -- watchers ---------------------------------------------------------------------------

    @asynccontextmanager
    async def watching(self, topics: Iterable[str]) -> AsyncIterator[asyncio.Event]:
        """An event set whenever one of `topics` changed; listening before the caller's first
        read, so that no change between that read and the first wait is missed."""
        event = asyncio.Event()
        names = sorted(set(topics))
        for name in names:
            self._watchers.setdefault(name, set()).add(event)
        try:
            await self.listen()
            yield event
        finally:
            for name in names:
                watchers = self._watchers.get(name)
                if watchers is not None:
                    watchers.discard(event)
                    if not watchers:
                        del self._watchers[name]

    async def listen(self) -> None:
        """Opens this process's listening connection if it is not open (PostgreSQL), and every
        `PING_SECONDS` checks that it still answers: a connection dropped silently (a firewall's
        idle timeout) closes no socket, so asyncpg would never report it lost. Never raises: a
        watcher without signals still reads every `RECHECK_SECONDS`, and tries again then."""
        if not self._postgres or self._closed:
            return
        if self._listener is not None and time.monotonic() - self._checked < PING_SECONDS:
            return
        async with self._opening:
            try:
                await self._open_or_check()
            except Exception as error:  # a socket's, a timeout, asyncpg's (a restart, a login)
                logger.warning("listening for changes failed: %s", type(error).__name__)

    async def _open_or_check(self) -> None:
        if self._closed:
            return
        if self._listener is not None:
            if time.monotonic() - self._checked < PING_SECONDS:
                return  # checked by another watcher while this one waited for the lock
            try:
                await asyncio.wait_for(self._listener.fetchval("SELECT 1"), CONNECT_SECONDS)
            except Exception:
                self._drop()
                raise
            self._checked = time.monotonic()
            return
        connection = await self._connect()
        try:
            await connection.add_listener(CHANNEL, self._notified)
        except BaseException:
            await connection.close()
            raise
        connection.add_termination_listener(self._lost)
        self._listener, self._checked = connection, time.monotonic()
        self._wake_all()  # a change made while nobody listened is read now

    def _drop(self) -> None:
        """The listening connection stopped answering: forget it (asyncpg closes it) and let
        every watcher read again."""
        connection, self._listener = self._listener, None
        if connection is not None:
            connection.remove_termination_listener(self._lost)
            connection.terminate()
        self._wake_all()

    async def _connect(self) -> Any:
        """A connection of its own, outside the pools, with the engine's connect arguments."""
        import asyncpg

        dialect = self._engine.dialect
        args, options = dialect.create_connect_args(self._engine.url)
        for option in ("prepared_statement_cache_size", "prepared_statement_name_func"):
            options.pop(option, None)
        return await asyncio.wait_for(asyncpg.connect(*args, **options), CONNECT_SECONDS)

    def _notified(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        self.signal(payload.split())

    def _lost(self, _connection: Any) -> None:
        logger.warning("the connection listening for changes was lost; watchers read again")
        self._listener = None
        self._wake_all()

    def _wake_all(self) -> None:
        for watchers in self._watchers.values():
            for event in watchers:
                event.set()

    async def close(self) -> None:
        """Stops listening for good (the process is stopping): watchers are woken and read
        once more, and no connection is opened again."""
        self._closed = True
        connection, self._listener = self._listener, None
        if connection is not None:
            connection.remove_termination_listener(self._lost)
            await connection.close(timeout=CONNECT_SECONDS)
        self._wake_all()


def order_topic(order_id: int | None) -> str:
    """An online payment's status changed."""
    return f"order:{order_id}"


def invoice_topic(invoice_id: int | None) -> str:
    """Money was allocated to an invoice: its amount due changed."""
    return f"invoice:{invoice_id}"
