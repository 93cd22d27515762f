"""What a printed document shows: plain, already-computed values, no database rows.

`resolvers/downloads.py` fills these from the database; `exports/pdf.py` turns them into PDFs.
Money is Decimal rounded to grosze; signs are as printed (a correction's difference may be < 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from models.contract import ContractKind
from models.finance import ScheduleRow
from models.i18n import Language
from models.interest import InterestSegment
from models.vat import VatCategory


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
    vat_rate: int | VatCategory  # a percentage (23, 8, 5, 0) or the category printed (zw, np)
    vat: Decimal
    gross: Decimal
    quantity: int = 1
    unit: str = "szt."


@dataclass(frozen=True, slots=True)
class VatLine:
    """One row of the VAT breakdown: the sums of all lines at one rate."""

    rate: int | VatCategory
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
    # Why a zw or np invoice charges no VAT (art. 106e ust. 1 pkt 19 of the VAT Act).
    vat_basis: str | None = None
    # A financial lease's delivery invoice: the part of the gross due by the due date (initial
    # fee and VAT); the rest is paid with the schedule's instalments.
    payable_now: Decimal | None = None
    # A correction: what had been paid on the corrected invoice by the correction's issue date,
    # and what the corrected invoice asks for with this correction.
    paid_before: Decimal | None = None
    due_after: Decimal | None = None


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
    kind: ContractKind = ContractKind.OPERATING_LEASE  # a lease or a loan: the wording


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
    annual_rate: Decimal | None  # 0.14 for 14 %; None: each segment's own rate
    interest: Decimal
    currency: str
    due_date: date  # when the note is to be paid
    bank_account: str | None
    contract_number: str | None = None
    # The period by half-year at the statutory rates (or one segment at the rate staff set);
    # empty: one line from the fields above.
    segments: tuple[InterestSegment, ...] = ()
    statutory: bool = False  # the statutory rates for commercial transactions
    invoice_due_date: date | None = None  # as printed on the invoice
    legal_deadline: date | None = None  # moved off a Saturday or holiday (Civil Code art. 115)
    rate_reason: str | None = None  # why staff charged another rate


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
