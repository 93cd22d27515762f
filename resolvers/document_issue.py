"""Issuing a document (an interest note, a compensation, a confirmation …) and its e-mail
notice to the client's e-invoice address (INV-8), in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from models.base import MONEY_PLACES, to_money
from models.client import Client
from models.document import DOCUMENT_PREFIXES, Document, DocumentKind
from models.finance import late_interest
from models.i18n import DEFAULT_LANGUAGE, _
from models.invoice import Invoice
from resolvers import outbox
from resolvers.context import Context
from resolvers.errors import Abort, UserErrorData
from resolvers.invoice_issue import client_and_contract, id_of_client, next_number
from resolvers.staff import require_acting_staff
from resolvers.validation import date_error, found, number_error

RATE_PLACES = 4  # annual_rate is a Numeric(6, 4)
TITLE_LIMIT = 200


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
    """What an interest note charges (all five) or the day a balance confirmation states."""

    invoice_global_id: str | None = None
    basis_amount: Decimal | None = None
    period_start: date | None = None
    period_end: date | None = None
    annual_rate: Decimal | None = None


_NEEDED = {
    DocumentKind.INTEREST_NOTE: (
        ("invoice_global_id", "invoiceId"),
        ("basis_amount", "basisAmount"),
        ("period_start", "periodStart"),
        ("period_end", "periodEnd"),
        ("annual_rate", "annualRate"),
    ),
    DocumentKind.BALANCE_CONFIRMATION: (("period_end", "periodEnd"),),
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
    return errors


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
    require_acting_staff(ctx)
    errors = _check_inputs(issue_date, details, ctx.today) + _check(title, amount)
    if errors := errors + _check_details(kind, details, amount):
        return None, errors
    if kind is DocumentKind.INTEREST_NOTE and amount is None:
        amount = late_interest(
            details.basis_amount,  # type: ignore[arg-type]
            annual_rate=details.annual_rate,  # type: ignore[arg-type]
            first_day=details.period_start,  # type: ignore[arg-type]
            last_day=details.period_end,  # type: ignore[arg-type]
        )
        if error := number_error(amount, field="basisAmount"):  # the interest must fit too
            return None, [error]
    try:
        async with ctx.db.write() as session:
            client, contract_id = await client_and_contract(
                session, client_global_id, contract_global_id
            )
            prefix = f"{DOCUMENT_PREFIXES[kind]}/{issue_date.year}/"
            document = Document(
                client_id=client.id,  # type: ignore[arg-type]
                contract_id=contract_id,
                kind=kind,
                number=await next_number(session, Document, prefix),
                title=title.strip(),
                issue_date=issue_date,
                amount=None if amount is None else to_money(amount),
                invoice_id=await id_of_client(
                    session,
                    Invoice,
                    details.invoice_global_id,
                    client_id=client.id,
                    field="invoiceId",
                ),
                # A JSON number arrives as a float's expansion: store what it meant.
                basis_amount=_rounded(details.basis_amount, MONEY_PLACES),
                period_start=details.period_start,
                period_end=details.period_end,
                annual_rate=_rounded(details.annual_rate, RATE_PLACES),
            )
            session.add(document)
            await session.flush()
            _announce(session, client, document)
    except Abort as abort:
        return None, abort.errors
    return document, []
