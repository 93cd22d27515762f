"""Loaders of online booking held by the hub (TYR-4): centres' slots with their free places,
and appointments by id.

The slots of every centre asked for in one response are one batch: three statements (the
centres' hours, their closed days in the range, the booked places per slot), whatever the
number of centres or days. Keys carry their own range; a batch reads the span of them all.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Select, bindparam, func, select

from loaders.base import BaseLoader, ByIdLoader, ManyByKeyLoader, RowReader, table_column
from loaders.rows import light_rows, row_columns
from loaders.statements import KEYS, KeysIn
from models.base import UTCDateTime
from models.tyre_booking import (
    WARSAW,
    AppointmentStatus,
    TyreAppointment,
    TyreCentreClosedDay,
    TyreCentreHours,
    day_slots,
)

SlotsKey = tuple[int, date, date]  # centre id, first and last day


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime  # aware, Europe/Warsaw
    end: datetime
    free: int


class AppointmentByIdLoader(ByIdLoader[TyreAppointment]):
    model = TyreAppointment


def _hours_statement() -> Select[Any]:
    return select(*row_columns(TyreCentreHours)).where(
        KeysIn(table_column(TyreCentreHours, "centre_id"))
    )


def _closed_statement() -> Select[Any]:
    centre_id = table_column(TyreCentreClosedDay, "centre_id")
    day = table_column(TyreCentreClosedDay, "day")
    return select(centre_id, day).where(
        KeysIn(centre_id),
        day >= bindparam("first", type_=sa.Date()),
        day <= bindparam("last", type_=sa.Date()),
    )


def _booked_statement() -> Select[Any]:
    centre_id = table_column(TyreAppointment, "centre_id")
    starts_at = table_column(TyreAppointment, "starts_at")
    return (
        select(centre_id, starts_at, func.count())
        .where(
            KeysIn(centre_id),
            table_column(TyreAppointment, "status") == AppointmentStatus.BOOKED,
            starts_at >= bindparam("since", type_=UTCDateTime()),
            starts_at < bindparam("until", type_=UTCDateTime()),
        )
        .group_by(centre_id, starts_at)
    )


class HoursByCentreIdLoader(ManyByKeyLoader[TyreCentreHours]):
    model = TyreCentreHours
    key = "centre_id"
    order_by = ("weekday",)


class SlotsByCentreLoader(BaseLoader[SlotsKey, list[Slot]]):
    """Each centre's slots over its key's days, with the places still free."""

    _statements: tuple[Select[Any], Select[Any], Select[Any]] | None = None

    @classmethod
    def statements(cls) -> tuple[Select[Any], Select[Any], Select[Any]]:
        # Built once: the PostgreSQL read path prepares each statement object once.
        if cls._statements is None:
            cls._statements = (_hours_statement(), _closed_statement(), _booked_statement())
        return cls._statements

    async def load_batch(self, connection: RowReader, keys: list[SlotsKey]) -> list[list[Slot]]:
        hours_q, closed_q, booked_q = self.statements()
        centres = sorted({centre for centre, _, _ in keys})
        first, last = min(key[1] for key in keys), max(key[2] for key in keys)
        rows = light_rows(TyreCentreHours, await connection.execute(hours_q, {KEYS: centres}))
        hours = {(row.centre_id, row.weekday): row for row in rows}
        span = {KEYS: centres, "first": first, "last": last}
        closed: defaultdict[int, set[date]] = defaultdict(set)
        for centre_id, day in await connection.execute(closed_q, span):
            closed[centre_id].add(day)
        since = datetime.combine(first, datetime.min.time(), tzinfo=WARSAW)
        until = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=WARSAW)
        booked = {
            (centre_id, start): int(count)
            for centre_id, start, count in await connection.execute(
                booked_q, {KEYS: centres, "since": since, "until": until}
            )
        }
        return [_slots(key, hours, closed[key[0]], booked) for key in keys]


def _slots(
    key: SlotsKey,
    hours: dict[tuple[int, int], Any],
    closed: set[date],
    booked: dict[tuple[int, datetime], int],
) -> list[Slot]:
    centre_id, day, last = key
    slots = []
    while day <= last:
        for slot in day_slots(hours.get((centre_id, day.weekday())), day, closed):
            taken = booked.get((centre_id, slot.start), 0)  # aware datetimes hash by instant
            slots.append(Slot(slot.start, slot.end, max(0, slot.cars - taken)))
        day += timedelta(days=1)
    return slots
