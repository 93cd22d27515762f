"""The tyre desk keeps a centre's opening hours and closed days (issue 14, point 5).

Both are replaced as a whole when given (`tyreCentreUpdate(hours:, closedDays:)`): the hours of
every weekday the centre opens, and its closed days from today on (past ones stay, as history).
A day cannot be closed while appointments are booked on it (`APPOINTMENTS_BOOKED`, with how
many): the desk cancels or moves them first, with the people who booked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.clock import warsaw_day_start, warsaw_today
from models.i18n import _
from models.tyre_booking import (
    AppointmentStatus,
    TyreAppointment,
    TyreCentreClosedDay,
    TyreCentreHours,
)
from resolvers.errors import Abort, UserErrorData

SLOT_MINUTES = (15, 240)
CARS_PER_SLOT = (1, 50)
MAX_CLOSED_DAYS = 366


@dataclass(frozen=True, slots=True)
class DayHours:
    weekday: int  # 0 Monday … 6 Sunday
    opens: time
    closes: time
    slot_minutes: int
    cars_per_slot: int


def _error(field: str, code: str, message: Any) -> UserErrorData:
    return UserErrorData(field=field, code=code, message=message)


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def hours_errors(hours: Sequence[DayHours]) -> list[UserErrorData]:
    if len({day.weekday for day in hours}) != len(hours):
        return [_error("hours", "DUPLICATE_WEEKDAY", _("Give each weekday's hours once."))]
    for index, day in enumerate(hours):
        field = f"hours.{index}"
        low, high = SLOT_MINUTES
        if not 0 <= day.weekday <= 6:
            return [_error(field, "OUT_OF_RANGE", _("A weekday is 0 (Monday) to 6 (Sunday)."))]
        if not low <= day.slot_minutes <= high or not 1 <= day.cars_per_slot <= CARS_PER_SLOT[1]:
            message = _(
                "A slot lasts {low} to {high} minutes and takes 1 to {cars} cars.",
                low=low,
                high=high,
                cars=CARS_PER_SLOT[1],
            )
            return [_error(field, "OUT_OF_RANGE", message)]
        if _minutes(day.closes) - _minutes(day.opens) < day.slot_minutes:
            message = _("The centre must be open for at least one slot between its hours.")
            return [_error(field, "INVALID_HOURS", message)]
    return []


def closed_days_errors(days: Sequence[date], today: date) -> list[UserErrorData]:
    if len(days) > MAX_CLOSED_DAYS:
        message = _("At most {limit} closed days.", limit=MAX_CLOSED_DAYS)
        return [_error("closedDays", "OUT_OF_RANGE", message)]
    if any(day < today for day in days):
        message = _("Closed days are from today on; past ones stay as they were.")
        return [_error("closedDays", "PAST_DATE", message)]
    return []


async def replace_hours(
    session: AsyncSession, centre_id: int, hours: Sequence[DayHours]
) -> list[dict[str, Any]]:
    """The centre's hours, now these; answers them for the audit."""
    await session.execute(
        delete(TyreCentreHours).where(col(TyreCentreHours.centre_id) == centre_id)
    )
    rows = [
        TyreCentreHours(
            centre_id=centre_id,
            weekday=day.weekday,
            opens=day.opens,
            closes=day.closes,
            slot_minutes=day.slot_minutes,
            cars_per_slot=day.cars_per_slot,
        )
        for day in sorted(hours, key=lambda day: day.weekday)
    ]
    session.add_all(rows)
    return [
        {
            "weekday": day.weekday,
            "opens": day.opens.isoformat(),
            "closes": day.closes.isoformat(),
            "slot_minutes": day.slot_minutes,
            "cars_per_slot": day.cars_per_slot,
        }
        for day in rows
    ]


async def replace_closed_days(
    session: AsyncSession, centre_id: int, days: Sequence[date], today: date
) -> list[str]:
    """The centre's closed days from today on, now these; answers them for the audit."""
    wanted = sorted(set(days))
    await _refuse_booked(session, centre_id, wanted)
    await session.execute(
        delete(TyreCentreClosedDay).where(
            col(TyreCentreClosedDay.centre_id) == centre_id, col(TyreCentreClosedDay.day) >= today
        )
    )
    session.add_all(TyreCentreClosedDay(centre_id=centre_id, day=day) for day in wanted)
    return [day.isoformat() for day in wanted]


async def _refuse_booked(session: AsyncSession, centre_id: int, days: list[date]) -> None:
    if not days:
        return
    query = select(col(TyreAppointment.starts_at)).where(
        col(TyreAppointment.centre_id) == centre_id,
        col(TyreAppointment.status) == AppointmentStatus.BOOKED,
        col(TyreAppointment.starts_at) >= warsaw_day_start(days[0]),
        col(TyreAppointment.starts_at) < warsaw_day_start(days[-1] + timedelta(days=1)),
    )
    closing = set(days)
    starts = (await session.execute(query)).scalars()
    booked = [start for start in starts if warsaw_today(start) in closing]
    if booked:
        message = _(
            "{count} appointments are booked on the days to close: cancel or move them first.",
            count=len(booked),
        )
        raise Abort(_error("closedDays", "APPOINTMENTS_BOOKED", message))


__all__ = [
    "DayHours",
    "closed_days_errors",
    "hours_errors",
    "replace_closed_days",
    "replace_hours",
]
