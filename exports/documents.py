"""What a printed document shows: plain, already-computed values, no database rows.

`resolvers/downloads.py` fills these from the database; `exports/pdf.py` turns them into PDFs.
Money is Decimal rounded to grosze; signs are as printed (a correction's difference may be < 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from models.finance import ScheduleRow
from models.i18n import Language


@dataclass(frozen=True, slots=True)
class Party:
    """A seller or a buyer as an invoice names them."""

    name: str
    nip: str
    street: str
    postal_code: str
    city: str
    country: str = "PL"
    regon: str | None = None


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    description: str
    net: Decimal
    vat_rate: int  # percent: 23, 8, 5 or 0
    vat: Decimal
    gross: Decimal
    quantity: int = 1
    unit: str = "szt."


@dataclass(frozen=True, slots=True)
class VatLine:
    """One row of the VAT breakdown: the sums of all lines at one rate."""

    rate: int
    net: Decimal
    vat: Decimal
    gross: Decimal


@dataclass(frozen=True, slots=True)
class CorrectedInvoice:
    """The invoice a correcting invoice corrects, with its amounts before the correction."""

    number: str
    issue_date: date
    ksef_number: str | None
    net: Decimal
    vat: Decimal
    gross: Decimal


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    """An invoice; correcting when `corrected` is set, a duplicate with `duplicate_issue_date`."""

    number: str
    issue_date: date
    sale_date: date
    due_date: date
    currency: str
    seller: Party
    buyer: Party
    lines: tuple[InvoiceLine, ...]
    vat_breakdown: tuple[VatLine, ...]
    net: Decimal
    vat: Decimal
    gross: Decimal
    ksef_number: str | None
    bank_account: str | None  # IBAN the buyer pays to
    bank_name: str | None
    split_payment: bool  # prints "mechanizm podzielonej płatności"
    contract_number: str | None = None
    corrected: CorrectedInvoice | None = None
    correction_reason: str | None = None
    duplicate_issue_date: date | None = None


@dataclass(frozen=True, slots=True)
class ScheduleDocument:
    contract_number: str
    lessor: Party
    client: Party
    currency: str
    start_date: date
    end_date: date
    net_value: Decimal
    initial_fee: Decimal
    residual_value: Decimal
    rows: tuple[ScheduleRow, ...]
    printed_on: date
    language: Language = Language.PL


@dataclass(frozen=True, slots=True)
class InterestNoteDocument:
    """Late-payment interest on one invoice for the days between its due date and payment."""

    number: str
    issue_date: date
    seller: Party
    buyer: Party
    invoice_number: str
    principal: Decimal  # the late amount interest is charged on
    period_start: date  # first day of delay
    period_end: date  # day paid (or day counted to)
    days: int
    annual_rate: Decimal  # 0.14 for 14 %
    interest: Decimal
    currency: str
    due_date: date  # when the note is to be paid
    bank_account: str | None
    contract_number: str | None = None


@dataclass(frozen=True, slots=True)
class BalanceConfirmationDocument:
    number: str
    issue_date: date
    seller: Party
    buyer: Party
    as_of: date
    balance: Decimal  # > 0: the client owes the lessor; < 0: the lessor owes the client
    currency: str
    reply_by: date


@dataclass(frozen=True, slots=True)
class GeneralDocument:
    """Any other document (a compensation, a certificate): a title, an amount, a text."""

    number: str
    issue_date: date
    seller: Party
    buyer: Party
    title: str
    amount: Decimal | None
    currency: str
    contract_number: str | None = None
