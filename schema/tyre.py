"""GraphQL types of fleet vehicles, tyre deposits and tyre service centres."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from auth.scopes import Scope
from loaders.contract import ContractByIdLoader
from loaders.tyre import (
    ActiveDepositsByVehicleIdLoader,
    CentreByIdLoader,
    RelocationByIdLoader,
    RelocationsByVehicleIdLoader,
    StoredTyresByCentreIdLoader,
    VehicleByIdLoader,
    open_relocation,
)
from loaders.tyre_booking import HoursByCentreIdLoader
from loaders.tyre_relocation import EventsByRelocationIdLoader
from models.tyre import RelocationStatus, TyreSeason
from models.tyre import TyreDeposit as DepositRow
from models.tyre import TyreRelocation as RelocationRow
from models.tyre import TyreServiceCentre as CentreRow
from models.tyre import Vehicle as VehicleRow
from resolvers import tyre_booking
from resolvers.node import in_client, shared
from schema.base import Info, Node, node_id, node_type, scoped
from schema.client import Address
from schema.refs import ContractRef
from schema.tyre_booking import TyreCentreOpeningHours, TyreSlot
from schema.tyre_relocation import TyreRelocationChange


@strawberry.type(description="A tyre service centre of the lessor's network.")
@node_type(CentreRow, loader=CentreByIdLoader, access=shared)
class TyreServiceCentre(Node):
    id: strawberry.ID = node_id("TyreServiceCentre")
    name: str
    phone: str
    latitude: float
    longitude: float
    capacity: int = strawberry.field(description="Tyres the centre declared it can store.")
    online_booking_url: str | None = strawberry.field(description="Link to book online.")
    is_active: bool

    @strawberry.field
    def address(self, root: CentreRow) -> Address:
        return Address(
            street=root.street, postal_code=root.postal_code, city=root.city, country="PL"
        )

    @strawberry.field(description="The centre offers online booking (the green mark).")
    def online_booking(self, root: CentreRow) -> bool:
        return root.online_booking_url is not None

    @strawberry.field(description="Tyres of the lessor's cars stored there now.")
    async def stored_tyres(self, root: CentreRow, info: Info) -> int:
        return await info.context.loaders[StoredTyresByCentreIdLoader].load(root.id)

    @strawberry.field(
        description="storedTyres / capacity (0.0-1.0+). Not a waiting time for an appointment."
    )
    async def load(self, root: CentreRow, info: Info) -> float:
        stored = await info.context.loaders[StoredTyresByCentreIdLoader].load(root.id)
        return round(stored / root.capacity, 4) if root.capacity else 0.0

    @strawberry.field(
        description="Great-circle kilometres from the point given in tyreServiceCentres(near:); "
        "null elsewhere."
    )
    def distance_km(self, root: CentreRow) -> float | None:
        return getattr(root, "distance_km", None)  # set on the rows of a nearest-first list

    @strawberry.field(
        description="Opening hours per weekday, as the hub knows them (a weekday missing: "
        "closed; none at all: not kept in the hub); public holidays are closed."
    )
    async def opening_hours(self, root: CentreRow, info: Info) -> list[TyreCentreOpeningHours]:
        return await info.context.loaders[HoursByCentreIdLoader].load(root.id)

    @strawberry.field(
        description="Slots booked inside the hub, still to come, from `from` to `to` (at most "
        "31 days, from today on); empty for a centre without online booking."
    )
    async def slots(
        self,
        root: CentreRow,
        info: Info,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
    ) -> list[TyreSlot]:
        slots = await tyre_booking.centre_slots(info.context, root, from_, to)
        return slots  # type: ignore[return-value]  # the loader's slots serve the type

    @strawberry.field(
        description="The centre's online booking link; with vehicleId (tyres:read) it carries "
        "the car's plate as `rej=`. Null for a centre without online booking."
    )
    async def booking_url(
        self, root: CentreRow, info: Info, vehicle_id: strawberry.ID | None = None
    ) -> str | None:
        return await tyre_booking.booking_url(info.context, root, vehicle_id)


@strawberry.type(description="A set of tyres stored at a centre.")
class TyreDeposit:
    season: TyreSeason
    tyre_size: str
    tyre_count: int
    stored_since: date

    @strawberry.field
    async def centre(self, root: DepositRow, info: Info) -> TyreServiceCentre:
        return await info.context.loaders[CentreByIdLoader].load(root.centre_id)


@strawberry.type(description="Tyres ordered to move to a centre for a change.")
@node_type(RelocationRow, loader=RelocationByIdLoader, access=in_client(Scope.TYRES_READ))
class TyreRelocation(Node):
    id: strawberry.ID = node_id("TyreRelocation")
    planned_date: date
    status: RelocationStatus = strawberry.field(
        description="ORDERED and CONFIRMED are open (editable, cancellable); DISPATCHED: on "
        "its way (the tyre desk sent it; no longer changeable); DONE: the tyres are at the "
        "centre; CANCELLED."
    )
    tyre_count: int = strawberry.field(description="Tyres that move: the target's load gains them.")

    @strawberry.field(description="The target centre.")
    async def centre(self, root: RelocationRow, info: Info) -> TyreServiceCentre:
        return await info.context.loaders[CentreByIdLoader].load(root.to_centre_id)

    @strawberry.field(description="Where the tyres were stored when it was ordered.")
    async def from_centre(self, root: RelocationRow, info: Info) -> TyreServiceCentre | None:
        if root.from_centre_id is None:
            return None
        return await info.context.loaders[CentreByIdLoader].load(root.from_centre_id)

    @strawberry.field
    async def vehicle(self, root: RelocationRow, info: Info) -> Vehicle | None:
        return await info.context.loaders[VehicleByIdLoader].load(root.vehicle_id)

    @strawberry.field(description="Ordered, edited, cancelled: when, and what it then set.")
    async def history(self, root: RelocationRow, info: Info) -> list[TyreRelocationChange]:
        return await info.context.loaders[EventsByRelocationIdLoader].load(root.id)


@strawberry.type(description="A vehicle of the client's fleet.")
@node_type(VehicleRow, loader=VehicleByIdLoader, access=in_client(Scope.TYRES_READ))
class Vehicle(Node):
    id: strawberry.ID = node_id("Vehicle")
    registration_number: str
    vin: str
    make: str
    model: str
    driver_name: str | None

    @strawberry.field(extensions=scoped(Scope.CONTRACTS_READ))
    async def contract(self, root: VehicleRow, info: Info) -> ContractRef | None:
        if root.contract_id is None:
            return None
        return await info.context.loaders[ContractByIdLoader].load(root.contract_id)

    @strawberry.field(description="Tyres of this vehicle stored at a centre now.")
    async def tyre_deposit(self, root: VehicleRow, info: Info) -> TyreDeposit | None:
        deposits = await info.context.loaders[ActiveDepositsByVehicleIdLoader].load(root.id)
        return deposits[-1] if deposits else None

    @strawberry.field
    async def relocations(self, root: VehicleRow, info: Info) -> list[TyreRelocation]:
        return await info.context.loaders[RelocationsByVehicleIdLoader].load(root.id)

    @strawberry.field(description="The relocation ordered, confirmed or on its way: not yet done.")
    async def open_relocation(self, root: VehicleRow, info: Info) -> TyreRelocation | None:
        # The same batch as `relocations`: a car has few, and the list asks for both.
        relocations = await info.context.loaders[RelocationsByVehicleIdLoader].load(root.id)
        return open_relocation(relocations)  # type: ignore[return-value]


@strawberry.input(description="Measure from coordinates, or from a postal code.")
class TyreCentreNearInput:
    latitude: float | None = None
    longitude: float | None = None
    postal_code: str | None = strawberry.field(
        default=None,
        description="00-000. Placed at the centres that share the most of its start (its "
        "area, else its region): an estimate, not a geocoded address.",
    )


@strawberry.input(description="Fleet list filters; all given conditions must hold.")
class VehicleFilterInput:
    registration: str | None = strawberry.field(
        default=None, description="Part of the plate; case, accents and spaces ignored."
    )
    vin: str | None = strawberry.field(default=None, description="Part of the VIN.")
    contract_id: strawberry.ID | None = None
    centre_id: strawberry.ID | None = strawberry.field(
        default=None, description="Cars whose tyres are stored at this centre now."
    )
    season: TyreSeason | None = strawberry.field(
        default=None, description="Cars with a set of this season stored now."
    )
