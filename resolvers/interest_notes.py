"""The monthly interest-note job (issue 13 point 5): `leasehub interest-notes --month YYYY-MM`
and the staff mutation `interestNotesIssue` issue every note a month's late payments call for.

A payment booked after an invoice's legal deadline (Civil Code art. 115, `late_from`) is
charged statutory interest from the first day of delay to the day it was booked (art. 454 KC),
on the money it settled of that invoice, each half-year at its own rate (`models/interest.py`):
one note per invoice and booking day, exactly what `documentIssue` would issue for that
basis and period, numbered in the NO/ series, printed by the same PDF and announced by the same
e-mail (`resolvers.document_issue.file_document`). Money booked on time, or not booked at
all, is never charged. The existing rules set no minimum: every note above 0.00 is issued.

Never twice: each note is written in its own transaction with the invoice row locked (FOR
UPDATE on PostgreSQL; SQLite's write lock at BEGIN), after checking that no interest note of the
invoice already covers days of its period, other than the job's own notes for the invoice's
other late bookings (they charge other money for the same first days of delay); the unique key
(kind, invoice, period) refuses an exact duplicate a parallel run got in first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, not_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.db import Database
from models.calendar import late_from
from models.client import Client
from models.document import Document, DocumentKind
from models.i18n import Msg, _
from models.interest import RateNotPublished, RateTable, statutory_interest
from models.invoice import Invoice, Payment, PaymentAllocation
from resolvers.context import Context
from resolvers.document_issue import document_number, file_document
from resolvers.errors import Abort, UserErrorData
from resolvers.interest_rates import rate_table

MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
TITLE = "Nota odsetkowa – opóźnienie w zapłacie faktury {number}"  # stored, printed in Polish
# Two runs (or a run and `documentIssue`) may take the same next number: the loser retries.
ATTEMPTS = 3
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class LatePayment:
    """Money of one invoice booked on one day after the invoice's legal deadline."""

    invoice_id: int
    invoice_number: str
    due_date: date
    booked_on: date

    @property
    def first_late(self) -> date:
        return late_from(self.due_date)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A late payment that got no note, and why (a stable code and a message)."""

    invoice_id: int
    invoice_number: str
    booked_on: date
    code: str
    message: str | Msg


@dataclass(slots=True)
class NotesSummary:
    month: date  # its first day
    invoices: int = 0  # with money booked in the month
    late_payments: int = 0  # (invoice, booking day) pairs booked after the deadline
    notes: list[Document] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def interest(self) -> Decimal:
        return sum((note.amount or Decimal(0) for note in self.notes), Decimal("0.00"))


def month_error(text: str, *, today: date) -> tuple[date | None, UserErrorData | None]:
    """The first day of a `YYYY-MM` month that has begun, or why not."""
    match = MONTH.fullmatch(text.strip())
    if match is None or int(match[1]) < 1:
        message = _("Give the month as YYYY-MM, e.g. {example}.", example=f"{today:%Y-%m}")
        return None, UserErrorData(field="month", code="INVALID_MONTH", message=message)
    first = date(int(match[1]), int(match[2]), 1)
    if first > today:
        message = _("The month {month} has not begun: no payment is booked in it yet.", month=text)
        return None, UserErrorData(field="month", code="MONTH_IN_FUTURE", message=message)
    return first, None


def _month_end(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


async def _booked_in(session: AsyncSession, first: date, last: date) -> list[LatePayment]:
    """Every (invoice, booking day) with money settled from payments booked in the month, on
    time or not: one statement, whatever the month's size."""
    query = (
        select(col(Invoice.id), col(Invoice.number), col(Invoice.due_date), col(Payment.booked_on))
        .join(PaymentAllocation, col(PaymentAllocation.invoice_id) == col(Invoice.id))
        .join(Payment, col(Payment.id) == col(PaymentAllocation.payment_id))
        .where(col(Payment.booked_on).between(first, last), col(PaymentAllocation.amount) > 0)
        .group_by(
            col(Invoice.id), col(Invoice.number), col(Invoice.due_date), col(Payment.booked_on)
        )
        .order_by(col(Invoice.id), col(Payment.booked_on))
    )
    return [
        LatePayment(invoice_id or 0, number, due_date, booked_on)
        for invoice_id, number, due_date, booked_on in (await session.execute(query)).all()
    ]


def _late_bookings(invoice_id: int, first_late: date) -> Any:
    """The days money of this invoice was booked late (a subquery)."""
    return (
        select(col(Payment.booked_on))
        .join(PaymentAllocation, col(PaymentAllocation.payment_id) == col(Payment.id))
        .where(
            col(PaymentAllocation.invoice_id) == invoice_id, col(Payment.booked_on) >= first_late
        )
    )


async def _paid_late_on(session: AsyncSession, late: LatePayment) -> Decimal:
    """What this day's bookings settled of the invoice: read under the invoice's lock."""
    query = (
        select(func.coalesce(func.sum(col(PaymentAllocation.amount)), 0))
        .join(Payment, col(Payment.id) == col(PaymentAllocation.payment_id))
        .where(
            col(PaymentAllocation.invoice_id) == late.invoice_id,
            col(Payment.booked_on) == late.booked_on,
        )
    )
    return Decimal((await session.execute(query)).scalar_one())


async def _charged_by(session: AsyncSession, late: LatePayment) -> str | None:
    """The number of a note already charging interest on this invoice for days of this period,
    except the job's notes for its other late bookings (same first day, ending on such a day)."""
    other_bookings = _late_bookings(late.invoice_id, late.first_late).where(
        col(Payment.booked_on) != late.booked_on
    )
    query = select(col(Document.number)).where(
        col(Document.kind) == DocumentKind.INTEREST_NOTE,
        col(Document.invoice_id) == late.invoice_id,
        col(Document.period_start) <= late.booked_on,
        col(Document.period_end) >= late.first_late,
        not_(
            and_(
                col(Document.period_start) == late.first_late,
                col(Document.period_end).in_(other_bookings),
            )
        ),
    )
    number: str | None = (await session.execute(query.limit(1))).scalar()
    return number


def _skip(late: LatePayment, code: str, message: str | Msg) -> Skipped:
    return Skipped(late.invoice_id, late.invoice_number, late.booked_on, code, message)


async def _note_for(
    session: AsyncSession, late: LatePayment, table: RateTable, today: date
) -> Document | Skipped:
    # The lock that queues every note of this invoice (as `documentIssue` takes it).
    invoice = await session.get(
        Invoice, late.invoice_id, with_for_update=True, populate_existing=True
    )
    assert invoice is not None  # payments cascade with their invoice
    basis = await _paid_late_on(session, late)
    try:
        interest = statutory_interest(
            basis, first_day=late.first_late, last_day=late.booked_on, table=table
        ).total
    except RateNotPublished as gap:
        message = _(
            "No statutory rate is published for the half-year from {day}.", day=gap.half_year
        )
        return _skip(late, "RATE_NOT_PUBLISHED", message)
    if interest <= 0:
        return _skip(late, "NO_INTEREST", _("The interest rounds to 0.00."))
    if number := await _charged_by(session, late):
        message = _(
            "Note {number} already charges interest for days of this period.", number=number
        )
        return _skip(late, "NOTE_EXISTS", message)
    client = await session.get(Client, invoice.client_id)
    assert client is not None
    document = Document(
        client_id=invoice.client_id,
        contract_id=invoice.contract_id,
        kind=DocumentKind.INTEREST_NOTE,
        number=await document_number(session, DocumentKind.INTEREST_NOTE, today),
        title=TITLE.format(number=invoice.number),
        issue_date=today,
        amount=interest,
        invoice_id=invoice.id,
        basis_amount=basis,
        period_start=late.first_late,
        period_end=late.booked_on,
    )
    return await file_document(session, client, document)


async def _issue_one(
    db: Database, late: LatePayment, table: RateTable, today: date
) -> Document | Skipped:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            async with db.write() as session:
                return await _note_for(session, late, table, today)
        except Abort as abort:  # the unique key: a parallel run filed this very note first
            error = abort.errors[0]
            return _skip(late, error.code, error.message)
        except IntegrityError:  # the same next number taken by a parallel issue: try again
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")


async def issue_interest_notes(
    db: Database, *, month: date, today: date, progress: Progress | None = None
) -> NotesSummary:
    """Every note the month's late payments call for; running it again issues nothing new."""
    async with db.write() as session:  # the primary: a replica may not have the bookings yet
        booked = await _booked_in(session, month, _month_end(month))
        table = await rate_table(session)
    late = [payment for payment in booked if payment.booked_on >= payment.first_late]
    summary = NotesSummary(
        month=month, invoices=len({b.invoice_id for b in booked}), late_payments=len(late)
    )
    for done, payment in enumerate(late, 1):
        outcome = await _issue_one(db, payment, table, today)
        if isinstance(outcome, Skipped):
            summary.skipped.append(outcome)
        else:
            summary.notes.append(outcome)
        if progress:
            progress(done, len(late))
    return summary


async def issue_month_notes(
    ctx: Context, *, month: str
) -> tuple[NotesSummary | None, list[UserErrorData]]:
    """The staff mutation `interestNotesIssue`: the same job as `leasehub interest-notes`."""
    first, error = month_error(month, today=ctx.today)
    if first is None:
        return None, [error] if error else []
    return await issue_interest_notes(ctx.db, month=first, today=ctx.today), []
