"""Money and dates typed by staff (issue 8, must-work 10): every bad value is answered with its
code in `errors`, never "Unexpected error.", and nothing is written."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from models.document import Document
from models.identity import StaffRole
from models.invoice import Invoice
from models.outbox import OutboxMessage
from resolvers.ids import from_global_id, to_global_id
from tests.auth.helpers import first_company, staff_token
from tests.conftest import Hub
from tests.schema.contracts import today

INVOICE = """mutation($c: ID!, $net: Decimal!, $issue: Date!, $due: Date!) {
  invoiceIssue(input: {clientId: $c, kind: FEE, issueDate: $issue, dueDate: $due, net: $net,
                       vatRate: 23, description: "Opłata"}) {
    invoice { number } errors { field code message } } }"""
DOCUMENT = """mutation($c: ID!, $kind: DocumentKind!, $issue: Date!, $amount: Decimal,
                   $inv: ID, $basis: Decimal, $start: Date, $end: Date, $rate: Decimal) {
  documentIssue(input: {clientId: $c, kind: $kind, title: "Nota", issueDate: $issue,
                        amount: $amount, invoiceId: $inv, basisAmount: $basis,
                        periodStart: $start, periodEnd: $end, annualRate: $rate}) {
    document { number } errors { field code message } } }"""

TOO_LATE = str(today() + timedelta(days=400))  # out of range whenever the test runs
GOOD_INVOICE = {"net": "100.00", "issue": "2026-02-02", "due": "2026-02-16"}  # past days stay valid
GOOD_NOTE = {
    "kind": "INTEREST_NOTE",
    "issue": "2026-02-02",
    "basis": "1000.00",
    "start": "2026-01-01",
    "end": "2026-01-31",
    "rate": "0.14",
}


async def written(hub: Hub) -> tuple[int, int, int]:
    async with hub.db.read() as session:
        counts = [
            (await session.execute(select(func.count()).select_from(model))).scalar_one()
            for model in (Invoice, Document, OutboxMessage)
        ]
    return counts[0], counts[1], counts[2]


async def refused(hub: Hub, query: str, variables: dict[str, Any]) -> list[tuple[str, str]]:
    """The (field, code) pairs of a staff mutation that must write nothing."""
    staff = await staff_token(hub, StaffRole.FINANCE)
    before = await written(hub)
    body = await hub.gql(query, {"c": await first_company(hub), **variables}, token=staff)
    assert "errors" not in body, body  # no "Unexpected error."
    payload = next(iter(body["data"].values()))
    assert next(iter(payload.values())) is None
    assert await written(hub) == before
    return [(e["field"], e["code"]) for e in payload["errors"]]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"net": "NaN"}, [("net", "INVALID_AMOUNT")]),
        ({"net": "Infinity"}, [("net", "INVALID_AMOUNT")]),
        ({"net": "-Infinity"}, [("net", "INVALID_AMOUNT")]),
        ({"net": "1e30"}, [("net", "AMOUNT_TOO_LARGE")]),
        ({"net": 1e30}, [("net", "AMOUNT_TOO_LARGE")]),
        ({"net": "1000000000000"}, [("net", "AMOUNT_TOO_LARGE")]),
        ({"net": "900000000000"}, [("net", "AMOUNT_TOO_LARGE")]),  # its gross would not fit
        ({"net": "10.005"}, [("net", "TOO_MANY_DECIMALS")]),
        ({"net": "-5"}, [("net", "NOT_POSITIVE")]),
        ({"issue": "1999-12-31"}, [("issueDate", "DATE_OUT_OF_RANGE")]),
        ({"due": "9999-12-31"}, [("dueDate", "DATE_OUT_OF_RANGE")]),
        (
            {"issue": TOO_LATE, "due": TOO_LATE},
            [("issueDate", "DATE_OUT_OF_RANGE"), ("dueDate", "DATE_OUT_OF_RANGE")],
        ),
        # A JSON number arrives as a binary float (123.45000000000000284…): still two places.
        ({"net": 123.45, "due": "9999-12-31"}, [("dueDate", "DATE_OUT_OF_RANGE")]),
    ],
)
async def test_bad_invoice_money_and_dates_get_their_code_and_write_nothing(
    flows: Hub, changes: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert await refused(flows, INVOICE, {**GOOD_INVOICE, **changes}) == expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"kind": "OTHER", "amount": "NaN"}, [("amount", "INVALID_AMOUNT")]),
        ({"kind": "OTHER", "amount": "-Infinity"}, [("amount", "INVALID_AMOUNT")]),
        ({"kind": "OTHER", "amount": "1e30"}, [("amount", "AMOUNT_TOO_LARGE")]),
        ({"kind": "OTHER", "amount": "-1000000000000"}, [("amount", "AMOUNT_TOO_LARGE")]),
        ({"kind": "OTHER", "amount": "1.999"}, [("amount", "TOO_MANY_DECIMALS")]),
        ({"kind": "OTHER", "issue": "9999-12-31"}, [("issueDate", "DATE_OUT_OF_RANGE")]),
        ({"basis": "-100"}, [("basisAmount", "NOT_POSITIVE")]),
        ({"basis": "Infinity"}, [("basisAmount", "INVALID_AMOUNT")]),
        ({"basis": "0.001"}, [("basisAmount", "TOO_MANY_DECIMALS")]),
        ({"rate": "NaN"}, [("annualRate", "INVALID_AMOUNT")]),
        ({"rate": "1e30"}, [("annualRate", "OUT_OF_RANGE")]),
        ({"rate": "0.123456"}, [("annualRate", "TOO_MANY_DECIMALS")]),
        ({"start": "1999-01-01"}, [("periodStart", "DATE_OUT_OF_RANGE")]),
        ({"end": "9999-12-31"}, [("periodEnd", "DATE_OUT_OF_RANGE")]),
        # Each input fits, but the interest computed from them would not.
        (
            {"basis": "999999999999.99", "rate": "0.99", "start": "2000-01-01"},
            [("basisAmount", "AMOUNT_TOO_LARGE")],
        ),
    ],
)
async def test_bad_document_money_and_dates_get_their_code_and_write_nothing(
    flows: Hub, changes: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    company = await first_company(flows)
    async with flows.db.read() as session:
        query = select(Invoice.id).where(Invoice.client_id == from_global_id(company)[1])
        invoice_id = (await session.execute(query.limit(1))).scalar_one()
    variables = {**GOOD_NOTE, "inv": to_global_id("Invoice", invoice_id), **changes}
    assert await refused(flows, DOCUMENT, variables) == expected
