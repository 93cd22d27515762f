"""Counting attempts per key in a sliding window, in the database so every worker sees them.

Keys never hold what an attacker typed: a login or an address is keyed-hashed first, so the
table cannot be used to learn which addresses were tried.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.codes import keyed_hash
from models.identity import AuthEvent


@dataclass(frozen=True, slots=True)
class Limit:
    attempts: int
    window: timedelta


def throttle_key(secret_key: str, kind: str, value: str) -> str:
    return f"{kind}:{keyed_hash(secret_key, value.strip().lower())[:32]}"


async def count_recent(session: AsyncSession, *, key: str, now: datetime, window: timedelta) -> int:
    query = select(func.count()).where(AuthEvent.key == key, AuthEvent.created_at > now - window)
    return int((await session.execute(query)).scalar_one())


async def is_over(session: AsyncSession, *, key: str, now: datetime, limit: Limit) -> bool:
    return await count_recent(session, key=key, now=now, window=limit.window) >= limit.attempts


def record(session: AsyncSession, *, key: str, now: datetime) -> None:
    session.add(AuthEvent(key=key, created_at=now))


async def forget(session: AsyncSession, *, key: str) -> None:
    """A successful login clears the account's failures (never the IP's)."""
    await session.execute(delete(AuthEvent).where(AuthEvent.key == key))


async def prune(session: AsyncSession, *, older_than: datetime) -> int:
    result = await session.execute(delete(AuthEvent).where(AuthEvent.created_at < older_than))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
