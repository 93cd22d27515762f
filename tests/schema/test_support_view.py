"""The support view (issue 15, point 7): staff with support:view read as a client user."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from hub.demo import DEMO_MAIN_EMAIL, DEMO_STAFF_EMAIL
from models.audit import AccessLogEntry
from models.base import utcnow
from models.identity import AuditEvent, AuthToken, StaffRole, TokenKind, User
from resolvers.ids import to_global_id
from resolvers.support_view import AUDIT_ACTION
from tests.auth.helpers import staff_token
from tests.conftest import Hub
from tests.schema.helpers import error_codes

START = """mutation($u: ID!, $r: String!) {
  adminSupportViewStart(input: {userId: $u, reason: $r}) {
    token expiresAt errors { field code message } } }"""
READS = """{ viewer { isStaff readOnly user { email } clients { isMainAccount scopes client {
  id name contracts(first: 10) { totalCount nodes { id } }
  invoices(first: 10) { totalCount nodes { id } } } } } }"""
WHO = "{ viewer { user { email } } }"
MUTATIONS = [
    "mutation { logout { errors { code } } }",
    """mutation { apiTokenCreate(input: {name: "x", clientId: "Q2xpZW50OjE="}) {
      token errors { code } } }""",
    'mutation { adminUserUnlock(input: {userId: "VXNlcjox"}) { errors { code } } }',
]
REASON = "Klient dzwoni: nie widzi faktury"


async def _user_id(hub: Hub, email: str) -> int:
    async with hub.db.read() as session:
        user = (await session.execute(select(User).where(User.email == email))).scalars().one()
    return user.id  # type: ignore[return-value]


async def _start(hub: Hub, staff: str, email: str = DEMO_MAIN_EMAIL, reason: str = REASON) -> dict:
    user = to_global_id("User", await _user_id(hub, email))
    body = await hub.gql(START, {"u": user, "r": reason}, token=staff)
    return body


async def _support_token(hub: Hub, staff: str | None = None) -> str:
    body = await _start(hub, staff or hub.tokens["staff"])
    payload = body["data"]["adminSupportViewStart"]
    assert payload["errors"] == [], payload
    return payload["token"]  # type: ignore[no-any-return]


async def test_a_support_view_reads_exactly_what_the_user_reads(hub: Hub) -> None:
    own = await hub.gql(READS, as_="anna")
    token = await _support_token(hub)
    seen = await hub.gql(READS, token=token)
    assert "errors" not in seen, seen
    assert own["data"]["viewer"]["readOnly"] is False
    assert seen["data"]["viewer"].pop("readOnly") is True
    own["data"]["viewer"].pop("readOnly")
    assert seen == own
    clients = seen["data"]["viewer"]["clients"]
    assert clients and clients[0]["client"]["contracts"]["totalCount"] > 0
    assert seen["data"]["viewer"]["isStaff"] is False


async def test_a_support_view_carries_nothing_of_the_staff_role(hub: Hub) -> None:
    token = await _support_token(hub)
    body = await hub.gql("{ admin { users(first: 1) { totalCount } } }", token=token)
    assert error_codes(body) == ["FORBIDDEN"]


@pytest.mark.parametrize("mutation", MUTATIONS)
async def test_a_support_view_runs_no_mutation(hub: Hub, mutation: str) -> None:
    token = await _support_token(hub)
    body = await hub.gql(mutation, token=token)
    assert error_codes(body) == ["FORBIDDEN"]
    assert body.get("data") is None
    assert (await hub.gql(WHO, token=token))["data"]["viewer"] is not None  # not logged out


async def test_starting_a_support_view_is_audited_with_its_reason(hub: Hub) -> None:
    started = utcnow()
    await _support_token(hub)
    async with hub.db.read() as session:
        rows = (
            await session.execute(
                select(AuditEvent).where(
                    AuditEvent.action == AUDIT_ACTION, AuditEvent.created_at >= started
                )
            )
        ).scalars()
        events = list(rows)
    assert events and events[-1].details["reason"] == REASON
    assert events[-1].target_user_id == await _user_id(hub, DEMO_MAIN_EMAIL)
    assert events[-1].actor_id == await _user_id(hub, DEMO_STAFF_EMAIL)


async def test_a_support_view_token_is_stored_only_hashed_with_its_staff_member(hub: Hub) -> None:
    token = await _support_token(hub)
    async with hub.db.read() as session:
        row = (
            (
                await session.execute(
                    select(AuthToken)
                    .where(AuthToken.kind == TokenKind.SUPPORT)
                    .order_by(AuthToken.id.desc())
                )
            )
            .scalars()
            .first()
        )
    assert row is not None and token not in row.token_hash
    assert row.read_only and row.reason == REASON
    assert row.on_behalf_of_id == await _user_id(hub, DEMO_STAFF_EMAIL)


async def test_an_expired_support_view_is_refused(hub: Hub) -> None:
    token = await _support_token(hub)
    assert (await hub.gql(WHO, token=token))["data"]["viewer"] is not None  # cached now
    async with hub.db.write() as session:
        await session.execute(
            update(AuthToken)
            .where(AuthToken.kind == TokenKind.SUPPORT, AuthToken.revoked_at.is_(None))
            .values(expires_at=utcnow() - timedelta(seconds=1))
            .execution_options(leasehub_access_changed=True)  # no one's access but these tokens'
        )
    assert (await hub.gql(WHO, token=token))["data"]["viewer"] is None


@pytest.mark.parametrize("role", [StaffRole.TYRE_DESK, StaffRole.AUDITOR])
async def test_staff_without_support_view_cannot_start_one(hub: Hub, role: StaffRole) -> None:
    body = await _start(hub, await staff_token(hub, role))
    assert error_codes(body) == ["FORBIDDEN"]


async def test_a_client_user_cannot_start_one(hub: Hub) -> None:
    assert error_codes(await _start(hub, hub.tokens["anna"])) == ["FORBIDDEN"]


async def test_customer_service_may_start_one(hub: Hub) -> None:
    token = await _support_token(hub, await staff_token(hub, StaffRole.CUSTOMER_SERVICE))
    assert (await hub.gql(WHO, token=token))["data"]["viewer"]["user"]["email"] == DEMO_MAIN_EMAIL


async def test_no_support_view_of_a_staff_account(hub: Hub) -> None:
    await staff_token(hub, StaffRole.FINANCE)
    body = await _start(hub, hub.tokens["staff"], email="finance@staff.leasehub.pl")
    payload = body["data"]["adminSupportViewStart"]
    assert payload["token"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("userId", "NOT_FOUND")]


@pytest.mark.parametrize("reason", ["", "   "])
async def test_a_support_view_needs_a_reason(hub: Hub, reason: str) -> None:
    body = await _start(hub, hub.tokens["staff"], reason=reason)
    payload = body["data"]["adminSupportViewStart"]
    assert payload["token"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("reason", "REQUIRED")]


async def test_the_staff_sign_out_ends_the_support_view(hub: Hub) -> None:
    staff = await staff_token(hub, StaffRole.CUSTOMER_SERVICE)
    token = await _support_token(hub, staff)
    assert (await hub.gql(WHO, token=token))["data"]["viewer"] is not None  # cached now
    assert (await hub.gql("mutation { logout { errors { code } } }", token=staff))["data"]
    assert (await hub.gql(WHO, token=token))["data"]["viewer"] is None


async def test_losing_the_permission_ends_the_support_view(hub: Hub) -> None:
    staff = await staff_token(hub, StaffRole.CUSTOMER_SERVICE)
    token = await _support_token(hub, staff)
    assert (await hub.gql(WHO, token=token))["data"]["viewer"] is not None  # cached now
    email = "customer_service@staff.leasehub.pl"
    await _set_role(hub, email, StaffRole.AUDITOR)
    try:
        assert (await hub.gql(WHO, token=token))["data"]["viewer"] is None
    finally:
        await _set_role(hub, email, StaffRole.CUSTOMER_SERVICE)


async def _set_role(hub: Hub, email: str, role: StaffRole) -> None:
    async with hub.db.write() as session:
        user = (await session.execute(select(User).where(User.email == email))).scalars().one()
        user.staff_role = role


async def test_every_read_of_a_support_view_is_in_the_access_log_with_its_reason(
    hub: Hub,
) -> None:
    token = await _support_token(hub)
    started = utcnow()
    assert "errors" not in await hub.gql(READS, token=token)
    async with hub.db.read() as session:
        query = select(AccessLogEntry).where(AccessLogEntry.created_at >= started)
        entries = list((await session.execute(query)).scalars())
    anna = await _user_id(hub, DEMO_MAIN_EMAIL)
    assert entries and all(entry.as_user_id == anna for entry in entries)
    assert {entry.reason for entry in entries} == {REASON}
    assert {entry.staff_user_id for entry in entries} == {await _user_id(hub, DEMO_STAFF_EMAIL)}
