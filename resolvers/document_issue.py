"""Issuing a document (an interest note, a compensation, a confirmation …) and its e-mail
notice to the client's e-invoice address (INV-8), in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from models.base import to_money
from models.document import DOCUMENT_PREFIXES, Document, DocumentKind
from models.finance import late_interest
from models.invoice import Invoice
from resolvers import outbox
from resolvers.context import Context
from resolvers.errors import Abort, UserErrorData
from resolvers.invoice_issue import client_and_contract, id_of_client, next_number
from resolvers.staff import require_acting_staff


def _check(title: str, amount: Decimal | None) -> list[UserErrorData]:
    errors = []
    if not title.strip():
        errors.append(UserErrorData(field="title", code="REQUIRED", message="Give a title."))
    elif len(title) > 200:
        errors.append(
            UserErrorData(field="title", code="TOO_LONG", message="At most 200 characters.")
        )
    if amount is not None and abs(amount) >= Decimal("1e12"):
        errors.append(UserErrorData(field="amount", code="TOO_LARGE", message="Too large."))
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
        UserErrorData(field=field, code="REQUIRED", message=f"{field} is required for {kind}.")
        for key, field in _NEEDED.get(kind, ())
        if getattr(details, key) is None
    ]
    if kind is DocumentKind.BALANCE_CONFIRMATION and amount is None:
        errors.append(UserErrorData(field="amount", code="REQUIRED", message="Give the balance."))
    start, end = details.period_start, details.period_end
    if start and end and end < start:
        errors.append(
            UserErrorData(field="periodEnd", code="BEFORE_START", message="Ends before it starts.")
        )
    if details.annual_rate is not None and not 0 < details.annual_rate < 1:
        errors.append(
            UserErrorData(field="annualRate", code="OUT_OF_RANGE", message="A fraction: 0.14.")
        )
    if details.basis_amount is not None and details.basis_amount <= 0:
        errors.append(
            UserErrorData(field="basisAmount", code="NOT_POSITIVE", message="Must be > 0.")
        )
    return errors


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
    if errors := _check(title, amount) + _check_details(kind, details, amount):
        return None, errors
    if kind is DocumentKind.INTEREST_NOTE and amount is None:
        amount = late_interest(
            details.basis_amount,  # type: ignore[arg-type]
            annual_rate=details.annual_rate,  # type: ignore[arg-type]
            first_day=details.period_start,  # type: ignore[arg-type]
            last_day=details.period_end,  # type: ignore[arg-type]
        )
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
                basis_amount=details.basis_amount,
                period_start=details.period_start,
                period_end=details.period_end,
                annual_rate=details.annual_rate,
            )
            session.add(document)
            await session.flush()
            outbox.email_client(
                session,
                client,
                template="document_issued",
                subject=f"Nowy dokument {document.number}",
                body=f"wystawiliśmy dokument {document.number}: {document.title}. "
                "Jest do pobrania w portalu klienta.",
            )
    except Abort as abort:
        return None, abort.errors
    return document, []
