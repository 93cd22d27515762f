"""Subaccounts and API tokens: nobody grants more than they hold, and tokens stay read-only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hub.demo import DEMO_MAIN_EMAIL, DEMO_SUB_EMAIL
from models.client import Client
from models.identity import AuthToken, Membership, StaffRole, TokenKind, User
from models.outbox import Channel
from resolvers.ids import from_global_id, to_global_id
from tests.auth.helpers import (
    TOKEN_CREATE,
    errors_of,
    first_company,
    last_message,
    secret_in,
    staff_token,
    token_of,
)
from tests.conftest import Hub
from tests.schema.helpers import error_codes

PASSWORD = "Zielone#Jabłko7"
CREATE = """mutation($c: ID!, $e: String!, $s: [Scope!]!) {
  subaccountCreate(input: {clientId: $c, email: $e, firstName: "Ewa", lastName: "Wiśniewska",
                           scopes: $s}) {
    subaccount { id scopes isActive user { email } } errors { field code message } } }"""
UPDATE = """mutation($id: ID!, $s: [Scope!], $a: Boolean) {
  subaccountUpdate(input: {id: $id, scopes: $s, isActive: $a}) {
    subaccount { scopes isActive } errors { field code } } }"""
REMOVE = """mutation($id: ID!) {
  subaccountRemove(input: {id: $id}) { errors { field code } } }"""
ACTIVATE = """mutation($t: String!, $p: String!) {
  activationComplete(input: {token: $t, password: $p}) { errors { code } } }"""
CLIENT_READS = """query($id: ID!) { client(id: $id) {
  invoices(first: 1) { nodes { number } } contracts(first: 1) { nodes { number } } } }"""


async def invite_and_activate(
    hub: Hub, token: str, email: str, scopes: list[str]
) -> dict[str, Any]:
    body = await hub.gql(
        CREATE, {"c": await first_company(hub), "e": email, "s": scopes}, token=token
    )
    payload = body["data"]["subaccountCreate"]
    assert payload["errors"] == [], payload
    invitation = await last_message(hub, email, Channel.EMAIL)
    assert invitation.template == "subaccount_invitation"
    assert await errors_of(hub, ACTIVATE, {"t": secret_in(invitation), "p": PASSWORD}) == []
    return payload["subaccount"]  # type: ignore[no-any-return]


async def test_scope_catalogue_is_filterable(flows: Hub) -> None:
    anna = await token_of(flows, DEMO_MAIN_EMAIL)
    everything = await flows.gql("{ scopeCatalogue { scope group description } }", token=anna)
    invoices = await flows.gql('{ scopeCatalogue(search: "invoice") { scope } }', token=anna)
    assert len(everything["data"]["scopeCatalogue"]) == 15
    assert {e["scope"] for e in invoices["data"]["scopeCatalogue"]} == {
        "INVOICES_READ",
        "PAYMENTS_PAY",
        "PAYMENTS_READ",
    }


async def test_invited_subaccount_activates_and_sees_only_its_scopes(flows: Hub) -> None:
    anna = await token_of(flows, DEMO_MAIN_EMAIL)
    created = await invite_and_activate(flows, anna, "ewa.wisniewska@firma.pl", ["INVOICES_READ"])
    assert created["scopes"] == ["INVOICES_READ"] and created["isActive"]
    ewa = await token_of(flows, "ewa.wisniewska@firma.pl", PASSWORD)
    body = await flows.gql(CLIENT_READS, {"id": await first_company(flows)}, token=ewa)
    assert body["data"]["client"]["invoices"]["nodes"]
    assert body["data"]["client"]["contracts"] is None and error_codes(body) == ["FORBIDDEN"]
    listed = await flows.gql(
        "query($id: ID!) { client(id: $id) { subaccounts { user { email } } } }",
        {"id": await first_company(flows)},
        token=anna,
    )
    emails = {s["user"]["email"] for s in listed["data"]["client"]["subaccounts"]}
    assert {"ewa.wisniewska@firma.pl", DEMO_SUB_EMAIL} <= emails


async def test_subaccount_without_the_manage_scope_cannot_add_people(flows: Hub) -> None:
    jan = await token_of(flows, DEMO_SUB_EMAIL)
    body = await flows.gql(
        CREATE,
        {"c": await first_company(flows), "e": "x@firma.pl", "s": ["INVOICES_READ"]},
        token=jan,
    )
    assert error_codes(body) == ["FORBIDDEN"]


async def test_nobody_grants_more_than_they_hold(flows: Hub) -> None:
    anna = await token_of(flows, DEMO_MAIN_EMAIL)
    await invite_and_activate(
        flows, anna, "kierownik@firma.pl", ["SUBACCOUNTS_MANAGE", "INVOICES_READ"]
    )
    manager = await token_of(flows, "kierownik@firma.pl", PASSWORD)
    body = await flows.gql(
        CREATE,
        {
            "c": await first_company(flows),
            "e": "wiecej@firma.pl",
            "s": ["INVOICES_READ", "CONTRACTS_READ"],
        },
        token=manager,
    )
    errors = body["data"]["subaccountCreate"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("scopes", "SCOPE_NOT_GRANTABLE")]
    assert "CONTRACTS_READ" in errors[0]["message"]


async def test_disabling_takes_effect_on_the_next_request(flows: Hub) -> None:
    anna = await token_of(flows, DEMO_MAIN_EMAIL)
    created = await invite_and_activate(flows, anna, "stazysta@firma.pl", ["INVOICES_READ"])
    intern = await token_of(flows, "stazysta@firma.pl", PASSWORD)
    company = await first_company(flows)
    query = "query($id: ID!) { client(id: $id) { name } }"
    assert (await flows.gql(query, {"id": company}, token=intern))["data"]["client"]
    disabled = await errors_of(flows, UPDATE, {"id": created["id"], "a": False}, token=anna)
    assert disabled == []
    assert error_codes(await flows.gql(query, {"id": company}, token=intern)) == ["NOT_FOUND"]
    await flows.gql(UPDATE, {"id": created["id"], "a": True}, token=anna)
    assert (await flows.gql(query, {"id": company}, token=intern))["data"]["client"]


async def test_subaccount_of_another_company_is_not_found(flows: Hub) -> None:
    """Jan gets a subaccount in company 100005, which Anna does not manage."""
    async with flows.db.write() as session:
        other = (
            await session.execute(select(Client).where(Client.number == "100005"))
        ).scalar_one()
        jan = (await session.execute(select(User).where(User.email == DEMO_SUB_EMAIL))).scalar_one()
        stranger = Membership(user_id=jan.id, client_id=other.id, is_main=False, scopes=[])
        session.add(stranger)
    anna = await token_of(flows, DEMO_MAIN_EMAIL)
    foreign_id = to_global_id("Subaccount", stranger.id)  # type: ignore[arg-type]
    body = await flows.gql(UPDATE, {"id": foreign_id, "s": ["INVOICES_READ"]}, token=anna)
    missing = await flows.gql(
        UPDATE, {"id": to_global_id("Subaccount", 10**9), "s": []}, token=anna
    )
    assert error_codes(body) == error_codes(missing) == ["NOT_FOUND"]
    async with flows.db.read() as session:
        assert (await session.get(Membership, stranger.id)).scopes == []  # type: ignore[union-attr]


async def test_read_only_api_token_reads_its_scopes_and_cannot_mutate(flows: Hub) -> None:
    anna = await token_of(flows, DEMO_MAIN_EMAIL)
    company = await first_company(flows)
    created = await flows.gql(
        TOKEN_CREATE, {"c": company, "s": ["INVOICES_READ"], "ro": True}, token=anna
    )
    payload = created["data"]["apiTokenCreate"]
    secret = payload["token"]
    assert secret.startswith("lht_") and payload["apiToken"]["readOnly"]
    listed = await flows.gql("{ viewer { apiTokens { name scopes } } }", token=anna)
    assert secret not in str(listed)
    body = await flows.gql(CLIENT_READS, {"id": company}, token=secret)
    assert body["data"]["client"]["invoices"]["nodes"] and error_codes(body) == ["FORBIDDEN"]
    mutation = await flows.gql("mutation { logout { errors { code } } }", token=secret)
    assert mutation["data"] is None and error_codes(mutation) == ["FORBIDDEN"]
    still = await flows.gql(CLIENT_READS, {"id": company}, token=secret)
    assert still["data"]["client"]["invoices"]["nodes"]  # the refused logout ended nothing
    async with flows.db.read() as session:
        stored = (
            (
                await session.execute(
                    select(AuthToken)
                    .where(AuthToken.name == "Power BI")
                    .order_by(AuthToken.id.desc())
                )
            )
            .scalars()
            .first()
        )
    assert stored is not None and stored.last_used_at is not None
    revoke = (
        """mutation($id: ID!) { apiTokenRevoke(input: {id: $id}) { apiToken { revokedAt } } }"""
    )
    await flows.gql(revoke, {"id": payload["apiToken"]["id"]}, token=anna)
    assert error_codes(await flows.gql(CLIENT_READS, {"id": company}, token=secret)) == [
        "UNAUTHENTICATED"
    ]


async def test_tokens_cannot_exceed_their_owner_nor_make_tokens(flows: Hub) -> None:
    jan = await token_of(flows, DEMO_SUB_EMAIL)
    company = await first_company(flows)
    body = await flows.gql(
        TOKEN_CREATE, {"c": company, "s": ["PAYMENTS_READ"], "ro": True}, token=jan
    )
    assert [e["code"] for e in body["data"]["apiTokenCreate"]["errors"]] == ["SCOPE_NOT_GRANTABLE"]
    anna = await token_of(flows, DEMO_MAIN_EMAIL)
    writable = (await flows.gql(TOKEN_CREATE, {"c": company, "s": None, "ro": False}, token=anna))[
        "data"
    ]["apiTokenCreate"]["token"]
    again = await flows.gql(TOKEN_CREATE, {"c": company, "s": None, "ro": True}, token=writable)
    assert error_codes(again) == ["FORBIDDEN"]


async def test_api_tokens_cannot_change_account_security(flows: Hub) -> None:
    anna = await token_of(flows, DEMO_MAIN_EMAIL)
    company = await first_company(flows)
    writable = (await flows.gql(TOKEN_CREATE, {"c": company, "s": None, "ro": False}, token=anna))[
        "data"
    ]["apiTokenCreate"]["token"]
    change = """mutation { passwordChange(input: {currentPassword: "LeaseHub!2026",
                newPassword: "Inne#Haslo2026"}) { errors { code } } }"""
    totp = 'mutation { totpSetupStart(input: {password: "LeaseHub!2026"}) { otpauthUri } }'
    assert error_codes(await flows.gql(change, token=writable)) == ["FORBIDDEN"]
    assert error_codes(await flows.gql(totp, token=writable)) == ["FORBIDDEN"]
    assert await token_of(flows, DEMO_MAIN_EMAIL)  # the password is unchanged


async def test_a_manager_cannot_remove_scopes_it_does_not_hold(flows: Hub) -> None:
    anna = await token_of(flows, DEMO_MAIN_EMAIL)
    await invite_and_activate(
        flows, anna, "zastepca@firma.pl", ["SUBACCOUNTS_MANAGE", "INVOICES_READ"]
    )
    clerk = await invite_and_activate(
        flows, anna, "ksiegowa@firma.pl", ["INVOICES_READ", "CONTRACTS_READ"]
    )
    manager = await token_of(flows, "zastepca@firma.pl", PASSWORD)
    body = await flows.gql(UPDATE, {"id": clerk["id"], "s": ["INVOICES_READ"]}, token=manager)
    errors = body["data"]["subaccountUpdate"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("scopes", "SCOPE_NOT_GRANTABLE")]
    # Switching it off or removing it would take contracts:read away just the same.
    off = await errors_of(flows, UPDATE, {"id": clerk["id"], "a": False}, token=manager)
    assert [(e["field"], e["code"]) for e in off] == [("isActive", "SCOPE_NOT_GRANTABLE")]
    gone = await errors_of(flows, REMOVE, {"id": clerk["id"]}, token=manager)
    assert [(e["field"], e["code"]) for e in gone] == [("id", "SCOPE_NOT_GRANTABLE")]
    async with flows.db.read() as session:
        stored = await session.get(Membership, from_global_id(clerk["id"])[1])
    assert stored is not None and stored.is_active
    assert stored.scopes == ["contracts:read", "invoices:read"]
    # What the manager holds it may still take away.
    narrower = {"id": clerk["id"], "s": ["CONTRACTS_READ"]}
    assert await errors_of(flows, UPDATE, narrower, token=manager) == []


async def test_staff_cannot_create_api_tokens(flows: Hub) -> None:
    staff = await staff_token(flows, StaffRole.ADMIN)
    body = await flows.gql(
        TOKEN_CREATE, {"c": await first_company(flows), "s": None, "ro": True}, token=staff
    )
    payload = body["data"]["apiTokenCreate"]
    assert payload["token"] is None and payload["apiToken"] is None
    assert payload["errors"] == [{"field": None, "code": "STAFF_TOKENS_NOT_SUPPORTED"}]
    async with flows.db.read() as session:
        staff_user = (
            await session.execute(select(User).where(User.email == "admin@staff.leasehub.pl"))
        ).scalar_one()
        tokens = await session.execute(
            select(AuthToken).where(
                AuthToken.user_id == staff_user.id, AuthToken.kind == TokenKind.API
            )
        )
    assert tokens.first() is None
