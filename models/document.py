"""Accounting documents other than invoices: interest notes, payment reminders, compensations,
confirmations."""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from models.base import Timestamped, client_fk, enum_type, external_id_field, money_field
from models.contract import Currency


class DocumentKind(enum.StrEnum):
    INTEREST_NOTE = "INTEREST_NOTE"
    COMPENSATION = "COMPENSATION"
    BALANCE_CONFIRMATION = "BALANCE_CONFIRMATION"
    OTHER = "OTHER"
    # "Wezwanie do zapłaty": an overdue invoice not paid yet. Interest is charged by a note
    # only once the invoice is paid (late), for the days it was late.
    PAYMENT_REMINDER = "PAYMENT_REMINDER"


# Each kind is numbered in its own yearly series: NO/2026/000123.
DOCUMENT_PREFIXES = {
    DocumentKind.INTEREST_NOTE: "NO",
    DocumentKind.COMPENSATION: "KP",
    DocumentKind.BALANCE_CONFIRMATION: "PS",
    DocumentKind.OTHER: "DI",
    DocumentKind.PAYMENT_REMINDER: "WZ",
}
REASON_LIMIT = 300


class Document(Timestamped, table=True):
    __tablename__ = "documents"
    # One interest note per invoice and period: the exact duplicate is refused here; an
    # overlapping period is refused by `resolvers/document_issue.py` under a lock on the invoice.
    __table_args__ = (
        UniqueConstraint(
            "kind", "invoice_id", "period_start", "period_end", name="uq_documents_invoice_period"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    external_id: str | None = external_id_field()
    client_id: int = client_fk()
    contract_id: int | None = Field(
        default=None, foreign_key="contracts.id", index=True, ondelete="SET NULL"
    )
    kind: DocumentKind = Field(sa_type=enum_type(DocumentKind), index=True)
    number: str = Field(max_length=32, unique=True)
    title: str = Field(max_length=200)
    issue_date: date = Field(index=True)
    amount: Decimal | None = money_field(default=None)
    currency: Currency = Field(default=Currency.PLN, sa_type=enum_type(Currency))
    # What an interest note charges: interest on `basis_amount` of `invoice_id` for the days
    # from `period_start` to `period_end`: at the statutory rates of `models/interest.py`, half-
    # year by half-year, when `annual_rate` is None; at `annual_rate` for the whole period when
    # staff set one (`rate_reason` says why) or the note predates the statutory table. A payment
    # reminder names its `invoice_id` and the `amount` still due. A balance confirmation states
    # the balance (`amount`) on `period_end`.
    invoice_id: int | None = Field(
        default=None, foreign_key="invoices.id", index=True, ondelete="SET NULL"
    )
    basis_amount: Decimal | None = money_field(default=None)
    period_start: date | None = None
    period_end: date | None = None
    annual_rate: Decimal | None = Field(default=None, max_digits=6, decimal_places=4)
    rate_reason: str | None = Field(default=None, max_length=REASON_LIMIT)
