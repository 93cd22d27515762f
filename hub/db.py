"""Engines and sessions.

Two views of one database: `read` connections run in autocommit, so a loader batch costs one
SELECT and no BEGIN/ROLLBACK pair; `write()` opens one unit-of-work session that commits once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from hub.settings import Settings


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(
    url: str, *, pool_size: int = 10, echo: bool = False, autocommit: bool = False
) -> AsyncEngine:
    options: dict[str, Any] = {"echo": echo}
    if autocommit:
        options["isolation_level"] = "AUTOCOMMIT"
    if url.startswith("sqlite"):
        engine = create_async_engine(url, **options)
        event.listen(engine.sync_engine, "connect", _enable_sqlite_foreign_keys)
        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, **options)


@dataclass(slots=True)
class Database:
    """The process-wide engine pair; sessions are short and never shared between tasks."""

    engine: AsyncEngine
    read_engine: AsyncEngine

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls.from_url(
            settings.database_url, pool_size=settings.db_pool_size, echo=settings.sql_echo
        )

    @classmethod
    def from_url(cls, url: str, *, pool_size: int = 10, echo: bool = False) -> Database:
        # A pool of its own for reads: switching one pool's connections in and out of
        # autocommit costs a reset on every check-in, which showed in the benchmark.
        return cls(
            engine=make_engine(url, pool_size=pool_size, echo=echo),
            read_engine=make_engine(url, pool_size=pool_size, echo=echo, autocommit=True),
        )

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with AsyncSession(self.read_engine, expire_on_commit=False) as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits once at the end, rolls everything back on any error."""
        async with AsyncSession(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()
        await self.read_engine.dispose()
