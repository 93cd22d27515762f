"""What a printed document shows, gathered from the database (see exports/documents.py)."""

from __future__ import annotations

from dataclasses import fields
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select, tuple_
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
from models.client import BankAccount, Client
from models.contract import Contract, Instalment
from models.document import Document, DocumentKind
from models.finance import delay_days
from models.i18n import Language
from models.invoice import Invoice, InvoiceKind

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


async def _before(
    session: AsyncSession, original: Invoice, correction: Invoice
) -> CorrectedInvoice:
    """The corrected invoice as it stood before this correction: with the earlier ones."""
    earlier = select(Invoice).where(
        col(Invoice.corrects_id) == original.id,
        tuple_(col(Invoice.issue_date), col(Invoice.id)) < (correction.issue_date, correction.id),
    )
    rows = list((await session.execute(earlier)).scalars())
    return CorrectedInvoice(
        number=original.number,
        issue_date=original.issue_date,
        ksef_number=original.ksef_number,
        net=original.net + sum((r.net for r in rows), Decimal(0)),
        vat=original.vat + sum((r.vat for r in rows), Decimal(0)),
        gross=original.gross + sum((r.gross for r in rows), Decimal(0)),
    )


async def invoice(
    session: AsyncSession, settings: Settings, row: Invoice, duplicate_of: date | None
) -> InvoiceDocument:
    client = await session.get(Client, row.client_id)
    account = await _repayment_account(session, row.client_id, row.currency.value)
    corrected = await session.get(Invoice, row.corrects_id) if row.corrects_id else None
    description = row.description or _KIND_LINES[row.kind]
    return InvoiceDocument(
        number=row.number,
        issue_date=row.issue_date,
        sale_date=row.sale_date,
        due_date=row.due_date,
        currency=row.currency.value,
        seller=lessor(settings),
        buyer=client_party(client),  # type: ignore[arg-type]
        lines=(InvoiceLine(description, row.net, row.vat_rate, row.vat, row.gross),),
        vat_breakdown=(VatLine(row.vat_rate, row.net, row.vat, row.gross),),
        net=row.net,
        vat=row.vat,
        gross=row.gross,
        ksef_number=row.ksef_number,
        bank_account=account.iban if account else None,
        bank_name=account.bank_name if account else None,
        split_payment=row.split_payment,
        contract_number=await _contract_number(session, row.contract_id),
        corrected=None if corrected is None else await _before(session, corrected, row),
        # "Korekta faktury FV/… – reason": the part after the dash is the reason.
        correction_reason=row.description.partition(" – ")[2] or row.description
        if corrected
        else None,
        duplicate_issue_date=duplicate_of,
    )


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
            annual_rate=row.annual_rate or Decimal(0),
            interest=to_money(amount),
            currency=row.currency.value,
            due_date=row.issue_date + timedelta(days=NOTE_PAYMENT_DAYS),
            bank_account=account.iban if account else None,
            contract_number=contract_number,
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
