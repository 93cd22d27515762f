"""Online booking held by the hub (TYR-4): a centre's opening hours and closed days, and the
appointments booked in its slots.

A slot is `slot_minutes` long, starting at `opens` and every `slot_minutes` after it while it
ends by `closes`, on a weekday the centre has hours for, unless the day is closed (a row of
`tyre_centre_closed_days`) or a Polish public holiday (`models/calendar.py`, always closed).
`cars_per_slot` cars fit in one slot: an appointment takes one of its seats 1..cars_per_slot,
and a partial unique key on (centre, start, seat) of booked appointments lets no seat be taken
twice, so the last free place taken by two at once goes to one of them on either database.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Field

from models.base import Timestamped, UTCDateTime, client_fk, enum_type
from models.calendar import public_holidays

WARSAW = ZoneInfo("Europe/Warsaw")  # hours are the centre's wall time


class AppointmentStatus(enum.StrEnum):
    BOOKED = "BOOKED"
    CANCELLED = "CANCELLED"
    DONE = "DONE"  # its time has passed (closed when the car books its next one)


_BOOKED = sa.text("status = 'BOOKED'")


class TyreCentreHours(Timestamped, table=True):
    """A centre's opening hours on one weekday (0 Monday … 6 Sunday); no row: closed."""

    __tablename__ = "tyre_centre_hours"
    __table_args__ = (
        sa.Index("uq_tyre_centre_hours_weekday", "centre_id", "weekday", unique=True),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="ck_tyre_centre_hours_weekday"),
        sa.CheckConstraint("opens < closes", name="ck_tyre_centre_hours_order"),
        sa.CheckConstraint(
            "slot_minutes > 0 AND cars_per_slot > 0", name="ck_tyre_centre_hours_slots"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    centre_id: int = Field(foreign_key="tyre_service_centres.id", ondelete="CASCADE")
    weekday: int
    opens: time  # Europe/Warsaw wall time
    closes: time
    slot_minutes: int
    cars_per_slot: int


class TyreCentreClosedDay(Timestamped, table=True):
    """A day a centre is closed besides public holidays (which are closed anyway)."""

    __tablename__ = "tyre_centre_closed_days"
    __table_args__ = (sa.Index("uq_tyre_centre_closed_days_day", "centre_id", "day", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    centre_id: int = Field(foreign_key="tyre_service_centres.id", ondelete="CASCADE")
    day: date
    reason: str | None = Field(default=None, max_length=200)


class TyreAppointment(Timestamped, table=True):
    """A car's tyre change booked in one of a centre's slots."""

    __tablename__ = "tyre_appointments"
    __table_args__ = (
        # No seat of a slot is taken twice: the database, not a count, decides the last place.
        sa.Index(
            "uq_tyre_appointments_seat",
            "centre_id",
            "starts_at",
            "seat",
            unique=True,
            postgresql_where=_BOOKED,
            sqlite_where=_BOOKED,
        ),
        # One booked appointment per car.
        sa.Index(
            "uq_tyre_appointments_vehicle",
            "vehicle_id",
            unique=True,
            postgresql_where=_BOOKED,
            sqlite_where=_BOOKED,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = client_fk()
    vehicle_id: int = Field(foreign_key="vehicles.id", index=True, ondelete="CASCADE")
    centre_id: int = Field(foreign_key="tyre_service_centres.id", index=True)
    relocation_id: int | None = Field(
        default=None, foreign_key="tyre_relocations.id", ondelete="SET NULL"
    )
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    seat: int  # 1..cars_per_slot of the slot's hours when booked
    status: AppointmentStatus = Field(sa_type=enum_type(AppointmentStatus))
    created_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    # Set by the conditional update that claims the reminder: it is sent once.
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# -- slots: one rule for the list, the booking and the demo ----------------------------------


class Hours(Protocol):
    """What a slot is made of: an hours row, an entity or a light row."""

    @property
    def opens(self) -> time: ...
    @property
    def closes(self) -> time: ...
    @property
    def slot_minutes(self) -> int: ...
    @property
    def cars_per_slot(self) -> int: ...


@dataclass(frozen=True, slots=True)
class SlotTime:
    start: datetime  # aware, Europe/Warsaw
    end: datetime
    cars: int  # places in the slot


def is_closed(day: date, closed_days: Collection[date]) -> bool:
    """A closed day of the centre's, or a Polish public holiday (always closed)."""
    return day in closed_days or day in public_holidays(day.year)


def day_slots(hours: Hours | None, day: date, closed_days: Collection[date] = ()) -> list[SlotTime]:
    """The slots of one day: from opening, one after another, each ending by closing time.

    Wall-clock arithmetic in Europe/Warsaw: a slot at 8:00 is at 8:00 in winter and summer."""
    if hours is None or is_closed(day, closed_days):
        return []
    step = timedelta(minutes=hours.slot_minutes)
    start = datetime.combine(day, hours.opens, tzinfo=WARSAW)
    closing = datetime.combine(day, hours.closes, tzinfo=WARSAW)
    slots = []
    while start + step <= closing:
        slots.append(SlotTime(start, start + step, hours.cars_per_slot))
        start += step
    return slots
