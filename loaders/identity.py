"""Loaders of users and memberships."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

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

    def query(self, keys: list[int]) -> Select[Any]:
        return super().query(keys).where(col(Membership.is_main).is_(False))


class ApiTokensByUserIdLoader(ManyByKeyLoader[AuthToken]):
    model = AuthToken
    key = "user_id"
    order_by = ("created_at", "id")

    def query(self, keys: list[int]) -> Select[Any]:
        return super().query(keys).where(col(AuthToken.kind) == TokenKind.API)


class RecentEventsByKeyLoader(BaseLoader[tuple[str, datetime], int]):
    """How many throttled attempts each key had since a moment: one grouped COUNT."""

    async def load_batch(
        self, session: AsyncSession, keys: list[tuple[str, datetime]]
    ) -> list[int]:
        since = min(moment for _, moment in keys)
        query = select(col(AuthEvent.key), col(AuthEvent.created_at)).where(
            col(AuthEvent.key).in_({key for key, _ in keys}), col(AuthEvent.created_at) > since
        )
        events = (await session.execute(query)).all()
        return [sum(1 for k, at in events if k == key and at > moment) for key, moment in keys]
