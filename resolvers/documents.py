"""What a printed document shows, gathered from the database (see exports/documents.py)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from exports.documents import (
    BalanceConfirmationDocument,
    CorrectedInvoice,
    GeneralDocument,
    InterestNoteDocument,
    InvoiceDocument,
    InvoiceLine,
    Party,
    ScheduleDocument,
    ScheduleRow,
    VatLine,
)
from models.base import to_money
from models.calendar import legal_deadline
from models.client import BankAccount, Client
from models.contract import Contract, ContractKind, Instalment
from models.document import Document, DocumentKind
from models.finance import delay_days
from models.i18n import Language
from models.interest import InterestSegment, statutory_interest
from models.invoice import Invoice, InvoiceKind, PaymentAllocation
from resolvers.interest_rates import rate_table

if TYPE_CHECKING:
    from hub.settings import Settings

NOTE_PAYMENT_DAYS = 14  # an interest note is payable within two weeks of its issue
CONFIRMATION_REPLY_DAYS = 14
_KIND_LINES = {
    InvoiceKind.INSTALMENT: "Rata leasingowa",
    InvoiceKind.INITIAL_FEE: "Opłata wstępna",
    InvoiceKind.INSURANCE: "Refaktura składki ubezpieczeniowej",
    InvoiceKind.FEE: "Opłata",
    InvoiceKind.CORRECTION: "Korekta",
}
_LOAN_INSTALMENT = "Rata pożyczki"  # a loan's instalment is no lease instalment

Printable = InterestNoteDocument | BalanceConfirmationDocument | GeneralDocument


def lessor(settings: Settings) -> Party:
    return Party(
        name=settings.lessor_name,
        nip=settings.lessor_nip,
        street=settings.lessor_street,
        postal_code=settings.lessor_postal_code,
        city=settings.lessor_city,
        regon=settings.lessor_regon,
    )


def client_party(client: Client) -> Party:
    return Party(
        name=client.name,
        nip=client.nip,
        street=client.street,
        postal_code=client.postal_code,
        city=client.city,
        country=client.country,
        regon=client.regon,
    )


def schedule(
    settings: Settings,
    contract: Contract,
    client: Client,
    instalments: list[Instalment],
    today: date,
    language: Language = Language.PL,
) -> ScheduleDocument:
    return ScheduleDocument(
        contract_number=contract.number,
        lessor=lessor(settings),
        client=client_party(client),
        currency=contract.currency.value,
        start_date=contract.start_date,
        end_date=contract.end_date,
        net_value=contract.net_value,
        initial_fee=contract.initial_fee,
        residual_value=contract.residual_value,
        rows=tuple(
            ScheduleRow(**{f.name: getattr(row, f.name) for f in fields(ScheduleRow)})
            for row in instalments
        ),
        printed_on=today,
        language=language,
        kind=contract.kind,
    )


async def _repayment_account(
    session: AsyncSession, client_id: int, currency: str
) -> BankAccount | None:
    """The client's account for this currency, the default one first."""
    query = (
        select(BankAccount)
        .where(col(BankAccount.client_id) == client_id, col(BankAccount.currency) == currency)
        .order_by(col(BankAccount.is_default).desc(), col(BankAccount.id))
        .limit(1)
    )
    return (await session.execute(query)).scalars().first()


async def _contract_number(session: AsyncSession, contract_id: int | None) -> str | None:
    contract = await session.get(Contract, contract_id) if contract_id else None
    return contract.number if contract else None


def _printed(row: Invoice) -> tuple[Decimal, Decimal]:
    """Net and gross as the invoice prints them: on the tax base where it has one."""
    net = row.net if row.tax_base is None else row.tax_base
    return net, net + row.vat


async def _before(
    session: AsyncSession, original: Invoice, correction: Invoice
) -> tuple[CorrectedInvoice, Decimal]:
    """The corrected invoice as it stood before this correction, with the earlier ones, and
    what it asked for then (its gross, which differs from the printed one on a delivery)."""
    earlier = select(Invoice).where(
        col(Invoice.corrects_id) == original.id,
        tuple_(col(Invoice.issue_date), col(Invoice.id)) < (correction.issue_date, correction.id),
    )
    rows = list((await session.execute(earlier)).scalars())
    net, gross = _printed(original)
    corrected = sum((r.gross for r in rows), Decimal(0))
    before = CorrectedInvoice(
        number=original.number,
        issue_date=original.issue_date,
        ksef_number=original.ksef_number,
        net=net + sum((r.net for r in rows), Decimal(0)),
        vat=original.vat + sum((r.vat for r in rows), Decimal(0)),
        gross=gross + corrected,
    )
    return before, original.gross + corrected


async def _paid_by(session: AsyncSession, invoice: Invoice, day: date) -> Decimal:
    """What had been settled against an invoice by the end of `day`."""
    paid = await session.execute(
        select(func.coalesce(func.sum(col(PaymentAllocation.amount)), 0)).where(
            col(PaymentAllocation.invoice_id) == invoice.id,
            col(PaymentAllocation.allocated_on) <= day,
        )
    )
    return to_money(paid.scalar_one())


def _line_text(row: Invoice, contract: Contract | None) -> str:
    if row.description:
        return row.description
    if row.kind is InvoiceKind.INSTALMENT and contract and contract.kind is ContractKind.LOAN:
        return _LOAN_INSTALMENT
    return _KIND_LINES[row.kind]


@dataclass(frozen=True, slots=True)
class _Correction:
    """A correction's part of the document: the corrected invoice before it, what had been
    paid on that by the correction's issue date, and what it asks for with the correction."""

    before: CorrectedInvoice | None = None
    reason: str | None = None
    paid_before: Decimal | None = None
    due_after: Decimal | None = None


async def _correction(session: AsyncSession, row: Invoice) -> _Correction:
    corrected = await session.get(Invoice, row.corrects_id) if row.corrects_id else None
    if corrected is None:
        return _Correction()
    before, due_before = await _before(session, corrected, row)
    return _Correction(
        before=before,
        # "Korekta faktury FV/… – reason": the part after the dash is the reason.
        reason=row.description.partition(" – ")[2] or row.description,
        paid_before=await _paid_by(session, corrected, row.issue_date),
        due_after=due_before + row.gross,
    )


async def invoice(
    session: AsyncSession, settings: Settings, row: Invoice, duplicate_of: date | None
) -> InvoiceDocument:
    client = await session.get(Client, row.client_id)
    account = await _repayment_account(session, row.client_id, row.currency.value)
    contract = await session.get(Contract, row.contract_id) if row.contract_id else None
    net, gross = _printed(row)
    correction = await _correction(session, row)
    return InvoiceDocument(
        number=row.number,
        issue_date=row.issue_date,
        sale_date=row.sale_date,
        due_date=row.due_date,
        currency=row.currency.value,
        seller=lessor(settings),
        buyer=client_party(client),  # type: ignore[arg-type]
        lines=(InvoiceLine(_line_text(row, contract), net, row.vat_category, row.vat, gross),),
        vat_breakdown=(VatLine(row.vat_category, net, row.vat, gross),),
        net=net,
        vat=row.vat,
        gross=gross,
        ksef_number=row.ksef_number,
        bank_account=account.iban if account else None,
        bank_name=account.bank_name if account else None,
        split_payment=row.split_payment,
        contract_number=contract.number if contract else None,
        duplicate_issue_date=duplicate_of,
        vat_basis=row.vat_basis.text if row.vat_basis else None,
        payable_now=None if row.tax_base is None else row.gross,
        corrected=correction.before,
        correction_reason=correction.reason,
        paid_before=correction.paid_before,
        due_after=correction.due_after,
    )


async def _interest_segments(session: AsyncSession, note: Document) -> tuple[InterestSegment, ...]:
    """A note at the statutory rates (no `annual_rate`) prints each half-year at its rate from
    the table; one at a rate staff set (or from before the table) prints one line."""
    assert note.period_start and note.period_end  # an interest note's period
    if note.annual_rate is not None:
        segment = InterestSegment(
            note.period_start, note.period_end, note.annual_rate, to_money(note.amount)
        )
        return (segment,)
    interest = statutory_interest(
        to_money(note.basis_amount),
        first_day=note.period_start,
        last_day=note.period_end,
        table=await rate_table(session),
    )
    return interest.segments


async def document(session: AsyncSession, settings: Settings, row: Document) -> Printable:
    client = await session.get(Client, row.client_id)
    seller, buyer = lessor(settings), client_party(client)  # type: ignore[arg-type]
    contract_number = await _contract_number(session, row.contract_id)
    amount = to_money(row.amount) if row.amount is not None else None
    if row.kind is DocumentKind.INTEREST_NOTE and row.period_start and row.period_end:
        account = await _repayment_account(session, row.client_id, row.currency.value)
        charged = await session.get(Invoice, row.invoice_id) if row.invoice_id else None
        return InterestNoteDocument(
            number=row.number,
            issue_date=row.issue_date,
            seller=seller,
            buyer=buyer,
            invoice_number=charged.number if charged else "",
            principal=to_money(row.basis_amount),
            period_start=row.period_start,
            period_end=row.period_end,
            days=delay_days(row.period_start, row.period_end),
            annual_rate=row.annual_rate,
            interest=to_money(amount),
            currency=row.currency.value,
            due_date=row.issue_date + timedelta(days=NOTE_PAYMENT_DAYS),
            bank_account=account.iban if account else None,
            contract_number=contract_number,
            segments=await _interest_segments(session, row),
            statutory=row.annual_rate is None,
            invoice_due_date=charged.due_date if charged else None,
            legal_deadline=legal_deadline(charged.due_date) if charged else None,
            rate_reason=row.rate_reason,
        )
    if row.kind is DocumentKind.BALANCE_CONFIRMATION and row.period_end:
        return BalanceConfirmationDocument(
            number=row.number,
            issue_date=row.issue_date,
            seller=seller,
            buyer=buyer,
            as_of=row.period_end,
            balance=to_money(amount),
            currency=row.currency.value,
            reply_by=row.issue_date + timedelta(days=CONFIRMATION_REPLY_DAYS),
        )
    return GeneralDocument(
        number=row.number,
        issue_date=row.issue_date,
        seller=seller,
        buyer=buyer,
        title=row.title,
        amount=amount,
        currency=row.currency.value,
        contract_number=contract_number,
    )
