"""A centre's row lock and its load: the one rule orders, edits, bookings and the tyre desk share.

The load is what the centre holds and what is on its way to it: tyres stored there now plus
those of relocations to it that are open or dispatched. An order or an edit may not take it
past the centre's maximum, and the desk may not lower the maximum below it; both count it
with the centre's row locked, so neither passes the other.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.tyre import INBOUND_RELOCATION, TyreDeposit, TyreRelocation, TyreServiceCentre


async def lock_centre(
    session: AsyncSession, centre_id: int, *, shared: bool = False
) -> TyreServiceCentre | None:
    """The centre, its row locked until the transaction ends on PostgreSQL (SQLite's write
    transaction is serial anyway); `shared`: lockers that need not wait for each other."""
    query = select(TyreServiceCentre).where(col(TyreServiceCentre.id) == centre_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(read=shared)
    return (await session.execute(query)).scalars().first()


async def centre_load(session: AsyncSession, centre_id: int, *, leaving: Sequence[int] = ()) -> int:
    """Tyres stored at the centre and on their way to it, but for the relocations in
    `leaving` (those being edited: their tyres are counted where the edit sends them)."""
    stored = select(func.coalesce(func.sum(col(TyreDeposit.tyre_count)), 0)).where(
        col(TyreDeposit.centre_id) == centre_id, col(TyreDeposit.released_on).is_(None)
    )
    coming = select(func.coalesce(func.sum(col(TyreRelocation.tyre_count)), 0)).where(
        col(TyreRelocation.to_centre_id) == centre_id,
        col(TyreRelocation.status).in_(INBOUND_RELOCATION),
        col(TyreRelocation.id).not_in(list(leaving) or [-1]),
    )
    row = (await session.execute(select(stored.scalar_subquery(), coming.scalar_subquery()))).one()
    return int(row[0]) + int(row[1])
