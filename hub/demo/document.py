"""Documents: interest notes on late or unpaid invoices, year-end balance confirmations,
compensations and other letters, numbered per kind (NO/2026/000123)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hub.demo.draft import ClientDraft, ContractDraft, InvoiceDraft
from hub.demo.rows import day_between, stamps
from models import Document
from models.base import to_money
from models.contract import Currency
from models.document import DOCUMENT_PREFIXES, DocumentKind
from models.finance import late_interest

# Statutory interest in commercial transactions is the NBP reference rate + 10 points; the demo
# uses one flat rate instead of the rate history.
LATE_INTEREST = Decimal("0.14")
MIN_INTEREST_NOTE = Decimal("10.00")  # smaller interest is not worth a note
RICH_DOCUMENTS = 6  # the dashboard lists the six latest documents
COMPENSATION_RATE = 0.08
OTHER_DOCUMENT_RATE = 0.15
_DOCUMENT_DETAILS = ("invoice_id", "basis_amount", "period_start", "period_end", "annual_rate")
_OTHER_DOCUMENTS = (
    "Zaświadczenie o niezaleganiu w płatnościach",
    "Informacja o wysokości zadłużenia",
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


def interest_note(draft: ClientDraft, invoice: InvoiceDraft, amount: Decimal, until: date) -> None:
    """Interest on `amount` from the due date until it was paid (or until now)."""
    first_day = invoice.due + timedelta(days=1)
    interest = late_interest(amount, annual_rate=LATE_INTEREST, first_day=first_day, last_day=until)
    if interest < MIN_INTEREST_NOTE:
        return
    issued = min(until + timedelta(days=draft.rng.randint(3, 20)), draft.today)
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
        period_end=until,
        annual_rate=LATE_INTEREST,
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
        _document(
            draft,
            DocumentKind.OTHER,
            issued,
            rng.choice(_OTHER_DOCUMENTS),
            None,
            rng.choice((None, *draft.contracts)),
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
