"""Online booking (TYR-4): a centre's booking link, and slots held by the hub.

For a centre with online booking the API gives its own booking link (with the car's plate as
`rej=`, so the centre's form can fill it in) and, beyond every portal, slots booked inside the
hub. Booking a slot (tyres:write in the car's company; read-only tokens run no mutations):

- the centre takes online bookings and is active (`NOT_FOUND`, `NO_ONLINE_BOOKING`,
  `CENTRE_INACTIVE`);
- the start is one of its slots: its hours that weekday, not a closed day nor a Polish public
  holiday (`NOT_A_SLOT`), still to come (`SLOT_IN_PAST`) and within a year (`TOO_FAR`);
- the car's tyres are there by that day: its open relocation goes to that centre planned on or
  before the slot's day (`RELOCATION_NOT_IN_TIME`, `NO_RELOCATION`), or they are stored there
  already with no relocation taking them away;
- the car has no other booked appointment still to come (`ALREADY_BOOKED`; a partial unique
  index, so two bookings at once for one car make one);
- a place is free (`SLOT_TAKEN`). A slot has seats 1..cars_per_slot and a partial unique key
  (centre, start, seat) of booked appointments: a booking inserts the first seat it saw free
  with ON CONFLICT DO NOTHING, and the next one when another booking took it meanwhile. The
  database decides, with no lock and on both databases alike: of two bookings for the last
  place one inserts, the other finds every seat taken. (Locking the centre's row, as
  relocations do, would serialise every booking of a centre, not only those of one slot.)

Cancelling is a conditional update of a booked appointment still to come (`NOT_CANCELLABLE`);
it frees the seat. The person who books or cancels gets an e-mail, and `leasehub reminders`
e-mails each appointment's booker the day before, once (`reminded_at`, claimed by a
conditional update, so two runs at once send one reminder).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.access import require_scope
from auth.clock import warsaw_day_start, warsaw_today
from auth.errors import BadInputError, NotFoundError
from auth.scopes import Scope
from loaders.tyre import VehicleByIdLoader
from loaders.tyre_booking import Slot, SlotsByCentreLoader
from models.i18n import DEFAULT_LANGUAGE, Msg, _
from models.identity import User
from models.tyre import OPEN_RELOCATION, TyreDeposit, TyreRelocation, TyreServiceCentre, Vehicle
from models.tyre_booking import (
    WARSAW,
    AppointmentStatus,
    SlotTime,
    TyreAppointment,
    TyreCentreClosedDay,
    TyreCentreHours,
    day_slots,
)
from resolvers import outbox
from resolvers.context import Context
from resolvers.errors import Abort, UserErrorData
from resolvers.ids import pk_of
from resolvers.tyre_centre import lock_centre

MAX_SLOT_DAYS = 31  # days in one slots(from:, to:) answer
MAX_AHEAD = timedelta(days=366)
_BOOKED = AppointmentStatus.BOOKED
# The seat key's own predicate, as text: PostgreSQL matches ON CONFLICT to a partial index
# only by its predicate, which a bound parameter is not.
_SEAT_KEY_WHERE = text("status = 'BOOKED'")


@dataclass(frozen=True, slots=True)
class Outcome:
    appointment: TyreAppointment | None
    errors: list[UserErrorData]


def _error(field: str | None, code: str, message: Msg) -> UserErrorData:
    return UserErrorData(field=field, code=code, message=message)


# -- reads: slots and the booking link ---------------------------------------------------------


async def centre_slots(
    ctx: Context, centre: TyreServiceCentre, first: date, last: date
) -> list[Slot]:
    """The centre's slots still to come from `first` to `last`; none without online booking."""
    if last < first or (last - first).days >= MAX_SLOT_DAYS:
        message = _("Ask for 1 to {days} days of slots.", days=MAX_SLOT_DAYS)
        raise BadInputError(message, field="to")
    if first < ctx.today:
        raise BadInputError(_("Slots start today at the earliest."), field="from")
    if centre.online_booking_url is None or not centre.is_active:
        return []
    assert centre.id is not None
    slots = await ctx.loaders[SlotsByCentreLoader].load((centre.id, first, last))
    return [slot for slot in slots if slot.start > ctx.now]


async def booking_url(
    ctx: Context, centre: TyreServiceCentre, vehicle_global_id: str | None
) -> str | None:
    """The centre's own booking link; for a car (tyres:read in its company) with its plate as
    `rej=`, which the centres' forms fill in (the guide's link carries the car the same way)."""
    if centre.online_booking_url is None:
        return None
    if vehicle_global_id is None:
        return centre.online_booking_url
    vehicle_id = pk_of(vehicle_global_id, "Vehicle", field="vehicleId")
    vehicle = await ctx.loaders[VehicleByIdLoader].load(vehicle_id)
    client_id = vehicle.client_id if vehicle is not None else None
    require_scope(ctx.viewer, client_id, Scope.TYRES_READ, field="vehicleId")
    assert vehicle is not None
    return with_plate(centre.online_booking_url, vehicle.registration_number)


def with_plate(url: str, registration: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "rej"]
    query.append(("rej", registration.replace(" ", "").upper()))
    return urlunsplit(parts._replace(query=urlencode(query)))


# -- booking -----------------------------------------------------------------------------------


async def _vehicle_of(ctx: Context, vehicle_global_id: str) -> Vehicle:
    """The car, if the viewer may write in its company; else not found (or forbidden)."""
    vehicle_id = pk_of(vehicle_global_id, "Vehicle", field="vehicleId")
    async with ctx.db.read() as session:
        vehicle = await session.get(Vehicle, vehicle_id)
    client_id = vehicle.client_id if vehicle is not None else None
    require_scope(ctx.viewer, client_id, Scope.TYRES_WRITE, field="vehicleId")
    assert vehicle is not None
    return vehicle


def _as_warsaw(start: datetime) -> datetime:
    """A start without a zone is a Warsaw wall time, as the slots list them."""
    return start.replace(tzinfo=WARSAW) if start.tzinfo is None else start.astimezone(WARSAW)


def _time_error(start: datetime, now: datetime) -> UserErrorData | None:
    if start <= now:
        return _error("start", "SLOT_IN_PAST", _("This slot has begun or passed."))
    if start > now + MAX_AHEAD:
        return _error("start", "TOO_FAR", _("Book at most a year ahead."))
    return None


async def book_appointment(
    ctx: Context, *, vehicle_global_id: str, centre_global_id: str, start: datetime
) -> Outcome:
    vehicle = await _vehicle_of(ctx, vehicle_global_id)
    try:
        centre_id = pk_of(centre_global_id, "TyreServiceCentre", field="centreId")
    except NotFoundError:
        return Outcome(None, [_error("centreId", "NOT_FOUND", _("Not found."))])
    start = _as_warsaw(start)
    if error := _time_error(start, ctx.now):
        return Outcome(None, [error])
    try:
        async with ctx.db.write() as session:
            row, centre = await _write_booking(ctx, session, vehicle, centre_id, start)
            subject, body = _booked_subject(centre), _booked_body(row, centre, vehicle)
            await outbox.email_viewer(
                session,
                ctx,
                template="tyre_appointment",
                subject=subject,
                body=body,
                client_id=vehicle.client_id,
            )
    except Abort as abort:
        return Outcome(None, abort.errors)
    except IntegrityError:
        # The car's partial unique index: another booking for it committed meanwhile.
        return Outcome(None, [_already_booked()])
    ctx.loaders.clear()
    return Outcome(row, [])


async def _write_booking(
    ctx: Context, session: AsyncSession, vehicle: Vehicle, centre_id: int, start: datetime
) -> tuple[TyreAppointment, TyreServiceCentre]:
    centre = await _bookable_centre(session, centre_id)
    slot = await _slot(session, centre_id, start)
    relocation = await _tyres_arrive(session, vehicle, centre_id, start.date())
    await _close_past_booking(ctx, session, vehicle)
    values = {
        "client_id": vehicle.client_id,
        "vehicle_id": vehicle.id,
        "centre_id": centre_id,
        "relocation_id": relocation.id if relocation else None,
        "starts_at": slot.start,
        "ends_at": slot.end,
        "status": _BOOKED,
        "created_by_id": ctx.viewer.user_id,
        "created_at": ctx.now,
        "updated_at": ctx.now,
    }
    appointment_id = await _take_seat(session, slot, values)
    row = await session.get(TyreAppointment, appointment_id)
    assert row is not None
    return row, centre


async def _bookable_centre(session: AsyncSession, centre_id: int) -> TyreServiceCentre:
    """The centre, its row share-locked on PostgreSQL: bookings do not wait for each other,
    but the tyre desk closing a day or changing hours (which locks the row for update) waits
    for them, and they for it, so no booking lands on a day closed meanwhile."""
    centre = await lock_centre(session, centre_id, shared=True)
    if centre is None:
        raise Abort(_error("centreId", "NOT_FOUND", _("No such tyre service centre.")))
    if not centre.is_active:
        raise Abort(_error("centreId", "CENTRE_INACTIVE", _("This centre takes no tyres now.")))
    if centre.online_booking_url is None:
        message = _("This centre takes no online bookings: call it to book.")
        raise Abort(_error("centreId", "NO_ONLINE_BOOKING", message))
    return centre


async def _slot(session: AsyncSession, centre_id: int, start: datetime) -> SlotTime:
    """The centre's slot that begins at `start` (its hours, closed days and holidays)."""
    day = start.date()
    hours = (
        await session.execute(
            select(TyreCentreHours).where(
                col(TyreCentreHours.centre_id) == centre_id,
                col(TyreCentreHours.weekday) == day.weekday(),
            )
        )
    ).scalar_one_or_none()
    closed = (
        await session.execute(
            select(col(TyreCentreClosedDay.day)).where(
                col(TyreCentreClosedDay.centre_id) == centre_id,
                col(TyreCentreClosedDay.day) == day,
            )
        )
    ).scalars()
    for slot in day_slots(hours, day, set(closed)):
        if slot.start == start:
            return slot
    message = _("The centre has no slot then: see its slots for the free ones.")
    raise Abort(_error("start", "NOT_A_SLOT", message))


async def _tyres_arrive(
    session: AsyncSession, vehicle: Vehicle, centre_id: int, day: date
) -> TyreRelocation | None:
    """The open relocation bringing the car's tyres to the centre by `day` (None when they
    are stored there and stay); otherwise the booking is refused."""
    relocation = (
        await session.execute(
            select(TyreRelocation).where(
                col(TyreRelocation.vehicle_id) == vehicle.id,
                col(TyreRelocation.status).in_(OPEN_RELOCATION),
            )
        )
    ).scalar_one_or_none()
    if relocation is not None and relocation.to_centre_id == centre_id:
        if relocation.planned_date > day:
            message = _(
                "The car's tyres reach the centre on {planned}: book a slot from that day.",
                planned=relocation.planned_date.strftime("%d.%m.%Y"),
            )
            raise Abort(_error("start", "RELOCATION_NOT_IN_TIME", message))
        return relocation
    if relocation is None and await _stored_at(session, vehicle, centre_id):
        return None
    message = _("The car's tyres are not going to this centre: order a relocation to it first.")
    raise Abort(_error("centreId", "NO_RELOCATION", message))


async def _stored_at(session: AsyncSession, vehicle: Vehicle, centre_id: int) -> bool:
    found = await session.execute(
        select(col(TyreDeposit.id)).where(
            col(TyreDeposit.vehicle_id) == vehicle.id,
            col(TyreDeposit.centre_id) == centre_id,
            col(TyreDeposit.released_on).is_(None),
        )
    )
    return found.first() is not None


def _already_booked() -> UserErrorData:
    message = _("The car has a booked appointment already: cancel it to book another.")
    return _error("vehicleId", "ALREADY_BOOKED", message)


async def _close_past_booking(ctx: Context, session: AsyncSession, vehicle: Vehicle) -> None:
    """A booked appointment whose time has passed is done; one still to come refuses."""
    await session.execute(
        update(TyreAppointment)
        .where(
            col(TyreAppointment.vehicle_id) == vehicle.id,
            col(TyreAppointment.status) == _BOOKED,
            col(TyreAppointment.ends_at) <= ctx.now,
        )
        .values(status=AppointmentStatus.DONE, updated_at=ctx.now)
        .execution_options(synchronize_session=False)
    )
    booked = await session.execute(
        select(col(TyreAppointment.id)).where(
            col(TyreAppointment.vehicle_id) == vehicle.id, col(TyreAppointment.status) == _BOOKED
        )
    )
    if booked.first() is not None:
        raise Abort(_already_booked())


async def _take_seat(session: AsyncSession, slot: SlotTime, values: dict[str, Any]) -> int:
    """Insert into the first free seat of the slot; a seat another booking took meanwhile is
    skipped (its unique key answers "nothing inserted"), and with none left the slot is taken."""
    taken = set(
        (
            await session.execute(
                select(col(TyreAppointment.seat)).where(
                    col(TyreAppointment.centre_id) == values["centre_id"],
                    col(TyreAppointment.starts_at) == slot.start,
                    col(TyreAppointment.status) == _BOOKED,
                )
            )
        ).scalars()
    )
    for seat in range(1, slot.cars + 1):
        if seat in taken:
            continue
        inserted = await session.execute(_seat_insert(session, {**values, "seat": seat}))
        appointment_id = inserted.scalar_one_or_none()
        if appointment_id is not None:
            return int(appointment_id)
    message = _("Someone has just taken the last place in this slot: choose another.")
    raise Abort(_error("start", "SLOT_TAKEN", message))


def _seat_insert(session: AsyncSession, values: dict[str, Any]) -> Any:
    table = TyreAppointment.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # Only the seat's key is the conflict to skip: the car's key still raises (ALREADY_BOOKED).
    return (
        insert(table)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=["centre_id", "starts_at", "seat"],
            index_where=_SEAT_KEY_WHERE,
        )
        .returning(table.c.id)
    )


# -- cancelling --------------------------------------------------------------------------------


async def _appointment_of(ctx: Context, appointment_global_id: str) -> TyreAppointment:
    appointment_id = pk_of(appointment_global_id, "TyreAppointment", field="appointmentId")
    async with ctx.db.read() as session:
        row = await session.get(TyreAppointment, appointment_id)
    client_id = row.client_id if row is not None else None
    require_scope(ctx.viewer, client_id, Scope.TYRES_WRITE, field="appointmentId")
    assert row is not None
    return row


async def cancel_appointment(ctx: Context, *, appointment_global_id: str) -> Outcome:
    row = await _appointment_of(ctx, appointment_global_id)
    try:
        async with ctx.db.write() as session:
            cancelled = await _cancel(ctx, session, row)
            centre = await session.get(TyreServiceCentre, cancelled.centre_id)
            assert centre is not None
            subject = _("Tyre change at {centre} cancelled", centre=centre.name)
            body = _(
                "The tyre change at {centre} on {day} at {hour} is cancelled.",
                centre=centre.name,
                **_when(cancelled.starts_at),
            )
            await outbox.email_viewer(
                session,
                ctx,
                template="tyre_appointment",
                subject=subject,
                body=body,
                client_id=cancelled.client_id,
            )
    except Abort as abort:
        return Outcome(None, abort.errors)
    ctx.loaders.clear()
    return Outcome(cancelled, [])


async def _cancel(ctx: Context, session: AsyncSession, row: TyreAppointment) -> TyreAppointment:
    """A conditional update: only a booked appointment still to come is cancelled."""
    changed = await session.execute(
        update(TyreAppointment)
        .where(
            col(TyreAppointment.id) == row.id,
            col(TyreAppointment.status) == _BOOKED,
            col(TyreAppointment.starts_at) > ctx.now,
        )
        .values(status=AppointmentStatus.CANCELLED, updated_at=ctx.now)
        .execution_options(synchronize_session=False)
    )
    if int(changed.rowcount or 0) != 1:  # type: ignore[attr-defined]
        message = _("This appointment can no longer be cancelled: it was cancelled or has begun.")
        raise Abort(_error("appointmentId", "NOT_CANCELLABLE", message))
    cancelled = await session.get(TyreAppointment, row.id, populate_existing=True)
    assert cancelled is not None
    return cancelled


# -- e-mails -----------------------------------------------------------------------------------


def _when(start: datetime) -> dict[str, str]:
    local = start.astimezone(WARSAW)
    return {"day": local.strftime("%d.%m.%Y"), "hour": local.strftime("%H:%M")}


def _booked_subject(centre: TyreServiceCentre) -> Msg:
    return _("Tyre change booked at {centre}", centre=centre.name)


def _booked_body(row: TyreAppointment, centre: TyreServiceCentre, vehicle: Vehicle) -> Msg:
    return _(
        "The tyre change of {registration} is booked at {centre}, {street}, {city}, on {day} at "
        "{hour}. The centre's phone: {phone}.",
        registration=vehicle.registration_number,
        centre=centre.name,
        street=centre.street,
        city=centre.city,
        phone=centre.phone,
        **_when(row.starts_at),
    )


# -- the reminders job -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reminders:
    day: date  # the appointments' day in Warsaw: tomorrow
    claimed: int  # appointments this run reminded of (none twice, whatever runs at once)
    emailed: int  # of those, with a booker to write to


async def send_reminders(db: Any, *, now: datetime) -> Reminders:
    """E-mail the booker of every appointment of tomorrow (Europe/Warsaw) not reminded yet.

    One transaction: an UPDATE … WHERE reminded_at IS NULL … RETURNING claims the appointments,
    and their e-mails go into the outbox with it. A run at the same time waits for the row
    locks (PostgreSQL) or the write lock (SQLite) and then finds them claimed."""
    day = warsaw_today(now) + timedelta(days=1)
    async with db.write() as session:
        claimed = await session.execute(
            update(TyreAppointment)
            .where(
                col(TyreAppointment.status) == _BOOKED,
                col(TyreAppointment.reminded_at).is_(None),
                col(TyreAppointment.starts_at) >= warsaw_day_start(day),
                col(TyreAppointment.starts_at) < warsaw_day_start(day + timedelta(days=1)),
            )
            .values(reminded_at=now)
            .returning(col(TyreAppointment.id))
            .execution_options(synchronize_session=False)
        )
        ids = list(claimed.scalars())
        emailed = await _remind(session, ids)
    return Reminders(day=day, claimed=len(ids), emailed=emailed)


async def _remind(session: AsyncSession, ids: Sequence[int]) -> int:
    if not ids:
        return 0
    rows = await session.execute(
        select(TyreAppointment, TyreServiceCentre, Vehicle, User)
        .join(TyreServiceCentre, col(TyreServiceCentre.id) == col(TyreAppointment.centre_id))
        .join(Vehicle, col(Vehicle.id) == col(TyreAppointment.vehicle_id))
        .join(User, col(User.id) == col(TyreAppointment.created_by_id))
        .where(col(TyreAppointment.id).in_(ids))
    )
    emailed = 0
    for appointment, centre, vehicle, user in rows:
        body = _(
            "A reminder: your tyre change is tomorrow. {details}",
            details=_booked_body(appointment, centre, vehicle),
        )
        subject = _("Tomorrow: tyre change at {centre}", centre=centre.name)
        outbox.email_user(
            session,
            user,
            language=DEFAULT_LANGUAGE,
            template="tyre_appointment_reminder",
            subject=subject,
            body=body,
            client_id=appointment.client_id,
        )
        emailed += 1
    return emailed


__all__ = [
    "MAX_SLOT_DAYS",
    "Outcome",
    "Reminders",
    "book_appointment",
    "booking_url",
    "cancel_appointment",
    "centre_slots",
    "send_reminders",
    "with_plate",
]
