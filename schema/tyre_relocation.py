"""Ordering, editing and cancelling tyre relocations (TYR-3): the mutations and their payloads."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, TypeVar

import strawberry

from loaders.tyre import CentreByIdLoader
from models.i18n import Msg, translate
from models.tyre import RelocationChange
from models.tyre import TyreRelocationEvent as EventRow
from resolvers import tyre_relocation as relocations
from schema.base import Info
from schema.identity import UserError, user_errors

if TYPE_CHECKING:
    from schema.tyre import TyreRelocation, TyreServiceCentre

Relocation = Annotated["TyreRelocation", strawberry.lazy("schema.tyre")]
Centre = Annotated["TyreServiceCentre", strawberry.lazy("schema.tyre")]


@strawberry.type(description="One change of a relocation: who made it, when, and what it set.")
class TyreRelocationChange:
    change: RelocationChange
    planned_date: date
    created_at: datetime = strawberry.field(name="at", description="When (UTC).")

    @strawberry.field(description="The centre the relocation then went to.")
    async def centre(self, root: EventRow, info: Info) -> Centre:
        return await info.context.loaders[CentreByIdLoader].load(root.to_centre_id)

    @strawberry.field(description="Whether the viewer made this change (names are not shown).")
    def by_me(self, root: EventRow, info: Info) -> bool:
        return root.user_id is not None and root.user_id == info.context.viewer.user_id


@strawberry.input(description="Order relocations of cars' tyres to a centre (tyres:write).")
class TyreRelocationOrderInput:
    client_id: strawberry.ID
    vehicle_ids: list[strawberry.ID] = strawberry.field(description="1 to 50 cars of the company.")
    centre_id: strawberry.ID
    planned_date: date = strawberry.field(
        description="At least 4 working days after today (Europe/Warsaw), at most a year ahead "
        "(`calendar.earliestRelocationDate`)."
    )


@strawberry.input(description="Change an open relocation's centre or date (tyres:write).")
class TyreRelocationUpdateInput:
    relocation_id: strawberry.ID
    centre_id: strawberry.ID | None = None
    planned_date: date | None = None


@strawberry.input(description="Cancel an open relocation (tyres:write).")
class TyreRelocationCancelInput:
    relocation_id: strawberry.ID


@strawberry.type
class TyreRelocationPayload:
    relocations: list[Relocation]
    text: strawberry.Private[Msg | None]
    errors: list[UserError]

    @strawberry.field(
        description="What to do next, in the request's language: call the centre (its phone) "
        "to book the change, and the reminder that a relocation takes 4 working days."
    )
    def message(self, info: Info) -> str | None:
        return None if self.text is None else translate(self.text, info.context.language)


@strawberry.type
class TyreRelocationOrderPayload(TyreRelocationPayload):
    pass


@strawberry.type
class TyreRelocationUpdatePayload(TyreRelocationPayload):
    pass


@strawberry.type
class TyreRelocationCancelPayload(TyreRelocationPayload):
    pass


P = TypeVar("P", bound=TyreRelocationPayload)


def _payload(kind: type[P], outcome: relocations.Outcome) -> P:
    return kind(
        relocations=outcome.relocations,  # type: ignore[arg-type]  # rows serve the type
        text=outcome.message,
        errors=user_errors(outcome.errors),
    )


@strawberry.type
class TyreRelocationMutation:
    @strawberry.mutation(
        description="Zleć relokację: move the tyres of cars to a centre on a date. A car with an "
        "open relocation has it edited. Codes: TOO_SOON, TOO_FAR, CENTRE_INACTIVE, CENTRE_FULL, "
        "NO_TYRES_DEPOSITED, ALREADY_AT_CENTRE, OUT_OF_RANGE, NOT_FOUND."
    )
    async def tyre_relocation_order(
        self, info: Info, input: TyreRelocationOrderInput
    ) -> TyreRelocationOrderPayload:
        outcome = await relocations.order_relocations(
            info.context,
            client_global_id=input.client_id,
            vehicle_global_ids=list(input.vehicle_ids),
            centre_global_id=input.centre_id,
            planned=input.planned_date,
        )
        return _payload(TyreRelocationOrderPayload, outcome)

    @strawberry.mutation(
        description="Edytuj relokację: another centre or date, until the relocation is "
        "dispatched (NOT_EDITABLE after); the same rules as an order."
    )
    async def tyre_relocation_update(
        self, info: Info, input: TyreRelocationUpdateInput
    ) -> TyreRelocationUpdatePayload:
        outcome = await relocations.update_relocation(
            info.context,
            relocation_global_id=input.relocation_id,
            centre_global_id=input.centre_id,
            planned=input.planned_date,
        )
        return _payload(TyreRelocationUpdatePayload, outcome)

    @strawberry.mutation(description="Cancel a relocation until it is dispatched.")
    async def tyre_relocation_cancel(
        self, info: Info, input: TyreRelocationCancelInput
    ) -> TyreRelocationCancelPayload:
        outcome = await relocations.cancel_relocation(
            info.context, relocation_global_id=input.relocation_id
        )
        return _payload(TyreRelocationCancelPayload, outcome)
