"""Loaders of vehicles, tyre deposits, relocations and service centres."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from loaders.base import BaseLoader, ByIdLoader, ManyByKeyLoader
from loaders.paging import ChildPageLoader, Ordering
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

    def query(self, keys: list[int]) -> Select[Any]:
        return super().query(keys).where(col(TyreDeposit.released_on).is_(None))


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


class StoredTyresByCentreIdLoader(BaseLoader[int, int]):
    """Tyres of the lessor's cars stored at each centre: the numerator of its load."""

    async def load_batch(self, session: AsyncSession, keys: list[int]) -> list[int]:
        query = (
            select(col(TyreDeposit.centre_id), func.sum(col(TyreDeposit.tyre_count)))
            .where(col(TyreDeposit.centre_id).in_(keys), col(TyreDeposit.released_on).is_(None))
            .group_by(col(TyreDeposit.centre_id))
        )
        found = {centre_id: int(total) for centre_id, total in await session.execute(query)}
        return [found.get(key, 0) for key in keys]
