"""Issuing a document (an interest note, a compensation, a confirmation …) and its e-mail
notice to the client's e-invoice address (INV-8), in one transaction."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from models.base import to_money
from models.document import DOCUMENT_PREFIXES, Document, DocumentKind
from resolvers import outbox
from resolvers.context import Context
from resolvers.errors import Abort, UserErrorData
from resolvers.invoice_issue import client_and_contract, next_number
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


async def issue_document(
    ctx: Context,
    *,
    client_global_id: str,
    contract_global_id: str | None,
    kind: DocumentKind,
    title: str,
    issue_date: date,
    amount: Decimal | None,
) -> tuple[Document | None, list[UserErrorData]]:
    require_acting_staff(ctx)
    if errors := _check(title, amount):
        return None, errors
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
            )
            session.add(document)
            await session.flush()
            outbox.enqueue(
                session,
                channel=outbox.Channel.EMAIL,
                recipient=client.einvoice_email,
                template="document_issued",
                client_id=client.id,
                subject=f"Nowy dokument {document.number}",
                body=f"Dzień dobry,\n\nwystawiliśmy dokument {document.number}: {document.title}. "
                f"Jest do pobrania w portalu klienta.{outbox.SIGNATURE}",
            )
    except Abort as abort:
        return None, abort.errors
    return document, []
