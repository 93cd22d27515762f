"""Loaders of contracts, leased items, schedules and policies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from loaders.base import BaseLoader, ByIdLoader, ManyByKeyLoader
from loaders.paging import ChildPageLoader, Ordering
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


class RemainingCapitalByContractIdLoader(BaseLoader[tuple[int, date], Decimal | None]):
    """Capital left after the last instalment due by the given day (None: nothing due yet)."""

    async def load_batch(
        self, session: AsyncSession, keys: list[tuple[int, date]]
    ) -> list[Decimal | None]:
        result: dict[tuple[int, date], Decimal] = {}
        for day in {day for _, day in keys}:
            ids = [contract_id for contract_id, key_day in keys if key_day == day]
            last = (
                select(
                    col(Instalment.contract_id), func.max(col(Instalment.number)).label("number")
                )
                .where(col(Instalment.contract_id).in_(ids), col(Instalment.due_date) <= day)
                .group_by(col(Instalment.contract_id))
                .subquery()
            )
            query = select(col(Instalment.contract_id), col(Instalment.remaining_capital)).join(
                last,
                (last.c.contract_id == col(Instalment.contract_id))
                & (last.c.number == col(Instalment.number)),
            )
            for contract_id, remaining in await session.execute(query):
                result[(contract_id, day)] = remaining
        return [result.get(key) for key in keys]


class PolicyByIdLoader(ByIdLoader[InsurancePolicy]):
    model = InsurancePolicy


class PoliciesByContractIdLoader(ManyByKeyLoader[InsurancePolicy]):
    model = InsurancePolicy
    key = "contract_id"
    order_by = ("start_date", "id")
