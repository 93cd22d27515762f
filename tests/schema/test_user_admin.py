"""User administration by staff (issue 15, point 3): every action works, takes effect at once,
is audited with its reason and the before and after, never shows a secret, and is refused
without USERS_MANAGE or a reason."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from auth.passwords import hash_password
from auth.tokens import hash_secret
from hub.demo import DEMO_MAIN_EMAIL, DEMO_PASSWORD
from models.identity import AuditEvent, AuthToken, Membership, StaffRole, User
from models.outbox import Channel
from resolvers.ids import from_global_id, to_global_id
from tests.auth.helpers import (
    TOKEN_CREATE,
    last_message,
    new_main_account,
    secret_in,
    staff_token,
    token_of,
)
from tests.conftest import LOGIN, Hub
from tests.schema.helpers import error_codes

REASON = "Zgłoszenie telefoniczne 4711"
ME = "{ viewer { user { email } } }"


def action(name: str, extra: str = "") -> str:
    return f"""mutation($u: ID!, $why: String!) {{
      {name}(input: {{userId: $u, reason: $why{extra}}}) {{
        user {{ id isActive }} errors {{ field code }} }} }}"""


DISABLE = action("adminUserDisable")
ENABLE = action("adminUserEnable")
SESSIONS_END = action("adminUserSessionsEnd")
UNLOCK = action("adminUserUnlock")
RESET = action("adminPasswordResetStart")
WELCOME = action("adminWelcomeResend")
SCOPES = """mutation($u: ID!, $c: ID!, $s: [Scope!]!, $why: String!) {
  adminSubaccountScopesSet(input: {userId: $u, clientId: $c, scopes: $s, reason: $why}) {
    user { id } errors { field code } } }"""
REVOKE = """mutation($t: ID!, $why: String!) {
  adminApiTokenRevoke(input: {tokenId: $t, reason: $why}) { user { id } errors { field code } } }"""


def gid(user: User) -> str:
    return to_global_id("User", user.id)  # type: ignore[arg-type]


def payload(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    return next(iter(body["data"].values()))  # type: ignore[no-any-return]


async def audits(hub: Hub, user: User, name: str) -> list[AuditEvent]:
    async with hub.db.read() as session:
        query = select(AuditEvent).where(
            AuditEvent.target_user_id == user.id, AuditEvent.action == name
        )
        return list((await session.execute(query.order_by(AuditEvent.id))).scalars())


async def person(hub: Hub) -> tuple[User, str, str]:
    """A company's main account of the test's own, signed in: the user, its session, company."""
    user, _number = await new_main_account(hub)
    async with hub.db.read() as session:
        query = select(Membership.client_id).where(Membership.user_id == user.id)
        company = to_global_id("Client", (await session.execute(query)).scalar_one())
    return user, await token_of(hub, user.email), company


async def api_token(hub: Hub, session_token: str, company: str) -> tuple[str, str]:
    body = await hub.gql(TOKEN_CREATE, {"c": company, "s": None, "ro": True}, token=session_token)
    created = body["data"]["apiTokenCreate"]
    return created["token"], created["apiToken"]["id"]


async def works(hub: Hub, token: str) -> bool:
    """The token signs its holder in (a refused one is answered UNAUTHENTICATED)."""
    body = await hub.gql(ME, token=token)
    if error_codes(body):
        assert error_codes(body) == ["UNAUTHENTICATED"], body
        return False
    return body["data"]["viewer"] is not None


async def test_disable_cuts_access_at_once_and_enable_restores_it(flows: Hub) -> None:
    user, session_token, company = await person(flows)
    secret, _ = await api_token(flows, session_token, company)
    assert await works(flows, session_token) and await works(flows, secret)  # now cached
    service = await staff_token(flows, StaffRole.CUSTOMER_SERVICE)
    disabled = payload(await flows.gql(DISABLE, {"u": gid(user), "why": REASON}, token=service))
    assert disabled == {"user": {"id": gid(user), "isActive": False}, "errors": []}
    assert not await works(flows, session_token) and not await works(flows, secret)
    login = await flows.gql(LOGIN, {"login": user.email, "password": DEMO_PASSWORD})
    assert login["data"]["login"]["token"] is None
    [row] = await audits(flows, user, "user.disable")
    assert row.details["reason"] == REASON
    assert row.details["changes"] == {"is_active": {"before": True, "after": False}}
    enabled = payload(await flows.gql(ENABLE, {"u": gid(user), "why": REASON}, token=service))
    assert enabled["user"]["isActive"] is True
    assert not await works(flows, session_token)  # the sessions ended with the disabling
    assert await works(flows, secret)  # the company's API token works again
    [row] = await audits(flows, user, "user.enable")
    assert row.details["changes"] == {"is_active": {"before": False, "after": True}}


async def test_parallel_disables_leave_one_state_and_one_audit_row(flows: Hub) -> None:
    user, _session, _company = await person(flows)
    service = await staff_token(flows, StaffRole.CUSTOMER_SERVICE)
    variables = {"u": gid(user), "why": REASON}
    bodies = await asyncio.gather(
        *(flows.gql(DISABLE, variables, token=service) for _ in range(20))
    )
    assert all(payload(body)["errors"] == [] for body in bodies)
    assert all(payload(body)["user"]["isActive"] is False for body in bodies)
    assert len(await audits(flows, user, "user.disable")) == 1


async def test_nobody_disables_themselves_and_only_admins_touch_staff(flows: Hub) -> None:
    service = await staff_token(flows, StaffRole.CUSTOMER_SERVICE)
    admin = await staff_token(flows, StaffRole.ADMIN)
    async with flows.db.write() as session:
        me = (await session.execute(select(User).where(User.email.startswith("admin@")))).one()[0]
        colleague = User(
            email="odchodzi@staff.leasehub.pl",
            first_name="Leon",
            last_name="Odchodzący",
            staff_role=StaffRole.TYRE_DESK,
            password_hash=hash_password(DEMO_PASSWORD),
        )
        session.add(colleague)
    own = await flows.gql(DISABLE, {"u": gid(me), "why": REASON}, token=admin)
    assert payload(own)["errors"] == [{"field": "userId", "code": "CANNOT_DISABLE_SELF"}]
    colleague_token = await token_of(flows, colleague.email)
    refused = await flows.gql(DISABLE, {"u": gid(colleague), "why": REASON}, token=service)
    assert error_codes(refused) == ["FORBIDDEN"]
    assert await works(flows, colleague_token)
    done = await flows.gql(DISABLE, {"u": gid(colleague), "why": REASON}, token=admin)
    assert payload(done)["errors"] == []
    assert not await works(flows, colleague_token)


async def test_ending_sessions_leaves_api_tokens(flows: Hub) -> None:
    user, first, company = await person(flows)
    second = await token_of(flows, user.email)
    secret, _ = await api_token(flows, first, company)
    assert await works(flows, first) and await works(flows, second)
    service = await staff_token(flows, StaffRole.CUSTOMER_SERVICE)
    ended = await flows.gql(SESSIONS_END, {"u": gid(user), "why": REASON}, token=service)
    assert payload(ended)["errors"] == []
    assert not await works(flows, first) and not await works(flows, second)
    assert await works(flows, secret)
    [row] = await audits(flows, user, "user.sessions_end")
    assert row.details["changes"] == {"open_sessions": {"before": 2, "after": 0}}


async def test_unlock_and_reset_are_audited_with_their_reason(flows: Hub) -> None:
    user, _session, _company = await person(flows)
    service = await staff_token(flows, StaffRole.CUSTOMER_SERVICE)
    for query, name in ((UNLOCK, "user.unlock"), (RESET, "user.password_reset_started")):
        body = await flows.gql(query, {"u": gid(user), "why": REASON}, token=service)
        assert payload(body)["errors"] == []
        [row] = await audits(flows, user, name)
        assert row.details["reason"] == REASON and row.actor_id is not None
    mail = await last_message(flows, user.email, Channel.EMAIL)
    assert mail.template == "password_reset" and secret_in(mail) not in json.dumps(body)


async def test_welcome_resend_sends_a_fresh_activation_link_to_a_new_person(flows: Hub) -> None:
    newcomer, _number = await new_main_account(flows, password=None)
    service = await staff_token(flows, StaffRole.CUSTOMER_SERVICE)
    body = await flows.gql(WELCOME, {"u": gid(newcomer), "why": REASON}, token=service)
    assert payload(body)["errors"] == []
    mail = await last_message(flows, newcomer.email, Channel.EMAIL)
    assert mail.template == "activation_link" and secret_in(mail) not in json.dumps(body)
    [row] = await audits(flows, newcomer, "user.welcome_resent")
    assert row.details == {"reason": REASON, "changes": {}}
    active, _session, _company = await person(flows)
    again = await flows.gql(WELCOME, {"u": gid(active), "why": REASON}, token=service)
    assert payload(again)["errors"] == [{"field": "userId", "code": "ALREADY_ACTIVE"}]


async def _subaccount(hub: Hub, company_pk: int) -> User:
    async with hub.db.write() as session:
        clerk = User(
            email=f"kadry.{company_pk}@proba.pl",
            first_name="Ola",
            last_name="Kadrowa",
            password_hash=hash_password(DEMO_PASSWORD),
        )
        session.add(clerk)
        await session.flush()
        session.add(
            Membership(user_id=clerk.id, client_id=company_pk, scopes=["contracts:read"])  # type: ignore[arg-type]
        )
    return clerk


async def test_subaccount_scopes_change_at_once_and_never_a_main_account(flows: Hub) -> None:
    main, _session, company = await person(flows)
    async with flows.db.read() as session:
        query = select(Membership.client_id).where(Membership.user_id == main.id)
        company_pk = (await session.execute(query)).scalar_one()
    clerk = await _subaccount(flows, company_pk)
    clerk_token = await token_of(flows, clerk.email)
    contracts = "query($c: ID!) { client(id: $c) { contracts(first: 1) { totalCount } } }"
    assert error_codes(await flows.gql(contracts, {"c": company}, token=clerk_token)) == []
    service = await staff_token(flows, StaffRole.CUSTOMER_SERVICE)
    variables = {"u": gid(clerk), "c": company, "s": ["INVOICES_READ"], "why": REASON}
    assert payload(await flows.gql(SCOPES, variables, token=service))["errors"] == []
    refused = await flows.gql(contracts, {"c": company}, token=clerk_token)
    assert error_codes(refused) == ["FORBIDDEN"]
    [row] = await audits(flows, clerk, "subaccount.scopes_set")
    assert row.client_id == company_pk
    assert row.details["changes"] == {
        "scopes": {"before": ["contracts:read"], "after": ["invoices:read"]}
    }
    on_main = await flows.gql(SCOPES, {**variables, "u": gid(main)}, token=service)
    assert payload(on_main)["errors"] == [{"field": "userId", "code": "MAIN_ACCOUNT"}]


async def test_a_revoked_api_token_stops_at_once_and_its_secret_is_never_audited(
    flows: Hub,
) -> None:
    user, session_token, company = await person(flows)
    secret, token_id = await api_token(flows, session_token, company)
    assert await works(flows, secret)
    service = await staff_token(flows, StaffRole.CUSTOMER_SERVICE)
    body = await flows.gql(REVOKE, {"t": token_id, "why": REASON}, token=service)
    assert payload(body) == {"user": {"id": gid(user)}, "errors": []}
    assert not await works(flows, secret) and await works(flows, session_token)
    [row] = await audits(flows, user, "api_token.revoke")
    assert row.details["token"] == {"id": token_id, "name": "Power BI"}
    await flows.gql(DISABLE, {"u": gid(user), "why": REASON}, token=service)
    async with flows.db.read() as session:
        stored = await session.get(User, user.id)
        hashes = (
            await session.execute(select(AuthToken.token_hash).where(AuthToken.user_id == user.id))
        ).scalars()
        query = select(AuditEvent.details).where(AuditEvent.target_user_id == user.id)
        written = json.dumps(list((await session.execute(query)).scalars()))
    assert stored is not None and stored.password_hash
    for forbidden in (stored.password_hash, secret, hash_secret(secret), *hashes):
        assert forbidden not in written


@pytest.mark.parametrize("role", [StaffRole.AUDITOR, StaffRole.TYRE_DESK, StaffRole.FINANCE, None])
async def test_every_action_is_refused_without_users_manage(
    flows: Hub, role: StaffRole | None
) -> None:
    user, session_token, company = await person(flows)
    _secret, token_id = await api_token(flows, session_token, company)
    token = await staff_token(flows, role) if role else await token_of(flows, DEMO_MAIN_EMAIL)
    asks = [
        (query, {"u": gid(user), "why": REASON})
        for query in (DISABLE, ENABLE, SESSIONS_END, UNLOCK, RESET, WELCOME)
    ]
    asks += [
        (SCOPES, {"u": gid(user), "c": company, "s": [], "why": REASON}),
        (REVOKE, {"t": token_id, "why": REASON}),
    ]
    for query, variables in asks:
        assert error_codes(await flows.gql(query, variables, token=token)) == ["FORBIDDEN"]
    async with flows.db.read() as session:
        query = select(AuditEvent.id).where(AuditEvent.target_user_id == user.id)
        assert list((await session.execute(query)).scalars()) == []
    assert await works(flows, session_token)


@pytest.mark.parametrize(
    ("reason", "code"), [("", "REQUIRED"), ("  ok ", "REQUIRED"), ("x" * 501, "TOO_LONG")]
)
async def test_an_action_needs_a_reason(flows: Hub, reason: str, code: str) -> None:
    user, session_token, _company = await person(flows)
    service = await staff_token(flows, StaffRole.CUSTOMER_SERVICE)
    body = await flows.gql(DISABLE, {"u": gid(user), "why": reason}, token=service)
    assert payload(body) == {"user": None, "errors": [{"field": "reason", "code": code}]}
    assert await works(flows, session_token)
    assert await audits(flows, user, "user.disable") == []


COMPANY_LOG = """query($c: ID!) { admin { auditLog(filter: {clientId: $c}, first: 50) {
  nodes { action targetUser { id } } } } }"""


async def test_actions_on_a_person_are_on_each_of_their_companies_logs(flows: Hub) -> None:
    """One row per company the person belongs to, so that `auditLog(filter: {clientId})`
    shows what was done to a company's people."""
    user, _session, company = await person(flows)
    other, _number = await new_main_account(flows)
    async with flows.db.write() as session:
        query = select(col(Membership.client_id)).where(col(Membership.user_id) == other.id)
        second = (await session.execute(query)).scalar_one()
        session.add(Membership(user_id=user.id, client_id=second, scopes=["contracts:read"]))  # type: ignore[arg-type]
    service = await staff_token(flows, StaffRole.CUSTOMER_SERVICE)
    for mutation in (DISABLE, UNLOCK):
        body = await flows.gql(mutation, {"u": gid(user), "why": REASON}, token=service)
        assert payload(body)["errors"] == []
    companies = {from_global_id(company)[1], second}
    for name in ("user.disable", "user.unlock"):
        assert {row.client_id for row in await audits(flows, user, name)} == companies
    auditor = await staff_token(flows, StaffRole.AUDITOR)
    for client in companies:
        body = await flows.gql(COMPANY_LOG, {"c": to_global_id("Client", client)}, token=auditor)
        nodes = body["data"]["admin"]["auditLog"]["nodes"]
        shown = {
            node["action"] for node in nodes if (node["targetUser"] or {}).get("id") == gid(user)
        }
        assert shown >= {"user.disable", "user.unlock"}
