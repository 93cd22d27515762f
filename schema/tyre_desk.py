"""The lessor's tyre desk (resolvers/tyre_desk.py): the queue of relocations, dispatching and
completing them, and keeping the centres' data."""

from __future__ import annotations

from datetime import date, time

import strawberry

from auth.staff import StaffPermission
from models.tyre import RelocationStatus
from resolvers import tyre_desk
from resolvers.tyre_centre_schedule import DayHours
from schema.base import Connection, Info, connection, staff_permission
from schema.identity import UserError, user_errors
from schema.tyre import TyreRelocation, TyreServiceCentre


@strawberry.input(description="Narrows the tyre desk's queue; every condition must hold.")
class AdminTyreRelocationFilterInput:
    statuses: list[RelocationStatus] | None = None
    centre_id: strawberry.ID | None = strawberry.field(
        default=None, description="Relocations to or from this centre."
    )
    client_id: strawberry.ID | None = None
    from_: date | None = strawberry.field(
        default=None, name="from", description="Planned on this day or later."
    )
    to: date | None = strawberry.field(default=None, description="Planned on this day or earlier.")

    def wanted(self) -> tyre_desk.DeskFilter:
        return tyre_desk.DeskFilter(
            statuses=frozenset(self.statuses or ()),
            centre_global_id=self.centre_id,
            client_global_id=self.client_id,
            planned_from=self.from_,
            planned_to=self.to,
        )


async def tyre_relocation_queue(
    info: Info,
    *,
    filter: AdminTyreRelocationFilterInput | None,
    first: int | None,
    after: str | None,
) -> Connection[TyreRelocation]:
    """`admin.tyreRelocations`: one SELECT per page (and a COUNT when asked)."""
    wanted = filter.wanted() if filter else tyre_desk.DeskFilter()
    page = await tyre_desk.relocation_queue(info.context, wanted=wanted, first=first, after=after)
    return connection(page)


@strawberry.input
class TyreRelocationDispatchInput:
    relocation_id: strawberry.ID


@strawberry.input
class TyreRelocationCompleteInput:
    relocation_id: strawberry.ID


@strawberry.type
class TyreRelocationDispatchPayload:
    relocation: TyreRelocation | None
    errors: list[UserError]


@strawberry.type
class TyreRelocationCompletePayload:
    relocation: TyreRelocation | None
    errors: list[UserError]


@strawberry.input(description="A weekday's opening hours and slots.")
class TyreCentreHoursInput:
    weekday: int = strawberry.field(description="0 Monday … 6 Sunday.")
    opens: time
    closes: time
    slot_minutes: int
    cars_per_slot: int


@strawberry.input(description="A centre's data kept by the tyre desk; a field left out stays.")
class TyreCentreUpdateInput:
    centre_id: strawberry.ID
    capacity: int | None = strawberry.field(
        default=None,
        description="The most tyres it stores (0 to 1,000,000); never below what it holds now, "
        "stored and on their way (BELOW_LOAD).",
    )
    online_booking_url: str | None = strawberry.field(
        default=None,
        description='The booking page, http(s) (INVALID_URL); "" removes it (no online booking).',
    )
    is_active: bool | None = strawberry.field(
        default=None, description="An inactive centre takes no new relocations."
    )
    phone: str | None = None
    hours: list[TyreCentreHoursInput] | None = strawberry.field(
        default=None,
        description="The hours of every weekday the centre opens, replacing them all (a "
        "weekday left out is closed): slots of `slotMinutes` (15-240) for `carsPerSlot` cars "
        "(1-50) from `opens` while they end by `closes`, Europe/Warsaw wall time.",
    )
    closed_days: list[date] | None = strawberry.field(
        default=None,
        description="The days it is closed from today on (besides public holidays), replacing "
        "those; a day with booked appointments cannot be closed (APPOINTMENTS_BOOKED).",
    )


@strawberry.type
class TyreCentreUpdatePayload:
    centre: TyreServiceCentre | None
    errors: list[UserError]


@strawberry.type
class TyreDeskMutation:
    @strawberry.mutation(
        description="Tyre desk (TYRES_MANAGE): the tyres of an ordered or confirmed "
        "relocation leave; the fleet manager can no longer edit or cancel it (NOT_EDITABLE). "
        "The person who ordered it is e-mailed. Codes: NOT_EDITABLE, NOT_FOUND.",
        extensions=staff_permission(StaffPermission.TYRES_MANAGE),
    )
    async def tyre_relocation_dispatch(
        self, info: Info, input: TyreRelocationDispatchInput
    ) -> TyreRelocationDispatchPayload:
        moved = await tyre_desk.dispatch(info.context, relocation_global_id=input.relocation_id)
        return TyreRelocationDispatchPayload(
            relocation=moved.relocation,  # type: ignore[arg-type]  # the row serves the type
            errors=user_errors(moved.errors),
        )

    @strawberry.mutation(
        description="Tyre desk (TYRES_MANAGE): the tyres arrived. The relocation is DONE and "
        "the car's set is stored at the target centre from today (both centres' storedTyres "
        "change). Once: a second completion hears NOT_EDITABLE. Codes: NOT_EDITABLE, "
        "NO_TYRES_DEPOSITED, NOT_FOUND.",
        extensions=staff_permission(StaffPermission.TYRES_MANAGE),
    )
    async def tyre_relocation_complete(
        self, info: Info, input: TyreRelocationCompleteInput
    ) -> TyreRelocationCompletePayload:
        moved = await tyre_desk.complete(info.context, relocation_global_id=input.relocation_id)
        return TyreRelocationCompletePayload(
            relocation=moved.relocation,  # type: ignore[arg-type]
            errors=user_errors(moved.errors),
        )

    @strawberry.mutation(
        description="Tyre desk (TYRES_MANAGE): change a centre's maximum, booking page, "
        "phone or whether it is active; audited. Codes: BELOW_LOAD, INVALID_URL, "
        "INVALID_PHONE, OUT_OF_RANGE, NOT_FOUND.",
        extensions=staff_permission(StaffPermission.TYRES_MANAGE),
    )
    async def tyre_centre_update(
        self, info: Info, input: TyreCentreUpdateInput
    ) -> TyreCentreUpdatePayload:
        changes = tyre_desk.CentreChanges(
            capacity=input.capacity,
            online_booking_url=input.online_booking_url,
            is_active=input.is_active,
            phone=input.phone,
            hours=None if input.hours is None else tuple(_day_hours(h) for h in input.hours),
            closed_days=None if input.closed_days is None else tuple(input.closed_days),
        )
        outcome = await tyre_desk.update_centre(
            info.context, centre_global_id=input.centre_id, changes=changes
        )
        return TyreCentreUpdatePayload(
            centre=outcome.centre,  # type: ignore[arg-type]
            errors=user_errors(outcome.errors),
        )


def _day_hours(given: TyreCentreHoursInput) -> DayHours:
    return DayHours(
        weekday=given.weekday,
        opens=given.opens,
        closes=given.closes,
        slot_minutes=given.slot_minutes,
        cars_per_slot=given.cars_per_slot,
    )
