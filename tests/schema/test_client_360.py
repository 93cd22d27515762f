"""Client 360 (issue 15, point 2): finding a company however staff type it, and its people."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from auth.scopes import Scope
from auth.staff import ROLE_PERMISSIONS, StaffPermission
from auth.tokens import hash_secret
from hub.demo import DEMO_MAIN_EMAIL
from models.base import utcnow
from models.client import Client
from models.identity import AuthToken, Membership, StaffRole, TokenKind, User
from models.search import fold
from resolvers.ids import to_global_id
from tests.auth.helpers import TOKEN_CREATE, new_main_account, staff_token
from tests.conftest import Hub, count_statements
from tests.loaders.test_statement_count import shapes
from tests.schema.helpers import error_codes

SEARCH = """query($q: String, $after: String) { admin {
  clients(search: $q, first: 100, after: $after) {
    totalCount nodes { id number name } pageInfo { hasNextPage endCursor } } } }"""
PEOPLE = """query($id: ID!) { client(id: $id) { users {
  isMain isActive scopes secondFactorEnabled
  user { id email firstName lastName isActive lastLoginAt recentFailedLogins }
  apiTokens { id name scopes readOnly createdAt lastUsedAt }
  sessions { createdAt expiresAt supportViewBy { email } supportViewReason } } } }"""
READERS = sorted(
    role for role, granted in ROLE_PERMISSIONS.items() if StaffPermission.CLIENTS_READ in granted
)


async def _client(hub: Hub, number: str = "100001") -> Client:
    async with hub.db.read() as session:
        return (await session.execute(select(Client).where(Client.number == number))).scalar_one()


async def _numbers(hub: Hub, typed: str, token: str | None = None) -> list[str]:
    body = await hub.gql(SEARCH, {"q": typed}, token=token or hub.tokens["staff"])
    assert "errors" not in body, body
    return [node["number"] for node in body["data"]["admin"]["clients"]["nodes"]]


def _nip_forms(nip: str) -> list[str]:
    dashed = f"{nip[:3]}-{nip[3:6]}-{nip[6:8]}-{nip[8:]}"
    spaced = dashed.replace("-", " ")
    return [nip, dashed, spaced, f"PL{nip}", f"pl {dashed}", f"PL {spaced}"]


async def test_a_client_is_found_by_every_common_form_of_its_nip(hub: Hub) -> None:
    client = await _client(hub)
    for typed in _nip_forms(client.nip):
        assert await _numbers(hub, typed) == [client.number], typed


async def test_a_client_is_found_by_its_regon_with_spaces_or_dashes(hub: Hub) -> None:
    client = await _client(hub)
    regon = client.regon
    for typed in (regon, f"{regon[:3]} {regon[3:6]} {regon[6:]}", f"{regon[:3]}-{regon[3:]}"):
        assert client.number in await _numbers(hub, typed), typed


async def test_a_client_is_found_by_its_number(hub: Hub) -> None:
    assert await _numbers(hub, "100002") == ["100002"]


async def test_a_polish_name_is_found_without_diacritics_and_in_upper_case(hub: Hub) -> None:
    _, number = await new_main_account(hub, password=None)  # "Próba Flota sp. z o.o."
    for typed in ("Próba Flota", "proba flota", "PROBA FLOTA", "PRÓBA", fold("Próba")):
        assert number in await _numbers(hub, typed), typed


async def test_a_client_is_found_by_a_users_email(hub: Hub) -> None:
    body = await hub.gql("{ viewer { clients { client { number } } } }", as_="anna")
    own = sorted(access["client"]["number"] for access in body["data"]["viewer"]["clients"])
    assert own
    assert sorted(await _numbers(hub, DEMO_MAIN_EMAIL)) == own
    assert sorted(await _numbers(hub, DEMO_MAIN_EMAIL.upper())) == own


async def test_a_search_that_matches_nothing_finds_nothing(hub: Hub) -> None:
    assert await _numbers(hub, "PL 000-000-00-00") == []
    assert await _numbers(hub, "nikt@nigdzie.pl") == []


async def test_the_search_is_paged_by_keyset(hub: Hub) -> None:
    token = hub.tokens["staff"]
    first = await hub.gql(SEARCH.replace("first: 100", "first: 3"), {"q": ""}, token=token)
    page = first["data"]["admin"]["clients"]
    assert page["pageInfo"]["hasNextPage"] and len(page["nodes"]) == 3
    after = {"q": "", "after": page["pageInfo"]["endCursor"]}
    second = await hub.gql(SEARCH.replace("first: 100", "first: 3"), after, token=token)
    seen = {node["id"] for node in page["nodes"]}
    assert not seen & {node["id"] for node in second["data"]["admin"]["clients"]["nodes"]}


async def test_a_client_user_cannot_search_clients(hub: Hub) -> None:
    body = await hub.gql(SEARCH, {"q": "100001"}, as_="anna")
    assert error_codes(body) == ["FORBIDDEN"]


async def test_a_client_user_cannot_see_the_360_of_its_own_company(hub: Hub) -> None:
    client = await _client(hub)
    body = await hub.gql(PEOPLE, {"id": to_global_id("Client", client.id)}, as_="anna")
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["data"]["client"]["users"] is None


@pytest.mark.parametrize("role", READERS)
async def test_every_staff_role_with_clients_read_searches_and_sees_the_people(
    hub: Hub, role: StaffRole
) -> None:
    token = await staff_token(hub, role)
    client = await _client(hub)
    assert await _numbers(hub, client.nip, token=token) == [client.number]
    body = await hub.gql(PEOPLE, {"id": to_global_id("Client", client.id)}, token=token)
    assert "errors" not in body, body
    assert body["data"]["client"]["users"]


async def test_the_360_shows_the_people_with_their_flags_tokens_and_sessions(hub: Hub) -> None:
    client = await _client(hub)
    created = await hub.gql(
        TOKEN_CREATE,
        {"c": to_global_id("Client", client.id), "s": None, "ro": True},
        as_="anna",
    )
    secret = created["data"]["apiTokenCreate"]["token"]
    body = await hub.gql(PEOPLE, {"id": to_global_id("Client", client.id)}, as_="staff")
    assert "errors" not in body, body
    people = body["data"]["client"]["users"]
    main = people[0]
    assert main["isMain"] and not any(person["isMain"] for person in people[1:])
    assert main["user"]["email"] == DEMO_MAIN_EMAIL
    assert main["isActive"] and main["user"]["isActive"]
    assert main["secondFactorEnabled"] is False
    assert main["user"]["lastLoginAt"] is not None
    assert isinstance(main["user"]["recentFailedLogins"], int)
    assert set(main["scopes"]) <= {scope.name for scope in Scope}
    assert main["sessions"], "anna is signed in"
    assert "Power BI" in [token["name"] for token in main["apiTokens"]]
    text = json.dumps(body)
    assert secret not in text
    assert hash_secret(secret) not in text


async def test_a_support_view_shows_among_the_sessions_with_its_staff_member(hub: Hub) -> None:
    client = await _client(hub)
    anna = to_global_id("User", await _user_id(hub, DEMO_MAIN_EMAIL))
    started = await hub.gql(
        """mutation($u: ID!) { adminSupportViewStart(input: {userId: $u, reason: "Telefon"}) {
        errors { code } } }""",
        {"u": anna},
        as_="staff",
    )
    assert started["data"]["adminSupportViewStart"]["errors"] == []
    body = await hub.gql(PEOPLE, {"id": to_global_id("Client", client.id)}, as_="staff")
    sessions = body["data"]["client"]["users"][0]["sessions"]
    views = [s for s in sessions if s["supportViewBy"] is not None]
    assert views and views[-1]["supportViewReason"] == "Telefon"


async def _user_id(hub: Hub, email: str) -> int:
    async with hub.db.read() as session:
        user = (await session.execute(select(User).where(User.email == email))).scalars().one()
    return user.id  # type: ignore[return-value]


async def _add_people(hub: Hub, client_id: int, count: int) -> None:
    """Subaccounts, each signed in and with an API token of its own."""
    now = utcnow()
    async with hub.db.write() as session:
        for _ in range(count):
            tag = secrets.token_hex(4)
            user = User(email=f"osoba.{tag}@proba.pl", first_name="Ewa", last_name="Łęcka")
            session.add(user)
            await session.flush()
            scopes = [Scope.CONTRACTS_READ.value]
            session.add(Membership(user_id=user.id, client_id=client_id, scopes=scopes))  # type: ignore[arg-type]
            session.add_all(
                [
                    _token(user.id, TokenKind.SESSION, now, None),
                    _token(user.id, TokenKind.API, now, client_id),
                ]  # type: ignore[arg-type]
            )


def _token(user_id: int, kind: TokenKind, now: Any, client_id: int | None) -> AuthToken:
    return AuthToken(
        user_id=user_id,
        kind=kind,
        token_hash=secrets.token_hex(32),
        name="BI" if kind is TokenKind.API else None,
        client_id=client_id,
        scopes=[Scope.CONTRACTS_READ.value] if kind is TokenKind.API else None,
        expires_at=now + timedelta(hours=1),
    )


async def test_the_360_costs_the_same_statements_for_more_people(hub: Hub) -> None:
    _, number = await new_main_account(hub)
    client = await _client(hub, number)
    variables = {"id": to_global_id("Client", client.id)}
    await _add_people(hub, client.id, 1)  # type: ignore[arg-type]

    async def statements() -> tuple[Any, int]:
        await hub.gql(PEOPLE, variables, as_="staff")  # the token verified, then cached
        with count_statements(hub.db) as seen:
            body = await hub.gql(PEOPLE, variables, as_="staff")
        return shapes(seen), len(body["data"]["client"]["users"])

    before, people_before = await statements()
    await _add_people(hub, client.id, 4)  # type: ignore[arg-type]
    after, people_after = await statements()
    assert people_after == people_before + 4
    assert after == before
