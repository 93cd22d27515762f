"""Loaders of users and memberships."""

from __future__ import annotations

from loaders.base import ByIdLoader, ManyByKeyLoader
from models.identity import Membership, User


class UserByIdLoader(ByIdLoader[User]):
    model = User


class MembershipsByUserIdLoader(ManyByKeyLoader[Membership]):
    model = Membership
    key = "user_id"
    order_by = ("client_id",)
