"""Online booking held by the hub (TYR-4): slots, appointments, and the mutations that book and
cancel them."""

from __future__ import annotations

from datetime import datetime, time
from typing import TYPE_CHECKING, Annotated

import strawberry

from auth.scopes import Scope
from loaders.tyre import CentreByIdLoader, VehicleByIdLoader
from loaders.tyre_booking import AppointmentByIdLoader
from models.tyre_booking import WARSAW, AppointmentStatus
from models.tyre_booking import TyreAppointment as AppointmentRow
from resolvers import tyre_booking as booking
from resolvers.node import in_client
from schema.base import Info, Node, node_id, node_type
from schema.identity import UserError, user_errors

if TYPE_CHECKING:
    from schema.tyre import TyreServiceCentre, Vehicle

Centre = Annotated["TyreServiceCentre", strawberry.lazy("schema.tyre")]
Car = Annotated["Vehicle", strawberry.lazy("schema.tyre")]

strawberry.enum(
    AppointmentStatus,
    description="BOOKED (still to come or not yet closed), CANCELLED, DONE (its time passed).",
)


@strawberry.type(description="A slot of a centre's online booking held by the hub.")
class TyreSlot:
    start: datetime = strawberry.field(description="Europe/Warsaw wall time, with its offset.")
    end: datetime
    free: int = strawberry.field(description="Cars that can still book it.")


@strawberry.type(description="A centre's opening hours on one weekday and its slots then.")
class TyreCentreOpeningHours:
    weekday: int = strawberry.field(description="0 Monday … 6 Sunday.")
    opens: time = strawberry.field(description="Europe/Warsaw wall time.")
    closes: time
    slot_minutes: int
    cars_per_slot: int


@strawberry.type(description="A tyre change booked in a centre's slot.")
@node_type(AppointmentRow, loader=AppointmentByIdLoader, access=in_client(Scope.TYRES_READ))
class TyreAppointment(Node):
    id: strawberry.ID = node_id("TyreAppointment")
    status: AppointmentStatus

    @strawberry.field(description="Europe/Warsaw wall time, with its offset.")
    def start(self, root: AppointmentRow) -> datetime:
        return root.starts_at.astimezone(WARSAW)

    @strawberry.field(description="Europe/Warsaw wall time, with its offset.")
    def end(self, root: AppointmentRow) -> datetime:
        return root.ends_at.astimezone(WARSAW)

    @strawberry.field
    async def centre(self, root: AppointmentRow, info: Info) -> Centre:
        return await info.context.loaders[CentreByIdLoader].load(root.centre_id)

    @strawberry.field
    async def vehicle(self, root: AppointmentRow, info: Info) -> Car:
        return await info.context.loaders[VehicleByIdLoader].load(root.vehicle_id)


@strawberry.input(description="Book a slot of a centre for a car (tyres:write).")
class TyreAppointmentBookInput:
    vehicle_id: strawberry.ID
    centre_id: strawberry.ID
    start: datetime = strawberry.field(
        description="A slot's start as `slots` lists it; without an offset, Europe/Warsaw."
    )


@strawberry.input(description="Cancel a booked appointment still to come (tyres:write).")
class TyreAppointmentCancelInput:
    appointment_id: strawberry.ID


@strawberry.type
class TyreAppointmentBookPayload:
    appointment: TyreAppointment | None
    errors: list[UserError]


@strawberry.type
class TyreAppointmentCancelPayload:
    appointment: TyreAppointment | None
    errors: list[UserError]


@strawberry.type
class TyreBookingMutation:
    @strawberry.mutation(
        description="Book a slot for a car whose tyres reach the centre by that day. Codes: "
        "NOT_A_SLOT, SLOT_IN_PAST, TOO_FAR, SLOT_TAKEN, ALREADY_BOOKED, NO_RELOCATION, "
        "RELOCATION_NOT_IN_TIME, NO_ONLINE_BOOKING, CENTRE_INACTIVE, NOT_FOUND."
    )
    async def tyre_appointment_book(
        self, info: Info, input: TyreAppointmentBookInput
    ) -> TyreAppointmentBookPayload:
        outcome = await booking.book_appointment(
            info.context,
            vehicle_global_id=input.vehicle_id,
            centre_global_id=input.centre_id,
            start=input.start,
        )
        return TyreAppointmentBookPayload(
            appointment=outcome.appointment,  # type: ignore[arg-type]  # rows serve the type
            errors=user_errors(outcome.errors),
        )

    @strawberry.mutation(description="Cancel an appointment before it begins (NOT_CANCELLABLE).")
    async def tyre_appointment_cancel(
        self, info: Info, input: TyreAppointmentCancelInput
    ) -> TyreAppointmentCancelPayload:
        outcome = await booking.cancel_appointment(
            info.context, appointment_global_id=input.appointment_id
        )
        return TyreAppointmentCancelPayload(
            appointment=outcome.appointment,  # type: ignore[arg-type]
            errors=user_errors(outcome.errors),
        )
