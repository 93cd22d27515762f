"""AUTH-8 and INV-8: the first invoice welcomes the client; every invoice is announced."""

from __future__ import annotations

import random

from sqlalchemy import select

from models.client import Client
from models.identifiers import make_nip, make_regon
from models.identity import StaffRole
from models.outbox import OutboxMessage
from resolvers.ids import to_global_id
from tests.auth.helpers import staff_token, token_of
from tests.conftest import Hub
from tests.schema.helpers import error_codes

ISSUE = """mutation($c: ID!, $net: Decimal!, $due: Date!) {
  invoiceIssue(input: {clientId: $c, kind: FEE, issueDate: "2026-11-20", dueDate: $due,
                       net: $net, vatRate: 23, description: "Opłata za duplikat"}) {
    invoice { number gross { amount } status } errors { field code } } }"""


async def new_client(hub: Hub) -> Client:
    rng = random.Random(99)
    client = Client(
        number="199999",
        name="Nowa Firma sp. z o.o.",
        nip=make_nip(rng),
        regon=make_regon(rng),
        street="ul. Polna 1",
        postal_code="00-001",
        city="Warszawa",
        email="biuro@nowafirma.pl",
        phone="+48221112233",
        einvoice_email="efaktury@nowafirma.pl",
    )
    async with hub.db.write() as session:
        session.add(client)
    return client


async def templates_to(hub: Hub, recipient: str) -> list[str]:
    async with hub.db.read() as session:
        rows = await session.execute(
            select(OutboxMessage.template)
            .where(OutboxMessage.recipient == recipient)
            .order_by(OutboxMessage.id)
        )
        return list(rows.scalars())


async def test_first_invoice_sends_the_welcome_and_every_invoice_a_notice(flows: Hub) -> None:
    client = await new_client(flows)
    staff = await staff_token(flows, StaffRole.FINANCE)
    variables = {"c": to_global_id("Client", client.id), "net": "100.00", "due": "2026-12-04"}  # type: ignore[arg-type]
    first = await flows.gql(ISSUE, variables, token=staff)
    assert first["data"]["invoiceIssue"]["errors"] == []
    assert first["data"]["invoiceIssue"]["invoice"]["gross"] == {"amount": "123.00"}
    await flows.gql(ISSUE, variables, token=staff)
    assert await templates_to(flows, "efaktury@nowafirma.pl") == [
        "welcome",
        "invoice_issued",
        "invoice_issued",
    ]
    async with flows.db.read() as session:
        welcome = (
            await session.execute(
                select(OutboxMessage).where(
                    OutboxMessage.template == "welcome",
                    OutboxMessage.recipient == "efaktury@nowafirma.pl",
                )
            )
        ).scalar_one()
    assert "Nowa Firma sp. z o.o. –" in welcome.body and "o.o.." not in welcome.body


async def test_invoice_input_is_validated_and_staff_only(flows: Hub) -> None:
    staff = await staff_token(flows, StaffRole.FINANCE)
    async with flows.db.read() as session:
        client_id = (
            await session.execute(select(Client.id).where(Client.number == "100001"))
        ).scalar_one()
    variables = {"c": to_global_id("Client", client_id), "net": "-5", "due": "2026-11-01"}
    body = await flows.gql(ISSUE, variables, token=staff)
    errors = {(e["field"], e["code"]) for e in body["data"]["invoiceIssue"]["errors"]}
    assert errors == {("net", "NOT_POSITIVE"), ("dueDate", "BEFORE_ISSUE_DATE")}
    client_user = await token_of(flows, "anna.kowalska@demo.leasehub.pl")
    denied = await flows.gql(ISSUE, {**variables, "net": "5"}, token=client_user)
    assert error_codes(denied) == ["FORBIDDEN"]
