"""The tyre desk (issue 14, point 5), on both databases: the queue of relocations and its
filters, dispatch (after which the client can no longer change a relocation), completion
(the deposit and both centres' loads move, once even when two desks complete at once), centre
maintenance (never below the load, not even while clients order the last places), staff only,
auditors read only, every change audited."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import holidays
import pytest
from sqlalchemy import func, select
from sqlmodel import col

from auth.clock import warsaw_day_start, warsaw_today
from hub.db import Database
from hub.demo import DEMO_MAIN_EMAIL, DemoSpec, load_demo
from models.base import utcnow
from models.client import Client
from models.identity import AuditEvent, StaffRole
from models.outbox import OutboxMessage
from models.tyre import (
    RelocationStatus,
    TyreDeposit,
    TyreRelocation,
    TyreSeason,
    TyreServiceCentre,
    Vehicle,
)
from models.tyre_booking import AppointmentStatus, TyreAppointment
from resolvers.ids import from_global_id, to_global_id
from resolvers.tyre_desk import centre_load
from tests.conftest import DatabaseFactory, Hub, count_statements, open_hub
from tests.schema.helpers import desk_tokens, error_codes
from tests.schema.test_tyre_relocations import earliest

QUEUE = """query($f: AdminTyreRelocationFilterInput, $first: Int, $after: String) {
  admin { tyreRelocations(filter: $f, first: $first, after: $after) {
    nodes { id plannedDate status } pageInfo { hasNextPage endCursor } } } }"""
WIDE = """query($f: AdminTyreRelocationFilterInput) { admin { tyreRelocations(filter: $f,
  first: 50) { totalCount nodes { id plannedDate status tyreCount
    centre { name storedTyres load } fromCentre { name storedTyres }
    vehicle { registrationNumber tyreDeposit { tyreSize centre { name } } }
    history { change at centre { name } } } } } }"""
DISPATCH = """mutation($input: TyreRelocationDispatchInput!) {
  tyreRelocationDispatch(input: $input) {
    relocation { id status history { change } } errors { field code message } } }"""
COMPLETE = """mutation($input: TyreRelocationCompleteInput!) {
  tyreRelocationComplete(input: $input) {
    relocation { id status history { change } } errors { field code message } } }"""
CENTRE_UPDATE = """mutation($input: TyreCentreUpdateInput!) { tyreCentreUpdate(input: $input) {
  centre { id capacity onlineBookingUrl onlineBooking isActive phone }
  errors { field code message } } }"""
ORDER = """mutation($input: TyreRelocationOrderInput!) { tyreRelocationOrder(input: $input) {
  relocations { id status } errors { field code message } } }"""
UPDATE = """mutation($input: TyreRelocationUpdateInput!) { tyreRelocationUpdate(input: $input) {
  relocations { id } errors { field code message } } }"""
CANCEL = """mutation($input: TyreRelocationCancelInput!) { tyreRelocationCancel(input: $input) {
  relocations { id } errors { field code message } } }"""
CENTRE = """query($id: ID!) { node(id: $id) { ... on TyreServiceCentre {
  storedTyres load capacity } } }"""
CAR = """query($id: ID!) { node(id: $id) { ... on Vehicle {
  tyreDeposit { storedSince tyreCount season tyreSize centre { id } } } } }"""


@dataclass
class Desk:
    hub: Hub
    tokens: dict[str, str]
    client_pk: int  # anna's first company

    @property
    def db(self) -> Database:
        return self.hub.db

    async def gql(self, query: str, who: str, **variables: Any) -> dict[str, Any]:
        return await self.hub.gql(query, variables, token=self.tokens[who])

    async def act(self, query: str, who: str = "operator", **value: Any) -> dict[str, Any]:
        """A mutation's payload (its one root field)."""
        body = await self.gql(query, who, input=value)
        assert "errors" not in body, body["errors"]
        return next(iter(body["data"].values()))

    async def queue(self, who: str = "operator", **wanted: Any) -> list[dict[str, Any]]:
        body = await self.gql(QUEUE, who, f=wanted, first=100)
        assert "errors" not in body, body["errors"]
        return body["data"]["admin"]["tyreRelocations"]["nodes"]

    async def centre(self, pk: int) -> dict[str, Any]:
        body = await self.gql(CENTRE, "anna", id=centre_id(pk))
        return body["data"]["node"]


@pytest.fixture(scope="module")
async def desk(databases: DatabaseFactory) -> AsyncIterator[Desk]:
    # A database of its own: these tests change centres and send e-mails that the tests of
    # the shared demo count.
    hub, db = await open_hub(await databases.create())
    await load_demo(db.engine, DemoSpec(clients=2, seed=11))
    tokens, client_pk = await desk_tokens(hub, StaffRole.TYRE_DESK)
    yield Desk(hub, tokens, client_pk)
    await hub.close()
    await db.dispose()


def centre_id(pk: int) -> str:
    return to_global_id("TyreServiceCentre", pk)


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["errors"]]


async def add_centre(db: Database, capacity: int) -> int:
    """A centre of its own, so that a test counts only its own tyres."""
    tag = uuid.uuid4().hex[:8]
    async with db.write() as session:
        centre = TyreServiceCentre(
            name=f"Serwis Opon {tag}",
            street="ul. Oponiarska 1",
            postal_code="00-001",
            city="Warszawa",
            latitude=52.23,
            longitude=21.01,
            phone="+48 22 100 20 30",
            capacity=capacity,
        )
        session.add(centre)
        await session.flush()
        assert centre.id is not None
        return centre.id


async def add_cars(db: Database, client_pk: int, centre: int, count: int) -> list[int]:
    """Cars of the company, each with a winter set of 4 stored at `centre`."""
    ids = []
    async with db.write() as session:
        for n in range(count):
            tag = uuid.uuid4().hex[:6].upper()
            car = Vehicle(
                client_id=client_pk,
                registration_number=f"WD{tag}",
                vin=f"VF1{tag}{n:08d}"[:17],
                make="Skoda",
                model="Octavia",
            )
            session.add(car)
            await session.flush()
            assert car.id is not None
            session.add(
                TyreDeposit(
                    client_id=client_pk,
                    vehicle_id=car.id,
                    centre_id=centre,
                    season=TyreSeason.WINTER,
                    tyre_size="205/55 R16",
                    tyre_count=4,
                    stored_since=date(2026, 4, 1),
                )
            )
            ids.append(car.id)
    return ids


async def add_relocation(
    db: Database,
    car: int,
    *,
    source: int,
    target: int,
    planned: date,
    status: RelocationStatus = RelocationStatus.ORDERED,
) -> str:
    async with db.write() as session:
        vehicle = await session.get(Vehicle, car)
        assert vehicle is not None
        row = TyreRelocation(
            client_id=vehicle.client_id,
            vehicle_id=car,
            from_centre_id=source,
            to_centre_id=target,
            planned_date=planned,
            status=status,
        )
        session.add(row)
        await session.flush()
        assert row.id is not None
        return to_global_id("TyreRelocation", row.id)


async def ordered(desk: Desk, cars: list[int], target: int) -> list[str]:
    """Relocations the fleet manager ordered through the API (anna: the e-mail goes to her)."""
    payload = await desk.act(
        ORDER,
        "anna",
        clientId=to_global_id("Client", desk.client_pk),
        vehicleIds=[to_global_id("Vehicle", car) for car in cars],
        centreId=centre_id(target),
        plannedDate=earliest(desk.hub).isoformat(),
    )
    assert payload["errors"] == [], payload["errors"]
    return [row["id"] for row in payload["relocations"]]


async def other_company(db: Database, client_pk: int) -> int:
    async with db.read() as session:
        query = select(col(Client.id)).where(col(Client.id) != client_pk).limit(1)
        found = (await session.execute(query)).scalar_one()
    assert found is not None
    return found


# ---- the queue -------------------------------------------------------------------------------


async def test_the_queue_lists_the_nearest_planned_date_first_and_pages_with_stable_cursors(
    desk: Desk,
) -> None:
    home, target = await add_centre(desk.db, 100), await add_centre(desk.db, 100)
    cars = await add_cars(desk.db, desk.client_pk, home, 5)
    start = date(2026, 12, 7)
    days = [5, 1, 3, 1, 2]
    ids = [
        await add_relocation(
            desk.db, car, source=home, target=target, planned=start + timedelta(days=d)
        )
        for car, d in zip(cars, days, strict=True)
    ]
    expected = [ids[i] for i in sorted(range(len(days)), key=lambda i: (days[i], i))]
    mine = {"centreId": centre_id(target)}
    first = await desk.gql(QUEUE, "operator", f=mine, first=2)
    page = first["data"]["admin"]["tyreRelocations"]
    assert [node["id"] for node in page["nodes"]] == expected[:2]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await desk.gql(QUEUE, "operator", f=mine, first=10, after=page["pageInfo"]["endCursor"])
    assert [node["id"] for node in rest["data"]["admin"]["tyreRelocations"]["nodes"]] == (
        expected[2:]
    )


async def test_the_queue_filters_by_status_centre_dates_and_company(desk: Desk) -> None:
    home, target, elsewhere = [await add_centre(desk.db, 100) for _ in range(3)]
    cars = await add_cars(desk.db, desk.client_pk, home, 3)
    theirs = await add_cars(desk.db, await other_company(desk.db, desk.client_pk), home, 1)
    day = date(2026, 12, 14)
    early = await add_relocation(desk.db, cars[0], source=home, target=target, planned=day)
    late = await add_relocation(
        desk.db,
        cars[1],
        source=home,
        target=target,
        planned=day + timedelta(days=10),
        status=RelocationStatus.DISPATCHED,
    )
    away = await add_relocation(
        desk.db, cars[2], source=home, target=elsewhere, planned=day + timedelta(days=5)
    )
    foreign = await add_relocation(desk.db, theirs[0], source=home, target=target, planned=day)

    async def ids(**wanted: Any) -> list[str]:
        return [node["id"] for node in await desk.queue(**wanted)]

    assert await ids(centreId=centre_id(target)) == [early, foreign, late]
    assert await ids(centreId=centre_id(home)) == [early, foreign, away, late]  # it sends them
    assert await ids(centreId=centre_id(target), statuses=["DISPATCHED"]) == [late]
    assert await ids(centreId=centre_id(home), statuses=["ORDERED", "CONFIRMED"]) == [
        early,
        foreign,
        away,
    ]
    window = {
        "from": (day + timedelta(days=1)).isoformat(),
        "to": (day + timedelta(days=9)).isoformat(),
    }
    assert await ids(centreId=centre_id(home), **window) == [away]
    mine = {"clientId": to_global_id("Client", desk.client_pk)}
    assert await ids(centreId=centre_id(target), **mine) == [early, late]


# ---- who may -----------------------------------------------------------------------------


async def test_a_client_can_neither_see_the_queue_nor_act_at_the_desk(desk: Desk) -> None:
    home, target = await add_centre(desk.db, 100), await add_centre(desk.db, 100)
    car = (await add_cars(desk.db, desk.client_pk, home, 1))[0]
    relocation = await add_relocation(
        desk.db, car, source=home, target=target, planned=date(2026, 12, 21)
    )
    body = await desk.gql(QUEUE, "anna")
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["data"] is None or body["data"]["admin"] is None
    for query, value in (
        (DISPATCH, {"relocationId": relocation}),
        (COMPLETE, {"relocationId": relocation}),
        (CENTRE_UPDATE, {"centreId": centre_id(target), "capacity": 1}),
    ):
        assert error_codes(await desk.gql(query, "anna", input=value)) == ["FORBIDDEN"]
    async with desk.db.read() as session:
        row = await session.get(TyreRelocation, from_global_id(relocation)[1])
        assert row is not None and row.status is RelocationStatus.ORDERED
    assert (await desk.centre(target))["capacity"] == 100


async def test_an_auditor_reads_the_queue_but_cannot_act(desk: Desk) -> None:
    home, target = await add_centre(desk.db, 100), await add_centre(desk.db, 100)
    car = (await add_cars(desk.db, desk.client_pk, home, 1))[0]
    relocation = await add_relocation(
        desk.db, car, source=home, target=target, planned=date(2026, 12, 21)
    )
    seen = await desk.queue("auditor", centreId=centre_id(target))
    assert [node["id"] for node in seen] == [relocation]
    for query, value in (
        (DISPATCH, {"relocationId": relocation}),
        (COMPLETE, {"relocationId": relocation}),
        (CENTRE_UPDATE, {"centreId": centre_id(target), "capacity": 1}),
    ):
        assert error_codes(await desk.gql(query, "auditor", input=value)) == ["FORBIDDEN"]
    assert [node["status"] for node in await desk.queue(centreId=centre_id(target))] == ["ORDERED"]


# ---- dispatch and completion -------------------------------------------------------------


async def _mail(db: Database, template: str) -> list[OutboxMessage]:
    async with db.read() as session:
        query = select(OutboxMessage).where(col(OutboxMessage.template) == template)
        return list((await session.execute(query)).scalars())


async def test_a_dispatched_relocation_can_no_longer_be_edited_or_cancelled_by_the_client(
    desk: Desk,
) -> None:
    home, target = await add_centre(desk.db, 100), await add_centre(desk.db, 100)
    car = (await add_cars(desk.db, desk.client_pk, home, 1))[0]
    relocation = (await ordered(desk, [car], target))[0]
    before = len(await _mail(desk.db, "tyre_relocation_dispatched"))
    sent = await desk.act(DISPATCH, relocationId=relocation)
    assert sent["errors"] == [] and sent["relocation"]["status"] == "DISPATCHED"
    assert [h["change"] for h in sent["relocation"]["history"]] == ["ORDERED", "DISPATCHED"]
    later = (earliest(desk.hub) + timedelta(days=7)).isoformat()
    edit = await desk.act(UPDATE, "anna", relocationId=relocation, plannedDate=later)
    assert codes(edit) == ["NOT_EDITABLE"]
    assert codes(await desk.act(CANCEL, "anna", relocationId=relocation)) == ["NOT_EDITABLE"]
    assert codes(await desk.act(DISPATCH, relocationId=relocation)) == ["NOT_EDITABLE"]
    mail = await _mail(desk.db, "tyre_relocation_dispatched")
    assert len(mail) == before + 1 and mail[-1].recipient == DEMO_MAIN_EMAIL


async def test_completing_a_relocation_moves_the_deposit_and_both_loads(desk: Desk) -> None:
    home, target = await add_centre(desk.db, 40), await add_centre(desk.db, 40)
    cars = await add_cars(desk.db, desk.client_pk, home, 3)
    relocation = (await ordered(desk, cars[:1], target))[0]
    assert (await desk.centre(home))["storedTyres"] == 12
    assert (await desk.centre(target))["storedTyres"] == 0
    await desk.act(DISPATCH, relocationId=relocation)
    done = await desk.act(COMPLETE, relocationId=relocation)
    assert done["errors"] == [] and done["relocation"]["status"] == "DONE"
    assert [h["change"] for h in done["relocation"]["history"]] == [
        "ORDERED",
        "DISPATCHED",
        "COMPLETED",
    ]
    assert await desk.centre(home) == {"storedTyres": 8, "load": 0.2, "capacity": 40}
    assert await desk.centre(target) == {"storedTyres": 4, "load": 0.1, "capacity": 40}
    car = await desk.gql(CAR, "anna", id=to_global_id("Vehicle", cars[0]))
    deposit = car["data"]["node"]["tyreDeposit"]
    assert deposit["centre"]["id"] == centre_id(target)
    assert (deposit["tyreCount"], deposit["season"], deposit["tyreSize"]) == (
        4,
        "WINTER",
        "205/55 R16",
    )
    async with desk.db.read() as session:
        released = (
            await session.execute(
                select(col(TyreDeposit.released_on)).where(
                    col(TyreDeposit.vehicle_id) == cars[0], col(TyreDeposit.centre_id) == home
                )
            )
        ).scalar_one()
    assert released is not None and released == date.fromisoformat(deposit["storedSince"])
    assert codes(await desk.act(COMPLETE, relocationId=relocation)) == ["NOT_EDITABLE"]
    mail = await _mail(desk.db, "tyre_relocation_done")
    assert mail[-1].recipient == DEMO_MAIN_EMAIL and "+48 22 100 20 30" in mail[-1].body


async def test_two_completions_at_once_move_the_set_once(desk: Desk) -> None:
    home, target = await add_centre(desk.db, 40), await add_centre(desk.db, 40)
    car = (await add_cars(desk.db, desk.client_pk, home, 1))[0]
    relocation = await add_relocation(
        desk.db,
        car,
        source=home,
        target=target,
        planned=date(2026, 12, 21),
        status=RelocationStatus.DISPATCHED,
    )
    answers = await asyncio.gather(
        *(desk.act(COMPLETE, who, relocationId=relocation) for who in ("operator", "admin") * 2)
    )
    assert sorted(tuple(codes(a)) for a in answers) == [(), *[("NOT_EDITABLE",)] * 3]
    async with desk.db.read() as session:
        stored = await session.execute(
            select(func.count()).where(
                col(TyreDeposit.vehicle_id) == car, col(TyreDeposit.released_on).is_(None)
            )
        )
        assert stored.scalar_one() == 1
    assert (await desk.centre(target))["storedTyres"] == 4
    assert (await desk.centre(home))["storedTyres"] == 0


async def test_dispatch_and_completion_are_audited(desk: Desk) -> None:
    home, target = await add_centre(desk.db, 40), await add_centre(desk.db, 40)
    car = (await add_cars(desk.db, desk.client_pk, home, 1))[0]
    relocation = await add_relocation(
        desk.db, car, source=home, target=target, planned=date(2026, 12, 21)
    )
    await desk.act(DISPATCH, relocationId=relocation)
    await desk.act(COMPLETE, "admin", relocationId=relocation)
    pk = from_global_id(relocation)[1]
    async with desk.db.read() as session:
        rows = (
            (
                await session.execute(
                    select(AuditEvent)
                    .where(col(AuditEvent.action).startswith("tyre_relocation."))
                    .order_by(col(AuditEvent.id))
                )
            )
            .scalars()
            .all()
        )
    mine = [row for row in rows if row.details.get("relocation_id") == pk]
    assert [row.action for row in mine] == [
        "tyre_relocation.dispatch",
        "tyre_relocation.complete",
    ]
    assert mine[0].actor_id != mine[1].actor_id  # the operator, then the admin
    assert {row.client_id for row in mine} == {desk.client_pk}
    assert mine[1].details["to_centre_id"] == target and mine[1].details["new_deposit_id"]


async def test_an_unknown_relocation_is_not_found(desk: Desk) -> None:
    missing = to_global_id("TyreRelocation", 10_000_000)
    assert codes(await desk.act(DISPATCH, relocationId=missing)) == ["NOT_FOUND"]
    assert codes(await desk.act(COMPLETE, relocationId=missing)) == ["NOT_FOUND"]


# ---- centre maintenance ------------------------------------------------------------------


async def test_a_centres_maximum_cannot_be_lowered_below_what_it_holds(desk: Desk) -> None:
    home, target = await add_centre(desk.db, 40), await add_centre(desk.db, 40)
    await add_cars(desk.db, desk.client_pk, target, 2)  # 8 stored
    coming = await add_cars(desk.db, desk.client_pk, home, 2)
    await add_relocation(desk.db, coming[0], source=home, target=target, planned=date(2026, 12, 21))
    await add_relocation(
        desk.db,
        coming[1],
        source=home,
        target=target,
        planned=date(2026, 12, 22),
        status=RelocationStatus.DISPATCHED,
    )  # still on its way: part of the load
    refused = await desk.act(CENTRE_UPDATE, centreId=centre_id(target), capacity=15)
    assert codes(refused) == ["BELOW_LOAD"] and "16" in refused["errors"][0]["message"]
    assert refused["errors"][0]["field"] == "capacity"
    fits = await desk.act(CENTRE_UPDATE, centreId=centre_id(target), capacity=16)
    assert fits["errors"] == [] and fits["centre"]["capacity"] == 16
    assert (await desk.centre(target))["load"] == 0.5  # 8 stored of 16


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ({"onlineBookingUrl": "ftp://serwis.example/rezerwacja"}, "INVALID_URL"),
        ({"onlineBookingUrl": "javascript:alert(1)"}, "INVALID_URL"),
        ({"onlineBookingUrl": "https://user:pw@serwis.example/"}, "INVALID_URL"),
        ({"onlineBookingUrl": "https://serwis.example/" + "a" * 300}, "INVALID_URL"),
        ({"capacity": -1}, "OUT_OF_RANGE"),
        ({"phone": "call us"}, "INVALID_PHONE"),
    ],
)
async def test_a_bad_centre_value_is_refused_and_nothing_changes(
    desk: Desk, value: dict[str, Any], code: str
) -> None:
    centre = await add_centre(desk.db, 40)
    payload = await desk.act(CENTRE_UPDATE, centreId=centre_id(centre), **value)
    assert codes(payload) == [code] and payload["centre"] is None
    assert (await desk.centre(centre))["capacity"] == 40


async def test_staff_set_the_booking_link_phone_and_activity_and_each_change_is_audited(
    desk: Desk,
) -> None:
    centre = await add_centre(desk.db, 40)
    url = "https://serwis.example/rezerwacja"
    changed = await desk.act(
        CENTRE_UPDATE,
        centreId=centre_id(centre),
        onlineBookingUrl=url,
        phone="+48 22 999 88 77",
        isActive=False,
        capacity=40,  # unchanged: neither written nor audited
    )
    assert changed["errors"] == []
    assert changed["centre"] | {"id": None} == {
        "id": None,
        "capacity": 40,
        "onlineBookingUrl": url,
        "onlineBooking": True,
        "isActive": False,
        "phone": "+48 22 999 88 77",
    }
    removed = await desk.act(CENTRE_UPDATE, centreId=centre_id(centre), onlineBookingUrl="")
    assert removed["centre"]["onlineBooking"] is False
    again = await desk.act(CENTRE_UPDATE, centreId=centre_id(centre), isActive=False)
    assert again["errors"] == [] and again["centre"]["isActive"] is False
    async with desk.db.read() as session:
        rows = (
            (
                await session.execute(
                    select(AuditEvent)
                    .where(col(AuditEvent.action) == "tyre_centre.update")
                    .order_by(col(AuditEvent.id))
                )
            )
            .scalars()
            .all()
        )
    mine = [row.details for row in rows if row.details["centre_id"] == centre]
    assert mine == [
        {
            "centre_id": centre,
            "before": {"is_active": True, "phone": "+48 22 100 20 30", "online_booking_url": None},
            "after": {"is_active": False, "phone": "+48 22 999 88 77", "online_booking_url": url},
        },
        {
            "centre_id": centre,
            "before": {"online_booking_url": url},
            "after": {"online_booking_url": None},
        },
    ]  # the third change changed nothing


async def test_lowering_the_maximum_while_clients_order_the_last_places_never_overfills(
    desk: Desk,
) -> None:
    for _ in range(3):
        home, target = await add_centre(desk.db, 100), await add_centre(desk.db, 16)
        cars = await add_cars(desk.db, desk.client_pk, home, 4)
        orders = [
            desk.act(
                ORDER,
                "anna",
                clientId=to_global_id("Client", desk.client_pk),
                vehicleIds=[to_global_id("Vehicle", car)],
                centreId=centre_id(target),
                plannedDate=earliest(desk.hub).isoformat(),
            )
            for car in cars
        ]
        lower = desk.act(CENTRE_UPDATE, centreId=centre_id(target), capacity=8)
        *placed, lowered = await asyncio.gather(*orders, lower)
        taken = sum(1 for answer in placed if answer["errors"] == [])
        async with desk.db.read() as session:
            centre = await session.get(TyreServiceCentre, target)
            assert centre is not None
            load = await centre_load(session, target)
        assert load == 4 * taken and load <= centre.capacity
        if lowered["errors"]:  # too late: more than 8 were ordered before it
            assert codes(lowered) == ["BELOW_LOAD"] and centre.capacity == 16 and taken > 2
        else:
            assert centre.capacity == 8 and taken <= 2


# ---- statements ----------------------------------------------------------------------------


async def test_the_statement_count_of_a_queue_page_does_not_grow_with_its_size(
    desk: Desk,
) -> None:
    counts = []
    for size in (3, 30):
        home, target = await add_centre(desk.db, 1000), await add_centre(desk.db, 1000)
        cars = await add_cars(desk.db, desk.client_pk, home, size)
        for index, car in enumerate(cars):
            relocation = await add_relocation(
                desk.db,
                car,
                source=home,
                target=target,
                planned=date(2026, 12, 7) + timedelta(days=index % 5),
            )
            if index % 2:
                await desk.act(DISPATCH, relocationId=relocation)
        # The session is looked up once and then cached: both counts start from a warm one.
        await desk.gql("{ viewer { isStaff } }", "admin")
        with count_statements(desk.db) as statements:
            body = await desk.gql(WIDE, "admin", f={"centreId": centre_id(target)})
        assert "errors" not in body, body["errors"]
        page = body["data"]["admin"]["tyreRelocations"]
        assert page["totalCount"] == size and len(page["nodes"]) == size
        assert {len(node["history"]) for node in page["nodes"]} == {0, 1}  # dispatched: 1
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


async def test_staff_set_a_centres_hours_and_closed_days_which_the_slots_follow(
    desk: Desk,
) -> None:
    centre = await add_centre(desk.db, 40)
    async with desk.db.write() as session:
        row = await session.get(TyreServiceCentre, centre)
        assert row is not None
        row.online_booking_url = "https://rezerwacje.example.pl/"
    monday = warsaw_today(utcnow()) + timedelta(days=14)
    monday -= timedelta(days=monday.weekday())
    while monday in holidays.country_holidays("PL", years=monday.year):
        monday += timedelta(days=7)
    hours = [
        {
            "weekday": 0,
            "opens": "08:00:00",
            "closes": "10:00:00",
            "slotMinutes": 60,
            "carsPerSlot": 3,
        }
    ]
    payload = await desk.act(CENTRE_UPDATE, centreId=centre_id(centre), hours=hours)
    assert payload["errors"] == []
    slots = """query($id: ID!, $d: Date!) { node(id: $id) { ... on TyreServiceCentre {
      slots(from: $d, to: $d) { start free } } } }"""
    body = await desk.gql(slots, "anna", id=centre_id(centre), d=monday.isoformat())
    assert [s["free"] for s in body["data"]["node"]["slots"]] == [3, 3]
    closed = await desk.act(
        CENTRE_UPDATE, centreId=centre_id(centre), closedDays=[monday.isoformat()]
    )
    assert closed["errors"] == []
    body = await desk.gql(slots, "anna", id=centre_id(centre), d=monday.isoformat())
    assert body["data"]["node"]["slots"] == []
    bad = [hours[0] | {"closes": "08:30:00"}]  # shorter than one slot
    assert codes(await desk.act(CENTRE_UPDATE, centreId=centre_id(centre), hours=bad)) == [
        "INVALID_HOURS"
    ]
    past = [(warsaw_today(utcnow()) - timedelta(days=1)).isoformat()]
    assert codes(await desk.act(CENTRE_UPDATE, centreId=centre_id(centre), closedDays=past)) == [
        "PAST_DATE"
    ]
    async with desk.db.read() as session:
        actions = (
            (
                await session.execute(
                    select(col(AuditEvent.action)).where(
                        col(AuditEvent.action).like("tyre_centre.%")
                    )
                )
            )
            .scalars()
            .all()
        )
    assert {"tyre_centre.hours", "tyre_centre.closed_days"} <= set(actions)


async def test_a_day_with_booked_appointments_cannot_be_closed(desk: Desk) -> None:
    centre = await add_centre(desk.db, 40)
    day = warsaw_today(utcnow()) + timedelta(days=20)
    start = warsaw_day_start(day) + timedelta(hours=9)
    async with desk.db.write() as session:
        vehicle = (
            (
                await session.execute(
                    select(Vehicle).where(col(Vehicle.client_id) == desk.client_pk).limit(1)
                )
            )
            .scalars()
            .one()
        )
        session.add(
            TyreAppointment(
                client_id=desk.client_pk,
                vehicle_id=vehicle.id,
                centre_id=centre,
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                seat=1,
                status=AppointmentStatus.BOOKED,
            )
        )
    payload = await desk.act(
        CENTRE_UPDATE, centreId=centre_id(centre), closedDays=[day.isoformat()]
    )
    assert codes(payload) == ["APPOINTMENTS_BOOKED"]
