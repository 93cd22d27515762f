"""Demo documents follow the late-payment rules, row by row: interest notes only for invoices
paid late, from the first day of delay to a late payment, at the published half-year rates;
payment reminders only for unpaid overdue invoices; no-arrears certificates only for clients
with nothing overdue on the day."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

import models
from hub.demo import DemoSpec
from hub.demo.document import NO_ARREARS
from models.calendar import is_overdue, late_from
from models.document import DocumentKind
from tests.hub.test_demo import Row, amounts_due, loaded, money, rows
from tests.models.test_interest import PUBLISHED

# A year into 2026 H2, whose rate the shipped table lacks: late payments then get no note.
SPEC = DemoSpec(clients=100, seed=11, today=date(2026, 11, 30))


@pytest.fixture(scope="module")
async def demo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AsyncEngine]:
    engine = await loaded(tmp_path_factory.mktemp("demo-interest") / "demo.db", SPEC)
    yield engine
    await engine.dispose()


class Ledger:
    """Invoices, documents and what was paid for each invoice on which day."""

    def __init__(self, invoices: list[Row], payments: list[Row], allocations: list[Row]) -> None:
        self.invoices = {invoice["id"]: invoice for invoice in invoices}
        self.due = amounts_due(invoices)
        booked = {payment["id"]: payment["booked_on"] for payment in payments}
        self.paid: defaultdict[int, list[tuple[date, Decimal]]] = defaultdict(list)
        for allocation in allocations:
            day = booked[allocation["payment_id"]]
            self.paid[allocation["invoice_id"]].append((day, money(allocation["amount"])))

    def paid_by(self, invoice_id: int, day: date) -> Decimal:
        return sum((amount for paid, amount in self.paid[invoice_id] if paid <= day), Decimal(0))


@pytest.fixture(scope="module")
async def ledger(demo: AsyncEngine) -> Ledger:
    return Ledger(
        await rows(demo, models.Invoice),
        await rows(demo, models.Payment),
        await rows(demo, models.PaymentAllocation),
    )


async def documents(demo: AsyncEngine, kind: DocumentKind) -> list[Row]:
    found = [row for row in await rows(demo, models.Document) if row["kind"] == kind]
    assert found, f"the demo has no {kind}"
    return found


def half_year(day: date) -> date:
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def by_hand(basis: Decimal, first: date, last: date) -> Decimal:
    """Day by day at the published rate of each day's half-year, on a 365-day year."""
    total, day = Decimal(0), first
    while day <= last:
        total += basis * PUBLISHED[half_year(day)] / 365
        day += timedelta(days=1)
    return total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


async def test_every_demo_interest_note_is_for_an_invoice_paid_late(
    demo: AsyncEngine, ledger: Ledger
) -> None:
    for note in await documents(demo, DocumentKind.INTEREST_NOTE):
        invoice = ledger.invoices[note["invoice_id"]]
        first_late = late_from(invoice["due_date"])
        late_days = {day for day, _ in ledger.paid[invoice["id"]] if day >= first_late}
        assert late_days, f"{note['number']}: {invoice['number']} was not paid late"
        assert note["period_start"] == first_late, note["number"]
        assert note["period_end"] in late_days, note["number"]


async def test_every_demo_interest_note_charges_the_published_half_year_rates(
    demo: AsyncEngine,
) -> None:
    notes = await documents(demo, DocumentKind.INTEREST_NOTE)
    for note in notes:
        assert note["annual_rate"] is None, note["number"]  # the statutory rates
        # A day of a half-year the table lacks (2026 H2 here) has no rate: KeyError.
        expected = by_hand(money(note["basis_amount"]), note["period_start"], note["period_end"])
        assert money(note["amount"]) == expected, note["number"]
    assert any(half_year(n["period_start"]) != half_year(n["period_end"]) for n in notes), (
        "no demo note spans a half-year change"
    )


async def test_no_demo_payment_reminder_is_for_a_paid_invoice(
    demo: AsyncEngine, ledger: Ledger
) -> None:
    for reminder in await documents(demo, DocumentKind.PAYMENT_REMINDER):
        invoice = ledger.invoices[reminder["invoice_id"]]
        issued = reminder["issue_date"]
        assert is_overdue(invoice["due_date"], issued), reminder["number"]
        still_due = ledger.due[invoice["id"]] - ledger.paid_by(invoice["id"], issued)
        assert still_due > 0, f"{reminder['number']}: {invoice['number']} was paid"
        assert money(reminder["amount"]) == still_due, reminder["number"]


async def test_no_demo_no_arrears_certificate_for_a_client_with_something_overdue(
    demo: AsyncEngine, ledger: Ledger
) -> None:
    certificates = [
        row for row in await documents(demo, DocumentKind.OTHER) if row["title"] == NO_ARREARS
    ]
    assert certificates
    for certificate in certificates:
        issued = certificate["issue_date"]
        overdue = [
            invoice["number"]
            for invoice_id, invoice in ledger.invoices.items()
            if invoice["client_id"] == certificate["client_id"]
            and invoice_id in ledger.due
            and is_overdue(invoice["due_date"], issued)
            and ledger.paid_by(invoice_id, issued) < ledger.due[invoice_id]
        ]
        assert not overdue, f"{certificate['number']} on {issued}: {overdue} overdue"
