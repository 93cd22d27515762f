"""Ordering, editing and cancelling tyre relocations (TYR-3): "Zleć / Edytuj relokację".

A fleet manager (tyres:write in the company; read-only tokens run no mutations) picks cars, a
target centre and a date. The rules, each with a stable code:

- the date is at least `RELOCATION_WORKING_DAYS` working days after today in Warsaw
  (`TOO_SOON`, with the earliest date) and within a year (`TOO_FAR`);
- the centre exists and is active (`NOT_FOUND`, `CENTRE_INACTIVE`);
- every car is the company's (`NOT_FOUND`), has tyres deposited (`NO_TYRES_DEPOSITED`) and not
  at that centre already (`ALREADY_AT_CENTRE`);
- the centre's load after every open relocation stays within its declared maximum
  (`CENTRE_FULL`, with the places left). The centre's row is locked while the load is counted
  and the order written (SQLite's write transaction is serial anyway), so two managers
  ordering the last places at once never overfill it;
- a car with an open relocation has it edited, not duplicated: a partial unique index allows
  one open relocation per car, and of two orders at once for the same car one inserts, the
  other edits (the transaction runs once more after the clash).

A car whose tyres are on their way (DISPATCHED by the tyre desk) cannot be ordered again
(`IN_TRANSIT`), and their tyres count towards the target's load until they arrive. Edits
(centre or date) and cancellations are conditional updates of an open relocation
(`NOT_EDITABLE` once dispatched, done or cancelled); a booked appointment the change leaves
without tyres in time is cancelled with it. Every change is a row of
`tyre_relocation_events` (who, when, centre, date), and the person who acted gets an e-mail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.access import require_scope
from auth.errors import NotFoundError
from auth.scopes import Scope
from models.calendar import RELOCATION_WORKING_DAYS, add_working_days
from models.i18n import Msg, _
from models.tyre import (
    OPEN_RELOCATION,
    RelocationChange,
    RelocationStatus,
    TyreDeposit,
    TyreRelocation,
    TyreRelocationEvent,
    TyreServiceCentre,
    Vehicle,
)
from models.tyre_booking import AppointmentStatus, TyreAppointment
from resolvers import outbox
from resolvers.context import Context
from resolvers.errors import Abort, UserErrorData
from resolvers.ids import pk_of
from resolvers.tyre_centre import centre_load, lock_centre

MAX_VEHICLES = 50  # cars in one order
MAX_AHEAD = timedelta(days=366)
REMINDER = _(
    "Please remember that a tyre relocation takes at least 4 working days. Do not book an "
    "earlier appointment: the tyres could not be delivered in time."
)


@dataclass(frozen=True, slots=True)
class Outcome:
    relocations: list[TyreRelocation]
    message: Msg | None
    errors: list[UserErrorData]


def _error(field: str | None, code: str, message: Msg) -> UserErrorData:
    return UserErrorData(field=field, code=code, message=message)


def earliest_date(today: date) -> date:
    return add_working_days(today, RELOCATION_WORKING_DAYS)


def _date_error(planned: date, today: date) -> UserErrorData | None:
    earliest = earliest_date(today)
    if planned < earliest:
        message = _(
            "A tyre relocation takes at least 4 working days: the earliest date is {earliest}.",
            earliest=earliest,
        )
        return _error("plannedDate", "TOO_SOON", message)
    if planned > today + MAX_AHEAD:
        return _error("plannedDate", "TOO_FAR", _("Plan a relocation at most a year ahead."))
    return None


def _instruction(centre: TyreServiceCentre) -> Msg:
    """The guide's answer: what was ordered is not an appointment; the centre books those."""
    return _(
        "Relocation ordered to {centre}. Now contact the centre directly (phone {phone}) to book "
        "the tyre change. {reminder}",
        centre=centre.name,
        phone=centre.phone,
        reminder=REMINDER,
    )


# -- reading under the lock --------------------------------------------------------------------


async def _locked_centre(session: AsyncSession, centre_id: int) -> TyreServiceCentre:
    centre = await lock_centre(session, centre_id)
    if centre is None:
        raise Abort(_error("centreId", "NOT_FOUND", _("No such tyre service centre.")))
    if not centre.is_active:
        raise Abort(_error("centreId", "CENTRE_INACTIVE", _("This centre takes no tyres now.")))
    return centre


def _check_room(centre: TyreServiceCentre, load: int, adding: int) -> None:
    if load + adding > centre.capacity:
        free = max(0, centre.capacity - load)
        message = _(
            "The centre has room for {free} more tyres; this order needs {needed}.",
            free=free,
            needed=adding,
        )
        raise Abort(_error("centreId", "CENTRE_FULL", message))


async def _vehicles(
    session: AsyncSession, client_id: int, vehicle_ids: list[int]
) -> dict[int, Vehicle]:
    query = select(Vehicle).where(
        col(Vehicle.id).in_(vehicle_ids), col(Vehicle.client_id) == client_id
    )
    found = {vehicle.id: vehicle for vehicle in (await session.execute(query)).scalars()}
    if len(found) != len(set(vehicle_ids)):
        raise Abort(_error("vehicleIds", "NOT_FOUND", _("Not found.")))
    return found  # type: ignore[return-value]


async def _deposits(session: AsyncSession, vehicle_ids: list[int]) -> dict[int, TyreDeposit]:
    """Each car's set in storage now (the latest, should there be two)."""
    query = (
        select(TyreDeposit)
        .where(col(TyreDeposit.vehicle_id).in_(vehicle_ids), col(TyreDeposit.released_on).is_(None))
        .order_by(col(TyreDeposit.stored_since), col(TyreDeposit.id))
    )
    return {deposit.vehicle_id: deposit for deposit in (await session.execute(query)).scalars()}


async def _open(session: AsyncSession, vehicle_ids: list[int]) -> dict[int, TyreRelocation]:
    query = select(TyreRelocation).where(
        col(TyreRelocation.vehicle_id).in_(vehicle_ids),
        col(TyreRelocation.status).in_(OPEN_RELOCATION),
    )
    return {row.vehicle_id: row for row in (await session.execute(query)).scalars()}


async def _in_transit(session: AsyncSession, vehicle_ids: list[int]) -> bool:
    query = select(col(TyreRelocation.id)).where(
        col(TyreRelocation.vehicle_id).in_(vehicle_ids),
        col(TyreRelocation.status) == RelocationStatus.DISPATCHED,
    )
    return (await session.execute(query.limit(1))).first() is not None


async def _release_appointments(session: AsyncSession, row: TyreRelocation, now: object) -> None:
    """A booked appointment of the car that the changed relocation no longer brings tyres to
    in time (another centre, a later date, or cancelled) is cancelled with it."""
    stale = [
        col(TyreAppointment.vehicle_id) == row.vehicle_id,
        col(TyreAppointment.status) == AppointmentStatus.BOOKED,
        col(TyreAppointment.relocation_id) == row.id,
    ]
    if row.status is not RelocationStatus.CANCELLED:
        fits = col(TyreAppointment.centre_id) == row.to_centre_id
        stale.append(~fits | (func.date(col(TyreAppointment.starts_at)) < row.planned_date))
    await session.execute(
        update(TyreAppointment)
        .where(*stale)
        .values(status=AppointmentStatus.CANCELLED, updated_at=now)
        .execution_options(synchronize_session=False)
    )


# -- writing -----------------------------------------------------------------------------------


def _record(
    session: AsyncSession, row: TyreRelocation, change: RelocationChange, user_id: int | None
) -> None:
    assert row.id is not None
    session.add(
        TyreRelocationEvent(
            client_id=row.client_id,
            relocation_id=row.id,
            change=change,
            user_id=user_id,
            to_centre_id=row.to_centre_id,
            planned_date=row.planned_date,
        )
    )


async def _write_order(
    ctx: Context,
    session: AsyncSession,
    *,
    client_id: int,
    vehicle_ids: list[int],
    centre_id: int,
    planned: date,
) -> tuple[list[TyreRelocation], TyreServiceCentre]:
    centre = await _locked_centre(session, centre_id)
    await _vehicles(session, client_id, vehicle_ids)
    deposits = await _deposits(session, vehicle_ids)
    if missing := [v for v in vehicle_ids if v not in deposits]:
        message = _("A car has no tyres in storage to relocate ({count}).", count=len(missing))
        raise Abort(_error("vehicleIds", "NO_TYRES_DEPOSITED", message))
    if [v for v in vehicle_ids if deposits[v].centre_id == centre_id]:
        message = _("A car's tyres are stored at this centre already.")
        raise Abort(_error("vehicleIds", "ALREADY_AT_CENTRE", message))
    if await _in_transit(session, vehicle_ids):
        message = _("A car's tyres are on their way to a centre: order again once they arrive.")
        raise Abort(_error("vehicleIds", "IN_TRANSIT", message))
    existing = await _open(session, vehicle_ids)
    leaving = [row.id for row in existing.values() if row.id is not None]
    adding = sum(deposits[v].tyre_count for v in vehicle_ids)
    _check_room(centre, await centre_load(session, centre_id, leaving=leaving), adding)
    rows = []
    for vehicle_id in vehicle_ids:
        row = existing.get(vehicle_id)
        change = RelocationChange.UPDATED if row else RelocationChange.ORDERED
        if row is None:
            row = TyreRelocation(
                client_id=client_id,
                vehicle_id=vehicle_id,
                from_centre_id=deposits[vehicle_id].centre_id,
                to_centre_id=centre_id,
                planned_date=planned,
                status=RelocationStatus.ORDERED,
                created_by_id=ctx.viewer.user_id,
                tyre_count=deposits[vehicle_id].tyre_count,
            )
            session.add(row)
        else:
            row.to_centre_id, row.planned_date = centre_id, planned
            row.tyre_count = deposits[vehicle_id].tyre_count
        await session.flush()
        _record(session, row, change, ctx.viewer.user_id)
        rows.append(row)
    return rows, centre


async def order_relocations(
    ctx: Context,
    *,
    client_global_id: str,
    vehicle_global_ids: Sequence[str],
    centre_global_id: str,
    planned: date,
) -> Outcome:
    client_id = pk_of(client_global_id, "Client", field="clientId")
    require_scope(ctx.viewer, client_id, Scope.TYRES_WRITE, field="clientId")
    try:
        vehicle_ids = [pk_of(v, "Vehicle", field="vehicleIds") for v in vehicle_global_ids]
        centre_id = pk_of(centre_global_id, "TyreServiceCentre", field="centreId")
    except NotFoundError:
        return Outcome([], None, [_error("vehicleIds", "NOT_FOUND", _("Not found."))])
    vehicle_ids = list(dict.fromkeys(vehicle_ids))
    if not vehicle_ids or len(vehicle_ids) > MAX_VEHICLES:
        message = _("Choose from 1 to {limit} cars.", limit=MAX_VEHICLES)
        return Outcome([], None, [_error("vehicleIds", "OUT_OF_RANGE", message)])
    if error := _date_error(planned, ctx.today):
        return Outcome([], None, [error])
    for attempt in (1, 2):
        try:
            async with ctx.db.write() as session:
                rows, centre = await _write_order(
                    ctx,
                    session,
                    client_id=client_id,
                    vehicle_ids=vehicle_ids,
                    centre_id=centre_id,
                    planned=planned,
                )
                instruction = _instruction(centre)
                subject = _("Tyre relocation to {centre}", centre=centre.name)
                await outbox.email_viewer(
                    session,
                    ctx,
                    template="tyre_relocation",
                    subject=subject,
                    body=instruction,
                    client_id=client_id,
                )
        except Abort as abort:
            return Outcome([], None, abort.errors)
        except IntegrityError:
            # Another order inserted an open relocation for one of the cars meanwhile: run
            # once more, which now edits it.
            if attempt == 2:
                raise
            continue
        return Outcome(rows, instruction, [])
    raise AssertionError("unreachable")  # pragma: no cover


async def _relocation_of(ctx: Context, relocation_global_id: str) -> TyreRelocation:
    """The relocation, if the viewer may write in its company; else not found (or forbidden)."""
    relocation_id = pk_of(relocation_global_id, "TyreRelocation", field="relocationId")
    async with ctx.db.read() as session:
        row = await session.get(TyreRelocation, relocation_id)
    client_id = row.client_id if row is not None else None
    require_scope(ctx.viewer, client_id, Scope.TYRES_WRITE, field="relocationId")
    assert row is not None
    return row


def _not_editable() -> Abort:
    message = _("This relocation can no longer be changed: it was dispatched, done or cancelled.")
    return Abort(_error("relocationId", "NOT_EDITABLE", message))


async def update_relocation(
    ctx: Context,
    *,
    relocation_global_id: str,
    centre_global_id: str | None,
    planned: date | None,
) -> Outcome:
    row = await _relocation_of(ctx, relocation_global_id)
    try:
        centre_id = (
            pk_of(centre_global_id, "TyreServiceCentre", field="centreId")
            if centre_global_id
            else row.to_centre_id
        )
    except NotFoundError:
        return Outcome([], None, [_error("centreId", "NOT_FOUND", _("Not found."))])
    planned = planned or row.planned_date
    if error := _date_error(planned, ctx.today):
        return Outcome([], None, [error])
    try:
        async with ctx.db.write() as session:
            updated, centre = await _write_update(ctx, session, row, centre_id, planned)
            instruction = _instruction(centre)
            subject = _("Tyre relocation to {centre} changed", centre=centre.name)
            await outbox.email_viewer(
                session,
                ctx,
                template="tyre_relocation",
                subject=subject,
                body=instruction,
                client_id=row.client_id,
            )
    except Abort as abort:
        return Outcome([], None, abort.errors)
    return Outcome([updated], instruction, [])


async def _write_update(
    ctx: Context, session: AsyncSession, row: TyreRelocation, centre_id: int, planned: date
) -> tuple[TyreRelocation, TyreServiceCentre]:
    assert row.id is not None
    centre = await _locked_centre(session, centre_id)
    if centre_id == row.from_centre_id:
        message = _("A car's tyres are stored at this centre already.")
        raise Abort(_error("centreId", "ALREADY_AT_CENTRE", message))
    if centre_id != row.to_centre_id:
        _check_room(centre, await centre_load(session, centre_id, leaving=[row.id]), row.tyre_count)
    changes: dict[str, object] = {"to_centre_id": centre_id, "planned_date": planned}
    updated = await _change_open(ctx, session, row.id, changes)
    _record(session, updated, RelocationChange.UPDATED, ctx.viewer.user_id)
    await _release_appointments(session, updated, ctx.now)
    return updated, centre


async def _change_open(
    ctx: Context, session: AsyncSession, relocation_id: int, changes: dict[str, object]
) -> TyreRelocation:
    """A conditional update: only an open relocation changes (of two at once, both apply if
    both find it open; a cancelled or dispatched one never)."""
    changed = await session.execute(
        update(TyreRelocation)
        .where(
            col(TyreRelocation.id) == relocation_id,
            col(TyreRelocation.status).in_(OPEN_RELOCATION),
        )
        .values(**changes, updated_at=ctx.now)
        .execution_options(synchronize_session=False)
    )
    if int(changed.rowcount or 0) != 1:  # type: ignore[attr-defined]
        raise _not_editable()
    row = await session.get(TyreRelocation, relocation_id, populate_existing=True)
    assert row is not None
    return row


async def cancel_relocation(ctx: Context, *, relocation_global_id: str) -> Outcome:
    row = await _relocation_of(ctx, relocation_global_id)
    assert row.id is not None
    try:
        async with ctx.db.write() as session:
            changes: dict[str, object] = {"status": RelocationStatus.CANCELLED}
            updated = await _change_open(ctx, session, row.id, changes)
            _record(session, updated, RelocationChange.CANCELLED, ctx.viewer.user_id)
            await _release_appointments(session, updated, ctx.now)
            subject = _("Tyre relocation cancelled")
            body = _(
                "The tyre relocation planned for {planned} is cancelled.", planned=row.planned_date
            )
            await outbox.email_viewer(
                session,
                ctx,
                template="tyre_relocation",
                subject=subject,
                body=body,
                client_id=row.client_id,
            )
    except Abort as abort:
        return Outcome([], None, abort.errors)
    return Outcome([updated], None, [])


__all__ = [
    "Outcome",
    "cancel_relocation",
    "earliest_date",
    "order_relocations",
    "update_relocation",
]
