"""Payment deadlines through the API: OVERDUE only from the day after the legal deadline.

Art. 115 of the Civil Code moves a deadline that falls on a Saturday or a public holiday to the
next working day. An invoice due on Saturday 28.11.2026 may be paid on Monday 30.11.2026 and is
late from Tuesday 1.12.2026; one due on 24.12.2026 (Wigilia, a Thursday; then Christmas, a
weekend) may be paid on Monday 28.12.2026 and is late from 29.12.2026. The status filter (SQL),
the status read from an invoice (Python), the instalment's state, the dashboard and the BI
tables must say the same on each day. The business day is the Warsaw day of the server's clock,
which these tests set.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlmodel import col

import hub.app as app_module
from auth.clock import WARSAW
from hub.db import Database
from loaders.invoice import InvoiceFilter
from models.client import Client
from models.contract import Contract, ContractKind, ContractStatus, Instalment
from models.invoice import Invoice, InvoiceKind, Payment, PaymentAllocation
from models.settlement import InvoiceStatus
from resolvers.ids import to_global_id
from resolvers.tables import TABLES, table_pages
from tests.auth.helpers import new_main_account, token_of
from tests.conftest import DatabaseFactory, Hub, open_hub

SATURDAY_DUE = date(2026, 11, 28)  # A: unpaid
WIGILIA_DUE = date(2026, 12, 24)  # B: paid in part
A, B = "FV/TERMIN/0001", "FV/TERMIN/0002"
A_GROSS, B_GROSS, B_PAID = Decimal("1230.00"), Decimal("615.00"), Decimal("100.00")
# Rows written long before the days tested: only a passing deadline can make them "changed".
WRITTEN = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
STATUSES = ("UNPAID", "PARTIALLY_PAID", "PAID", "OVERDUE")

# Day -> status of A and B that day, and the dashboard's overdue amount.
EXPECTED = {
    date(2026, 11, 27): ("UNPAID", "PARTIALLY_PAID", "0.00"),  # Friday before A's due date
    date(2026, 11, 30): ("UNPAID", "PARTIALLY_PAID", "0.00"),  # Monday: A's legal deadline
    date(2026, 12, 1): ("OVERDUE", "PARTIALLY_PAID", "1230.00"),  # A late from Tuesday
    date(2026, 12, 28): ("OVERDUE", "PARTIALLY_PAID", "1230.00"),  # Monday: B's legal deadline
    date(2026, 12, 29): ("OVERDUE", "OVERDUE", "1745.00"),  # B late from Tuesday
}

INVOICES = """query($id: ID!, $filter: InvoiceFilterInput) { client(id: $id) {
  invoices(first: 50, filter: $filter) { nodes { number dueDate paymentDeadline status } } } }"""
DASHBOARD = """query($id: ID!) { client(id: $id) { dashboard {
  settlements { amountDue { amount } overdue { amount } }
  overdueInvoices { number status } } } }"""
SCHEDULE = """query($id: ID!) { node(id: $id) { ... on Contract {
  schedule { number dueDate paymentDeadline settlementState } } } }"""


@dataclass
class Deadlines:
    hub: Hub
    login: str
    client_pk: int
    company: str
    contract: str
    tokens: dict[date, str] = field(default_factory=dict)


def _invoice(client_id: int, contract_id: int, number: str, due: date, gross: Decimal) -> Invoice:
    net = (gross / Decimal("1.23")).quantize(Decimal("0.01"))
    return Invoice(
        client_id=client_id,
        contract_id=contract_id,
        number=number,
        kind=InvoiceKind.INSTALMENT,
        issue_date=date(2026, 11, 14),
        sale_date=date(2026, 11, 14),
        due_date=due,
        net=net,
        vat=gross - net,
        gross=gross,
        created_at=WRITTEN,
        updated_at=WRITTEN,
    )


async def _contract(db: Database, client_id: int) -> Contract:
    async with db.write() as session:
        contract = Contract(
            client_id=client_id,
            number="UL/TERMIN/2026/1",
            kind=ContractKind.OPERATING_LEASE,
            status=ContractStatus.ACTIVE,
            start_date=date(2026, 10, 28),
            end_date=date(2027, 10, 28),
            net_value=Decimal("12000.00"),
            initial_fee=Decimal("0.00"),
            residual_value=Decimal("0.00"),
            annual_rate=Decimal("0.0899"),
            term_months=12,
            payment_day=28,
            created_at=WRITTEN,
            updated_at=WRITTEN,
        )
        session.add(contract)
    return contract


async def _invoices(db: Database, client_id: int, contract_id: int) -> None:
    async with db.write() as session:
        first = _invoice(client_id, contract_id, A, SATURDAY_DUE, A_GROSS)
        second = _invoice(client_id, contract_id, B, WIGILIA_DUE, B_GROSS)
        payment = Payment(
            client_id=client_id,
            booked_on=date(2026, 11, 20),
            amount=B_PAID,
            title=B,
            created_at=WRITTEN,
            updated_at=WRITTEN,
        )
        session.add_all([first, second, payment])
        await session.flush()
        session.add(
            PaymentAllocation(
                client_id=client_id,
                payment_id=payment.id,  # type: ignore[arg-type]
                invoice_id=second.id,  # type: ignore[arg-type]
                amount=B_PAID,
                allocated_on=date(2026, 11, 20),
                created_at=WRITTEN,
                updated_at=WRITTEN,
            )
        )
        session.add(
            Instalment(
                client_id=client_id,
                contract_id=contract_id,
                number=1,
                due_date=SATURDAY_DUE,
                capital=first.net,
                interest=Decimal("0.00"),
                net=first.net,
                vat=first.vat,
                gross=first.gross,
                remaining_capital=Decimal("11000.00"),
                invoice_id=first.id,
                created_at=WRITTEN,
                updated_at=WRITTEN,
            )
        )


@pytest.fixture(scope="module")
async def deadlines(databases: DatabaseFactory) -> AsyncIterator[Deadlines]:
    """A company of its own with two open invoices and one schedule row."""
    hub, db = await open_hub(await databases.create())
    _, number = await new_main_account(hub)
    async with db.read() as session:
        client = (
            await session.execute(select(Client).where(col(Client.number) == number))
        ).scalar_one()
    client_pk: int = client.id  # type: ignore[assignment]
    contract = await _contract(db, client_pk)
    await _invoices(db, client_pk, contract.id)  # type: ignore[arg-type]
    yield Deadlines(
        hub=hub,
        login=number,
        client_pk=client_pk,
        company=to_global_id("Client", client_pk),
        contract=to_global_id("Contract", contract.id),  # type: ignore[arg-type]
    )
    await hub.close()
    await db.dispose()


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=WARSAW).astimezone(UTC)


async def _on(setup: Deadlines, monkeypatch: pytest.MonkeyPatch, day: date) -> str:
    """The server's clock at noon of `day` in Warsaw, and a session opened that day."""
    monkeypatch.setattr(app_module, "utcnow", lambda: _noon(day))
    if day not in setup.tokens:
        setup.tokens[day] = await token_of(setup.hub, setup.login)
    return setup.tokens[day]


async def _statuses(setup: Deadlines, token: str, filter: dict | None = None) -> dict[str, str]:
    body = await setup.hub.gql(INVOICES, {"id": setup.company, "filter": filter}, token=token)
    assert "errors" not in body, body
    nodes = body["data"]["client"]["invoices"]["nodes"]
    return {node["number"]: node["status"] for node in nodes}


@pytest.mark.parametrize("day", EXPECTED, ids=str)
async def test_status_read_and_status_filter_agree_on_the_legal_deadline(
    deadlines: Deadlines, monkeypatch: pytest.MonkeyPatch, day: date
) -> None:
    token = await _on(deadlines, monkeypatch, day)
    a_status, b_status, _ = EXPECTED[day]
    assert await _statuses(deadlines, token) == {A: a_status, B: b_status}
    for status in STATUSES:
        filtered = await _statuses(deadlines, token, {"status": [status]})
        assert filtered == {n: s for n, s in ((A, a_status), (B, b_status)) if s == status}


async def test_invoice_keeps_its_printed_due_date_and_shows_the_legal_deadline(
    deadlines: Deadlines, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await _on(deadlines, monkeypatch, date(2026, 11, 30))
    body = await deadlines.hub.gql(INVOICES, {"id": deadlines.company}, token=token)
    dates = {
        n["number"]: (n["dueDate"], n["paymentDeadline"])
        for n in body["data"]["client"]["invoices"]["nodes"]
    }
    assert dates == {A: ("2026-11-28", "2026-11-30"), B: ("2026-12-24", "2026-12-28")}


@pytest.mark.parametrize("day", EXPECTED, ids=str)
async def test_dashboard_overdue_agrees_with_the_status(
    deadlines: Deadlines, monkeypatch: pytest.MonkeyPatch, day: date
) -> None:
    token = await _on(deadlines, monkeypatch, day)
    body = await deadlines.hub.gql(DASHBOARD, {"id": deadlines.company}, token=token)
    assert "errors" not in body, body
    dashboard = body["data"]["client"]["dashboard"]
    a_status, b_status, overdue = EXPECTED[day]
    assert dashboard["settlements"]["amountDue"]["amount"] == "1745.00"
    assert dashboard["settlements"]["overdue"]["amount"] == overdue
    expected = {n for n, s in ((A, a_status), (B, b_status)) if s == "OVERDUE"}
    assert {i["number"] for i in dashboard["overdueInvoices"]} == expected
    assert {i["status"] for i in dashboard["overdueInvoices"]} <= {"OVERDUE"}


@pytest.mark.parametrize(
    ("day", "state"), [(date(2026, 11, 30), "UNPAID"), (date(2026, 12, 1), "OVERDUE")], ids=str
)
async def test_instalment_due_on_a_saturday_is_overdue_from_tuesday(
    deadlines: Deadlines, monkeypatch: pytest.MonkeyPatch, day: date, state: str
) -> None:
    token = await _on(deadlines, monkeypatch, day)
    body = await deadlines.hub.gql(SCHEDULE, {"id": deadlines.contract}, token=token)
    assert "errors" not in body, body
    assert body["data"]["node"]["schedule"] == [
        {
            "number": 1,
            "dueDate": "2026-11-28",
            "paymentDeadline": "2026-11-30",
            "settlementState": state,
        }
    ]


async def _table(
    setup: Deadlines,
    name: str,
    *,
    today: date,
    statuses: frozenset[InvoiceStatus] = frozenset(),
    since: datetime | None = None,
) -> list[dict]:
    table = TABLES[name]
    filters = (
        InvoiceFilter(today=today, statuses=statuses) if name == "invoices" else table.filters()
    )
    pages = table_pages(
        setup.hub.db,
        table,
        client_id=setup.client_pk,
        filters=filters,
        updated_since=since,
        today=today,
    )
    return [row async for page in pages for row in page]


@pytest.mark.parametrize("day", EXPECTED, ids=str)
async def test_bi_tables_show_the_legal_deadline_and_the_same_status(
    deadlines: Deadlines, day: date
) -> None:
    a_status, b_status, _ = EXPECTED[day]
    rows = await _table(deadlines, "invoices", today=day)
    assert {r["number"]: (r["status"], r["payment_deadline"]) for r in rows} == {
        A: (a_status, date(2026, 11, 30)),
        B: (b_status, date(2026, 12, 28)),
    }
    overdue = await _table(
        deadlines, "invoices", today=day, statuses=frozenset({InvoiceStatus.OVERDUE})
    )
    assert {r["number"] for r in overdue} == {
        n for n, s in ((A, a_status), (B, b_status)) if s == "OVERDUE"
    }
    (instalment,) = await _table(deadlines, "instalments", today=day)
    assert instalment["payment_deadline"] == date(2026, 11, 30)


@pytest.mark.parametrize(
    ("last_pull", "today", "pulled_again"),
    [
        (date(2026, 11, 27), date(2026, 11, 30), set()),  # Saturday due date not yet passed
        (date(2026, 11, 30), date(2026, 12, 1), {A}),  # A turned OVERDUE on Tuesday
        (date(2026, 12, 1), date(2026, 12, 28), set()),  # nothing else changed
        (date(2026, 12, 28), date(2026, 12, 29), {B}),
        (date(2026, 11, 27), date(2026, 12, 29), {A, B}),
    ],
    ids=str,
)
async def test_incremental_pull_sends_invoices_again_when_they_turn_overdue(
    deadlines: Deadlines, last_pull: date, today: date, pulled_again: set[str]
) -> None:
    rows = await _table(deadlines, "invoices", today=today, since=_noon(last_pull))
    assert {r["number"] for r in rows} == pulled_again
