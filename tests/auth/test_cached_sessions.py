"""Cached sessions: a known token costs one statement, and every cut of access is seen at once.

Two apps over one database stand for two server processes (`leasehub serve --workers 2`): each
has its own cache and its own connection pools. Every test first shows that the token is served
from the cache (its request checked it with the one statement, `auth_version`, and did not load
it again), then makes the change through the other app, and expects the very next request to
see it.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text, update

import hub.app
from auth.cache import CachedViewer, ViewerCache
from auth.revocation import ACCESS_HANDLED
from auth.sessions import end_session, end_sessions_of
from auth.tokens import hash_secret
from auth.viewer import Viewer
from hub.demo import DemoSpec, load_demo
from models.base import utcnow
from models.client import Client
from models.identity import AuthToken, Membership, StaffRole, User
from models.outbox import Channel
from resolvers.ids import from_global_id, to_global_id
from tests.auth.helpers import (
    TOKEN_CREATE,
    errors_of,
    last_message,
    new_main_account,
    secret_in,
    staff_token,
    token_of,
)
from tests.conftest import DatabaseFactory, Hub, count_statements, open_hub
from tests.schema.helpers import error_codes

NAME = "query($id: ID!) { client(id: $id) { name } }"
INVOICES = "query($id: ID!) { client(id: $id) { invoices(first: 1) { nodes { number } } } }"
CONTRACTS = "query($id: ID!) { client(id: $id) { contracts(first: 1) { nodes { number } } } }"
LOGOUT = "mutation { logout { errors { code } } }"
PASSWORD_CHANGE = """mutation($c: String!, $n: String!) {
  passwordChange(input: {currentPassword: $c, newPassword: $n}) { errors { field code } } }"""
TOKEN_REVOKE = """mutation($id: ID!) {
  apiTokenRevoke(input: {id: $id}) { apiToken { revokedAt } errors { code } } }"""
SUB_CREATE = """mutation($c: ID!, $e: String!, $s: [Scope!]!) {
  subaccountCreate(input: {clientId: $c, email: $e, firstName: "Ewa", lastName: "Zając",
                           scopes: $s}) { subaccount { id } errors { field code } } }"""
SUB_UPDATE = """mutation($id: ID!, $s: [Scope!], $a: Boolean) {
  subaccountUpdate(input: {id: $id, scopes: $s, isActive: $a}) { errors { field code } } }"""
SUB_REMOVE = "mutation($id: ID!) { subaccountRemove(input: {id: $id}) { errors { code } } }"
ACTIVATE = """mutation($t: String!, $p: String!) {
  activationComplete(input: {token: $t, password: $p}) { errors { code } } }"""
LAST_USED = "{ viewer { apiTokens { name lastUsedAt } } }"
ADMIN = '{ admin { users(search: "nobody-at-all", first: 1) { totalCount } } }'
SUB_PASSWORD = "Zielone#Jabłko7"
NEW_PASSWORD = "Czerwone#Wiśnie8"


def checks(statements: list[str]) -> list[str]:
    """The cached token's one statement: its liveness and its user's access version."""
    return [s for s in statements if "auth_version" in s and "token_hash" not in s]


def loads(statements: list[str]) -> list[str]:
    """Building a viewer from scratch: the token by its hash, then the memberships."""
    return [s for s in statements if "token_hash" in s or "FROM memberships" in s]


def stamps(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().startswith("UPDATE auth_tokens")]


@pytest.fixture(scope="module")
async def two(databases: DatabaseFactory) -> AsyncIterator[tuple[Hub, Hub]]:
    """Two server processes over one demo database."""
    url = await databases.create()
    first, first_db = await open_hub(url)
    second, second_db = await open_hub(url)
    await load_demo(first_db.engine, DemoSpec(clients=3, seed=5, fleet_every=0))
    yield first, second
    for hub_, db in ((first, first_db), (second, second_db)):
        await hub_.close()
        await db.dispose()


async def company_of(hub_: Hub, number: str) -> str:
    async with hub_.db.read() as session:
        found = await session.execute(select(Client.id).where(Client.number == number))
        return to_global_id("Client", found.scalar_one())


async def account(hub_: Hub) -> tuple[User, str, str]:
    """A company of the test's own, its main account and a session of it."""
    user, number = await new_main_account(hub_)
    return user, await company_of(hub_, number), await token_of(hub_, number)


async def served_from_cache(hub_: Hub, token: str, company: str) -> None:
    """One request after a warming one: checked with one statement, never loaded again."""
    assert "errors" not in await hub_.gql(NAME, {"id": company}, token=token)
    with count_statements(hub_.db) as statements:
        body = await hub_.gql(NAME, {"id": company}, token=token)
    assert "errors" not in body, body
    assert len(checks(statements)) == 1 and loads(statements) == [], statements


def viewer_cache(hub_: Hub) -> ViewerCache:
    graphql = next(route for route in hub_.app.routes if route.path == "/graphql")
    return graphql.app.viewers  # type: ignore[no-any-return]


async def test_a_cached_session_costs_one_statement_before_its_data(
    two: tuple[Hub, Hub],
) -> None:
    """Pinned: a small query used to cost token+user and memberships before its one data
    statement (3); from the cache it costs the check and the data (2)."""
    first, _ = two
    _, company, token = await account(first)
    with count_statements(first.db) as cold:
        await first.gql(NAME, {"id": company}, token=token)
    with count_statements(first.db) as warm:
        body = await first.gql(NAME, {"id": company}, token=token)
    assert body["data"]["client"]["name"]
    assert len(cold) == 3 and len(loads(cold)) == 2 and checks(cold) == []
    assert len(warm) == 2 and warm[0] == checks(warm)[0] and loads(warm) == []
    # The check is one statement on two primary keys: nothing of the data is read with it.
    assert "memberships" not in warm[0] and "clients" not in warm[0]

    # LEASEHUB_AUTH_CACHE_SIZE=0 is the hub as it was: the whole load on every request.
    uncached, db = await open_hub(first.settings.database_url, LEASEHUB_AUTH_CACHE_SIZE=0)  # type: ignore[union-attr]
    try:
        for _ in range(2):
            with count_statements(db) as statements:
                await uncached.gql(NAME, {"id": company}, token=token)
            assert len(statements) == 3 and len(loads(statements)) == 2
    finally:
        await uncached.close()
        await db.dispose()


async def api_token(hub_: Hub) -> tuple[str, str, str, str]:
    """A new account's company, session, and a read-only API token for it with its id."""
    _, company, session = await account(hub_)
    created = await hub_.gql(TOKEN_CREATE, {"c": company, "s": None, "ro": True}, token=session)
    made = created["data"]["apiTokenCreate"]
    return company, session, made["token"], made["apiToken"]["id"]


async def test_a_cached_api_token_costs_one_statement_and_stamps_once_a_minute(
    two: tuple[Hub, Hub],
) -> None:
    first, _ = two
    company, session, token, _token_id = await api_token(first)
    with count_statements(first.db) as cold:
        await first.gql(NAME, {"id": company}, token=token)
    assert len(stamps(cold)) == 1  # the first use is recorded
    with count_statements(first.db) as warm:
        body = await first.gql(NAME, {"id": company}, token=token)
    assert body["data"]["client"]["name"] and len(warm) == 2 and stamps(warm) == []
    used = (await first.gql(LAST_USED, token=session))["data"]["viewer"]["apiTokens"][0]
    assert used["lastUsedAt"] is not None


async def test_logout_in_one_process_ends_the_session_cached_in_another(
    two: tuple[Hub, Hub],
) -> None:
    first, second = two
    _, company, token = await account(first)
    await served_from_cache(first, token, company)
    await served_from_cache(second, token, company)
    assert (await first.gql(LOGOUT, token=token))["data"]["logout"]["errors"] == []
    assert error_codes(await second.gql(NAME, {"id": company}, token=token)) == ["UNAUTHENTICATED"]
    assert error_codes(await first.gql(NAME, {"id": company}, token=token)) == ["UNAUTHENTICATED"]


async def test_password_change_ends_the_other_sessions_cached_in_every_process(
    two: tuple[Hub, Hub],
) -> None:
    first, second = two
    user, company, changer = await account(first)
    other = await token_of(first, user.email)
    for hub_ in two:
        await served_from_cache(hub_, other, company)
        await served_from_cache(hub_, changer, company)
    variables = {"c": "LeaseHub!2026", "n": NEW_PASSWORD}
    assert await errors_of(first, PASSWORD_CHANGE, variables, token=changer) == []
    for hub_ in (second, first):
        refused = await hub_.gql(NAME, {"id": company}, token=other)
        assert error_codes(refused) == ["UNAUTHENTICATED"]
        kept = await hub_.gql(NAME, {"id": company}, token=changer)
        assert kept["data"]["client"]["name"]  # the session that changed it goes on


async def test_a_revoked_api_token_is_refused_by_the_other_process_at_once(
    two: tuple[Hub, Hub],
) -> None:
    first, second = two
    company, session, token, token_id = await api_token(first)
    await served_from_cache(second, token, company)
    revoked = await first.gql(TOKEN_REVOKE, {"id": token_id}, token=session)
    assert revoked["data"]["apiTokenRevoke"]["apiToken"]["revokedAt"]
    assert error_codes(await second.gql(NAME, {"id": company}, token=token)) == ["UNAUTHENTICATED"]


async def _subaccount(hub_: Hub, main: str, company: str, scopes: list[str]) -> tuple[str, str]:
    """A new person invited to the company, activated and signed in: (subaccount id, token)."""
    email = f"ewa.{secrets.token_hex(4)}@proba.pl"
    body = await hub_.gql(SUB_CREATE, {"c": company, "e": email, "s": scopes}, token=main)
    assert body["data"]["subaccountCreate"]["errors"] == []
    invitation = await last_message(hub_, email, Channel.EMAIL)
    assert await errors_of(hub_, ACTIVATE, {"t": secret_in(invitation), "p": SUB_PASSWORD}) == []
    sub_id = body["data"]["subaccountCreate"]["subaccount"]["id"]
    return sub_id, await token_of(hub_, email, SUB_PASSWORD)


async def test_changed_subaccount_rights_reach_its_cached_session_at_once(
    two: tuple[Hub, Hub],
) -> None:
    """Scopes narrowed, switched off and on, removed (its API token with it): each is seen by
    the other process's very next request."""
    first, second = two
    _, company, main = await account(first)
    sub_id, sub = await _subaccount(first, main, company, ["CONTRACTS_READ", "INVOICES_READ"])
    created = await first.gql(
        TOKEN_CREATE, {"c": company, "s": ["CONTRACTS_READ"], "ro": True}, token=sub
    )
    sub_api = created["data"]["apiTokenCreate"]["token"]
    await served_from_cache(second, sub, company)
    await served_from_cache(second, sub_api, company)
    assert (await second.gql(INVOICES, {"id": company}, token=sub))["data"]["client"]

    assert (
        await errors_of(first, SUB_UPDATE, {"id": sub_id, "s": ["CONTRACTS_READ"]}, token=main)
        == []
    )
    assert error_codes(await second.gql(INVOICES, {"id": company}, token=sub)) == ["FORBIDDEN"]
    assert (await second.gql(CONTRACTS, {"id": company}, token=sub))["data"]["client"]

    assert await errors_of(first, SUB_UPDATE, {"id": sub_id, "a": False}, token=main) == []
    for token in (sub, sub_api):
        assert error_codes(await second.gql(NAME, {"id": company}, token=token)) == ["NOT_FOUND"]
    assert await errors_of(first, SUB_UPDATE, {"id": sub_id, "a": True}, token=main) == []
    await served_from_cache(second, sub, company)
    await served_from_cache(second, sub_api, company)

    assert await errors_of(first, SUB_REMOVE, {"id": sub_id}, token=main) == []
    assert error_codes(await second.gql(NAME, {"id": company}, token=sub)) == ["NOT_FOUND"]
    assert error_codes(await second.gql(NAME, {"id": company}, token=sub_api)) == [
        "UNAUTHENTICATED"
    ]


async def test_a_disabled_user_is_refused_by_every_process_at_once(two: tuple[Hub, Hub]) -> None:
    """There is no API to disable an account: staff do it in the database. Through the ORM the
    access version rises with it; by hand in SQL the per-request check sees `is_active`."""
    first, second = two
    for by_hand in (False, True):
        user, company, token = await account(first)
        await served_from_cache(second, token, company)
        async with first.db.write() as session:
            if by_hand:
                sql = text("UPDATE users SET is_active = :off WHERE id = :id")
                await session.execute(sql, {"off": False, "id": user.id})
            else:
                stored = await session.get(User, user.id)
                stored.is_active = False  # type: ignore[union-attr]
        refused = await second.gql(NAME, {"id": company}, token=token)
        assert error_codes(refused) == ["UNAUTHENTICATED"], by_hand


async def test_staff_role_and_memberships_changed_in_the_database_reach_cached_viewers(
    two: tuple[Hub, Hub],
) -> None:
    first, second = two
    staff = await staff_token(first, StaffRole.AUDITOR)
    assert "errors" not in await second.gql(ADMIN, token=staff)
    await served_from_cache(second, staff, await company_of(first, "100001"))
    async with first.db.write() as session:
        auditor = (
            await session.execute(select(User).where(User.email == "auditor@staff.leasehub.pl"))
        ).scalar_one()
        auditor.staff_role = None
    assert error_codes(await second.gql(ADMIN, token=staff)) == ["FORBIDDEN"]

    # A company granted to a signed-in user is there on the next request too.
    user, company, token = await account(first)
    other = await company_of(first, "100002")
    await served_from_cache(second, token, company)
    assert error_codes(await second.gql(NAME, {"id": other}, token=token)) == ["NOT_FOUND"]
    async with first.db.write() as session:
        session.add(
            Membership(
                user_id=user.id,  # type: ignore[arg-type]
                client_id=from_global_id(other)[1],
                scopes=["contracts:read"],
            )
        )
    assert (await second.gql(NAME, {"id": other}, token=token))["data"]["client"]["name"]


async def test_an_expired_session_is_refused_though_it_is_cached(
    two: tuple[Hub, Hub], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = two
    _, company, token = await account(first)
    await served_from_cache(first, token, company)
    later = utcnow() + timedelta(hours=first.settings.session_ttl_hours, minutes=1)  # type: ignore[union-attr]
    monkeypatch.setattr(hub.app, "utcnow", lambda: later)
    assert error_codes(await first.gql(NAME, {"id": company}, token=token)) == ["UNAUTHENTICATED"]


async def test_twenty_parallel_requests_with_one_token(
    two: tuple[Hub, Hub], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cold and warm, a session and an API token: every answer right, the warm checks made
    together, and the API token's last use stamped once per minute, not once per request."""
    first, second = two
    _, company, session = await account(first)
    created = await first.gql(TOKEN_CREATE, {"c": company, "s": None, "ro": True}, token=session)
    api = created["data"]["apiTokenCreate"]["token"]

    async def twenty(token: str) -> list[str]:
        with count_statements(second.db) as statements:
            bodies = await asyncio.gather(
                *(second.gql(NAME, {"id": company}, token=token) for _ in range(20))
            )
        assert all(body["data"]["client"]["name"] for body in bodies), bodies
        return statements

    for token in (session, api):
        cold = await twenty(token)
        assert len(loads(cold)) <= 40
        warm = await twenty(token)
        # Arrived together: their checks are one statement, sent after all of them arrived.
        assert 1 <= len(checks(warm)) < 20 and loads(warm) == [] and stamps(warm) == []
    assert len(stamps(cold)) == 1  # the API token's first use, once for twenty requests

    later = utcnow() + timedelta(minutes=2)
    monkeypatch.setattr(hub.app, "utcnow", lambda: later)
    assert len(stamps(await twenty(api))) == 1
    async with second.db.read() as db:
        stamped = (
            await db.execute(
                select(AuthToken.last_used_at).where(AuthToken.token_hash == hash_secret(api))
            )
        ).scalar_one()
    assert stamped == later


async def test_made_up_tokens_never_push_a_real_session_out_of_the_cache(
    two: tuple[Hub, Hub],
) -> None:
    first, _ = two
    small, db = await open_hub(first.settings.database_url, LEASEHUB_AUTH_CACHE_SIZE=4)  # type: ignore[union-attr]
    try:
        _, company, token = await account(first)
        await served_from_cache(small, token, company)
        made_up = [f"lhs_{secrets.token_urlsafe(32)}" for _ in range(40)]
        refused = await asyncio.gather(
            *(small.gql(NAME, {"id": company}, token=fake) for fake in made_up)
        )
        assert {tuple(error_codes(body)) for body in refused} == {("UNAUTHENTICATED",)}
        await served_from_cache(small, token, company)
        cache = viewer_cache(small)
        assert len(cache) == 1
        assert token not in cache._entries and hash_secret(token) in cache._entries
    finally:
        await small.close()
        await db.dispose()


def _entry(version: int = 0, stored_at: float = 0.0) -> CachedViewer:
    return CachedViewer(
        viewer=Viewer(user_id=1), token_id=1, version=version, expires_at=None, stored_at=stored_at
    )


def test_the_cache_forgets_the_least_recently_used_and_what_outlived_its_ttl() -> None:
    now = utcnow()
    clock = [0.0]
    cache = ViewerCache(2, 60.0, clock=lambda: clock[0])
    cache.put("a", _entry())
    cache.put("b", _entry())
    assert cache.get("a", now) is not None  # "b" is now the least recently used
    cache.put("c", _entry())
    assert cache.get("b", now) is None and cache.get("a", now) and cache.get("c", now)
    clock[0] = 60.0
    assert cache.get("a", now) is None and len(cache) == 1
    # A viewer built at an older version never replaces one built at a newer.
    cache.put("d", _entry(version=3, stored_at=60.0))
    cache.put("d", _entry(version=2, stored_at=60.0))
    assert cache.get("d", now).version == 3  # type: ignore[union-attr]
    # A token past its expiry is dropped before any statement is spent on it.
    expiring = _entry(stored_at=60.0)
    expiring.expires_at = now
    cache.put("e", expiring)
    assert cache.get("e", now) is None and cache.get("e", now - timedelta(seconds=1)) is None
    off = ViewerCache(0, 60.0)
    off.put("a", _entry())
    assert len(off) == 0


async def test_changes_to_access_raise_the_users_version_and_bulk_ones_must_say_so(
    two: tuple[Hub, Hub],
) -> None:
    first, _ = two
    user, _company, _token = await account(first)

    async def version() -> int:
        async with first.db.read() as session:
            query = select(User.auth_version).where(User.id == user.id)
            return int((await session.execute(query)).scalar_one())

    before = await version()
    async with first.db.write() as session:
        stored = await session.get(User, user.id)
        stored.phone = "+48 600 999 999"  # type: ignore[union-attr]
    assert await version() == before  # nothing of access changed
    async with first.db.write() as session:
        membership = (
            await session.execute(select(Membership).where(Membership.user_id == user.id))
        ).scalar_one()
        membership.scopes = ["contracts:read"]
    assert await version() == before + 1

    bulk: Any = update(Membership).where(Membership.user_id == user.id).values(is_active=False)
    with pytest.raises(RuntimeError, match="access_changed"):
        async with first.db.write() as session:
            await session.execute(bulk)
    async with first.db.write() as session:
        await session.execute(bulk.execution_options(**ACCESS_HANDLED))


async def test_a_logout_during_a_password_change_of_the_same_user_never_deadlocks(
    two: tuple[Hub, Hub],
) -> None:
    """The version is raised before the tokens are touched, in both: a logout waits for the
    password change's hold on the user's row instead of holding its token crosswise (on
    PostgreSQL the other order was a deadlock; SQLite writes one at a time anyway)."""
    first, _ = two
    user, _company, kept = await account(first)
    ended = await token_of(first, user.email)
    async with first.db.read() as session:
        ids = dict(
            (
                await session.execute(
                    select(AuthToken.token_hash, AuthToken.id).where(
                        AuthToken.token_hash.in_([hash_secret(kept), hash_secret(ended)])
                    )
                )
            ).all()
        )

    async def logout() -> None:
        async with first.db.write() as session:
            await end_session(
                session, token_id=ids[hash_secret(ended)], user_id=user.id, now=utcnow()
            )

    async with first.db.write() as changing:  # passwordChange's unit of work, step by step
        await changing.execute(
            update(User).where(User.id == user.id).values(password_changed_at=utcnow())
        )
        logging_out = asyncio.create_task(logout())
        await asyncio.sleep(0.3)  # the logout goes as far as it can meanwhile
        await end_sessions_of(
            changing, user_id=user.id, now=utcnow(), keep_token_id=ids[hash_secret(kept)]
        )
    await asyncio.wait_for(logging_out, 10)
    async with first.db.read() as session:
        revoked = await session.execute(
            select(AuthToken.revoked_at).where(AuthToken.id == ids[hash_secret(ended)])
        )
        assert revoked.scalar_one() is not None
