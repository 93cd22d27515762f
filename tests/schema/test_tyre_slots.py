"""Online booking held by the hub (issue 14, point 4), on both databases: a centre's slots
(hours, closed days, holidays), batched; booking rules and codes; the last places taken by
twenty at once; one appointment per car; cancelling; tenancy and scopes; the booking link;
the reminders job, once per appointment."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import delete, func, select, update
from sqlmodel import col

from auth.clock import warsaw_today
from hub.cli import build_parser, cmd_reminders
from hub.demo import DEMO_MAIN_EMAIL
from models.base import utcnow
from models.calendar import add_working_days
from models.identity import User
from models.outbox import OutboxMessage
from models.tyre import TyreServiceCentre, Vehicle
from models.tyre_booking import (
    AppointmentStatus,
    TyreAppointment,
    TyreCentreClosedDay,
    TyreCentreHours,
)
from resolvers.ids import from_global_id, to_global_id
from resolvers.tyre_booking import send_reminders
from tests.auth.helpers import TOKEN_CREATE
from tests.conftest import Hub, count_statements
from tests.schema.contracts import today
from tests.schema.test_tyre_relocations import CANCEL as RELOCATION_CANCEL
from tests.schema.test_tyre_relocations import (
    MINE,
    UPDATE,
    Fleet,
    codes,
    earliest,
    fleet,
    order,
)

WARSAW = ZoneInfo("Europe/Warsaw")
POLISH = holidays.country_holidays("PL", years=range(2025, 2031))
URL = "https://rezerwacje.example.pl/book?lang=pl"

SLOTS = """query($id: ID!, $from: Date!, $to: Date!) { node(id: $id) {
  ... on TyreServiceCentre { slots(from: $from, to: $to) { start end free } } } }"""
MANY_SLOTS = """query($n: Int!, $from: Date!, $to: Date!) {
  tyreServiceCentres(onlineBooking: true, first: $n) { nodes {
    name slots(from: $from, to: $to) { start free } } } }"""
LINK = """query($id: ID!, $car: ID) { node(id: $id) {
  ... on TyreServiceCentre { bookingUrl(vehicleId: $car) plain: bookingUrl } } }"""
BOOK = """mutation($input: TyreAppointmentBookInput!) { tyreAppointmentBook(input: $input) {
  appointment { id start end status centre { name } vehicle { registrationNumber } }
  errors { field code message } } }"""
CANCEL = """mutation($input: TyreAppointmentCancelInput!) { tyreAppointmentCancel(input: $input) {
  appointment { id status } errors { field code message } } }"""


@dataclass
class Desk:
    fleet: Fleet
    centre: str  # the target's global id: online booking, weekdays 8:00-10:30, Saturday 9-10
    day: date  # a working day the cars' relocations reach the centre by


def slot_at(day: date, hour: int) -> str:
    return datetime.combine(day, time(hour), tzinfo=WARSAW).isoformat()


async def bookable(hub: Hub, cars: int) -> Desk:
    """`cars` cars with relocations ordered to a centre that takes online bookings: weekdays
    two one-hour slots (8 and 9; 10:00 would end after closing at 10:30), Saturday one (9),
    two cars a slot; none of its appointments or closed days left from other tests."""
    f = await fleet(hub, cars, room=cars)
    async with hub.db.write() as session:
        centre = await session.get(TyreServiceCentre, f.target)
        assert centre is not None
        centre.online_booking_url = URL
        for table in (TyreCentreHours, TyreCentreClosedDay, TyreAppointment):
            await session.execute(delete(table).where(col(table.centre_id) == f.target))
        for weekday in range(6):
            opens, closes = (time(9), time(10)) if weekday == 5 else (time(8), time(10, 30))
            session.add(
                TyreCentreHours(
                    centre_id=f.target,
                    weekday=weekday,
                    opens=opens,
                    closes=closes,
                    slot_minutes=60,
                    cars_per_slot=2,
                )
            )
    planned = earliest(hub)
    assert (await order(hub, f, f.cars, planned))["errors"] == []
    day = planned
    while day.weekday() > 4 or day in POLISH:
        day += timedelta(days=1)
    return Desk(f, to_global_id("TyreServiceCentre", f.target), day)


async def book(hub: Hub, car: str, centre: str, start: str, *, who: str = "anna") -> Any:
    value = {"vehicleId": car, "centreId": centre, "start": start}
    body = await hub.gql(BOOK, {"input": value}, as_=who)
    assert "errors" not in body, body
    return body["data"]["tyreAppointmentBook"]


async def slots(hub: Hub, centre: str, first: date, last: date) -> Any:
    variables = {"id": centre, "from": first.isoformat(), "to": last.isoformat()}
    return await hub.gql(SLOTS, variables, as_="anna")


async def test_slots_follow_the_hours_the_closed_days_and_public_holidays(hub: Hub) -> None:
    desk = await bookable(hub, 1)
    first = today() + timedelta(days=1)
    last = first + timedelta(days=30)  # 31 days: the most one answer holds
    days = [first + timedelta(days=n) for n in range(31)]
    closed = next(d for d in days if d.weekday() < 5 and d not in POLISH)
    async with hub.db.write() as session:
        session.add(TyreCentreClosedDay(centre_id=desk.fleet.target, day=closed))
    body = await slots(hub, desk.centre, first, last)
    assert "errors" not in body, body
    got = body["data"]["node"]["slots"]
    expected = []
    for n in range(31):
        day = first + timedelta(days=n)
        if day == closed or day in POLISH or day.weekday() == 6:
            continue
        hours = (9,) if day.weekday() == 5 else (8, 9)
        expected += [(slot_at(day, h), slot_at(day, h + 1), 2) for h in hours]
    assert [(s["start"], s["end"], s["free"]) for s in got] == expected
    assert got[0]["start"].endswith(("+01:00", "+02:00"))  # Warsaw wall time, with its offset


async def test_a_public_holiday_on_a_weekday_has_no_slots(hub: Hub) -> None:
    desk = await bookable(hub, 1)
    holiday = next(d for d in sorted(POLISH) if d > today() + timedelta(days=1) and d.weekday() < 5)
    body = await slots(hub, desk.centre, holiday - timedelta(days=1), holiday + timedelta(days=1))
    days = {date.fromisoformat(s["start"][:10]) for s in body["data"]["node"]["slots"]}
    around = {holiday + timedelta(days=n) for n in (-1, 1)}
    open_around = {d for d in around if d.weekday() < 6 and d not in POLISH and d > today()}
    assert holiday not in days and days == open_around


async def test_slots_take_at_most_31_days_from_today_and_none_without_online_booking(
    hub: Hub,
) -> None:
    desk = await bookable(hub, 1)
    first = today()
    too_long = await slots(hub, desk.centre, first, first + timedelta(days=31))
    assert too_long["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    past = await slots(hub, desk.centre, first - timedelta(days=1), first)
    assert past["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    other = to_global_id("TyreServiceCentre", desk.fleet.other)
    async with hub.db.write() as session:
        await session.execute(
            update(TyreServiceCentre)
            .where(col(TyreServiceCentre.id) == desk.fleet.other)
            .values(online_booking_url=None)
        )
    none = await slots(hub, other, first, first + timedelta(days=6))
    assert none["data"]["node"]["slots"] == []


async def test_slots_of_many_centres_cost_the_same_statements_as_of_one(hub: Hub) -> None:
    first = today() + timedelta(days=1)
    variables = {"from": first.isoformat(), "to": (first + timedelta(days=13)).isoformat()}
    counts = {}
    await hub.gql(MANY_SLOTS, {"n": 1, **variables}, as_="anna")  # the viewer cached, as later
    for n in (1, 8):
        with count_statements(hub.db) as seen:
            body = await hub.gql(MANY_SLOTS, {"n": n, **variables}, as_="anna")
        assert "errors" not in body, body
        centres = body["data"]["tyreServiceCentres"]["nodes"]
        assert len(centres) == n and all(c["slots"] for c in centres)  # the demo's hours
        counts[n] = len(seen)
    assert counts[8] == counts[1]


async def test_a_booking_answers_the_appointment_takes_a_place_and_e_mails_the_booker(
    hub: Hub,
) -> None:
    desk = await bookable(hub, 1)
    payload = await book(hub, desk.fleet.cars[0], desk.centre, slot_at(desk.day, 8))
    assert payload["errors"] == []
    appointment = payload["appointment"]
    assert appointment["start"] == slot_at(desk.day, 8)
    assert appointment["end"] == slot_at(desk.day, 9)
    assert appointment["status"] == "BOOKED"
    assert appointment["centre"]["name"] == desk.fleet.target_name
    after = await slots(hub, desk.centre, desk.day, desk.day)
    assert [s["free"] for s in after["data"]["node"]["slots"]] == [1, 2]
    async with hub.db.read() as session:
        mail = (
            (
                await session.execute(
                    select(OutboxMessage)
                    .where(col(OutboxMessage.template) == "tyre_appointment")
                    .order_by(col(OutboxMessage.id).desc())
                )
            )
            .scalars()
            .first()
        )
    assert mail is not None and mail.recipient == DEMO_MAIN_EMAIL
    assert desk.fleet.phone in mail.body and desk.day.strftime("%d.%m.%Y") in mail.body


async def test_only_a_slot_still_to_come_of_the_centres_hours_can_be_booked(hub: Hub) -> None:
    desk = await bookable(hub, 1)
    car, centre = desk.fleet.cars[0], desk.centre
    half_past = datetime.combine(desk.day, time(8, 30), tzinfo=WARSAW).isoformat()
    assert codes(await book(hub, car, centre, half_past)) == ["NOT_A_SLOT"]
    assert codes(await book(hub, car, centre, slot_at(desk.day, 10))) == ["NOT_A_SLOT"]
    sunday = desk.day + timedelta(days=6 - desk.day.weekday())
    assert codes(await book(hub, car, centre, slot_at(sunday, 8))) == ["NOT_A_SLOT"]
    async with hub.db.write() as session:
        session.add(TyreCentreClosedDay(centre_id=desk.fleet.target, day=desk.day))
    assert codes(await book(hub, car, centre, slot_at(desk.day, 8))) == ["NOT_A_SLOT"]
    yesterday = today() - timedelta(days=1)
    assert codes(await book(hub, car, centre, slot_at(yesterday, 8))) == ["SLOT_IN_PAST"]
    far = today() + timedelta(days=400)
    assert codes(await book(hub, car, centre, slot_at(far, 8))) == ["TOO_FAR"]
    # Naive: a Warsaw wall time, as the slots list it.
    naive = datetime.combine(add_working_days(desk.day, 1), time(8)).isoformat()
    assert (await book(hub, car, centre, naive))["errors"] == []


async def test_the_cars_tyres_must_reach_the_centre_by_the_slots_day(hub: Hub) -> None:
    desk = await bookable(hub, 2)
    car = desk.fleet.cars[0]
    later = desk.day + timedelta(days=14)
    edit = {"relocationId": await _relocation_of(hub, car), "plannedDate": later.isoformat()}
    update_doc = """mutation($input: TyreRelocationUpdateInput!) {
      tyreRelocationUpdate(input: $input) { errors { code } } }"""
    assert (await hub.gql(update_doc, {"input": edit}, as_="anna"))["data"]
    assert codes(await book(hub, car, desk.centre, slot_at(desk.day, 8))) == [
        "RELOCATION_NOT_IN_TIME"
    ]
    home = to_global_id("TyreServiceCentre", desk.fleet.home)
    async with hub.db.write() as session:
        await session.execute(
            update(TyreServiceCentre)
            .where(col(TyreServiceCentre.id) == desk.fleet.home)
            .values(online_booking_url=URL)
        )
        hours = await session.execute(
            select(TyreCentreHours).where(col(TyreCentreHours.centre_id) == desk.fleet.home)
        )
        if hours.first() is None:
            for weekday in range(5):
                session.add(
                    TyreCentreHours(
                        centre_id=desk.fleet.home,
                        weekday=weekday,
                        opens=time(8),
                        closes=time(10),
                        slot_minutes=60,
                        cars_per_slot=2,
                    )
                )
    # The tyres are leaving home (an open relocation elsewhere): no booking there.
    assert codes(await book(hub, car, home, slot_at(desk.day, 8))) == ["NO_RELOCATION"]
    other = to_global_id("TyreServiceCentre", desk.fleet.other)
    async with hub.db.write() as session:
        await session.execute(
            update(TyreServiceCentre)
            .where(col(TyreServiceCentre.id) == desk.fleet.other)
            .values(online_booking_url=None)
        )
    assert codes(await book(hub, car, other, slot_at(desk.day, 8))) == ["NO_ONLINE_BOOKING"]
    cancel_doc = """mutation($input: TyreRelocationCancelInput!) {
      tyreRelocationCancel(input: $input) { errors { code } } }"""
    second = desk.fleet.cars[1]
    cancel = {"input": {"relocationId": await _relocation_of(hub, second)}}
    assert (await hub.gql(cancel_doc, cancel, as_="anna"))["data"]
    # Its tyres stay where they are stored: that centre's slots need no relocation.
    payload = await book(hub, second, home, slot_at(desk.day, 9))
    assert payload["errors"] == [], payload


async def _relocation_of(hub: Hub, car: str) -> str:
    doc = """query($id: ID!) { node(id: $id) { ... on Vehicle { openRelocation { id } } } }"""
    body = await hub.gql(doc, {"id": car}, as_="anna")
    return str(body["data"]["node"]["openRelocation"]["id"])


async def test_a_relocation_moved_later_or_cancelled_cancels_its_appointment(hub: Hub) -> None:
    desk = await bookable(hub, 2)
    first, second = desk.fleet.cars
    for car in desk.fleet.cars:
        assert (await book(hub, car, desk.centre, slot_at(desk.day, 8)))["errors"] == []
    later = {
        "relocationId": await _relocation_of(hub, first),
        "plannedDate": (desk.day + timedelta(days=7)).isoformat(),
    }
    moved = await hub.gql(UPDATE, {"input": later}, as_="anna")
    assert moved["data"]["tyreRelocationUpdate"]["errors"] == []
    cancel = {"relocationId": await _relocation_of(hub, second)}
    assert (await hub.gql(RELOCATION_CANCEL, {"input": cancel}, as_="anna"))["data"][
        "tyreRelocationCancel"
    ]["errors"] == []
    async with hub.db.read() as session:
        statuses = (
            (
                await session.execute(
                    select(col(TyreAppointment.status)).where(
                        col(TyreAppointment.centre_id) == desk.fleet.target
                    )
                )
            )
            .scalars()
            .all()
        )
    assert sorted(statuses) == ["CANCELLED", "CANCELLED"]  # the tyres would not be there
    after = await slots(hub, desk.centre, desk.day, desk.day)
    assert [s["free"] for s in after["data"]["node"]["slots"]] == [2, 2]


async def test_twenty_bookings_at_once_for_two_places_make_two_and_eighteen_slot_taken(
    hub: Hub,
) -> None:
    desk = await bookable(hub, 20)
    start = slot_at(desk.day, 9)
    answers = await asyncio.gather(*(book(hub, car, desk.centre, start) for car in desk.fleet.cars))
    booked = [a for a in answers if a["errors"] == []]
    refused = [codes(a) for a in answers if a["errors"]]
    assert len(booked) == 2 and refused == [["SLOT_TAKEN"]] * 18
    async with hub.db.read() as session:
        seats = await session.execute(
            select(col(TyreAppointment.seat)).where(
                col(TyreAppointment.centre_id) == desk.fleet.target,
                col(TyreAppointment.status) == AppointmentStatus.BOOKED,
            )
        )
        assert sorted(seats.scalars()) == [1, 2]


async def test_a_car_has_one_booked_appointment_even_when_booking_at_once(hub: Hub) -> None:
    desk = await bookable(hub, 1)
    car = desk.fleet.cars[0]
    days = [desk.day, *(add_working_days(desk.day, n) for n in range(1, 5))]
    starts = [slot_at(day, hour) for day in days for hour in (8, 9)]
    answers = await asyncio.gather(*(book(hub, car, desk.centre, s) for s in starts))
    assert sum(1 for a in answers if a["errors"] == []) == 1
    assert {tuple(codes(a)) for a in answers if a["errors"]} == {("ALREADY_BOOKED",)}
    again = await book(hub, car, desk.centre, slot_at(add_working_days(desk.day, 6), 8))
    assert codes(again) == ["ALREADY_BOOKED"]


async def test_cancelling_frees_the_place_and_cannot_be_repeated(hub: Hub) -> None:
    desk = await bookable(hub, 3)
    start = slot_at(desk.day, 8)
    first = await book(hub, desk.fleet.cars[0], desk.centre, start)
    assert (await book(hub, desk.fleet.cars[1], desk.centre, start))["errors"] == []
    assert codes(await book(hub, desk.fleet.cars[2], desk.centre, start)) == ["SLOT_TAKEN"]
    cancel = {"input": {"appointmentId": first["appointment"]["id"]}}
    done = (await hub.gql(CANCEL, cancel, as_="anna"))["data"]["tyreAppointmentCancel"]
    assert done["errors"] == [] and done["appointment"]["status"] == "CANCELLED"
    again = (await hub.gql(CANCEL, cancel, as_="anna"))["data"]["tyreAppointmentCancel"]
    assert codes(again) == ["NOT_CANCELLABLE"]
    assert (await book(hub, desk.fleet.cars[2], desk.centre, start))["errors"] == []
    # The car of the cancelled one may book again.
    assert (await book(hub, desk.fleet.cars[0], desk.centre, slot_at(desk.day, 9)))["errors"] == []


async def test_another_companys_car_and_appointment_are_not_found(hub: Hub) -> None:
    desk = await bookable(hub, 1)
    viewer = await hub.gql(MINE, as_="anna")
    annas = [from_global_id(c["client"]["id"])[1] for c in viewer["data"]["viewer"]["clients"]]
    async with hub.db.write() as session:
        theirs = (
            await session.execute(
                select(Vehicle).where(col(Vehicle.client_id).not_in(annas)).limit(1)
            )
        ).scalar_one()
        row = TyreAppointment(
            client_id=theirs.client_id,
            vehicle_id=theirs.id,  # type: ignore[arg-type]
            centre_id=desk.fleet.target,
            starts_at=datetime.combine(desk.day, time(9), tzinfo=WARSAW),
            ends_at=datetime.combine(desk.day, time(10), tzinfo=WARSAW),
            seat=2,
            status=AppointmentStatus.BOOKED,
        )
        session.add(row)
        await session.flush()
        foreign_car = to_global_id("Vehicle", theirs.id)  # type: ignore[arg-type]
        foreign = to_global_id("TyreAppointment", row.id)  # type: ignore[arg-type]
    value = {"vehicleId": foreign_car, "centreId": desk.centre, "start": slot_at(desk.day, 8)}
    body = await hub.gql(BOOK, {"input": value}, as_="anna")
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    body = await hub.gql(CANCEL, {"input": {"appointmentId": foreign}}, as_="anna")
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    body = await hub.gql(LINK, {"id": desk.centre, "car": foreign_car}, as_="anna")
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    body = await hub.gql("query($id: ID!) { node(id: $id) { id } }", {"id": foreign}, as_="anna")
    assert body["data"]["node"] is None


async def test_without_tyres_write_or_with_a_read_only_token_nothing_is_booked(hub: Hub) -> None:
    desk = await bookable(hub, 1)
    value = {"vehicleId": desk.fleet.cars[0], "centreId": desk.centre}
    value["start"] = slot_at(desk.day, 8)
    body = await hub.gql(BOOK, {"input": value}, as_="jan")  # the subaccount: read scopes only
    assert body["errors"][0]["extensions"]["code"] in ("FORBIDDEN", "NOT_FOUND")
    created = await hub.gql(
        TOKEN_CREATE, {"c": desk.fleet.client, "s": None, "ro": True}, as_="anna"
    )
    read_only = created["data"]["apiTokenCreate"]["token"]
    body = await hub.gql(BOOK, {"input": value}, token=read_only)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    async with hub.db.read() as session:
        count = await session.execute(
            select(func.count()).where(
                col(TyreAppointment.vehicle_id) == from_global_id(desk.fleet.cars[0])[1]
            )
        )
        assert count.scalar_one() == 0


async def test_the_booking_link_carries_the_cars_plate_and_is_null_without_online_booking(
    hub: Hub,
) -> None:
    desk = await bookable(hub, 1)
    body = await hub.gql(LINK, {"id": desk.centre, "car": desk.fleet.cars[0]}, as_="anna")
    node = body["data"]["node"]
    async with hub.db.read() as session:
        car = await session.get(Vehicle, from_global_id(desk.fleet.cars[0])[1])
    assert car is not None
    assert node["plain"] == URL
    assert node["bookingUrl"] == f"{URL}&rej={car.registration_number}"
    other = to_global_id("TyreServiceCentre", desk.fleet.other)
    async with hub.db.write() as session:
        await session.execute(
            update(TyreServiceCentre)
            .where(col(TyreServiceCentre.id) == desk.fleet.other)
            .values(online_booking_url=None)
        )
    body = await hub.gql(LINK, {"id": other, "car": desk.fleet.cars[0]}, as_="anna")
    assert body["data"]["node"] == {"bookingUrl": None, "plain": None}


async def _appointment(hub: Hub, car: str, centre: int, start: datetime, **extra: Any) -> int:
    async with hub.db.write() as session:
        vehicle = await session.get(Vehicle, from_global_id(car)[1])
        user = (
            await session.execute(select(User).where(col(User.email) == DEMO_MAIN_EMAIL))
        ).scalar_one()
        assert vehicle is not None
        row = TyreAppointment(
            client_id=vehicle.client_id,
            vehicle_id=vehicle.id,  # type: ignore[arg-type]
            centre_id=centre,
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            seat=1,
            status=extra.pop("status", AppointmentStatus.BOOKED),
            created_by_id=user.id,
            **extra,
        )
        session.add(row)
        await session.flush()
        return row.id  # type: ignore[return-value]


async def test_reminders_go_the_day_before_once_even_when_run_twice_at_once(hub: Hub) -> None:
    desk = await bookable(hub, 4)
    now = utcnow()
    tomorrow = warsaw_today(now) + timedelta(days=1)
    cars, centre = desk.fleet.cars, desk.fleet.target

    def at(day: date, hour: int) -> datetime:
        return datetime.combine(day, time(hour), tzinfo=WARSAW).astimezone(UTC)

    due = [
        await _appointment(hub, cars[0], centre, at(tomorrow, 0)),  # the day's first minute
        await _appointment(hub, cars[1], centre, at(tomorrow, 23)),
    ]
    await _appointment(hub, cars[2], centre, at(tomorrow + timedelta(days=1), 0))  # not yet
    await _appointment(hub, cars[3], centre, at(tomorrow, 9), status=AppointmentStatus.CANCELLED)
    runs = await asyncio.gather(*(send_reminders(hub.db, now=now) for _ in range(2)))
    assert sorted(r.claimed for r in runs) == [0, 2] and {r.day for r in runs} == {tomorrow}
    assert (await send_reminders(hub.db, now=now)).claimed == 0
    async with hub.db.read() as session:
        mail = (
            (
                await session.execute(
                    select(OutboxMessage).where(
                        col(OutboxMessage.template) == "tyre_appointment_reminder",
                        col(OutboxMessage.created_at) >= now,
                    )
                )
            )
            .scalars()
            .all()
        )
        reminded = await session.execute(
            select(col(TyreAppointment.id)).where(col(TyreAppointment.reminded_at).is_not(None))
        )
        assert set(due) <= set(reminded.scalars())
    assert len(mail) == 2 and {m.recipient for m in mail} == {DEMO_MAIN_EMAIL}
    assert all(tomorrow.strftime("%d.%m.%Y") in m.body for m in mail)


def test_leasehub_reminders_is_a_command() -> None:
    assert build_parser().parse_args(["reminders"]).handler is cmd_reminders


async def test_a_centre_shows_its_opening_hours_per_weekday(hub: Hub) -> None:
    desk = await bookable(hub, 1)
    doc = """query($id: ID!) { node(id: $id) { ... on TyreServiceCentre {
      openingHours { weekday opens closes slotMinutes carsPerSlot } } } }"""
    hours = (await hub.gql(doc, {"id": desk.centre}, as_="anna"))["data"]["node"]["openingHours"]
    assert [day["weekday"] for day in hours] == [0, 1, 2, 3, 4, 5]  # Sunday closed
    assert hours[0] == {
        "weekday": 0,
        "opens": "08:00:00",
        "closes": "10:30:00",
        "slotMinutes": 60,
        "carsPerSlot": 2,
    }
    assert hours[5]["opens"] == "09:00:00" and hours[5]["closes"] == "10:00:00"
