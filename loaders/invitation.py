"""The invitation behind each subaccount (a membership has at most one)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from loaders.base import BaseLoader, BuiltOnce, RowReader, table_column
from loaders.rows import light_rows, row_columns
from loaders.statements import KEYS, KeysIn
from models.identity import Invitation


class InvitationByMembershipIdLoader(BuiltOnce, BaseLoader[int, Invitation | None]):
    @classmethod
    def build(cls) -> Select[Any]:
        membership_id = table_column(Invitation, "membership_id")
        return select(*row_columns(Invitation)).where(KeysIn(membership_id))

    async def load_batch(self, connection: RowReader, keys: list[int]) -> list[Invitation | None]:
        result = await connection.execute(self.statement(), {KEYS: keys})
        by_membership = {row.membership_id: row for row in light_rows(Invitation, result)}
        return [by_membership.get(key) for key in keys]
