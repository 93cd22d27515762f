"""Staff booking: import an MT940 statement, allocate a payment's money by hand (INV-3, INV-4)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from auth.staff import StaffPermission
from loaders.invoice import InvoiceByIdLoader, PaymentByIdLoader
from models.contract import Currency
from resolvers import booking
from schema.base import Info, Money, staff_permission
from schema.identity import UserError, user_errors
from schema.refs import InvoiceRef, PaymentRef


@strawberry.input(description="An MT940 file as Polish banks send it (field 86 structured).")
class StatementImportInput:
    content: str = strawberry.field(description="The file's text (UTF-8; decode CP1250 first).")
    file_name: str | None = strawberry.field(default=None, description="Kept with each line.")


@strawberry.type(description="A credit no company was recognised for: kept, booked to nobody.")
class UnmatchedStatementLine:
    account: str = strawberry.field(description="The statement's account (field 25).")
    position: int = strawberry.field(description="The line's place in its statement.")
    value_date: date
    amount: Money
    title: str
    payer_iban: str | None
    payer_name: str


@strawberry.type(description="What one import did; a re-import books nothing twice.")
class StatementImportSummary:
    lines: int = strawberry.field(description="Statement lines read (field 61), debits too.")
    credits: int
    debits: int = strawberry.field(description="Debits: read and ignored.")
    booked: int = strawberry.field(description="New credits booked as a company's payment.")
    duplicates: int = strawberry.field(description="Credits imported before: skipped.")
    unmatched: int
    booked_amount: Money
    allocated_amount: Money = strawberry.field(
        description="Settled against invoices by this import (overpayments applied included)."
    )
    overpayments: Money = strawberry.field(
        description="What the companies booked to are still owed back: unsettled money."
    )
    unmatched_lines: list[UnmatchedStatementLine]


def _pln(amount: Decimal) -> Money:
    return Money(amount=amount, currency=Currency.PLN)


def _summary(found: booking.ImportSummary) -> StatementImportSummary:
    return StatementImportSummary(
        lines=found.lines,
        credits=found.credits,
        debits=found.debits,
        booked=found.booked,
        duplicates=found.duplicates,
        unmatched=found.unmatched,
        booked_amount=_pln(found.booked_amount),
        allocated_amount=_pln(found.allocated_amount),
        overpayments=_pln(found.overpayments),
        unmatched_lines=[
            UnmatchedStatementLine(
                account=line.account,
                position=line.position,
                value_date=line.value_date,
                amount=Money(amount=line.amount, currency=Currency(line.currency)),
                title=line.title,
                payer_iban=line.payer_iban,
                payer_name=line.payer_name,
            )
            for line in found.unmatched_lines
        ],
    )


@strawberry.type
class StatementImportPayload:
    summary: StatementImportSummary | None
    errors: list[UserError]


@strawberry.input(description="Settle part of a payment's unallocated money against an invoice.")
class PaymentAllocateInput:
    payment_id: strawberry.ID
    invoice_id: strawberry.ID = strawberry.field(description="Of the payment's company.")
    amount: Decimal = strawberry.field(
        description="At most the payment's unallocated part and the invoice's amount due."
    )


@strawberry.type
class PaymentAllocatePayload:
    payment: PaymentRef | None
    invoice: InvoiceRef | None
    errors: list[UserError]


@strawberry.type
class BookingMutation:
    @strawberry.mutation(
        description="Staff: import an MT940 bank statement. Each credit is matched to a company "
        "by its repayment account or an invoice number in the title, booked as a payment and "
        "settled: the named invoice first, then the oldest due; the rest is an overpayment, "
        "applied to the company's open invoices at every import.",
        extensions=staff_permission(StaffPermission.INVOICES_MANAGE),
    )
    async def statement_import(
        self, info: Info, input: StatementImportInput
    ) -> StatementImportPayload:
        found, errors = await booking.import_statement(
            info.context, content=input.content, file_name=input.file_name
        )
        return StatementImportPayload(
            summary=_summary(found) if found else None, errors=user_errors(errors)
        )

    @strawberry.mutation(
        description="Staff: allocate part of a booked payment to an invoice of the same company.",
        extensions=staff_permission(StaffPermission.INVOICES_MANAGE),
    )
    async def payment_allocate(
        self, info: Info, input: PaymentAllocateInput
    ) -> PaymentAllocatePayload:
        order = booking.ManualAllocation(
            payment_global_id=input.payment_id,
            invoice_global_id=input.invoice_id,
            amount=input.amount,
        )
        row, errors = await booking.allocate_payment(info.context, order)
        if row is None:
            return PaymentAllocatePayload(payment=None, invoice=None, errors=user_errors(errors))
        loaders = info.context.loaders
        return PaymentAllocatePayload(
            payment=await loaders[PaymentByIdLoader].load(row.payment_id),
            invoice=await loaders[InvoiceByIdLoader].load(row.invoice_id),
            errors=[],
        )
