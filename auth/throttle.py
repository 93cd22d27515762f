"""Caps on attempts per key, enforced by the database so every worker and every request sees them.

Each key has one counter row for its current window. An attempt is counted *before* what it
tries is checked, by a single conditional UPDATE that only matches while the count is under the
cap: N parallel requests can never be let through more than the cap, whatever the interleaving
(on PostgreSQL the row lock orders them; on SQLite the write transaction does). The counter
transaction must be short: on PostgreSQL its row lock queues every other attempt on the key.

Keys never hold what an attacker typed: a login or an address is keyed-hashed first, so the
tables cannot be used to learn which addresses were tried. `auth_events` keeps the history of
failed logins that staff see; the counters decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import case, delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.codes import keyed_hash
from models.identity import AttemptCounter, AuthEvent

_counters: sa.Table = AttemptCounter.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Limit:
    attempts: int
    window: timedelta


def throttle_key(secret_key: str, kind: str, value: str) -> str:
    return f"{kind}:{keyed_hash(secret_key, value.strip().lower())[:32]}"


def _insert(session: AsyncSession) -> Any:
    """INSERT … ON CONFLICT DO NOTHING in the session's dialect (both spell it the same)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_counters)


async def take(session: AsyncSession, *, key: str, limit: Limit, now: datetime) -> bool:
    """Count one attempt under `key`; False (nothing counted) when the window is full.

    A window that has ended starts again with this attempt, in the same statement.
    """
    ends = now + limit.window
    await session.execute(
        _insert(session)
        .values(key=key, count=0, window_ends_at=ends)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    column = _counters.c
    ended = column.window_ends_at <= now
    result = await session.execute(
        update(_counters)
        .where(column.key == key, or_(column.count < limit.attempts, ended))
        .values(
            count=case((ended, 1), else_=column.count + 1),
            window_ends_at=case((ended, ends), else_=column.window_ends_at),
        )
    )
    return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]


async def give_back(session: AsyncSession, *, key: str) -> None:
    """Un-count an attempt that turned out not to be a failure (a right password)."""
    column = _counters.c
    await session.execute(
        update(_counters).where(column.key == key, column.count > 0).values(count=column.count - 1)
    )


async def claim(session: AsyncSession, *, key: str, until: datetime) -> bool:
    """Record `key` once: True for the first claim, False when it was claimed already.

    The unique key decides, so two parallel claims of one solved captcha cannot both win.
    """
    result = await session.execute(
        _insert(session)
        .values(key=key, count=1, window_ends_at=until)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]


def record(session: AsyncSession, *, key: str, now: datetime) -> None:
    """A failure in the history staff see (`recentFailedLogins`); the counters decide."""
    session.add(AuthEvent(key=key, created_at=now))


async def forget(session: AsyncSession, *, key: str) -> None:
    """A success (or staff's unlock) clears the key's failures and its counter."""
    await session.execute(delete(AuthEvent).where(col(AuthEvent.key) == key))
    await session.execute(delete(_counters).where(_counters.c.key == key))


async def prune(session: AsyncSession, *, older_than: datetime) -> int:
    events = await session.execute(delete(AuthEvent).where(col(AuthEvent.created_at) < older_than))
    counters = await session.execute(
        delete(_counters).where(_counters.c.window_ends_at < older_than)
    )
    return int(events.rowcount or 0) + int(counters.rowcount or 0)  # type: ignore[attr-defined]
