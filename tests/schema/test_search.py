"""One accent- and case-insensitive search, the same on SQLite, PostgreSQL and in Python."""

from __future__ import annotations

from sqlalchemy import literal, select

from models.identity import User
from models.search import _ACCENTED, fold, folded
from tests.conftest import Hub

CENTRES = """query($city: String) { tyreServiceCentres(city: $city, first: 100) {
  totalCount nodes { address { city } } } }"""
CLIENTS = """query($q: String) { admin { clients(search: $q, first: 100) {
  totalCount nodes { name } } } }"""
USERS = """query($q: String) { admin { users(search: $q, first: 100) {
  totalCount nodes { lastName } } } }"""


def test_fold_drops_case_and_every_polish_diacritic() -> None:
    assert fold("ŁÓDŹ") == fold("Łódź") == fold("lodz") == "lodz"
    assert fold("Zażółć GĘŚLĄ jaźń") == "zazolc gesla jazn"


async def test_sql_folds_like_python_on_both_databases(hub: Hub) -> None:
    text = _ACCENTED + " Żółw Łabędź STRASSE"
    async with hub.db.read() as session:
        in_sql = (await session.execute(select(folded(literal(text))))).scalar_one()
    assert in_sql == fold(text)


async def test_centres_of_lodz_are_found_however_the_city_is_typed(hub: Hub) -> None:
    found = []
    for city in ("Łódź", "ŁÓDŹ", "lodz", "Lodz"):
        body = await hub.gql(CENTRES, {"city": city}, as_="anna")
        found.append(body["data"]["tyreServiceCentres"]["nodes"])
    assert found[0] and all(nodes == found[0] for nodes in found)
    assert {node["address"]["city"] for node in found[0]} == {"Łódź"}


async def test_staff_search_ignores_accents_and_case(hub: Hub) -> None:
    async with hub.db.read() as session:
        last_names = (await session.execute(select(User.last_name))).scalars().all()
    accented = next(name for name in last_names if fold(name) != name.lower())
    for typed in (accented, accented.upper(), fold(accented)):
        body = await hub.gql(USERS, {"q": typed}, as_="staff")
        names = [node["lastName"] for node in body["data"]["admin"]["users"]["nodes"]]
        assert accented in names, typed
    body = await hub.gql(CLIENTS, {"q": "100001"}, as_="staff")
    name = body["data"]["admin"]["clients"]["nodes"][0]["name"]
    for typed in (name.upper(), fold(name)):
        again = await hub.gql(CLIENTS, {"q": typed}, as_="staff")
        names = [node["name"] for node in again["data"]["admin"]["clients"]["nodes"]]
        assert name in names, typed
