"""The lessor's tyre desk (issue 14, point 5): the queue of relocations, dispatching and
completing them, and keeping the centres' data.

Staff only: roles that read tyres see the queue, those with TYRES_MANAGE act (declared on the
mutations, schema/tyre_desk.py).

- Dispatching takes an open (ORDERED, CONFIRMED) relocation to DISPATCHED: from then on the
  fleet manager can no longer edit or cancel it (`OPEN_RELOCATION` leaves it out).
- Completing takes a dispatched (or still open) relocation to DONE and moves the car's stored
  set: the old deposit is released today, a new one (same season, size and count) starts at
  the target centre, so the stored tyres of both centres change. One transaction, made of
  conditional updates: of two completions at once one moves the set, the other hears
  `NOT_EDITABLE`.
- A centre's maximum is never lowered below what it holds (stored tyres and those on their
  way to it): the centre's row is locked while the load is counted, as an order locks it
  (resolvers/tyre_relocation.py), so a lowering and an order for the last places never
  overfill it between them.

Every change is a row of `tyre_relocation_events` and of `audit_events`; the relocation's
fleet contact (whoever ordered it) gets an e-mail on dispatch and on completion.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Select, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.access import require_staff_read
from auth.scopes import Scope
from loaders.paging import Ordering, Page
from models.i18n import DEFAULT_LANGUAGE, Msg, _
from models.identity import AuditEvent, User
from models.tyre import (
    INBOUND_RELOCATION,
    OPEN_RELOCATION,
    RelocationChange,
    RelocationStatus,
    TyreDeposit,
    TyreRelocation,
    TyreServiceCentre,
    Vehicle,
)
from resolvers import outbox
from resolvers.context import Context
from resolvers.errors import Abort, UserErrorData
from resolvers.ids import pk_of
from resolvers.paging import root_list
from resolvers.request_file import phone_error
from resolvers.tyre_centre import centre_load, lock_centre
from resolvers.tyre_centre_schedule import (
    DayHours,
    closed_days_errors,
    hours_errors,
    replace_closed_days,
    replace_hours,
)
from resolvers.tyre_relocation import _record

# The nearest planned date first; the id keeps cursors stable among relocations of one day.
QUEUE_ORDERING = Ordering(("planned_date",), descending=False)
CAPACITY_MAX = 1_000_000  # tyres; a typo of a few digits more is refused, not stored
URL_MAX = 300  # tyre_service_centres.online_booking_url


def _error(field: str | None, code: str, message: Msg) -> UserErrorData:
    return UserErrorData(field=field, code=code, message=message)


NOT_FOUND_RELOCATION = _error("relocationId", "NOT_FOUND", _("Not found."))
NOT_FOUND_CENTRE = _error("centreId", "NOT_FOUND", _("No such tyre service centre."))


# ---- the queue -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeskFilter:
    statuses: frozenset[RelocationStatus] = frozenset()
    centre_global_id: str | None = None
    client_global_id: str | None = None
    planned_from: date | None = None
    planned_to: date | None = None


def _queue_query(wanted: DeskFilter) -> Select[Any]:
    query = select(TyreRelocation)
    if wanted.statuses:
        query = query.where(col(TyreRelocation.status).in_(wanted.statuses))
    if wanted.centre_global_id is not None:
        centre_pk = pk_of(wanted.centre_global_id, "TyreServiceCentre", field="centreId")
        # A centre's desk handles both ends: the sets it sends and the sets it receives.
        query = query.where(
            or_(
                col(TyreRelocation.to_centre_id) == centre_pk,
                col(TyreRelocation.from_centre_id) == centre_pk,
            )
        )
    if wanted.client_global_id is not None:
        client_pk = pk_of(wanted.client_global_id, "Client", field="clientId")
        query = query.where(col(TyreRelocation.client_id) == client_pk)
    if wanted.planned_from is not None:
        query = query.where(col(TyreRelocation.planned_date) >= wanted.planned_from)
    if wanted.planned_to is not None:
        query = query.where(col(TyreRelocation.planned_date) <= wanted.planned_to)
    return query


async def relocation_queue(
    ctx: Context, *, wanted: DeskFilter, first: int | None, after: str | None
) -> Page[TyreRelocation]:
    """Every company's relocations for the tyre desk: staff whose role reads tyres."""
    require_staff_read(ctx.viewer, Scope.TYRES_READ)
    return await root_list(
        ctx,
        _queue_query(wanted),
        model=TyreRelocation,
        ordering=QUEUE_ORDERING,
        first=first,
        after=after,
    )


# ---- dispatch and completion -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Moved:
    relocation: TyreRelocation | None
    errors: list[UserErrorData]


async def _advance(
    session: AsyncSession,
    ctx: Context,
    pk: int,
    *,
    from_statuses: tuple[RelocationStatus, ...],
    to: RelocationStatus,
    refusal: Msg,
) -> TyreRelocation:
    """One conditional UPDATE: only a relocation still in one of `from_statuses` moves (of two
    desks at once, the second finds it moved and is refused)."""
    changed = await session.execute(
        update(TyreRelocation)
        .where(col(TyreRelocation.id) == pk, col(TyreRelocation.status).in_(from_statuses))
        .values(status=to, updated_at=ctx.now)
        .execution_options(synchronize_session=False)
    )
    row = await session.get(TyreRelocation, pk, populate_existing=True)
    if row is None:
        raise Abort(NOT_FOUND_RELOCATION)
    if int(changed.rowcount or 0) != 1:  # type: ignore[attr-defined]
        raise Abort(_error("relocationId", "NOT_EDITABLE", refusal))
    return row


async def _current_deposit(session: AsyncSession, vehicle_id: int) -> TyreDeposit:
    """The car's set in storage now: the latest, as an order picks it."""
    query = (
        select(TyreDeposit)
        .where(col(TyreDeposit.vehicle_id) == vehicle_id, col(TyreDeposit.released_on).is_(None))
        .order_by(col(TyreDeposit.stored_since).desc(), col(TyreDeposit.id).desc())
        .limit(1)
    )
    deposit = (await session.execute(query)).scalars().first()
    if deposit is None:
        message = _("The car has no tyres in storage to move.")
        raise Abort(_error("relocationId", "NO_TYRES_DEPOSITED", message))
    return deposit


async def _move_deposit(
    session: AsyncSession, ctx: Context, row: TyreRelocation
) -> tuple[TyreDeposit, TyreDeposit]:
    """The old deposit released today, a new one at the target centre."""
    old = await _current_deposit(session, row.vehicle_id)
    released = await session.execute(
        update(TyreDeposit)
        .where(col(TyreDeposit.id) == old.id, col(TyreDeposit.released_on).is_(None))
        .values(released_on=ctx.today, updated_at=ctx.now)
        .execution_options(synchronize_session=False)
    )
    if int(released.rowcount or 0) != 1:  # type: ignore[attr-defined]
        # Another relocation of the car moved the set meanwhile: a second set never appears.
        message = _("The car's tyres were moved meanwhile; look at the relocation again.")
        raise Abort(_error("relocationId", "NOT_EDITABLE", message))
    new = TyreDeposit(
        client_id=old.client_id,
        vehicle_id=old.vehicle_id,
        centre_id=row.to_centre_id,
        season=old.season,
        tyre_size=old.tyre_size,
        tyre_count=old.tyre_count,
        stored_since=ctx.today,
    )
    session.add(new)
    await session.flush()
    return old, new


def _audit(
    session: AsyncSession,
    ctx: Context,
    action: str,
    *,
    client_id: int | None = None,
    details: dict[str, Any],
) -> None:
    session.add(
        AuditEvent(
            actor_id=ctx.viewer.user_id,
            action=action,
            client_id=client_id,
            details=details,
            created_at=ctx.now,
        )
    )


def _audit_relocation(
    session: AsyncSession, ctx: Context, action: str, row: TyreRelocation, **extra: Any
) -> None:
    details = {
        "relocation_id": row.id,
        "vehicle_id": row.vehicle_id,
        "from_centre_id": row.from_centre_id,
        "to_centre_id": row.to_centre_id,
        "planned_date": row.planned_date.isoformat(),
        **extra,
    }
    _audit(session, ctx, action, client_id=row.client_id, details=details)


async def _tell_contact(
    session: AsyncSession, row: TyreRelocation, *, template: str, subject: Msg, body: Msg
) -> None:
    """To whoever ordered it, in Polish: staff acted, and their language says nothing about
    the fleet manager's. A relocation ordered by an API token has nobody to write to."""
    user = await session.get(User, row.created_by_id) if row.created_by_id else None
    if user is None or not user.is_active:
        return
    outbox.email_user(
        session,
        user,
        language=DEFAULT_LANGUAGE,
        template=template,
        subject=subject,
        body=body,
        client_id=row.client_id,
    )


async def _names(session: AsyncSession, row: TyreRelocation) -> tuple[str, TyreServiceCentre]:
    vehicle = await session.get(Vehicle, row.vehicle_id)
    centre = await session.get(TyreServiceCentre, row.to_centre_id)
    assert vehicle is not None and centre is not None  # foreign keys
    return vehicle.registration_number, centre


async def dispatch(ctx: Context, *, relocation_global_id: str) -> Moved:
    """The tyres leave: the relocation is no longer the fleet manager's to change."""
    pk = pk_of(relocation_global_id, "TyreRelocation", field="relocationId")
    refusal = _("Only an ordered or confirmed relocation can be dispatched.")
    try:
        async with ctx.db.write() as session:
            row = await _advance(
                session,
                ctx,
                pk,
                from_statuses=OPEN_RELOCATION,
                to=RelocationStatus.DISPATCHED,
                refusal=refusal,
            )
            _record(session, row, RelocationChange.DISPATCHED, ctx.viewer.user_id)
            _audit_relocation(session, ctx, "tyre_relocation.dispatch", row)
            registration, centre = await _names(session, row)
            await _tell_contact(
                session,
                row,
                template="tyre_relocation_dispatched",
                subject=_(
                    "Tyres of {car} are on their way to {centre}",
                    car=registration,
                    centre=centre.name,
                ),
                body=_(
                    "The tyres of {car} have left for {centre} (planned for {planned}). The "
                    "relocation can no longer be changed or cancelled.",
                    car=registration,
                    centre=centre.name,
                    planned=row.planned_date,
                ),
            )
    except Abort as abort:
        return Moved(None, abort.errors)
    ctx.loaders.clear()
    return Moved(row, [])


async def complete(ctx: Context, *, relocation_global_id: str) -> Moved:
    """The tyres arrived: the relocation is done and the set is stored at the target centre."""
    pk = pk_of(relocation_global_id, "TyreRelocation", field="relocationId")
    refusal = _("This relocation is done or cancelled already.")
    try:
        async with ctx.db.write() as session:
            row = await _advance(
                session,
                ctx,
                pk,
                from_statuses=INBOUND_RELOCATION,
                to=RelocationStatus.DONE,
                refusal=refusal,
            )
            old, new = await _move_deposit(session, ctx, row)
            _record(session, row, RelocationChange.COMPLETED, ctx.viewer.user_id)
            _audit_relocation(
                session,
                ctx,
                "tyre_relocation.complete",
                row,
                released_deposit_id=old.id,
                new_deposit_id=new.id,
            )
            registration, centre = await _names(session, row)
            await _tell_contact(
                session,
                row,
                template="tyre_relocation_done",
                subject=_("Tyres of {car} are at {centre}", car=registration, centre=centre.name),
                body=_(
                    "The tyres of {car} are now stored at {centre}. Contact the centre (phone "
                    "{phone}) to book the tyre change.",
                    car=registration,
                    centre=centre.name,
                    phone=centre.phone,
                ),
            )
    except Abort as abort:
        return Moved(None, abort.errors)
    ctx.loaders.clear()
    return Moved(row, [])


# ---- centre maintenance ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CentreChanges:
    """What staff change; None keeps the value. An empty `online_booking_url` removes the link."""

    capacity: int | None = None
    online_booking_url: str | None = None
    is_active: bool | None = None
    phone: str | None = None
    hours: tuple[DayHours, ...] | None = None  # every weekday it opens; replaces them all
    closed_days: tuple[date, ...] | None = None  # from today on; replaces those


@dataclass(frozen=True, slots=True)
class CentreOutcome:
    centre: TyreServiceCentre | None
    errors: list[UserErrorData]


def url_error(value: str) -> UserErrorData | None:
    """An http(s) address of a host, as people open it from the portal; no credentials in it."""
    text = value.strip()
    parts = urlsplit(text)
    if (
        len(text) <= URL_MAX
        and parts.scheme in ("http", "https")
        and parts.hostname
        and not parts.username
        and not any(char.isspace() for char in text)
    ):
        return None
    message = _("Give the booking page's address, starting with https:// or http://.")
    return _error("onlineBookingUrl", "INVALID_URL", message)


def _change_errors(changes: CentreChanges, today: date) -> list[UserErrorData]:
    errors = []
    if changes.hours is not None:
        errors += hours_errors(changes.hours)
    if changes.closed_days is not None:
        errors += closed_days_errors(changes.closed_days, today)
    if changes.capacity is not None and not 0 <= changes.capacity <= CAPACITY_MAX:
        message = _("Give a number of tyres from 0 to {limit}.", limit=CAPACITY_MAX)
        errors.append(_error("capacity", "OUT_OF_RANGE", message))
    if changes.online_booking_url and (error := url_error(changes.online_booking_url)):
        errors.append(error)
    if changes.phone is not None and (error := phone_error(changes.phone, "phone")):
        errors.append(error)
    return errors


def _values(centre: TyreServiceCentre, changes: CentreChanges) -> dict[str, Any]:
    """The columns that really change (an unchanged value is neither written nor audited)."""
    wanted: dict[str, Any] = {
        "capacity": changes.capacity,
        "is_active": changes.is_active,
        "phone": changes.phone.strip() if changes.phone is not None else None,
    }
    if changes.online_booking_url is not None:
        wanted["online_booking_url"] = changes.online_booking_url.strip() or None
    return {
        name: value
        for name, value in wanted.items()
        if (value is not None or name == "online_booking_url") and getattr(centre, name) != value
    }


async def _locked_centre(session: AsyncSession, pk: int) -> TyreServiceCentre:
    """Locked as an order locks it, and an inactive centre too: staff may open it again."""
    centre = await lock_centre(session, pk)
    if centre is None:
        raise Abort(NOT_FOUND_CENTRE)
    return centre


async def _check_capacity(session: AsyncSession, centre: TyreServiceCentre, capacity: int) -> None:
    """Only a lowering is checked: raising a centre that is over its maximum still helps."""
    assert centre.id is not None
    if capacity >= centre.capacity:
        return
    load = await centre_load(session, centre.id)
    if capacity < load:
        message = _(
            "The centre holds {load} tyres now (stored and on their way): its maximum cannot "
            "be lower.",
            load=load,
        )
        raise Abort(_error("capacity", "BELOW_LOAD", message))


async def _write_schedule(
    session: AsyncSession, ctx: Context, pk: int, changes: CentreChanges
) -> None:
    """Hours and closed days, each replaced as a whole when given, each audited."""
    if changes.hours is not None:
        hours = await replace_hours(session, pk, changes.hours)
        _audit(session, ctx, "tyre_centre.hours", details={"centre_id": pk, "hours": hours})
    if changes.closed_days is not None:
        days = await replace_closed_days(session, pk, changes.closed_days, ctx.today)
        details = {"centre_id": pk, "closed_days_from_today": days}
        _audit(session, ctx, "tyre_centre.closed_days", details=details)


async def _write_centre(
    session: AsyncSession, ctx: Context, pk: int, changes: CentreChanges
) -> TyreServiceCentre:
    centre = await _locked_centre(session, pk)
    values = _values(centre, changes)
    if "capacity" in values:
        await _check_capacity(session, centre, values["capacity"])
    await _write_schedule(session, ctx, pk, changes)
    if not values:
        return centre
    before = {name: getattr(centre, name) for name in values}
    await session.execute(
        update(TyreServiceCentre)
        .where(col(TyreServiceCentre.id) == pk)
        .values(**values, updated_at=ctx.now)
        .execution_options(synchronize_session=False)
    )
    details = {"centre_id": pk, "before": before, "after": values}
    _audit(session, ctx, "tyre_centre.update", details=details)
    fresh = await session.get(TyreServiceCentre, pk, populate_existing=True)
    assert fresh is not None
    return fresh


async def update_centre(
    ctx: Context, *, centre_global_id: str, changes: CentreChanges
) -> CentreOutcome:
    pk = pk_of(centre_global_id, "TyreServiceCentre", field="centreId")
    if errors := _change_errors(changes, ctx.today):
        return CentreOutcome(None, errors)
    try:
        async with ctx.db.write() as session:
            centre = await _write_centre(session, ctx, pk, changes)
    except Abort as abort:
        return CentreOutcome(None, abort.errors)
    ctx.loaders.clear()
    return CentreOutcome(centre, [])


__all__ = [
    "CentreChanges",
    "CentreOutcome",
    "DeskFilter",
    "Moved",
    "centre_load",
    "complete",
    "dispatch",
    "relocation_queue",
    "update_centre",
]
