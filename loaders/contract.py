"""Loaders of contracts, leased items, schedules and policies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlmodel import col

from loaders.base import BaseLoader, BuiltOnce, ByIdLoader, ManyByKeyLoader, RowReader, table_column
from loaders.paging import ChildPageLoader, Ordering
from loaders.statements import KEYS, KeysIn
from models.contract import (
    Contract,
    ContractStatus,
    Instalment,
    InsurancePolicy,
    LeasedItem,
)


@dataclass(frozen=True, slots=True)
class ContractFilter:
    statuses: frozenset[ContractStatus] = frozenset()

    def apply(self, query: Select[Any]) -> Select[Any]:
        if self.statuses:
            query = query.where(col(Contract.status).in_(self.statuses))
        return query


class ContractByIdLoader(ByIdLoader[Contract]):
    model = Contract


class ContractsByClientIdLoader(ChildPageLoader[Contract]):
    model = Contract
    parent = "client_id"
    ordering = Ordering(("start_date",))


class LeasedItemByIdLoader(ByIdLoader[LeasedItem]):
    model = LeasedItem


class LeasedItemsByContractIdLoader(ManyByKeyLoader[LeasedItem]):
    model = LeasedItem
    key = "contract_id"


class InstalmentByIdLoader(ByIdLoader[Instalment]):
    model = Instalment


class InstalmentsByContractIdLoader(ManyByKeyLoader[Instalment]):
    model = Instalment
    key = "contract_id"
    order_by = ("number",)


@dataclass(frozen=True, slots=True)
class InstalmentFilter:
    due_from: date | None = None
    due_to: date | None = None
    contract_id: int | None = None

    def apply(self, query: Select[Any]) -> Select[Any]:
        if self.due_from:
            query = query.where(col(Instalment.due_date) >= self.due_from)
        if self.due_to:
            query = query.where(col(Instalment.due_date) <= self.due_to)
        if self.contract_id is not None:
            query = query.where(col(Instalment.contract_id) == self.contract_id)
        return query


class UpcomingInstalmentsByClientIdLoader(ChildPageLoader[Instalment]):
    """The nearest payments of a client, across all contracts."""

    model = Instalment
    parent = "client_id"
    ordering = Ordering(("due_date",), descending=False)


class RemainingCapitalByContractIdLoader(BuiltOnce, BaseLoader[tuple[int, date], Decimal | None]):
    """Capital left after the last instalment due by the given day (None: nothing due yet)."""

    @classmethod
    def build(cls) -> Select[Any]:
        contract_id = table_column(Instalment, "contract_id")
        number, due_date = table_column(Instalment, "number"), table_column(Instalment, "due_date")
        last = (
            select(contract_id, func.max(number).label("number"))
            .where(KeysIn(contract_id), due_date <= bindparam("day", type_=due_date.type))
            .group_by(contract_id)
            .subquery()
        )
        remaining = table_column(Instalment, "remaining_capital")
        on = (last.c.contract_id == contract_id) & (last.c.number == number)
        return select(contract_id, remaining).join(last, on)

    async def load_batch(
        self, connection: RowReader, keys: list[tuple[int, date]]
    ) -> list[Decimal | None]:
        result: dict[tuple[int, date], Decimal] = {}
        for day in {day for _, day in keys}:
            ids = [contract_id for contract_id, key_day in keys if key_day == day]
            rows = await connection.execute(self.statement(), {KEYS: ids, "day": day})
            for contract_id, remaining in rows:
                result[(contract_id, day)] = remaining
        return [result.get(key) for key in keys]


class PolicyByIdLoader(ByIdLoader[InsurancePolicy]):
    model = InsurancePolicy


class PoliciesByContractIdLoader(ManyByKeyLoader[InsurancePolicy]):
    model = InsurancePolicy
    key = "contract_id"
    order_by = ("start_date", "id")
