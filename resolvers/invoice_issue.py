"""Issuing an invoice: the invoice, its e-mail notice (INV-8) and, for a client's very first
invoice, the welcome e-mail with login instructions (AUTH-8), all in one transaction.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.errors import NotFoundError
from models.base import stored_id
from models.client import Client
from models.contract import Contract
from models.document import Document
from models.finance import SPLIT_PAYMENT_FROM, VAT_RATES, round_money
from models.i18n import DEFAULT_LANGUAGE, Msg, _
from models.invoice import Invoice, InvoiceKind
from resolvers import outbox
from resolvers.context import Context
from resolvers.errors import Abort, UserErrorData
from resolvers.ids import pk_of
from resolvers.staff import require_acting_staff
from resolvers.validation import date_error, found, number_error

RATES = ", ".join(str(rate) for rate in VAT_RATES)
# One message per kind: Polish words change with the noun, so no template fits both.
NOT_OF_CLIENT: dict[type[Contract | Invoice], Msg] = {
    Contract: _("No such contract of this client."),
    Invoice: _("No such invoice of this client."),
}


def _check(
    net: Decimal, vat_rate: int, issue_date: date, due_date: date, today: date
) -> list[UserErrorData]:
    errors = found(
        number_error(net, field="net", positive=True),
        date_error(issue_date, field="issueDate", today=today),
        date_error(due_date, field="dueDate", today=today),
    )
    if vat_rate not in VAT_RATES:
        errors.append(
            UserErrorData(
                field="vatRate",
                code="INVALID_VAT_RATE",
                message=_("VAT rate must be one of {rates}.", rates=RATES),
            )
        )
    elif all(error.field != "net" for error in errors):
        # The gross is stored in a Numeric(14, 2) too, and it is larger than the net.
        gross = round_money(net) + round_money(net * vat_rate / 100)
        errors += found(number_error(gross, field="net"))
    if due_date < issue_date:
        errors.append(
            UserErrorData(
                field="dueDate",
                code="BEFORE_ISSUE_DATE",
                message=_("The due date cannot precede the issue date."),
            )
        )
    return errors


async def next_number(session: AsyncSession, model: type[Invoice | Document], prefix: str) -> str:
    """The series' next number; two concurrent issues collide on the unique index, and the
    loser writes nothing (the caller may try again)."""
    number: Any = model.number
    last = await session.execute(select(func.max(number)).where(number.like(prefix + "%")))
    highest = last.scalar_one()
    return f"{prefix}{int(highest.rsplit('/', 1)[1]) + 1 if highest else 1:06d}"


async def client_and_contract(
    session: AsyncSession, client_global_id: str, contract_global_id: str | None
) -> tuple[Client, int | None]:
    """The client a staff member issues to, and optionally one of its contracts."""
    client = await session.get(Client, pk_of(client_global_id, "Client", field="clientId"))
    if client is None:
        raise NotFoundError(field="clientId")
    contract_id = await id_of_client(
        session, Contract, contract_global_id, client_id=client.id, field="contractId"
    )
    return client, contract_id


async def id_of_client(
    session: AsyncSession,
    model: type[Contract | Invoice],
    global_id: str | None,
    *,
    client_id: int | None,
    field: str,
) -> int | None:
    """The pk behind an optional id that must name a row of this client; else NOT_FOUND."""
    if global_id is None:
        return None
    row: Contract | Invoice | None = await session.get(
        model, pk_of(global_id, model.__name__, field=field)
    )
    if row is None or row.client_id != client_id:
        message = NOT_OF_CLIENT[model]
        raise Abort(UserErrorData(field=field, code="NOT_FOUND", message=message))
    return row.id


def _notify(
    session: AsyncSession, ctx: Context, client: Client, invoice: Invoice, first: bool
) -> None:
    """Polish, the portals' language: the client reads these, not the staff member issuing."""
    if first:
        outbox.email_client(
            session,
            client,
            language=DEFAULT_LANGUAGE,
            template="welcome",
            subject=_("Welcome to the LeaseHub client portal"),
            # The name ends the clause, not the sentence: many end in "sp. z o.o.".
            body=_(
                "We have issued the first invoice for {company} – from today invoices, "
                "schedules and settlements are in the client portal.\n\nHow to sign in: open "
                "{url}, enter the client number {number}, set a password and confirm it with "
                "the PIN we will send in a separate message.",
                company=client.name,
                url=f"{ctx.settings.portal_url.rstrip('/')}/pierwsze-logowanie",
                number=client.number,
            ),
        )
    outbox.email_client(
        session,
        client,
        language=DEFAULT_LANGUAGE,
        template="invoice_issued",
        subject=_("New invoice {number}", number=invoice.number),
        body=_(
            "We have issued invoice {number} for {amount} {currency}, due on {due_date}. You "
            "can download it in the client portal.",
            number=invoice.number,
            amount=invoice.gross,
            currency=invoice.currency,
            due_date=invoice.due_date,
        ),
    )


async def issue_invoice(
    ctx: Context,
    *,
    client_global_id: str,
    contract_global_id: str | None,
    kind: InvoiceKind,
    issue_date: date,
    due_date: date,
    net: Decimal,
    vat_rate: int,
    description: str,
) -> tuple[Invoice | None, list[UserErrorData]]:
    require_acting_staff(ctx)
    if errors := _check(net, vat_rate, issue_date, due_date, ctx.today):
        return None, errors
    try:
        async with ctx.db.write() as session:
            client, contract_id = await client_and_contract(
                session, client_global_id, contract_global_id
            )
            earlier = await session.execute(
                select(func.count()).where(col(Invoice.client_id) == client.id)
            )
            vat = round_money(net * vat_rate / 100)
            invoice = Invoice(
                client_id=stored_id(client),
                contract_id=contract_id,
                number=await next_number(session, Invoice, f"FV/{issue_date:%Y/%m}/"),
                kind=kind,
                issue_date=issue_date,
                sale_date=issue_date,
                due_date=due_date,
                vat_rate=vat_rate,
                net=round_money(net),
                vat=vat,
                gross=round_money(net) + vat,
                split_payment=round_money(net) + vat >= SPLIT_PAYMENT_FROM,
                description=description[:300],
            )
            session.add(invoice)
            await session.flush()
            _notify(session, ctx, client, invoice, first=earlier.scalar_one() == 0)
    except Abort as abort:
        return None, abort.errors
    return invoice, []
