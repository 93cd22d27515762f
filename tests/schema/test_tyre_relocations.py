"""Ordering, editing and cancelling tyre relocations (issue 14, point 3), on both databases:
the 4-working-day rule, the centre's room under concurrent orders, one open relocation per
car, tenancy and scopes, the history and the e-mail."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlmodel import col

from hub.demo import DEMO_MAIN_EMAIL
from models.calendar import RELOCATION_WORKING_DAYS, add_working_days
from models.outbox import OutboxMessage
from models.tyre import (
    RelocationStatus,
    TyreDeposit,
    TyreRelocation,
    TyreSeason,
    TyreServiceCentre,
    Vehicle,
)
from resolvers.ids import from_global_id, to_global_id
from tests.auth.helpers import TOKEN_CREATE
from tests.conftest import Hub

ORDER = """mutation($input: TyreRelocationOrderInput!) { tyreRelocationOrder(input: $input) {
  relocations { id plannedDate status tyreCount centre { name } fromCentre { name }
    vehicle { registrationNumber } history { change plannedDate byMe centre { name } } }
  message errors { field code message } } }"""
UPDATE = """mutation($input: TyreRelocationUpdateInput!) { tyreRelocationUpdate(input: $input) {
  relocations { id plannedDate status centre { name } history { change } }
  message errors { field code message } } }"""
CANCEL = """mutation($input: TyreRelocationCancelInput!) { tyreRelocationCancel(input: $input) {
  relocations { id status history { change } } errors { field code message } } }"""
MINE = "{ viewer { clients { client { id } } } }"


@dataclass
class Fleet:
    client: str
    client_pk: int
    cars: list[str]  # global ids, each with a set of 4 stored at `home`
    home: int
    target: int  # an active centre with room for `room` more sets
    other: int  # another active one, with room for one more set
    target_name: str
    phone: str


async def fleet(hub: Hub, cars: int, *, room: int) -> Fleet:
    """`cars` new cars of anna's first company, each with 4 tyres at one centre, and another
    centre with room for exactly `room` sets of 4."""
    viewer = await hub.gql(MINE, as_="anna")
    client = viewer["data"]["viewer"]["clients"][0]["client"]["id"]
    client_pk = from_global_id(client)[1]
    async with hub.db.write() as session:
        centres = (
            (await session.execute(select(TyreServiceCentre).order_by(TyreServiceCentre.id)))
            .scalars()
            .all()
        )
        home, target, other = centres[0], centres[1], centres[2]
        home.is_active = target.is_active = other.is_active = True
        ids = []
        for n in range(cars):
            tag = uuid.uuid4().hex[:6].upper()
            car = Vehicle(
                client_id=client_pk,
                registration_number=f"WT{tag}"[:10],
                vin=f"VF1{tag}{n:08d}"[:17],
                make="Skoda",
                model="Octavia",
            )
            session.add(car)
            await session.flush()
            session.add(
                TyreDeposit(
                    client_id=client_pk,
                    vehicle_id=car.id,
                    centre_id=home.id,
                    season=TyreSeason.WINTER,
                    tyre_size="205/55 R16",
                    tyre_count=4,
                    stored_since=date(2026, 4, 1),
                )
            )
            ids.append(to_global_id("Vehicle", car.id))  # type: ignore[arg-type]
        await session.flush()
        assert home.id is not None and target.id is not None and other.id is not None
        target.capacity = await _load(session, target.id) + 4 * room
        other.capacity = await _load(session, other.id) + 4
        return Fleet(
            client, client_pk, ids, home.id, target.id, other.id, target.name, target.phone
        )


async def _load(session: Any, centre_id: int) -> int:
    stored = await session.execute(
        select(func.coalesce(func.sum(TyreDeposit.tyre_count), 0)).where(
            TyreDeposit.centre_id == centre_id, col(TyreDeposit.released_on).is_(None)
        )
    )
    coming = await session.execute(
        select(func.coalesce(func.sum(TyreRelocation.tyre_count), 0)).where(
            TyreRelocation.to_centre_id == centre_id,
            col(TyreRelocation.status).in_(["ORDERED", "CONFIRMED", "DISPATCHED"]),
        )
    )
    return int(stored.scalar_one()) + int(coming.scalar_one())


def earliest(hub: Hub) -> date:
    from auth.clock import warsaw_today
    from models.base import utcnow

    return add_working_days(warsaw_today(utcnow()), RELOCATION_WORKING_DAYS)


async def order(
    hub: Hub, f: Fleet, cars: list[str], planned: date, *, who: str = "anna", **extra: Any
) -> dict[str, Any]:
    value = {
        "clientId": f.client,
        "vehicleIds": cars,
        "centreId": to_global_id("TyreServiceCentre", f.target),
        "plannedDate": planned.isoformat(),
    } | extra
    body = await hub.gql(ORDER, {"input": value}, as_=who)
    assert "errors" not in body, body
    return dict(body["data"]["tyreRelocationOrder"])


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["errors"]]


async def test_an_order_for_two_cars_answers_the_guides_instruction_and_records_who(
    hub: Hub,
) -> None:
    f = await fleet(hub, 2, room=2)
    planned = earliest(hub)
    async with hub.db.read() as session:
        before = (await session.execute(select(func.max(OutboxMessage.id)))).scalar_one() or 0
    payload = await order(hub, f, f.cars, planned)
    assert payload["errors"] == []
    rows = payload["relocations"]
    assert [r["status"] for r in rows] == ["ORDERED", "ORDERED"]
    assert {r["plannedDate"] for r in rows} == {planned.isoformat()}
    assert rows[0]["centre"]["name"] == f.target_name and rows[0]["tyreCount"] == 4
    assert rows[0]["history"] == [
        {
            "change": "ORDERED",
            "plannedDate": planned.isoformat(),
            "byMe": True,
            "centre": {"name": f.target_name},
        }
    ]
    message = payload["message"]
    assert f.target_name in message and f.phone in message
    assert "relokacja opon trwa minimum 4 dni robocze" in message  # the guide's reminder
    async with hub.db.read() as session:
        mail = (
            (
                await session.execute(
                    select(OutboxMessage).where(
                        OutboxMessage.template == "tyre_relocation", OutboxMessage.id > before
                    )
                )
            )
            .scalars()
            .all()
        )
    assert [m.recipient for m in mail] == [DEMO_MAIN_EMAIL] and f.phone in mail[0].body


async def test_the_date_must_be_four_working_days_ahead_and_within_a_year(hub: Hub) -> None:
    f = await fleet(hub, 1, room=1)
    first = earliest(hub)
    too_soon = await order(hub, f, f.cars, first - timedelta(days=1))
    assert codes(too_soon) == ["TOO_SOON"] and first.isoformat() in too_soon["errors"][0]["message"]
    assert codes(await order(hub, f, f.cars, first + timedelta(days=400))) == ["TOO_FAR"]
    assert (await order(hub, f, f.cars, first))["errors"] == []


async def test_a_full_centre_refuses_and_twenty_orders_at_once_never_overfill_it(hub: Hub) -> None:
    f = await fleet(hub, 20, room=3)
    planned = earliest(hub)
    answers = await asyncio.gather(*(order(hub, f, [car], planned) for car in f.cars))
    placed = [a for a in answers if a["errors"] == []]
    refused = [a for a in answers if a["errors"]]
    assert len(placed) == 3 and {tuple(codes(a)) for a in refused} == {("CENTRE_FULL",)}
    async with hub.db.read() as session:
        centre = await session.get(TyreServiceCentre, f.target)
        assert centre is not None and await _load(session, f.target) == centre.capacity


async def test_a_car_with_an_open_relocation_is_edited_not_duplicated(hub: Hub) -> None:
    f = await fleet(hub, 1, room=2)
    planned = earliest(hub)
    first = (await order(hub, f, f.cars, planned))["relocations"][0]
    again = (await order(hub, f, f.cars, planned + timedelta(days=7)))["relocations"][0]
    assert again["id"] == first["id"]
    assert [h["change"] for h in again["history"]] == ["ORDERED", "UPDATED"]
    async with hub.db.read() as session:
        count = await session.execute(
            select(func.count()).where(
                TyreRelocation.vehicle_id == from_global_id(f.cars[0])[1],
                col(TyreRelocation.status).in_(["ORDERED", "CONFIRMED"]),
            )
        )
        assert count.scalar_one() == 1


async def test_two_orders_at_once_for_the_same_car_make_one_relocation(hub: Hub) -> None:
    f = await fleet(hub, 1, room=4)
    planned = earliest(hub)
    answers = await asyncio.gather(*(order(hub, f, f.cars, planned) for _ in range(10)))
    assert all(a["errors"] == [] for a in answers)
    assert len({a["relocations"][0]["id"] for a in answers}) == 1


async def test_edit_then_cancel_and_a_cancelled_relocation_stays_cancelled(hub: Hub) -> None:
    f = await fleet(hub, 1, room=1)
    planned = earliest(hub)
    relocation = (await order(hub, f, f.cars, planned))["relocations"][0]["id"]
    later = planned + timedelta(days=14)
    edit = {"relocationId": relocation, "plannedDate": later.isoformat()}
    edited = (await hub.gql(UPDATE, {"input": edit}, as_="anna"))["data"]["tyreRelocationUpdate"]
    assert edited["errors"] == [] and edited["relocations"][0]["plannedDate"] == later.isoformat()
    assert f.phone in edited["message"]
    home = {"relocationId": relocation, "centreId": to_global_id("TyreServiceCentre", f.home)}
    edited = (await hub.gql(UPDATE, {"input": home}, as_="anna"))["data"]["tyreRelocationUpdate"]
    assert codes(edited) == ["ALREADY_AT_CENTRE"]
    other = {"relocationId": relocation, "centreId": to_global_id("TyreServiceCentre", f.other)}
    edited = (await hub.gql(UPDATE, {"input": other}, as_="anna"))["data"]["tyreRelocationUpdate"]
    assert edited["errors"] == []  # another centre with room: the load moves with it
    async with hub.db.read() as session:
        assert (
            await _load(session, f.target)
            == (await session.get(TyreServiceCentre, f.target)).capacity - 4
        )  # type: ignore[union-attr]
    cancel = {"relocationId": relocation}
    done = (await hub.gql(CANCEL, {"input": cancel}, as_="anna"))["data"]["tyreRelocationCancel"]
    assert done["relocations"][0]["status"] == "CANCELLED"
    assert [h["change"] for h in done["relocations"][0]["history"]] == [
        "ORDERED",
        "UPDATED",
        "UPDATED",
        "CANCELLED",
    ]
    again = (await hub.gql(CANCEL, {"input": cancel}, as_="anna"))["data"]["tyreRelocationCancel"]
    assert codes(again) == ["NOT_EDITABLE"]
    late = (await hub.gql(UPDATE, {"input": edit}, as_="anna"))["data"]["tyreRelocationUpdate"]
    assert codes(late) == ["NOT_EDITABLE"]


async def test_an_inactive_centre_and_a_car_without_stored_tyres_are_refused(hub: Hub) -> None:
    f = await fleet(hub, 2, room=2)
    planned = earliest(hub)
    async with hub.db.write() as session:
        await session.execute(
            update(TyreServiceCentre)
            .where(col(TyreServiceCentre.id) == f.target)
            .values(is_active=False)
        )
    assert codes(await order(hub, f, f.cars[:1], planned)) == ["CENTRE_INACTIVE"]
    async with hub.db.write() as session:
        await session.execute(
            update(TyreServiceCentre)
            .where(col(TyreServiceCentre.id) == f.target)
            .values(is_active=True)
        )
        await session.execute(
            update(TyreDeposit)
            .where(col(TyreDeposit.vehicle_id) == from_global_id(f.cars[1])[1])
            .values(released_on=date(2026, 10, 1))
        )
    assert codes(await order(hub, f, f.cars, planned)) == ["NO_TYRES_DEPOSITED"]
    home = {"centreId": to_global_id("TyreServiceCentre", f.home)}
    assert codes(await order(hub, f, f.cars[:1], planned, **home)) == ["ALREADY_AT_CENTRE"]


async def test_another_companys_car_and_relocation_are_not_found(hub: Hub) -> None:
    f = await fleet(hub, 1, room=2)
    planned = earliest(hub)
    viewer = await hub.gql(MINE, as_="anna")
    annas = [from_global_id(c["client"]["id"])[1] for c in viewer["data"]["viewer"]["clients"]]
    async with hub.db.read() as session:
        theirs = (
            await session.execute(
                select(Vehicle.id).where(col(Vehicle.client_id).not_in(annas)).limit(1)
            )
        ).scalar_one()
    foreign = to_global_id("Vehicle", theirs)
    assert codes(await order(hub, f, [*f.cars, foreign], planned)) == ["NOT_FOUND"]
    async with hub.db.write() as session:
        row = TyreRelocation(
            client_id=(await session.get(Vehicle, theirs)).client_id,  # type: ignore[union-attr]
            vehicle_id=theirs,
            to_centre_id=f.target,
            planned_date=planned,
            status=RelocationStatus.ORDERED,
        )
        session.add(row)
        await session.flush()
        theirs_relocation = to_global_id("TyreRelocation", row.id)  # type: ignore[arg-type]
    body = await hub.gql(CANCEL, {"input": {"relocationId": theirs_relocation}}, as_="anna")
    assert body["data"] is None or body["data"]["tyreRelocationCancel"] is None
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_without_tyres_write_or_with_a_read_only_token_nothing_is_ordered(hub: Hub) -> None:
    f = await fleet(hub, 1, room=1)
    planned = earliest(hub)
    body = await hub.gql(
        ORDER,
        {
            "input": {
                "clientId": f.client,
                "vehicleIds": f.cars,
                "centreId": to_global_id("TyreServiceCentre", f.target),
                "plannedDate": planned.isoformat(),
            }
        },
        as_="jan",  # the demo's subaccount: read scopes only
    )
    assert body["errors"][0]["extensions"]["code"] in ("FORBIDDEN", "NOT_FOUND")
    created = await hub.gql(TOKEN_CREATE, {"c": f.client, "s": None, "ro": True}, as_="anna")
    read_only = created["data"]["apiTokenCreate"]["token"]
    value = {
        "clientId": f.client,
        "vehicleIds": f.cars,
        "centreId": to_global_id("TyreServiceCentre", f.target),
        "plannedDate": planned.isoformat(),
    }
    body = await hub.gql(ORDER, {"input": value}, token=read_only)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    async with hub.db.read() as session:
        count = await session.execute(
            select(func.count()).where(TyreRelocation.vehicle_id == from_global_id(f.cars[0])[1])
        )
        assert count.scalar_one() == 0


@pytest.mark.parametrize("cars", [0, 51])
async def test_an_order_names_one_to_fifty_cars(hub: Hub, cars: int) -> None:
    f = await fleet(hub, 1, room=1)
    many = f.cars * cars if cars else []
    if cars:
        many = [to_global_id("Vehicle", 10_000 + n) for n in range(cars)]
    assert codes(await order(hub, f, many, earliest(hub))) == ["OUT_OF_RANGE"]


async def test_tyres_on_their_way_cannot_be_ordered_again_and_still_fill_their_centre(
    hub: Hub,
) -> None:
    f = await fleet(hub, 2, room=1)
    planned = earliest(hub)
    sent = (await order(hub, f, f.cars[:1], planned))["relocations"][0]["id"]
    async with hub.db.write() as session:  # the tyre desk dispatched it
        await session.execute(
            update(TyreRelocation)
            .where(col(TyreRelocation.id) == from_global_id(sent)[1])
            .values(status=RelocationStatus.DISPATCHED)
        )
    assert codes(await order(hub, f, f.cars[:1], planned)) == ["IN_TRANSIT"]
    # The centre's one place is taken by the set on its way.
    assert codes(await order(hub, f, f.cars[1:], planned)) == ["CENTRE_FULL"]
