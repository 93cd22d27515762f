"""Loaders of users and memberships."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, select

from loaders.base import BaseLoader, BuiltOnce, ByIdLoader, ManyByKeyLoader, RowReader, table_column
from loaders.statements import KEYS, KeysIn
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

    @classmethod
    def build(cls) -> Select[Any]:
        return super().build().where(table_column(Membership, "is_main").is_(False))


class ApiTokensByUserIdLoader(ManyByKeyLoader[AuthToken]):
    model = AuthToken
    key = "user_id"
    order_by = ("created_at", "id")

    @classmethod
    def build(cls) -> Select[Any]:
        return super().build().where(table_column(AuthToken, "kind") == TokenKind.API)


class RecentEventsByKeyLoader(BuiltOnce, BaseLoader[tuple[str, datetime], int]):
    """How many throttled attempts each key had since a moment: one grouped COUNT."""

    @classmethod
    def build(cls) -> Select[Any]:
        key, created_at = table_column(AuthEvent, "key"), table_column(AuthEvent, "created_at")
        since = bindparam("since", type_=created_at.type)
        return select(key, created_at).where(KeysIn(key), created_at > since)

    async def load_batch(
        self, connection: RowReader, keys: list[tuple[str, datetime]]
    ) -> list[int]:
        since = min(moment for _, moment in keys)
        values = {KEYS: sorted({key for key, _ in keys}), "since": since}
        events = list(await connection.execute(self.statement(), values))
        return [sum(1 for k, at in events if k == key and at > moment) for key, moment in keys]


class MembershipsByClientIdLoader(ManyByKeyLoader[Membership]):
    """A company's people, main account and subaccounts alike (the client 360)."""

    model = Membership
    key = "client_id"
    order_by = ("created_at", "id")


class OpenSessionsByUserIdLoader(ManyByKeyLoader[AuthToken]):
    """Sessions and support views not signed out; the expired ones are dropped by the reader,
    who knows the request's moment (this statement is built once)."""

    model = AuthToken
    key = "user_id"
    order_by = ("created_at", "id")

    @classmethod
    def build(cls) -> Select[Any]:
        kind, revoked_at = table_column(AuthToken, "kind"), table_column(AuthToken, "revoked_at")
        return (
            super()
            .build()
            .where(kind.in_([TokenKind.SESSION, TokenKind.SUPPORT]), revoked_at.is_(None))
        )
