"""Documents: interest notes on invoices paid late, payment reminders of unpaid overdue ones,
year-end balance confirmations, compensations and other letters, numbered per kind
(NO/2026/000123)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hub.demo.draft import ClientDraft, ContractDraft, InvoiceDraft
from hub.demo.rows import day_between, stamps
from models import Document, PaymentAllocation
from models.base import to_money
from models.calendar import is_overdue, late_from
from models.contract import Currency
from models.document import DOCUMENT_PREFIXES, DocumentKind
from models.interest import shipped_table, statutory_interest

MIN_INTEREST_NOTE = Decimal("10.00")  # smaller interest is not worth a note
REMINDER_DAYS = (14, 30)  # days into the delay a payment reminder goes out
NO_ARREARS = "Zaświadczenie o niezaleganiu w płatnościach"
# What a client with something overdue gets instead of a no-arrears certificate.
ARREARS_INFORMATION = "Informacja o wysokości zadłużenia"
RICH_DOCUMENTS = 6  # the dashboard lists the six latest documents
COMPENSATION_RATE = 0.08
OTHER_DOCUMENT_RATE = 0.15
_DOCUMENT_DETAILS = ("invoice_id", "basis_amount", "period_start", "period_end", "annual_rate")
_OTHER_DOCUMENTS = (
    NO_ARREARS,
    ARREARS_INFORMATION,
    "Aneks do umowy – zmiana harmonogramu spłat",
    "Duplikat polisy ubezpieczeniowej",
    "Upoważnienie do wyjazdu pojazdem za granicę",
    "Zestawienie faktur za poprzedni rok",
)


def _document(
    draft: ClientDraft,
    kind: DocumentKind,
    issued: date,
    title: str,
    amount: Decimal | None,
    contract: ContractDraft | None = None,
    **details: Any,
) -> None:
    """`details`: the interest-note and balance columns of `Document` (None when not given)."""
    prefix = DOCUMENT_PREFIXES[kind]  # numbered per kind: NO/2026/000123
    number = draft.world.numbers.number(f"{prefix}/{issued.year}/", issued)
    draft.rows.add(
        Document,
        {
            "client_id": draft.client_id,
            "contract_id": contract.id if contract else None,
            "kind": kind,
            "number": number,
            "title": title,
            "issue_date": issued,
            "amount": amount,
            "currency": Currency.PLN,
            **{column: details.get(column) for column in _DOCUMENT_DETAILS},
            **stamps(issued),
        },
    )
    draft.documents += 1


def interest_note(draft: ClientDraft, invoice: InvoiceDraft, amount: Decimal, paid: date) -> None:
    """Statutory interest on `amount` of an invoice paid late on `paid`: from the first day of
    delay (the day after the deadline, moved off a Saturday or holiday: Civil Code art. 115) to
    the day paid, each half-year at the shipped table's rate (models/interest.py), stored as a
    note at the statutory rates (no `annual_rate`). A delay reaching into a half-year the table
    lacks (2026 H2 when this was written: its announcement was not at hand) gets no note: the
    demo does not guess a rate, and leaves those late payments without one."""
    first_day, table = late_from(invoice.due), shipped_table()
    if paid < first_day or not table.covers(first_day, paid):
        return
    interest = statutory_interest(amount, first_day=first_day, last_day=paid, table=table).total
    if interest < MIN_INTEREST_NOTE:
        return
    issued = min(paid + timedelta(days=draft.rng.randint(3, 20)), draft.today)
    _document(
        draft,
        DocumentKind.INTEREST_NOTE,
        issued,
        f"Nota odsetkowa – opóźnienie w zapłacie faktury {invoice.number}",
        interest,
        invoice.contract,
        invoice_id=invoice.id,
        basis_amount=amount,
        period_start=first_day,
        period_end=paid,
    )


def payment_reminder(draft: ClientDraft, invoice: InvoiceDraft) -> None:
    """A reminder ("wezwanie do zapłaty") of an overdue invoice left unpaid, some weeks into the
    delay, for the amount due. Interest is charged by a note once it is paid, not before."""
    first_late = late_from(invoice.due)
    soonest = first_late + timedelta(days=REMINDER_DAYS[0])
    if not is_overdue(invoice.due, draft.today) or draft.today < soonest:
        return
    issued = min(first_late + timedelta(days=draft.rng.randint(*REMINDER_DAYS)), draft.today)
    _document(
        draft,
        DocumentKind.PAYMENT_REMINDER,
        issued,
        f"Wezwanie do zapłaty – faktura {invoice.number}",
        invoice.due_amount,
        invoice.contract,
        invoice_id=invoice.id,
    )


def add_documents(draft: ClientDraft) -> None:
    """Balance confirmations, compensations and other letters. Runs after settlement, as
    balances total invoices and payments; interest notes are issued while settling."""
    rng = draft.rng
    _balance_confirmations(draft)
    if draft.rich or rng.random() < COMPENSATION_RATE:
        issued = day_between(rng, _first_start(draft), draft.today)
        _document(
            draft,
            DocumentKind.COMPENSATION,
            issued,
            "Kompensata wzajemnych należności",
            to_money(rng.randint(200, 8000)),
            rng.choice(draft.contracts),
        )
    while rng.random() < OTHER_DOCUMENT_RATE or (draft.rich and draft.documents < RICH_DOCUMENTS):
        issued = day_between(rng, _first_start(draft), draft.today)
        title = rng.choice(_OTHER_DOCUMENTS)
        if title == NO_ARREARS and _in_arrears(draft, issued):
            title = ARREARS_INFORMATION  # a no-arrears certificate only where it is true
        _document(
            draft,
            DocumentKind.OTHER,
            issued,
            title,
            None,
            rng.choice((None, *draft.contracts)),
        )


def _in_arrears(draft: ClientDraft, day: date) -> bool:
    """Whether an invoice of the client is overdue on `day` (its legal deadline passed:
    `models.calendar.is_overdue`) and not paid in full by payments booked up to that day."""
    booked = {payment["id"]: payment["booked_on"] for payment in draft.payments}
    paid: defaultdict[int, Decimal] = defaultdict(Decimal)
    for allocation in draft.rows.by_table[PaymentAllocation.__tablename__]:
        if allocation["client_id"] == draft.client_id and booked[allocation["payment_id"]] <= day:
            paid[allocation["invoice_id"]] += allocation["amount"]
    return any(
        is_overdue(invoice.due, day) and paid[invoice.id] < invoice.due_amount
        for invoice in draft.invoices
    )


def _balance_confirmations(draft: ClientDraft) -> None:
    """Each year-end's balance: invoiced minus paid (negative when overpaid)."""
    ledger = [*draft.issued, *((p["booked_on"], -p["amount"]) for p in draft.payments)]
    for year in range(_first_start(draft).year, draft.today.year):
        issued = date(year + 1, 1, draft.rng.randint(10, 25))
        if issued > draft.today:
            break
        year_end = date(year, 12, 31)
        balance = sum((amount for day, amount in ledger if day <= year_end), Decimal(0))
        _document(
            draft,
            DocumentKind.BALANCE_CONFIRMATION,
            issued,
            f"Potwierdzenie salda na dzień 31.12.{year}",
            to_money(balance),
            period_end=year_end,
        )


def _first_start(draft: ClientDraft) -> date:
    return min(c.terms.start for c in draft.contracts)
