"""Issuing a document (an interest note, a payment reminder, a compensation, a confirmation …)
and its e-mail notice to the client's e-invoice address (INV-8), in one transaction.

An interest note charges statutory interest for delay in a commercial transaction (Act of 8
March 2013 on counteracting excessive delays in commercial transactions, art. 7 and art. 4 pkt 3;
rates in `models/interest.py`) on an invoice paid late: from the first day of delay, the day
after the payment deadline moved off a Saturday or public holiday (Civil Code art. 115,
`models.calendar.late_from`), to a day the invoice was paid, at most the last late payment
(paid on the day the lessor's account is credited: Civil Code art. 454, SN III CZP 164/94).
Staff may charge another rate only with a reason, which is stored. An invoice still unpaid gets
a payment reminder instead.

One note per invoice and period: an exact duplicate is refused by the unique key on the
documents table; an overlapping period by a check made while the invoice row is locked (FOR
UPDATE on PostgreSQL; SQLite takes its write lock at BEGIN), so concurrent requests for one
invoice queue there and each sees the notes committed before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.base import MONEY_PLACES, to_money
from models.calendar import is_overdue, late_from, legal_deadline
from models.client import Client
from models.document import DOCUMENT_PREFIXES, REASON_LIMIT, Document, DocumentKind
from models.i18n import DEFAULT_LANGUAGE, _
from models.interest import RATE_PLACES, RateNotPublished, RateTable, interest_by_parts
from models.invoice import Invoice, Payment, PaymentAllocation
from models.settlement import amount_due
from resolvers import outbox
from resolvers.context import Context
from resolvers.errors import Abort, UserErrorData
from resolvers.interest_rates import rate_table
from resolvers.invoice_issue import client_and_contract, id_of_client, next_number
from resolvers.validation import date_error, found, number_error

TITLE_LIMIT = 200
NOTE_KEY_NAMES = ("uq_documents_invoice_period", "documents.period_start")


def _rounded(value: Decimal | None, places: int) -> Decimal | None:
    return None if value is None else round(value, places)


def _check(title: str, amount: Decimal | None) -> list[UserErrorData]:
    errors = found(number_error(amount, field="amount"))
    if not title.strip():
        errors.append(UserErrorData(field="title", code="REQUIRED", message=_("Give a title.")))
    elif len(title) > TITLE_LIMIT:
        message = _("At most {limit} characters.", limit=TITLE_LIMIT)
        errors.append(UserErrorData(field="title", code="TOO_LONG", message=message))
    return errors


@dataclass(frozen=True, slots=True)
class Details:
    """What an interest note charges (invoice, basis, period; a rate only to override the
    statutory one, with its reason), the invoice a reminder is about, or the day a balance
    confirmation states."""

    invoice_global_id: str | None = None
    basis_amount: Decimal | None = None
    period_start: date | None = None
    period_end: date | None = None
    annual_rate: Decimal | None = None
    rate_reason: str | None = None

    @property
    def reason(self) -> str | None:
        return (self.rate_reason or "").strip() or None


_NEEDED = {
    DocumentKind.INTEREST_NOTE: (
        ("invoice_global_id", "invoiceId"),
        ("basis_amount", "basisAmount"),
        ("period_start", "periodStart"),
        ("period_end", "periodEnd"),
    ),
    DocumentKind.BALANCE_CONFIRMATION: (("period_end", "periodEnd"),),
    DocumentKind.PAYMENT_REMINDER: (("invoice_global_id", "invoiceId"),),
}


def _check_details(
    kind: DocumentKind, details: Details, amount: Decimal | None
) -> list[UserErrorData]:
    errors = [
        UserErrorData(
            field=field,
            code="REQUIRED",
            message=_("{field} is required for {kind}.", field=field, kind=kind.value),
        )
        for key, field in _NEEDED.get(kind, ())
        if getattr(details, key) is None
    ]
    if kind is DocumentKind.BALANCE_CONFIRMATION and amount is None:
        message = _("Give the balance.")
        errors.append(UserErrorData(field="amount", code="REQUIRED", message=message))
    start, end = details.period_start, details.period_end
    if start and end and end < start:
        message = _("Ends before it starts.")
        errors.append(UserErrorData(field="periodEnd", code="BEFORE_START", message=message))
    return errors + found(_reason_error(details))


def _reason_error(details: Details) -> UserErrorData | None:
    """A reason explains a rate staff set; without one it explains nothing."""
    if details.reason is None:
        return None
    if details.annual_rate is None:
        message = _("A reason explains a rate you set: give the rate or leave the reason out.")
        return UserErrorData(field="rateReason", code="REASON_WITHOUT_RATE", message=message)
    if len(details.reason) > REASON_LIMIT:
        message = _("At most {limit} characters.", limit=REASON_LIMIT)
        return UserErrorData(field="rateReason", code="TOO_LONG", message=message)
    return None


def _check_inputs(issue_date: date, details: Details, today: date) -> list[UserErrorData]:
    """Each number and date on its own, before anything compares or computes with them."""
    return found(
        date_error(issue_date, field="issueDate", today=today),
        date_error(details.period_start, field="periodStart", today=today),
        date_error(details.period_end, field="periodEnd", today=today),
        number_error(details.basis_amount, field="basisAmount", positive=True),
        _rate_error(details.annual_rate),
    )


def _rate_error(rate: Decimal | None) -> UserErrorData | None:
    if rate is not None and rate.is_finite() and not 0 < rate < 1:
        message = _("A fraction: 0.14.")
        return UserErrorData(field="annualRate", code="OUT_OF_RANGE", message=message)
    return number_error(rate, field="annualRate", places=RATE_PLACES, limit=Decimal(1))


def _announce(session: AsyncSession, client: Client, document: Document) -> None:
    """Polish, the portals' language: the client reads it, not the staff member issuing."""
    outbox.email_client(
        session,
        client,
        language=DEFAULT_LANGUAGE,
        template="document_issued",
        subject=_("New document {number}", number=document.number),
        body=_(
            "We have issued document {number}: {title}. You can download it in the client portal.",
            number=document.number,
            title=document.title,
        ),
    )


@dataclass(frozen=True, slots=True)
class _Charge:
    """What a note charges: its interest, and the one rate with its reason when staff set
    one (None: the statutory rates, half-year by half-year)."""

    interest: Decimal
    annual_rate: Decimal | None = None
    reason: str | None = None


def _at_given_rate(details: Details, rate: Decimal) -> Decimal:
    start, end, basis = details.period_start, details.period_end, details.basis_amount
    assert start and end and basis is not None  # checked by _check_details
    return interest_by_parts(basis, [(start, end, rate)]).total


def _fits(interest: Decimal) -> None:
    if error := number_error(interest, field="basisAmount"):  # the interest must fit too
        raise Abort(error)


def _priced(details: Details, table: RateTable) -> _Charge:
    """The statutory interest (art. 11b: each half-year at its own rate), or staff's rate for
    the whole period when it differs from the statutory one and comes with a reason."""
    start, end, basis = details.period_start, details.period_end, details.basis_amount
    assert start and end and basis is not None  # checked by _check_details
    try:
        parts = table.parts(start, end)
    except RateNotPublished as gap:
        parts = []
        if details.annual_rate is None:
            message = _(
                "No statutory rate is published for the half-year from {day}: give the rate "
                "and the reason for it.",
                day=gap.half_year,
            )
            raise Abort(
                UserErrorData(field="annualRate", code="RATE_NOT_PUBLISHED", message=message)
            ) from gap
    given = _rounded(details.annual_rate, RATE_PLACES)
    if given is None or (parts and all(rate == given for _, _, rate in parts)):
        if details.reason is not None:
            message = _("This is the statutory rate: leave the reason out.")
            raise Abort(
                UserErrorData(field="rateReason", code="REASON_NOT_NEEDED", message=message)
            )
        return _Charge(interest_by_parts(basis, parts).total)
    if details.reason is None:
        message = _("The statutory rate differs: give the reason for charging another one.")
        raise Abort(UserErrorData(field="rateReason", code="REASON_REQUIRED", message=message))
    return _Charge(_at_given_rate(details, given), given, details.reason)


async def _last_late_payment(
    session: AsyncSession, invoice_id: int, first_late: date
) -> date | None:
    """The day of the last payment of this invoice booked after its deadline, if any."""
    query = (
        select(func.max(col(Payment.booked_on)))
        .join(PaymentAllocation, col(PaymentAllocation.payment_id) == col(Payment.id))
        .where(
            col(PaymentAllocation.invoice_id) == invoice_id,
            col(Payment.booked_on) >= first_late,
        )
    )
    last: date | None = (await session.execute(query)).scalar_one()
    return last


async def _check_paid_late(session: AsyncSession, invoice: Invoice, details: Details) -> None:
    """Interest is charged on an invoice paid late, for days of its delay only."""
    first_late = late_from(invoice.due_date)
    last_paid = await _last_late_payment(session, invoice.id or 0, first_late)
    deadline = legal_deadline(invoice.due_date)
    if last_paid is None:
        message = _(
            "No payment of this invoice was booked after its deadline ({deadline}): an unpaid "
            "invoice gets a payment reminder, not an interest note.",
            deadline=deadline,
        )
        raise Abort(UserErrorData(field="invoiceId", code="NOT_PAID_LATE", message=message))
    assert details.period_start and details.period_end  # checked by _check_details
    if details.period_start < first_late:
        message = _(
            "The delay starts on {day}, the day after the payment deadline {deadline} "
            "(a deadline on a Saturday or a holiday moves to the next working day).",
            day=first_late,
            deadline=deadline,
        )
        raise Abort(UserErrorData(field="periodStart", code="PERIOD_BEFORE_DELAY", message=message))
    if details.period_end > last_paid:
        message = _("The last late payment was booked on {day}.", day=last_paid)
        raise Abort(UserErrorData(field="periodEnd", code="PERIOD_AFTER_PAYMENT", message=message))


async def _refuse_overlap(session: AsyncSession, invoice_id: int, details: Details) -> None:
    assert details.period_start and details.period_end  # checked by _check_details
    query = select(col(Document.number)).where(
        col(Document.kind) == DocumentKind.INTEREST_NOTE,
        col(Document.invoice_id) == invoice_id,
        col(Document.period_start) <= details.period_end,
        col(Document.period_end) >= details.period_start,
    )
    if (number := (await session.execute(query.limit(1))).scalar()) is not None:
        raise Abort(_note_exists(number))


def _note_exists(number: str | None) -> UserErrorData:
    message = (
        _("Note {number} already charges interest for days of this period.", number=number)
        if number
        else _("A note already charges interest on this invoice for this period.")
    )
    return UserErrorData(field="periodStart", code="NOTE_EXISTS", message=message)


async def _interest_note(
    session: AsyncSession, invoice_id: int, details: Details, amount: Decimal | None
) -> _Charge:
    # The lock that queues every note of this invoice: the checks below see the notes
    # committed before it (PostgreSQL; on SQLite the write transaction holds the lock).
    invoice = await session.get(Invoice, invoice_id, with_for_update=True, populate_existing=True)
    assert invoice is not None  # id_of_client found it
    await _check_paid_late(session, invoice, details)
    await _refuse_basis_above_invoice(session, invoice, details)
    charge = _priced(details, await rate_table(session))
    _fits(charge.interest)
    if amount is not None and to_money(amount) != charge.interest:
        message = _("The interest for this period is {interest}.", interest=charge.interest)
        raise Abort(UserErrorData(field="amount", code="AMOUNT_MISMATCH", message=message))
    await _refuse_overlap(session, invoice_id, details)
    return charge


async def _corrected(session: AsyncSession, invoice: Invoice) -> Decimal:
    """The gross change of the invoice's corrections (negative for a reduction)."""
    corrected = select(func.coalesce(func.sum(col(Invoice.gross)), 0)).where(
        col(Invoice.corrects_id) == invoice.id
    )
    return to_money((await session.execute(corrected)).scalar_one())


async def _still_due(session: AsyncSession, invoice: Invoice) -> Decimal:
    paid = select(func.coalesce(func.sum(col(PaymentAllocation.amount)), 0)).where(
        col(PaymentAllocation.invoice_id) == invoice.id
    )
    return amount_due(
        kind=invoice.kind,
        gross=invoice.gross,
        paid=to_money((await session.execute(paid)).scalar_one()),
        corrected=await _corrected(session, invoice),
    )


async def _refuse_basis_above_invoice(
    session: AsyncSession, invoice: Invoice, details: Details
) -> None:
    """Interest runs on money the invoice asked for, never on more."""
    asked = invoice.gross + await _corrected(session, invoice)
    if details.basis_amount is not None and details.basis_amount > asked:
        message = _("At most the invoice's amount after corrections: {amount}.", amount=asked)
        raise Abort(UserErrorData(field="basisAmount", code="ABOVE_INVOICE", message=message))


async def _reminder_amount(
    session: AsyncSession, invoice_id: int, issue_date: date, amount: Decimal | None
) -> Decimal:
    """A reminder is for an invoice overdue on the day it is issued and not paid since."""
    invoice = await session.get(Invoice, invoice_id)
    assert invoice is not None  # id_of_client found it
    due = await _still_due(session, invoice)
    if due <= 0 or not is_overdue(invoice.due_date, issue_date):
        message = _(
            "This invoice is not overdue and unpaid on {day}: nothing to remind of.", day=issue_date
        )
        raise Abort(UserErrorData(field="invoiceId", code="NOT_OVERDUE", message=message))
    if amount is None:
        return due
    if not 0 < amount <= due:
        message = _("Remind of more than 0 and at most what is due: {due}.", due=due)
        raise Abort(UserErrorData(field="amount", code="NOT_DUE_AMOUNT", message=message))
    return amount


async def _add_once(session: AsyncSession, document: Document) -> None:
    """The unique key's refusal of a second identical note, as an answer."""
    session.add(document)
    try:
        await session.flush()
    except IntegrityError as error:
        # PostgreSQL names the constraint; SQLite names its columns.
        if not any(name in str(error.orig) for name in NOTE_KEY_NAMES):
            raise
        raise Abort(_note_exists(None)) from error


async def _written(
    session: AsyncSession,
    *,
    kind: DocumentKind,
    client_global_id: str,
    contract_global_id: str | None,
    title: str,
    issue_date: date,
    amount: Decimal | None,
    details: Details,
) -> Document:
    client, contract_id = await client_and_contract(session, client_global_id, contract_global_id)
    invoice_id = await id_of_client(
        session, Invoice, details.invoice_global_id, client_id=client.id, field="invoiceId"
    )
    # Other kinds keep the details given; a JSON number arrives as a float's expansion: store
    # what it meant.
    charge = _Charge(Decimal(0), _rounded(details.annual_rate, RATE_PLACES), details.reason)
    if kind is DocumentKind.INTEREST_NOTE and invoice_id is not None:
        charge = await _interest_note(session, invoice_id, details, amount)
        amount = charge.interest
    elif kind is DocumentKind.PAYMENT_REMINDER and invoice_id is not None:
        amount = await _reminder_amount(session, invoice_id, issue_date, amount)
    document = Document(
        client_id=client.id,  # type: ignore[arg-type]
        contract_id=contract_id,
        kind=kind,
        number=await document_number(session, kind, issue_date),
        title=title.strip(),
        issue_date=issue_date,
        amount=None if amount is None else to_money(amount),
        invoice_id=invoice_id,
        basis_amount=_rounded(details.basis_amount, MONEY_PLACES),
        period_start=details.period_start,
        period_end=details.period_end,
        annual_rate=charge.annual_rate,
        rate_reason=charge.reason,
    )
    return await file_document(session, client, document)


async def document_number(session: AsyncSession, kind: DocumentKind, issue_date: date) -> str:
    """The next number of the kind's yearly series: NO/2026/000123."""
    return await next_number(session, Document, f"{DOCUMENT_PREFIXES[kind]}/{issue_date.year}/")


async def file_document(session: AsyncSession, client: Client, document: Document) -> Document:
    """Stores a numbered document once (a second identical note: `NOTE_EXISTS`) and announces
    it to the client; `documentIssue` and the monthly interest-note job both file this way."""
    await _add_once(session, document)
    _announce(session, client, document)
    return document


async def issue_document(
    ctx: Context,
    *,
    client_global_id: str,
    contract_global_id: str | None,
    kind: DocumentKind,
    title: str,
    issue_date: date,
    amount: Decimal | None,
    details: Details,
) -> tuple[Document | None, list[UserErrorData]]:
    errors = _check_inputs(issue_date, details, ctx.today) + _check(title, amount)
    if errors := errors + _check_details(kind, details, amount):
        return None, errors
    try:
        if kind is DocumentKind.INTEREST_NOTE and details.annual_rate is not None:
            _fits(_at_given_rate(details, details.annual_rate))  # before reading anything
        async with ctx.db.write() as session:
            document = await _written(
                session,
                kind=kind,
                client_global_id=client_global_id,
                contract_global_id=contract_global_id,
                title=title,
                issue_date=issue_date,
                amount=amount,
                details=details,
            )
    except Abort as abort:
        return None, abort.errors
    return document, []
