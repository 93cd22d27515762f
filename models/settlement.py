"""How an invoice stands: derived from its allocations and corrections, never stored.

`loaders/invoice.py` expresses the same rule in SQL for filters; tests hold the two together.
"""

from __future__ import annotations

import enum
from datetime import date, timedelta
from decimal import Decimal

from models.base import to_money
from models.invoice import InvoiceKind

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
    if due_date < today:
        return InvoiceStatus.OVERDUE
    return InvoiceStatus.PARTIALLY_PAID if paid > 0 else InvoiceStatus.UNPAID


def archive_cutoff(today: date) -> date:
    """Invoices issued before this day are in the archive (older than a year)."""
    return today - ARCHIVE_AFTER
