"""Inviting a person (issue 8, finding 3): a known and an unknown address get the same answer,
nothing an existing account stores is shown, and an existing user joins only by accepting."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from auth.passwords import hash_password
from hub.demo import DEMO_MAIN_EMAIL, DEMO_PASSWORD, DEMO_SUB_EMAIL
from models.client import Client
from models.identity import Membership, User
from models.outbox import Channel
from tests.auth.helpers import errors_of, first_company, last_message, secret_in, token_of
from tests.conftest import Hub
from tests.schema.helpers import error_codes

SUBACCOUNT = """id createdAt scopes isActive invitationPending
  user { email firstName lastName phone }"""
INVITE = f"""mutation($c: ID!, $e: String!) {{
  subaccountCreate(input: {{clientId: $c, email: $e, firstName: " Ewa ", lastName: "Wiśniewska",
                           phone: "+48500100200", scopes: [INVOICES_READ]}}) {{
    subaccount {{ {SUBACCOUNT} }} errors {{ field code message }} }} }}"""
LISTED = f"""query($id: ID!) {{ client(id: $id) {{ subaccounts {{ {SUBACCOUNT} }} }} }}"""
ACCEPT = """mutation($t: String!) {
  subaccountInvitationAccept(input: {token: $t}) { clientId errors { field code message } } }"""
UPDATE = """mutation($id: ID!, $a: Boolean) {
  subaccountUpdate(input: {id: $id, isActive: $a}) { errors { field code } } }"""
INVOICES = "query($id: ID!) { client(id: $id) { invoices(first: 1) { nodes { number } } } }"
STORED = ("Tajemniczy", "Sąsiad", "+48600111222")  # what the existing account holds


async def existing_user(hub: Hub, email: str) -> str:
    """A signed-up person of another company (100005): someone Anna must not learn about."""
    async with hub.db.write() as session:
        other = (
            await session.execute(select(Client).where(Client.number == "100005"))
        ).scalar_one()
        user = User(
            email=email,
            first_name=STORED[0],
            last_name=STORED[1],
            phone=STORED[2],
            password_hash=hash_password(DEMO_PASSWORD),
        )
        session.add(user)
        await session.flush()
        session.add(Membership(user_id=user.id, client_id=other.id, scopes=["invoices:read"]))  # type: ignore[arg-type]
    return email


def without_row_data(subaccount: dict[str, Any]) -> dict[str, Any]:
    """What is left once the new row's own id and time are set aside."""
    return {k: v for k, v in subaccount.items() if k not in ("id", "createdAt")}


def expected_for(email: str) -> dict[str, Any]:
    """Derived only from what the caller typed."""
    return {
        "scopes": ["INVOICES_READ"],
        "isActive": True,
        "invitationPending": True,
        "user": {
            "email": email.lower(),
            "firstName": "Ewa",
            "lastName": "Wiśniewska",
            "phone": "+48500100200",
        },
    }


async def invite(hub: Hub, email: str) -> dict[str, Any]:
    anna = await token_of(hub, DEMO_MAIN_EMAIL)
    body = await hub.gql(INVITE, {"c": await first_company(hub), "e": email}, token=anna)
    assert "errors" not in body, body
    return body["data"]["subaccountCreate"]  # type: ignore[no-any-return]


async def listed(hub: Hub, subaccount_id: str) -> dict[str, Any]:
    anna = await token_of(hub, DEMO_MAIN_EMAIL)
    body = await hub.gql(LISTED, {"id": await first_company(hub)}, token=anna)
    return next(s for s in body["data"]["client"]["subaccounts"] if s["id"] == subaccount_id)


async def invitation_link(hub: Hub, email: str) -> str:
    message = await last_message(hub, email, Channel.EMAIL)
    assert message.template == "subaccount_join"
    return secret_in(message)


async def test_known_and_unknown_addresses_get_the_same_answer_and_nothing_stored(
    flows: Hub,
) -> None:
    known = await existing_user(flows, "znany.klient@inna-firma.pl")
    unknown = "ktos.nowy@firma.pl"
    typed_known = "Znany.Klient@inna-firma.pl"  # as the caller typed it
    answers = {email: await invite(flows, email) for email in (typed_known, unknown)}
    for typed, answer in answers.items():
        assert answer["errors"] == []
        assert without_row_data(answer["subaccount"]) == expected_for(typed)
        shown = await listed(flows, answer["subaccount"]["id"])
        assert without_row_data(shown) == expected_for(typed)
        assert not any(value in json.dumps(answer) + json.dumps(shown) for value in STORED)
    assert (await last_message(flows, known, Channel.EMAIL)).template == "subaccount_join"
    assert (await last_message(flows, unknown, Channel.EMAIL)).template == "subaccount_invitation"


async def test_an_existing_user_has_no_access_before_accepting_and_has_it_after(
    flows: Hub,
) -> None:
    email = await existing_user(flows, "zaproszony@inna-firma.pl")
    created = (await invite(flows, email))["subaccount"]
    company = await first_company(flows)
    person = await token_of(flows, email)
    assert error_codes(await flows.gql(INVOICES, {"id": company}, token=person)) == ["NOT_FOUND"]
    anna = await token_of(flows, DEMO_MAIN_EMAIL)
    # Switching it on does not stand in for the person's consent.
    assert await errors_of(flows, UPDATE, {"id": created["id"], "a": True}, token=anna) == []
    assert error_codes(await flows.gql(INVOICES, {"id": company}, token=person)) == ["NOT_FOUND"]
    link = await invitation_link(flows, email)
    accepted = (await flows.gql(ACCEPT, {"t": link}, token=person))["data"]
    assert accepted["subaccountInvitationAccept"] == {"clientId": company, "errors": []}
    body = await flows.gql(INVOICES, {"id": company}, token=person)
    assert body["data"]["client"]["invoices"]["nodes"], body
    joined = await listed(flows, created["id"])
    assert joined["invitationPending"] is False and joined["isActive"] is True
    assert joined["user"]["firstName"] == STORED[0]  # now a member: the person as they are
    again = await errors_of(flows, ACCEPT, {"t": link}, token=person)
    assert [e["code"] for e in again] == ["INVALID_LINK"]


async def test_accepting_with_someone_elses_session_fails_and_keeps_the_link(flows: Hub) -> None:
    email = await existing_user(flows, "adresat@inna-firma.pl")
    await invite(flows, email)
    link = await invitation_link(flows, email)
    jan = await token_of(flows, DEMO_SUB_EMAIL)
    taken = await errors_of(flows, ACCEPT, {"t": link}, token=jan)
    assert [(e["field"], e["code"]) for e in taken] == [("token", "INVALID_LINK")]
    assert error_codes(await flows.gql(ACCEPT, {"t": link})) == ["UNAUTHENTICATED"]
    person = await token_of(flows, email)
    forged = link.split(".")[0] + ".x" + link.split(".", 1)[1]
    assert [e["code"] for e in await errors_of(flows, ACCEPT, {"t": forged}, token=person)] == [
        "INVALID_LINK"
    ]
    assert await errors_of(flows, ACCEPT, {"t": link}, token=person) == []


async def test_switched_off_while_pending_stays_off_after_accepting(flows: Hub) -> None:
    email = await existing_user(flows, "wylaczony@inna-firma.pl")
    created = (await invite(flows, email))["subaccount"]
    anna = await token_of(flows, DEMO_MAIN_EMAIL)
    assert await errors_of(flows, UPDATE, {"id": created["id"], "a": False}, token=anna) == []
    assert (await listed(flows, created["id"]))["isActive"] is False
    person = await token_of(flows, email)
    link = await invitation_link(flows, email)
    assert await errors_of(flows, ACCEPT, {"t": link}, token=person) == []
    company = await first_company(flows)
    assert error_codes(await flows.gql(INVOICES, {"id": company}, token=person)) == ["NOT_FOUND"]
    assert (await listed(flows, created["id"]))["isActive"] is False
