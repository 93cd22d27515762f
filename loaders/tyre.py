"""Loaders of vehicles, tyre deposits, relocations and service centres."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select

from loaders.base import BaseLoader, BuiltOnce, ByIdLoader, ManyByKeyLoader, RowReader, table_column
from loaders.paging import ChildPageLoader, Ordering
from loaders.statements import KEYS, KeysIn
from models.tyre import TyreDeposit, TyreRelocation, TyreServiceCentre, Vehicle


class VehicleByIdLoader(ByIdLoader[Vehicle]):
    model = Vehicle


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
