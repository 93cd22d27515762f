"""Loaders of users and memberships."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from loaders.base import BaseLoader, ByIdLoader, ManyByKeyLoader
from models.identity import AuthEvent, AuthToken, Membership, TokenKind, User


class UserByIdLoader(ByIdLoader[User]):
    model = User


class MembershipByIdLoader(ByIdLoader[Membership]):
    model = Membership


class AuthTokenByIdLoader(ByIdLoader[AuthToken]):
    model = AuthToken


class MembershipsByUserIdLoader(ManyByKeyLoader[Membership]):
    model = Membership
    key = "user_id"
    order_by = ("client_id",)


class SubaccountsByClientIdLoader(ManyByKeyLoader[Membership]):
    model = Membership
    key = "client_id"
    order_by = ("created_at", "id")

    def query(self, keys: list[int]) -> Select:  # type: ignore[type-arg]
        return super().query(keys).where(Membership.is_main.is_(False))  # type: ignore[attr-defined]


class ApiTokensByUserIdLoader(ManyByKeyLoader[AuthToken]):
    model = AuthToken
    key = "user_id"
    order_by = ("created_at", "id")

    def query(self, keys: list[int]) -> Select:  # type: ignore[type-arg]
        return super().query(keys).where(AuthToken.kind == TokenKind.API)


class RecentEventsByKeyLoader(BaseLoader[tuple[str, datetime], int]):
    """How many throttled attempts each key had since a moment: one grouped COUNT."""

    async def load_batch(
        self, session: AsyncSession, keys: list[tuple[str, datetime]]
    ) -> list[int]:
        since = min(moment for _, moment in keys)
        query = (
            select(AuthEvent.key, AuthEvent.created_at).where(
                AuthEvent.key.in_({key for key, _ in keys}), AuthEvent.created_at > since
            )  # type: ignore[attr-defined]
        )
        events = (await session.execute(query)).all()
        return [sum(1 for k, at in events if k == key and at > moment) for key, moment in keys]
