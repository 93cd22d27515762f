"""Issuing an invoice: the invoice, its e-mail notice (INV-8) and, for a client's very first
invoice, the welcome e-mail with login instructions (AUTH-8), all in one transaction.

What it is taxed at follows from what it invoices (`models.finance.vat_for`) unless staff choose
a category; a correction names the invoice it corrects and keeps its VAT and split payment. A
KSeF number is never made up here: KSeF gives it when it accepts an invoice issued on or after
`LEASEHUB_KSEF_FROM` (no adapter sends them yet), and an earlier invoice never has one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.errors import NotFoundError
from models.base import stored_id, to_money
from models.client import Client
from models.contract import Contract, Currency, Instalment, LeasedItem
from models.document import Document
from models.finance import (
    VAT_RATES,
    VatTreatment,
    delivery_tax_base,
    round_money,
    split_payment_applies,
    supplies_annex_15,
    treatment_of,
    vat_amount,
    vat_for,
)
from models.i18n import DEFAULT_LANGUAGE, Msg, _
from models.invoice import Invoice, InvoiceKind
from models.vat import VatCategory
from resolvers import booking, outbox
from resolvers.context import Context
from resolvers.errors import Abort, UserErrorData
from resolvers.ids import pk_of
from resolvers.validation import date_error, found, number_error

RATES = ", ".join(str(rate) for rate in VAT_RATES)
# One message per kind: Polish words change with the noun, so no template fits both.
NOT_OF_CLIENT: dict[type[Any], Msg] = {
    Contract: _("No such contract of this client."),
    Invoice: _("No such invoice of this client."),
}


_Row = TypeVar("_Row", bound=Contract | Invoice)


@dataclass(frozen=True, slots=True)
class InvoiceOrder:
    """An invoice as staff ask for it, before any check."""

    client_global_id: str
    contract_global_id: str | None
    kind: InvoiceKind
    issue_date: date
    due_date: date
    net: Decimal
    description: str
    corrects_global_id: str | None = None
    vat_category: VatCategory | None = None
    # Deprecated: 23 (its default) leaves the rate to the law, another percentage is chosen.
    vat_rate: int = 23

    @property
    def is_correction(self) -> bool:
        return self.kind is InvoiceKind.CORRECTION

    @property
    def chosen_category(self) -> VatCategory | None:
        """The category staff chose, if any (a `vatRate` outside VAT_RATES is refused first)."""
        if self.vat_category is not None:
            return self.vat_category
        return VatCategory.of_percent(self.vat_rate) if self.vat_rate != 23 else None

    @property
    def vat_field(self) -> str:
        return "vatCategory" if self.vat_category is not None else "vatRate"


def _error(field: str, code: str, message: Msg) -> UserErrorData:
    return UserErrorData(field=field, code=code, message=message)


def _net_error(order: InvoiceOrder) -> UserErrorData | None:
    """Two decimal places at most (never rounded); a correction may lower the amount, but it
    must change it."""
    error = number_error(order.net, field="net", positive=not order.is_correction)
    if error is None and order.is_correction and order.net == 0:
        return _error("net", "ZERO_AMOUNT", _("A correction must change the amount."))
    return error


def _issue_date_error(issue_date: date, today: date) -> UserErrorData | None:
    """The issue date is the day the invoice is issued (art. 106e ust. 1 pkt 1): today or
    earlier, never a day ahead."""
    if error := date_error(issue_date, field="issueDate", today=today):
        return error
    if issue_date > today:
        message = _("The issue date cannot be later than today ({today}).", today=today)
        return _error("issueDate", "FUTURE_ISSUE_DATE", message)
    return None


def _vat_rate_error(order: InvoiceOrder) -> UserErrorData | None:
    if order.vat_rate in VAT_RATES:
        return None
    message = _("VAT rate must be one of {rates}.", rates=RATES)
    return _error("vatRate", "INVALID_VAT_RATE", message)


def _gross_error(net: Decimal, percent: int) -> UserErrorData | None:
    """The gross is stored in a Numeric(14, 2) too, and it is larger than the net."""
    return number_error(
        round_money(net) + round_money(round_money(net) * percent / 100), field="net"
    )


def _corrects_error(order: InvoiceOrder) -> UserErrorData | None:
    """A correction names the invoice it corrects (art. 106j ust. 2); nothing else does."""
    if order.is_correction and order.corrects_global_id is None:
        message = _("A correcting invoice names the invoice it corrects (correctsId).")
        return _error("correctsId", "CORRECTED_INVOICE_REQUIRED", message)
    if not order.is_correction and order.corrects_global_id is not None:
        message = _("Only a correcting invoice names a corrected invoice.")
        return _error("correctsId", "NOT_A_CORRECTION", message)
    return None


def _check(order: InvoiceOrder, today: date) -> list[UserErrorData]:
    """What can be told without the database, all problems at once."""
    errors = found(
        _net_error(order),
        _issue_date_error(order.issue_date, today),
        date_error(order.due_date, field="dueDate", today=today),
        _vat_rate_error(order),
        _corrects_error(order),
    )
    if not any(error.field in ("net", "vatRate") for error in errors):
        chosen = order.chosen_category
        errors += found(_gross_error(order.net, chosen.percent if chosen else 23))
    if order.due_date < order.issue_date:
        message = _("The due date cannot precede the issue date.")
        errors.append(_error("dueDate", "BEFORE_ISSUE_DATE", message))
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
    row = await row_of_client(session, model, global_id, client_id=client_id, field=field)
    return None if row is None else row.id


async def row_of_client(
    session: AsyncSession,
    model: type[_Row],
    global_id: str | None,
    *,
    client_id: int | None,
    field: str,
) -> _Row | None:
    """The row behind an optional id that must name a row of this client; else NOT_FOUND."""
    if global_id is None:
        return None
    row = await session.get(model, pk_of(global_id, model.__name__, field=field))
    if row is None or row.client_id != client_id:
        message = NOT_OF_CLIENT[model]
        raise Abort(UserErrorData(field=field, code="NOT_FOUND", message=message))
    return row


@dataclass(frozen=True, slots=True)
class Notice:
    template: str
    subject: Msg
    body: Msg


def invoice_notices(
    *,
    company: str,
    client_number: str,
    invoice_number: str,
    gross: Decimal,
    currency: Currency,
    due_date: date,
    first: bool,
    portal_url: str,
) -> list[Notice]:
    """The INV-8 notice of a new invoice, after the AUTH-8 welcome when it is the company's
    first: issued here or imported from the core system (intake/run.py) alike."""
    notices = []
    if first:
        notices.append(
            Notice(
                "welcome",
                _("Welcome to the LeaseHub client portal"),
                # The name ends the clause, not the sentence: many end in "sp. z o.o.".
                _(
                    "We have issued the first invoice for {company} – from today invoices, "
                    "schedules and settlements are in the client portal.\n\nHow to sign in: "
                    "open {url}, enter the client number {number}, set a password and confirm "
                    "it with the PIN we will send in a separate message.",
                    company=company,
                    url=f"{portal_url.rstrip('/')}/pierwsze-logowanie",
                    number=client_number,
                ),
            )
        )
    notices.append(
        Notice(
            "invoice_issued",
            _("New invoice {number}", number=invoice_number),
            _(
                "We have issued invoice {number} for {amount} {currency}, due on {due_date}. "
                "You can download it in the client portal.",
                number=invoice_number,
                amount=gross,
                currency=currency,
                due_date=due_date,
            ),
        )
    )
    return notices


def _notify(
    session: AsyncSession, ctx: Context, client: Client, invoice: Invoice, first: bool
) -> None:
    """Polish, the portals' language: the client reads these, not the staff member issuing."""
    for notice in invoice_notices(
        company=client.name,
        client_number=client.number,
        invoice_number=invoice.number,
        gross=invoice.gross,
        currency=invoice.currency,
        due_date=invoice.due_date,
        first=first,
        portal_url=ctx.settings.portal_url,
    ):
        outbox.email_client(
            session,
            client,
            language=DEFAULT_LANGUAGE,
            template=notice.template,
            subject=notice.subject,
            body=notice.body,
        )


async def _corrected(session: AsyncSession, order: InvoiceOrder, client_id: int) -> Invoice | None:
    """The invoice a correction corrects: one of this client's, and not itself a correction."""
    corrected = await row_of_client(
        session, Invoice, order.corrects_global_id, client_id=client_id, field="correctsId"
    )
    if corrected is None:
        return None
    if corrected.kind is InvoiceKind.CORRECTION:
        message = _("A correcting invoice corrects an invoice, not another correction.")
        raise Abort(_error("correctsId", "CORRECTS_A_CORRECTION", message))
    if order.issue_date < corrected.issue_date:
        message = _(
            "A correction cannot precede the invoice it corrects ({date}).",
            date=corrected.issue_date,
        )
        raise Abort(_error("issueDate", "BEFORE_CORRECTED_ISSUE_DATE", message))
    return corrected


def _contract_id(
    order: InvoiceOrder, contract_id: int | None, corrected: Invoice | None
) -> int | None:
    """A correction belongs to the corrected invoice's contract: named or left out."""
    if corrected is None:
        return contract_id
    if order.contract_global_id is not None and contract_id != corrected.contract_id:
        message = _("A correction belongs to the contract of the invoice it corrects.")
        raise Abort(_error("contractId", "NOT_THE_CORRECTED_CONTRACT", message))
    return corrected.contract_id


def _currency(contract: Contract | None, corrected: Invoice | None) -> Currency:
    """A correction is in the corrected invoice's currency (it corrects its amounts; the input
    names no currency, so the two cannot differ); another invoice in its contract's, PLN
    without one."""
    if corrected is not None:
        return corrected.currency
    return contract.currency if contract else Currency.PLN


def _treatment(
    order: InvoiceOrder, contract: Contract | None, corrected: Invoice | None
) -> VatTreatment:
    """A correction keeps the corrected invoice's VAT (art. 106j ust. 2); otherwise staff's
    category, or what the VAT Act gives for the kind of contract and invoice."""
    chosen = order.chosen_category
    if corrected is not None:
        if chosen is not None and chosen is not corrected.vat_category:
            message = _(
                "A correction keeps the VAT rate of the invoice it corrects ({rate}).",
                rate=corrected.vat_category.label,
            )
            raise Abort(_error(order.vat_field, "VAT_DIFFERS_FROM_CORRECTED", message))
        return VatTreatment(corrected.vat_category, corrected.vat_basis)
    contract_kind = contract.kind if contract else None
    if chosen is None:
        return vat_for(contract_kind=contract_kind, invoice_kind=order.kind)
    return treatment_of(chosen, contract_kind=contract_kind, invoice_kind=order.kind)


async def _tax_base(
    session: AsyncSession, order: InvoiceOrder, contract: Contract | None, whole: bool
) -> Decimal | None:
    """A financial lease's delivery is taxed on the initial fee, the instalments of the
    contract's schedule and the buy-out (models.finance.delivery_tax_base); None otherwise."""
    if not whole or contract is None:
        return None
    nets = await session.execute(
        select(func.coalesce(func.sum(col(Instalment.net)), 0)).where(
            col(Instalment.contract_id) == contract.id
        )
    )
    return delivery_tax_base(
        initial_fee=order.net,
        instalment_nets=(to_money(nets.scalar_one()),),
        residual=contract.residual_value,
    )


async def _split_payment_goods(
    session: AsyncSession, contract: Contract | None, treatment: VatTreatment
) -> bool:
    """Whether the invoice delivers goods of annex 15 of the VAT Act: a financial lease's
    delivery invoice of a contract with such an item (models.finance.supplies_annex_15)."""
    if contract is None or not treatment.whole_contract:
        return False
    listed = await session.execute(
        select(func.count()).where(
            col(LeasedItem.contract_id) == contract.id, col(LeasedItem.split_payment_goods)
        )
    )
    return supplies_annex_15(treatment, split_payment_goods=listed.scalar_one() > 0)


async def _invoice(
    session: AsyncSession, order: InvoiceOrder, client: Client, contract_id: int | None
) -> Invoice:
    """The invoice to store, every check that needs the database passed (or Abort)."""
    corrected = await _corrected(session, order, stored_id(client))
    contract_id = _contract_id(order, contract_id, corrected)
    contract = await session.get(Contract, contract_id) if contract_id else None
    currency = _currency(contract, corrected)
    treatment = _treatment(order, contract, corrected)
    tax_base = await _tax_base(session, order, contract, treatment.whole_contract)
    net = round_money(order.net)
    taxed = net if tax_base is None else tax_base
    vat = vat_amount(taxed, treatment.category)  # from the rounded net, never more places
    if error := number_error(net + vat, field="net"):
        raise Abort(error)
    if corrected is not None:  # the note on corrections too (art. 106e ust. 1 pkt 18a)
        split = corrected.split_payment
    else:
        goods = await _split_payment_goods(session, contract, treatment)
        split = split_payment_applies(taxed + vat, treatment.category, annex_15_supply=goods)
    return Invoice(
        client_id=stored_id(client),
        contract_id=contract_id,
        number=await next_number(session, Invoice, f"FV/{order.issue_date:%Y/%m}/"),
        kind=order.kind,
        issue_date=order.issue_date,
        sale_date=order.issue_date,
        due_date=order.due_date,
        currency=currency,
        vat_rate=treatment.category.percent,
        vat_category=treatment.category,
        vat_basis=treatment.basis,
        net=net,
        vat=vat,
        gross=net + vat,
        tax_base=tax_base,
        split_payment=split,
        corrects_id=None if corrected is None else corrected.id,
        description=order.description[:300],
    )


async def issue_invoice(
    ctx: Context, order: InvoiceOrder
) -> tuple[Invoice | None, list[UserErrorData]]:
    if errors := _check(order, ctx.today):
        return None, errors
    try:
        async with ctx.db.write() as session:
            client, contract_id = await client_and_contract(
                session, order.client_global_id, order.contract_global_id
            )
            # Whether this is the company's first invoice (the welcome) is decided under its
            # row's lock: a parallel import or issue waits instead of welcoming it too.
            await booking.lock_clients(session, [stored_id(client)])
            earlier = await session.execute(
                select(func.count()).where(col(Invoice.client_id) == client.id)
            )
            invoice = await _invoice(session, order, client, contract_id)
            session.add(invoice)
            await session.flush()
            # Money the company paid over what it owed settles the new invoice at once (the
            # PKO FAQ: an overpayment lowers the next invoice's amount due).
            await booking.allocate(session, today=ctx.today, client_ids=[stored_id(client)])
            _notify(session, ctx, client, invoice, first=earlier.scalar_one() == 0)
    except Abort as abort:
        return None, abort.errors
    return invoice, []
