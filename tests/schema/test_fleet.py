"""The fleet list (issue 14, point 1): filters by plate, VIN, contract, centre and season; each
car's stored tyres and open relocation; tenancy and scope; SQL that does not grow with the fleet."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from hub.demo import DEMO_MAIN_EMAIL, DEMO_PASSWORD, DEMO_SUB_EMAIL, DemoSpec, load_demo
from models.client import Client
from models.contract import Contract
from models.search import fold
from models.tyre import (
    RelocationStatus,
    TyreDeposit,
    TyreRelocation,
    TyreSeason,
    TyreServiceCentre,
    Vehicle,
)
from resolvers.ids import to_global_id
from tests.auth.helpers import TOKEN_CREATE
from tests.conftest import LOGIN, DatabaseFactory, Hub, count_statements, open_hub
from tests.loaders.test_statement_count import shapes
from tests.schema.helpers import error_codes

FLEET = """query($id: ID!, $filter: VehicleFilterInput, $first: Int) {
  client(id: $id) { vehicles(first: $first, filter: $filter) { totalCount nodes {
    id registrationNumber vin contract { number }
    tyreDeposit { season tyreCount tyreSize centre { name storedTyres load } }
    openRelocation { plannedDate status centre { name } }
    relocations { status } } } } }"""
FOREIGN_PLATE = "ZZ 99999"
# The viewer, the page, contracts, stored sets, relocations, centres (up to twice), their loads.
STATEMENT_CAP = 9


@dataclass
class Fleet:
    hub: Hub
    token: str
    client: str  # anna's first company, global id
    client_pk: int
    foreign_pk: int  # a company none of the demo logins can see

    async def list(self, filter: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        variables = {"id": self.client, "filter": filter, "first": 100}
        body = await self.hub.gql(FLEET, variables, token=kw.get("token", self.token))
        assert "errors" not in body, body["errors"]
        return body["data"]["client"]["vehicles"]


@pytest.fixture(scope="module")
async def fleet(databases: DatabaseFactory) -> AsyncIterator[Fleet]:
    """A demo of three companies of its own: these tests add cars."""
    hub, db = await open_hub(await databases.create())
    await load_demo(db.engine, DemoSpec(clients=3, seed=11))
    login = await hub.gql(LOGIN, {"login": DEMO_MAIN_EMAIL, "password": DEMO_PASSWORD})
    async with db.read() as session:
        ids = dict((await session.execute(select(Client.number, Client.id))).all())
    found = Fleet(
        hub=hub,
        token=login["data"]["login"]["token"],
        client=to_global_id("Client", ids["100001"]),
        client_pk=ids["100001"],
        foreign_pk=ids["100003"],
    )
    await add_cars(found, found.foreign_pk, count=1, plate=FOREIGN_PLATE.replace(" ", ""))
    yield found
    await hub.close()
    await db.dispose()


async def add_cars(fleet: Fleet, client_pk: int, *, count: int, plate: str = "TT") -> None:
    """`count` cars, each with a set stored, one open and one cancelled relocation."""
    async with fleet.hub.db.write() as session:
        centres = (await session.execute(select(TyreServiceCentre.id))).scalars().all()
        for index in range(count):
            vehicle = Vehicle(
                client_id=client_pk,
                registration_number=plate if count == 1 else f"{plate}{index:05d}",
                vin=f"TESTVIN{client_pk:02d}{index:08d}",
                make="Škoda",
                model="Octavia",
            )
            session.add(vehicle)
            await session.flush()
            _tyres(session, vehicle, centres[index % len(centres)], centres[-1])


def _tyres(session: Any, vehicle: Vehicle, centre_id: int, target: int) -> None:
    today = date.today()
    common = {"client_id": vehicle.client_id, "vehicle_id": vehicle.id}
    session.add(
        TyreDeposit(
            **common,
            centre_id=centre_id,
            season=TyreSeason.WINTER,
            tyre_size="205/55 R16",
            stored_since=today - timedelta(days=30),
        )
    )
    for status, days in ((RelocationStatus.CANCELLED, 3), (RelocationStatus.ORDERED, 20)):
        session.add(
            TyreRelocation(
                **common,
                from_centre_id=centre_id,
                to_centre_id=target,
                planned_date=today + timedelta(days=days),
                status=status,
            )
        )


async def _rows(fleet: Fleet) -> list[tuple[Vehicle, TyreDeposit | None]]:
    """The company's cars with the set stored now, straight from the tables."""
    async with fleet.hub.db.read() as session:
        vehicles = (
            await session.execute(select(Vehicle).where(Vehicle.client_id == fleet.client_pk))
        ).scalars()
        deposits = (
            await session.execute(
                select(TyreDeposit).where(
                    TyreDeposit.client_id == fleet.client_pk,
                    TyreDeposit.released_on.is_(None),  # type: ignore[union-attr]
                )
            )
        ).scalars()
        stored = {deposit.vehicle_id: deposit for deposit in deposits}
        return [(vehicle, stored.get(vehicle.id)) for vehicle in vehicles]  # type: ignore[arg-type]


def _plates(page: dict[str, Any]) -> set[str]:
    return {node["registrationNumber"] for node in page["nodes"]}


async def test_each_car_shows_its_stored_tyres_and_open_relocation(fleet: Fleet) -> None:
    await add_cars(fleet, fleet.client_pk, count=1, plate="OPEN1")
    page = await fleet.list({"registration": "open1"})
    [car] = page["nodes"]
    assert car["tyreDeposit"]["season"] == "WINTER" and car["tyreDeposit"]["tyreCount"] == 4
    assert car["tyreDeposit"]["tyreSize"] == "205/55 R16"
    assert car["openRelocation"]["status"] == "ORDERED"
    assert sorted(r["status"] for r in car["relocations"]) == ["CANCELLED", "ORDERED"]
    everyone = await fleet.list()
    for node in everyone["nodes"]:
        open_ones = [r for r in node["relocations"] if r["status"] in ("ORDERED", "CONFIRMED")]
        assert (node["openRelocation"] is None) == (not open_ones)


async def test_plate_and_vin_match_a_part_ignoring_case_and_spaces(fleet: Fleet) -> None:
    vehicle = next(v for v, _deposit in await _rows(fleet))
    plate = vehicle.registration_number
    typed = f"{plate[:2].lower()} {plate[2:5]}"
    found = await fleet.list({"registration": typed})
    assert plate in _plates(found)
    assert all(fold(typed.replace(" ", "")) in fold(p) for p in _plates(found))
    by_vin = await fleet.list({"vin": vehicle.vin[-8:].lower()})
    assert [node["vin"] for node in by_vin["nodes"]] == [vehicle.vin]


async def test_contract_centre_and_season_filters_match_the_tables(fleet: Fleet) -> None:
    rows = await _rows(fleet)
    with_contract = next(v for v, _d in rows if v.contract_id is not None)
    by_contract = await fleet.list(
        {"contractId": to_global_id("Contract", with_contract.contract_id)}
    )  # type: ignore[arg-type]
    assert _plates(by_contract) == {
        v.registration_number for v, _d in rows if v.contract_id == with_contract.contract_id
    }
    deposit = next(d for _v, d in rows if d is not None)
    centre = to_global_id("TyreServiceCentre", deposit.centre_id)
    for filter, wanted in (
        ({"centreId": centre}, lambda d: d.centre_id == deposit.centre_id),
        ({"season": deposit.season.value}, lambda d: d.season == deposit.season),
        (
            {"centreId": centre, "season": "SUMMER"},
            lambda d: d.centre_id == deposit.centre_id and d.season == TyreSeason.SUMMER,
        ),
    ):
        page = await fleet.list(filter)
        expected = {v.registration_number for v, d in rows if d is not None and wanted(d)}
        assert _plates(page) == expected, filter
        assert page["totalCount"] == len(expected)


async def test_another_companys_cars_and_contracts_never_appear(fleet: Fleet) -> None:
    assert (await fleet.list({"registration": FOREIGN_PLATE}))["nodes"] == []
    async with fleet.hub.db.read() as session:
        foreign_contract = (
            (
                await session.execute(
                    select(Contract.id).where(Contract.client_id == fleet.foreign_pk)
                )
            )
            .scalars()
            .first()
        )
        foreign_centre = (
            (
                await session.execute(
                    select(TyreDeposit.centre_id).where(TyreDeposit.client_id == fleet.foreign_pk)
                )
            )
            .scalars()
            .first()
        )
    body = await fleet.hub.gql(
        FLEET,
        {"id": fleet.client, "filter": {"contractId": to_global_id("Contract", foreign_contract)}},
        token=fleet.token,
    )
    assert error_codes(body) == ["NOT_FOUND"]
    assert body["errors"][0]["extensions"]["field"] == "filter.contractId"
    by_centre = await fleet.list({"centreId": to_global_id("TyreServiceCentre", foreign_centre)})
    assert FOREIGN_PLATE.replace(" ", "") not in _plates(by_centre)
    foreign = to_global_id("Client", fleet.foreign_pk)
    body = await fleet.hub.gql(FLEET, {"id": foreign}, token=fleet.token)
    assert error_codes(body) == ["NOT_FOUND"]


async def test_fleet_list_needs_tyres_read(fleet: Fleet) -> None:
    login = await fleet.hub.gql(LOGIN, {"login": DEMO_SUB_EMAIL, "password": DEMO_PASSWORD})
    jan = login["data"]["login"]["token"]  # a subaccount with contracts, schedules, invoices
    body = await fleet.hub.gql(FLEET, {"id": fleet.client}, token=jan)
    assert error_codes(body) == ["FORBIDDEN"]
    created = await fleet.hub.gql(
        TOKEN_CREATE, {"c": fleet.client, "s": ["TYRES_READ"], "ro": True}, token=fleet.token
    )
    tyres_only = created["data"]["apiTokenCreate"]["token"]
    body = await fleet.hub.gql(FLEET, {"id": fleet.client, "first": 100}, token=tyres_only)
    # Cars and tyres answer; each car's contract needs contracts:read, which the token lacks.
    assert set(error_codes(body)) == {"FORBIDDEN"}
    assert {tuple(error["path"][-1:]) for error in body["errors"]} == {("contract",)}
    assert any(node["tyreDeposit"] for node in body["data"]["client"]["vehicles"]["nodes"])


async def test_statements_of_the_fleet_list_do_not_grow_with_the_cars(fleet: Fleet) -> None:
    async def statements() -> tuple[Any, int]:
        with count_statements(fleet.hub.db) as seen:
            page = await fleet.list({"season": "WINTER"})
        return shapes(seen), len(page["nodes"])

    await add_cars(fleet, fleet.client_pk, count=1, plate="FEW1")  # a winter set stored
    await fleet.list()  # the token is verified once, then answered from the viewer cache
    before, cars_before = await statements()
    await add_cars(fleet, fleet.client_pk, count=30)
    after, cars_after = await statements()
    assert cars_after == cars_before + 30
    # The same statements for 2 cars and for 32. The centres of stored sets and those of
    # relocations are one batch or two, as the two loaders' answers fall, never one per car.
    assert set(after) == set(before)
    assert max(sum(before.values()), sum(after.values())) <= STATEMENT_CAP, (before, after)
