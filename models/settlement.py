"""How an invoice stands: derived from its allocations and corrections, never stored.

`loaders/invoice.py` expresses the same rule in SQL for filters; tests hold the two together.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from models.base import to_money
from models.calendar import is_overdue
from models.invoice import Invoice, InvoiceKind

ARCHIVE_AFTER = timedelta(days=365)


class InvoiceStatus(enum.StrEnum):
    UNPAID = "UNPAID"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    PAID = "PAID"
    OVERDUE = "OVERDUE"


class InstalmentState(enum.StrEnum):
    NOT_INVOICED = "NOT_INVOICED"
    UNPAID = "UNPAID"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    PAID = "PAID"
    OVERDUE = "OVERDUE"


def amount_due(*, kind: InvoiceKind, gross: Decimal, paid: Decimal, corrected: Decimal) -> Decimal:
    """What is left to pay: a correcting invoice is settled by the invoice it corrects."""
    if kind is InvoiceKind.CORRECTION:
        return to_money(0)
    return max(to_money(gross + corrected - paid), to_money(0))


def invoice_status(
    *,
    kind: InvoiceKind,
    gross: Decimal,
    due_date: date,
    paid: Decimal,
    corrected: Decimal,
    today: date,
) -> InvoiceStatus:
    if amount_due(kind=kind, gross=gross, paid=paid, corrected=corrected) <= 0:
        return InvoiceStatus.PAID
    # Late only after the legal deadline: a due date on a Saturday or a public holiday moves
    # to the next working day (art. 115 of the Civil Code); loaders/invoice.py filters alike.
    if is_overdue(due_date, today):
        return InvoiceStatus.OVERDUE
    return InvoiceStatus.PARTIALLY_PAID if paid > 0 else InvoiceStatus.UNPAID


def archive_cutoff(today: date) -> date:
    """Invoices issued before this day are in the archive (older than a year)."""
    return today - ARCHIVE_AFTER


@dataclass(frozen=True, slots=True)
class Standing:
    status: InvoiceStatus
    amount_due: Decimal
    paid: Decimal


def standing(invoice: Invoice, *, paid: Decimal, corrected: Decimal, today: date) -> Standing:
    """Status and amount due of one invoice, from the sums of its allocations and corrections."""
    return Standing(
        status=invoice_status(
            kind=invoice.kind,
            gross=invoice.gross,
            due_date=invoice.due_date,
            paid=paid,
            corrected=corrected,
            today=today,
        ),
        amount_due=amount_due(
            kind=invoice.kind, gross=invoice.gross, paid=paid, corrected=corrected
        ),
        paid=to_money(paid),
    )
