"""Searching tyre service centres (issue 14, point 2): by city, name or postcode, accents and
case ignored on both databases, and nearest first from coordinates or a postcode."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from models.search import fold
from models.tyre import TyreServiceCentre
from resolvers.tyre import Point, distance_km
from tests.conftest import Hub
from tests.schema.helpers import error_codes

CENTRES = """query($search: String, $city: String, $online: Boolean, $near: TyreCentreNearInput,
  $first: Int, $after: String) {
  tyreServiceCentres(search: $search, city: $city, onlineBooking: $online, near: $near,
    first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id name distanceKm onlineBooking latitude longitude address { city postalCode } } } }"""


async def _active(hub: Hub) -> list[TyreServiceCentre]:
    async with hub.db.read() as session:
        query = select(TyreServiceCentre).where(TyreServiceCentre.is_active.is_(True))  # type: ignore[attr-defined]
        return list((await session.execute(query)).scalars())


async def _centres(hub: Hub, **variables: Any) -> dict[str, Any]:
    body = await hub.gql(CENTRES, {"first": 100, **variables}, as_="anna")
    assert "errors" not in body, body["errors"]
    return body["data"]["tyreServiceCentres"]  # type: ignore[no-any-return]


async def test_lodz_is_found_however_it_is_typed(hub: Hub) -> None:
    found = [await _centres(hub, search=typed) for typed in ("Łódź", "ŁÓDŹ", "lodz", "łódź", "ODZ")]
    names = [sorted(node["name"] for node in page["nodes"]) for page in found]
    assert names[0] and all(same == names[0] for same in names)
    expected = sorted(c.name for c in await _active(hub) if fold(c.city) == "lodz")
    assert names[0] == expected


async def test_search_finds_part_of_a_name_and_keeps_the_other_filters(hub: Hub) -> None:
    centres = await _active(hub)
    brand = centres[0].name.split()[0]
    page = await _centres(hub, search=brand.upper())
    assert {node["name"] for node in page["nodes"]} == {
        c.name for c in centres if fold(brand) in fold(c.name) or fold(brand) in fold(c.city)
    }
    city = centres[0].city
    online = await _centres(hub, search=brand, city=fold(city), online=True)
    assert {node["name"] for node in online["nodes"]} == {
        c.name
        for c in centres
        if fold(brand) in fold(c.name) and c.city == city and c.online_booking_url
    }


async def test_search_by_the_start_of_a_postcode_with_or_without_its_dash(hub: Hub) -> None:
    centre = (await _active(hub))[0]
    code = centre.postal_code
    for typed in (code, code.replace("-", ""), code[:4]):
        page = await _centres(hub, search=typed)
        codes = [node["address"]["postalCode"] for node in page["nodes"]]
        assert code in codes and all(found.startswith(code[:4]) for found in codes), typed
    area = await _centres(hub, search=code[:2])
    assert {node["address"]["postalCode"] for node in area["nodes"]} == {
        c.postal_code for c in await _active(hub) if c.postal_code.startswith(code[:2])
    }


async def test_nearest_first_from_coordinates_pages_through_every_centre(hub: Hub) -> None:
    centres = await _active(hub)
    here = next(c for c in centres if c.city == "Gdańsk")
    near = {"latitude": here.latitude, "longitude": here.longitude}
    first = await _centres(hub, near=near, first=5)
    rest = await _centres(hub, near=near, first=100, after=first["pageInfo"]["endCursor"])
    nodes = first["nodes"] + rest["nodes"]
    assert first["pageInfo"]["hasNextPage"] and not rest["pageInfo"]["hasNextPage"]
    assert first["totalCount"] == len(nodes) == len({node["id"] for node in nodes}) == len(centres)
    assert nodes[0]["name"] == here.name and nodes[0]["distanceKm"] == 0.0
    distances = [node["distanceKm"] for node in nodes]
    assert distances == sorted(distances)
    origin = Point(here.latitude, here.longitude)
    for node in nodes:
        expected = distance_km(origin, Point(node["latitude"], node["longitude"]))
        assert abs(node["distanceKm"] - expected) < 0.001
    far = nodes[-1]["distanceKm"]
    assert 300 < far < 700  # Gdańsk to the far south of Poland, not a flat-earth figure


async def test_nearest_first_from_a_postcode_starts_in_its_area(hub: Hub) -> None:
    centres = await _active(hub)
    for city, code in (("Gdańsk", "80-999"), ("Kraków", "31-000"), ("Łódź", "90-001")):
        page = await _centres(hub, near={"postalCode": code}, first=3)
        nearest = page["nodes"][0]
        assert nearest["address"]["city"] == city, code
        assert nearest["distanceKm"] < 20
    exact = next(c for c in centres if c.city == "Poznań")
    page = await _centres(hub, near={"postalCode": exact.postal_code.replace("-", "")}, first=1)
    assert page["nodes"][0]["address"]["city"] == "Poznań"


async def test_distance_is_null_without_a_point(hub: Hub) -> None:
    page = await _centres(hub, search="lodz")
    assert all(node["distanceKm"] is None for node in page["nodes"])


async def test_a_point_must_be_whole_and_a_postcode_well_formed(hub: Hub) -> None:
    cases = [
        ({"latitude": 52.0}, "near"),
        ({"latitude": 52.0, "longitude": 19.0, "postalCode": "00-001"}, "near"),
        ({"latitude": 91.0, "longitude": 0.0}, "near"),
        ({"postalCode": "9-12"}, "near.postalCode"),
    ]
    for near, field in cases:
        body = await hub.gql(CENTRES, {"near": near}, as_="anna")
        assert error_codes(body) == ["BAD_USER_INPUT"], near
        assert body["errors"][0]["extensions"]["field"] == field, near


async def test_a_cursor_of_the_other_ordering_is_refused(hub: Hub) -> None:
    by_city = await _centres(hub, first=2)
    near = {"latitude": 52.23, "longitude": 21.01}
    body = await hub.gql(
        CENTRES, {"near": near, "after": by_city["pageInfo"]["endCursor"]}, as_="anna"
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "after"


async def test_search_needs_a_signed_in_user(hub: Hub) -> None:
    body = await hub.gql(CENTRES, {"search": "lodz", "near": {"postalCode": "90-001"}})
    assert error_codes(body) == ["UNAUTHENTICATED"]
