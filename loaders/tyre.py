"""Loaders of vehicles, tyre deposits, relocations and service centres."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from loaders.base import BaseLoader, BuiltOnce, ByIdLoader, ManyByKeyLoader, RowReader, table_column
from loaders.paging import ChildPageLoader, Ordering
from loaders.statements import KEYS, KeysIn
from models.search import contains
from models.tyre import (
    INBOUND_RELOCATION,
    TyreDeposit,
    TyreRelocation,
    TyreSeason,
    TyreServiceCentre,
    Vehicle,
)


class VehicleByIdLoader(ByIdLoader[Vehicle]):
    model = Vehicle


@dataclass(frozen=True, slots=True)
class VehicleFilter:
    """The fleet list's filters (TYR-1). Plates and VINs match a part, ignoring case, accents
    and spaces; centre and season are those of the tyres stored now."""

    registration: str | None = None
    vin: str | None = None
    contract_id: int | None = None
    centre_id: int | None = None
    season: TyreSeason | None = None

    def apply(self, query: Select[Any]) -> Select[Any]:
        conditions: list[ColumnElement[bool]] = []
        if self.registration:
            conditions.append(
                _squeezed_contains(col(Vehicle.registration_number), self.registration)
            )
        if self.vin:
            conditions.append(_squeezed_contains(col(Vehicle.vin), self.vin))
        if self.contract_id is not None:
            conditions.append(col(Vehicle.contract_id) == self.contract_id)
        if self.centre_id is not None or self.season is not None:
            conditions.append(table_column(Vehicle, "id").in_(self._stored()))
        return query.where(*conditions)

    def _stored(self) -> Select[Any]:
        """Vehicles with one set stored now that is at the centre and of the season asked."""
        query = select(col(TyreDeposit.vehicle_id)).where(col(TyreDeposit.released_on).is_(None))
        if self.centre_id is not None:
            query = query.where(col(TyreDeposit.centre_id) == self.centre_id)
        if self.season is not None:
            query = query.where(col(TyreDeposit.season) == self.season)
        return query


def _squeezed_contains(column: Any, term: str) -> ColumnElement[bool]:
    return contains(func.replace(column, " ", ""), term)


def open_relocation(relocations: Sequence[TyreRelocation]) -> TyreRelocation | None:
    """The latest planned relocation of a car's relocations (in planned order) still to arrive:
    open, or on its way (dispatched)."""
    open_ones = [r for r in relocations if r.status in INBOUND_RELOCATION]
    return open_ones[-1] if open_ones else None


class VehiclesByClientIdLoader(ChildPageLoader[Vehicle]):
    model = Vehicle
    parent = "client_id"
    ordering = Ordering(("registration_number",), descending=False)


class ActiveDepositsByVehicleIdLoader(ManyByKeyLoader[TyreDeposit]):
    """Tyres of a vehicle still stored at a centre (not yet released)."""

    model = TyreDeposit
    key = "vehicle_id"
    order_by = ("stored_since", "id")

    @classmethod
    def build(cls) -> Select[Any]:
        return super().build().where(table_column(TyreDeposit, "released_on").is_(None))


class DepositByIdLoader(ByIdLoader[TyreDeposit]):
    model = TyreDeposit


class RelocationsByVehicleIdLoader(ManyByKeyLoader[TyreRelocation]):
    model = TyreRelocation
    key = "vehicle_id"
    order_by = ("planned_date", "id")


class RelocationByIdLoader(ByIdLoader[TyreRelocation]):
    model = TyreRelocation


class CentreByIdLoader(ByIdLoader[TyreServiceCentre]):
    model = TyreServiceCentre


class StoredTyresByCentreIdLoader(BuiltOnce, BaseLoader[int, int]):
    """Tyres of the lessor's cars stored at each centre: the numerator of its load."""

    @classmethod
    def build(cls) -> Select[Any]:
        centre_id = table_column(TyreDeposit, "centre_id")
        released_on = table_column(TyreDeposit, "released_on")
        return (
            select(centre_id, func.sum(table_column(TyreDeposit, "tyre_count")))
            .where(KeysIn(centre_id), released_on.is_(None))
            .group_by(centre_id)
        )

    async def load_batch(self, connection: RowReader, keys: list[int]) -> list[int]:
        result = await connection.execute(self.statement(), {KEYS: keys})
        found = {centre_id: int(total) for centre_id, total in result}
        return [found.get(key, 0) for key in keys]
