"""Accounting documents other than invoices: interest notes, compensations, confirmations."""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal

from sqlmodel import Field

from models.base import Timestamped, client_fk, enum_type, money_field
from models.contract import Currency


class DocumentKind(enum.StrEnum):
    INTEREST_NOTE = "INTEREST_NOTE"
    COMPENSATION = "COMPENSATION"
    BALANCE_CONFIRMATION = "BALANCE_CONFIRMATION"
    OTHER = "OTHER"


# Each kind is numbered in its own yearly series: NO/2026/000123.
DOCUMENT_PREFIXES = {
    DocumentKind.INTEREST_NOTE: "NO",
    DocumentKind.COMPENSATION: "KP",
    DocumentKind.BALANCE_CONFIRMATION: "PS",
    DocumentKind.OTHER: "DI",
}


class Document(Timestamped, table=True):
    __tablename__ = "documents"

    id: int | None = Field(default=None, primary_key=True)
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
    # from `period_start` to `period_end` at `annual_rate`. A balance confirmation states the
    # balance (`amount`) on `period_end`.
    invoice_id: int | None = Field(
        default=None, foreign_key="invoices.id", index=True, ondelete="SET NULL"
    )
    basis_amount: Decimal | None = money_field(default=None)
    period_start: date | None = None
    period_end: date | None = None
    annual_rate: Decimal | None = Field(default=None, max_digits=6, decimal_places=4)
