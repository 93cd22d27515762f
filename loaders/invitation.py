"""The invitation behind each subaccount (a membership has at most one)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from loaders.base import BaseLoader
from models.identity import Invitation


class InvitationByMembershipIdLoader(BaseLoader[int, Invitation | None]):
    async def load_batch(self, session: AsyncSession, keys: list[int]) -> list[Invitation | None]:
        query = select(Invitation).where(col(Invitation.membership_id).in_(keys))
        by_membership = {row.membership_id: row for row in (await session.execute(query)).scalars()}
        return [by_membership.get(key) for key in keys]
