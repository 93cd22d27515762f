"""Staff `documentIssue` of interest notes and payment reminders: statutory interest from the
half-year table, from the first day of delay (Civil Code art. 115) to a late payment; another
rate only with a stored reason; one note per invoice and period, also under 20 parallel
requests; an unpaid invoice gets a reminder. Amounts in the comments are worked by hand."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pypdf
import pytest
from sqlalchemy import func, select

from hub.demo import DemoSpec, load_demo
from models.client import Client
from models.document import Document
from models.identity import StaffRole
from models.invoice import Invoice, InvoiceKind, Payment, PaymentAllocation
from resolvers.ids import from_global_id, to_global_id
from tests.auth.helpers import staff_token
from tests.conftest import DatabaseFactory, Hub, open_hub
from tests.schema.contracts import today

D = Decimal
ISSUE = """mutation($c: ID!, $kind: DocumentKind!, $inv: ID, $basis: Decimal, $start: Date,
                   $end: Date, $rate: Decimal, $reason: String, $amount: Decimal, $issue: Date!) {
  documentIssue(input: {clientId: $c, kind: $kind, title: "Nota odsetkowa", issueDate: $issue,
                        invoiceId: $inv, basisAmount: $basis, periodStart: $start,
                        periodEnd: $end, annualRate: $rate, rateReason: $reason,
                        amount: $amount}) {
    document { id number amount { amount } } errors { field code message } } }"""
LINK = """query($id: ID!) { node(id: $id) { ... on Document { downloadUrl } } }"""


async def invoice_paid(
    hub: Hub, *, due: date, gross: str, paid: tuple[tuple[date, str], ...], company: str = ""
) -> tuple[str, str]:
    """An invoice due on `due` with payments (day booked, amount) allocated to it: the global
    ids of its client (the last demo client unless `company` is given) and of the invoice."""
    async with hub.db.write() as session:
        if company:
            client_id = from_global_id(company)[1]
        else:
            query = select(Client.id).order_by(Client.id.desc()).limit(1)  # type: ignore[union-attr]
            client_id = (await session.execute(query)).scalar_one()
        net = (D(gross) / D("1.23")).quantize(D("0.01"))
        invoice = Invoice(
            client_id=client_id,
            number=f"TEST/{uuid4().hex[:16]}",
            kind=InvoiceKind.FEE,
            issue_date=due - timedelta(days=14),
            sale_date=due - timedelta(days=14),
            due_date=due,
            net=net,
            vat=D(gross) - net,
            gross=D(gross),
        )
        session.add(invoice)
        await session.flush()
        for day, amount in paid:
            payment = Payment(client_id=client_id, booked_on=day, amount=D(amount), title="test")
            session.add(payment)
            await session.flush()
            session.add(
                PaymentAllocation(
                    client_id=client_id,
                    payment_id=payment.id,  # type: ignore[arg-type]
                    invoice_id=invoice.id,  # type: ignore[arg-type]
                    amount=D(amount),
                    allocated_on=day,
                )
            )
    return to_global_id("Client", client_id), to_global_id("Invoice", invoice.id)  # type: ignore[arg-type]


async def issue(
    hub: Hub, client: str, invoice: str | None, token: str = "", **given: Any
) -> dict[str, Any]:
    staff = token or await staff_token(hub, StaffRole.FINANCE)
    variables = {
        "c": client,
        "inv": invoice,
        "kind": "INTEREST_NOTE",
        "issue": str(today()),
        **given,
    }
    body = await hub.gql(ISSUE, variables, token=staff)
    assert "errors" not in body, body  # no "Unexpected error."
    return body["data"]["documentIssue"]  # type: ignore[no-any-return]


async def notes_of(hub: Hub, invoice: str) -> list[Document]:
    async with hub.db.read() as session:
        query = select(Document).where(Document.invoice_id == from_global_id(invoice)[1])
        return list((await session.execute(query.order_by(Document.id))).scalars())


async def refused(
    hub: Hub, client: str, invoice: str | None, **given: Any
) -> list[tuple[str, str]]:
    """The (field, code) pairs of an issue that must write nothing."""
    async with hub.db.read() as session:
        before = (await session.execute(select(func.count()).select_from(Document))).scalar_one()
    answer = await issue(hub, client, invoice, **given)
    assert answer["document"] is None
    async with hub.db.read() as session:
        after = (await session.execute(select(func.count()).select_from(Document))).scalar_one()
    assert after == before
    return [(error["field"], error["code"]) for error in answer["errors"]]


async def printed(hub: Hub, document_id: str) -> str:
    staff = await staff_token(hub, StaffRole.FINANCE)
    link = await hub.gql(LINK, {"id": document_id}, token=staff)
    response = await hub.client.get(link["data"]["node"]["downloadUrl"])
    assert response.status_code == 200, response.text
    pages = pypdf.PdfReader(io.BytesIO(response.content)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())  # unwrapped lines


@pytest.fixture(scope="module")
async def notes(databases: DatabaseFactory) -> AsyncIterator[Hub]:
    """A small demo database of this module's own: the notes issued here (and their e-mail
    notices) stay out of the shared `flows` database other modules count in."""
    hub, db = await open_hub(await databases.create())
    await load_demo(db.engine, DemoSpec(clients=3, seed=5))
    yield hub
    await hub.close()
    await db.dispose()


# Due Friday 13.06.2025, paid 15.07.2025: late from 14.06, over the 1 July rate change.
JUNE = {"due": date(2025, 6, 13), "gross": "12300.00", "paid": ((date(2025, 7, 15), "12300.00"),)}
JUNE_NOTE = {"basis": "12300.00", "start": "2025-06-14", "end": "2025-07-15"}


async def test_statutory_note_over_a_half_year_change_charges_each_half_years_rate(
    notes: Hub,
) -> None:
    client, invoice = await invoice_paid(notes, **JUNE)  # type: ignore[arg-type]
    answer = await issue(notes, client, invoice, **JUNE_NOTE)
    assert answer["errors"] == []
    # 14–30 June, 17 days at 15.75 %: 12,300 × 0.1575 × 17 / 365 = 90.2280…
    # 1–15 July, 15 days at 15.25 %:  12,300 × 0.1525 × 15 / 365 = 77.0856…
    # together 167.3136… → 167.31, printed as 90.23 + 77.08
    assert answer["document"]["amount"] == {"amount": "167.31"}
    [note] = await notes_of(notes, invoice)
    assert note.annual_rate is None and note.rate_reason is None  # the statutory rates
    text = await printed(notes, answer["document"]["id"])
    assert "14.06.2025 – 30.06.2025 17 15,75% 90,23 PLN" in text
    assert "01.07.2025 – 15.07.2025 15 15,25% 77,08 PLN" in text
    assert "Razem 14.06.2025 – 15.07.2025 32 167,31 PLN" in text
    assert "Termin płatności faktury: 13.06.2025; opóźnienie liczone od 14.06.2025" in text
    assert "odsetki ustawowe za opóźnienie w transakcjach handlowych" in text.lower()
    assert "Do zapłaty: 167,31 PLN" in text


async def test_note_after_a_holiday_deadline_starts_on_the_first_working_day_after(
    notes: Hub,
) -> None:
    # Due Thursday 25.12.2025: 25–26 December holidays, 27–28 a weekend: the deadline is Monday
    # 29.12 (Civil Code art. 115), the delay starts on 30.12.
    client, invoice = await invoice_paid(
        notes, due=date(2025, 12, 25), gross="24600.00", paid=((date(2026, 1, 14), "24600.00"),)
    )
    note = {"basis": "24600.00", "end": "2026-01-14"}
    early = await refused(notes, client, invoice, start="2025-12-26", **note)
    assert early == [("periodStart", "PERIOD_BEFORE_DELAY")]
    answer = await issue(notes, client, invoice, start="2025-12-30", **note)
    # 30–31 December, 2 days at 15.25 %: 24,600 × 0.1525 × 2 / 365 = 20.5561…
    # 1–14 January, 14 days at 14.00 %:  24,600 × 0.14 × 14 / 365  = 132.0986…
    # together 152.6547… → 152.65
    assert answer["errors"] == []
    assert answer["document"]["amount"] == {"amount": "152.65"}
    text = await printed(notes, answer["document"]["id"])
    assert "Termin płatności faktury: 25.12.2025" in text
    assert "upłynął 29.12.2025 (art. 115 Kodeksu cywilnego)" in text
    assert "30.12.2025 – 31.12.2025 2 15,25% 20,56 PLN" in text
    assert "01.01.2026 – 14.01.2026 14 14,00% 132,09 PLN" in text


async def test_interest_note_for_unpaid_invoice_is_refused(notes: Hub) -> None:
    client, unpaid = await invoice_paid(notes, due=date(2025, 3, 14), gross="1230.00", paid=())
    note = {"basis": "1230.00", "start": "2025-03-15", "end": "2025-04-15"}
    assert await refused(notes, client, unpaid, **note) == [("invoiceId", "NOT_PAID_LATE")]


async def test_interest_note_for_invoice_paid_on_its_legal_deadline_is_refused(
    notes: Hub,
) -> None:
    # Due Saturday 29.11.2025, paid Monday 1.12.2025: on time (Civil Code art. 115).
    client, on_time = await invoice_paid(
        notes, due=date(2025, 11, 29), gross="1230.00", paid=((date(2025, 12, 1), "1230.00"),)
    )
    note = {"basis": "1230.00", "start": "2025-11-30", "end": "2025-12-01"}
    assert await refused(notes, client, on_time, **note) == [("invoiceId", "NOT_PAID_LATE")]


async def test_interest_note_ends_with_the_last_late_payment(notes: Hub) -> None:
    client, invoice = await invoice_paid(notes, **JUNE)  # type: ignore[arg-type]
    late = {**JUNE_NOTE, "end": "2025-07-16"}
    assert await refused(notes, client, invoice, **late) == [("periodEnd", "PERIOD_AFTER_PAYMENT")]


async def test_another_rate_needs_a_reason_which_is_stored_and_printed(notes: Hub) -> None:
    client, invoice = await invoice_paid(notes, **JUNE)  # type: ignore[arg-type]
    other = {**JUNE_NOTE, "rate": "0.14"}
    assert await refused(notes, client, invoice, **other) == [("rateReason", "REASON_REQUIRED")]
    reason = "Stopa umowna z § 7 umowy leasingu"
    answer = await issue(notes, client, invoice, reason=reason, **other)
    assert answer["errors"] == []
    # 12,300 × 0.14 × 32 days / 365 = 150.9698… → 150.97, one rate for the whole period
    assert answer["document"]["amount"] == {"amount": "150.97"}
    [note] = await notes_of(notes, invoice)
    assert (note.annual_rate, note.rate_reason) == (D("0.14"), reason)
    text = await printed(notes, answer["document"]["id"])
    assert "14.06.2025 – 15.07.2025 32 14,00% 150,97 PLN" in text
    assert f"Stopa odmienna od ustawowej: {reason}" in text


async def test_the_statutory_rate_given_is_the_statutory_note_and_needs_no_reason(
    notes: Hub,
) -> None:
    client, invoice = await invoice_paid(notes, **JUNE)  # type: ignore[arg-type]
    # 14–30 June 2025 lies in one half-year: 15.75 % is its statutory rate.
    june = {**JUNE_NOTE, "end": "2025-06-30", "rate": "0.1575"}
    needless = await refused(notes, client, invoice, reason="bo tak", **june)
    assert needless == [("rateReason", "REASON_NOT_NEEDED")]
    answer = await issue(notes, client, invoice, **june)
    assert answer["errors"] == [] and answer["document"]["amount"] == {"amount": "90.23"}
    [note] = await notes_of(notes, invoice)
    assert note.annual_rate is None


async def test_a_reason_without_a_rate_is_refused(notes: Hub) -> None:
    client, invoice = await invoice_paid(notes, **JUNE)  # type: ignore[arg-type]
    reasonless = await refused(notes, client, invoice, reason="stopa umowna", **JUNE_NOTE)
    assert reasonless == [("rateReason", "REASON_WITHOUT_RATE")]


async def test_a_half_year_without_a_published_rate_needs_one_given_with_a_reason(
    notes: Hub,
) -> None:
    # Due Friday 10.07.2026, paid 20.08.2026: the 2026 H2 rate is not in the table.
    client, invoice = await invoice_paid(
        notes, due=date(2026, 7, 10), gross="1000.00", paid=((date(2026, 8, 20), "1000.00"),)
    )
    note = {"basis": "1000.00", "start": "2026-07-11", "end": "2026-08-20"}
    assert await refused(notes, client, invoice, **note) == [("annualRate", "RATE_NOT_PUBLISHED")]
    given = {**note, "rate": "0.1375"}
    assert await refused(notes, client, invoice, **given) == [("rateReason", "REASON_REQUIRED")]
    answer = await issue(
        notes, client, invoice, reason="Stopa referencyjna 3,75 % + 10 pp", **given
    )
    # 1,000 × 0.1375 × 41 days / 365 = 15.4452… → 15.45
    assert answer["errors"] == [] and answer["document"]["amount"] == {"amount": "15.45"}


async def test_a_second_note_for_the_same_invoice_and_period_is_refused(notes: Hub) -> None:
    client, invoice = await invoice_paid(notes, **JUNE)  # type: ignore[arg-type]
    first = {**JUNE_NOTE, "end": "2025-06-30"}
    assert (await issue(notes, client, invoice, **first))["errors"] == []
    assert await refused(notes, client, invoice, **first) == [("periodStart", "NOTE_EXISTS")]
    overlapping = {**JUNE_NOTE, "start": "2025-06-30"}
    assert await refused(notes, client, invoice, **overlapping) == [("periodStart", "NOTE_EXISTS")]
    # The days after the first note are a period of their own.
    after = {**JUNE_NOTE, "start": "2025-07-01"}
    answer = await issue(notes, client, invoice, **after)
    assert answer["errors"] == [] and answer["document"]["amount"] == {"amount": "77.09"}


async def test_a_given_amount_must_be_the_interest(notes: Hub) -> None:
    client, invoice = await invoice_paid(notes, **JUNE)  # type: ignore[arg-type]
    wrong = await refused(notes, client, invoice, amount="200.00", **JUNE_NOTE)
    assert wrong == [("amount", "AMOUNT_MISMATCH")]
    answer = await issue(notes, client, invoice, amount="167.31", **JUNE_NOTE)
    assert answer["errors"] == []


async def test_twenty_identical_requests_issue_one_note(notes: Hub) -> None:
    client, invoice = await invoice_paid(notes, **JUNE)  # type: ignore[arg-type]
    staff = await staff_token(notes, StaffRole.FINANCE)  # one login, before the race
    answers = await asyncio.gather(
        *(issue(notes, client, invoice, staff, **JUNE_NOTE) for _ in range(20))
    )
    issued = [a for a in answers if a["document"] is not None]
    codes = sorted(e["code"] for a in answers for e in a["errors"])
    assert len(issued) == 1 and codes == ["NOTE_EXISTS"] * 19
    assert len(await notes_of(notes, invoice)) == 1


async def test_twenty_overlapping_requests_issue_one_note(notes: Hub) -> None:
    client, invoice = await invoice_paid(notes, **JUNE)  # type: ignore[arg-type]
    staff = await staff_token(notes, StaffRole.FINANCE)
    # Twenty periods of their own, each containing 1–13 July.
    periods = [
        (date(2025, 6, 14) + timedelta(days=n % 17), date(2025, 7, 15) - timedelta(days=n // 17))
        for n in range(20)
    ]
    answers = await asyncio.gather(
        *(
            issue(notes, client, invoice, staff, basis="12300.00", start=str(start), end=str(end))
            for start, end in periods
        )
    )
    assert sum(a["document"] is not None for a in answers) == 1
    assert len(await notes_of(notes, invoice)) == 1


REMINDER = {"kind": "PAYMENT_REMINDER"}


async def test_a_payment_reminder_is_for_an_unpaid_overdue_invoice(notes: Hub) -> None:
    client, unpaid = await invoice_paid(notes, due=date(2025, 3, 14), gross="1230.00", paid=())
    answer = await issue(notes, client, unpaid, **REMINDER)
    assert answer["errors"] == []
    assert answer["document"]["number"].startswith("WZ/")
    assert answer["document"]["amount"] == {"amount": "1230.00"}  # what is still due
    _, paid = await invoice_paid(notes, **JUNE)  # type: ignore[arg-type]
    assert await refused(notes, client, paid, **REMINDER) == [("invoiceId", "NOT_OVERDUE")]
    assert await refused(notes, client, None, **REMINDER) == [("invoiceId", "REQUIRED")]


@pytest.mark.parametrize("amount", ["1230.01", "0.00", "-5.00"])
async def test_a_reminder_for_more_than_is_due_or_nothing_is_refused(
    notes: Hub, amount: str
) -> None:
    client, unpaid = await invoice_paid(notes, due=date(2025, 3, 14), gross="1230.00", paid=())
    errors = await refused(notes, client, unpaid, **REMINDER, amount=amount)
    assert errors == [("amount", "NOT_DUE_AMOUNT")]


async def test_interest_on_more_than_the_invoice_asked_is_refused(notes: Hub) -> None:
    client, invoice = await invoice_paid(notes, **JUNE)  # type: ignore[arg-type]
    note = {"basis": "12300.01", "start": "2025-06-14", "end": "2025-07-15"}
    assert await refused(notes, client, invoice, **note) == [("basisAmount", "ABOVE_INVOICE")]
