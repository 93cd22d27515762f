"""Loaders of users and memberships."""

from __future__ import annotations

from sqlalchemy import Select

from loaders.base import ByIdLoader, ManyByKeyLoader
from models.identity import AuthToken, Membership, TokenKind, User


class UserByIdLoader(ByIdLoader[User]):
    model = User


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
