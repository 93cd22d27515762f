"""GraphQL types of invoices, booked payments and their settlement."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import strawberry

from auth.scopes import Scope
from loaders.contract import ContractByIdLoader
from loaders.invoice import (
    AllocatedByPaymentIdLoader,
    AllocationsByInvoiceIdLoader,
    AllocationsByPaymentIdLoader,
    CorrectionsByInvoiceIdLoader,
    DuplicatesByInvoiceIdLoader,
    InvoiceByIdLoader,
    InvoiceDuplicateByIdLoader,
    PaymentByIdLoader,
    SettlementByInvoiceIdLoader,
)
from loaders.paging import ChildPageLoader
from models.base import to_money
from models.calendar import legal_deadline
from models.contract import Currency
from models.invoice import Invoice as InvoiceRow
from models.invoice import InvoiceDuplicate as DuplicateRow
from models.invoice import InvoiceKind, PaymentSource
from models.invoice import Payment as PaymentRow
from models.invoice import PaymentAllocation as AllocationRow
from models.settlement import InvoiceStatus, Standing, archive_cutoff, standing
from models.vat import VatCategory
from resolvers.ids import to_global_id
from resolvers.invoice import invoice_filter
from resolvers.invoice_duplicate import generate_duplicate
from resolvers.links import link
from resolvers.node import in_client
from schema.base import (
    Connection,
    Info,
    Money,
    Node,
    child_connection,
    money,
    node_id,
    node_type,
    scoped,
)
from schema.identity import UserError
from schema.narrow import keys_only
from schema.payments import InvoicePayment, invoice_payment
from schema.refs import ContractRef

VAT_RATE_DEPRECATED = "Use vatCategory, which tells exempt (zw) and not subject (np) from 0 %."

PAYMENT_DEADLINE = (
    "The last day to pay on time: the due date, or the next working day when it falls on a "
    "Saturday or a public holiday (art. 115 of the Polish Civil Code). Overdue from the day after."
)


@strawberry.input(description="Invoice list filters; all given conditions must hold.")
class InvoiceFilterInput:
    issued_from: date | None = None
    issued_to: date | None = None
    status: list[InvoiceStatus] | None = None
    kind: list[InvoiceKind] | None = None
    contract_id: strawberry.ID | None = None
    archived: bool | None = strawberry.field(
        default=None, description="true: issued over a year ago (the archive); false: newer."
    )


@strawberry.input
class PaymentFilterInput:
    unsettled_only: bool | None = strawberry.field(
        default=None, description="Only payments with money not yet settled (overpayments)."
    )
    booked_from: date | None = None
    booked_to: date | None = None


async def invoice_standing(info: Info, invoice: InvoiceRow) -> Standing:
    """How an invoice stands today; batched: one statement for all invoices of a response."""
    settlement = await info.context.loaders[SettlementByInvoiceIdLoader].load(invoice.id)
    return standing(
        invoice, paid=settlement.paid, corrected=settlement.corrected, today=info.context.today
    )


@strawberry.type(description="An invoice; its status and amount due follow the settlements.")
@node_type(InvoiceRow, loader=InvoiceByIdLoader, access=in_client(Scope.INVOICES_READ))
class Invoice(Node):
    id: strawberry.ID = node_id("Invoice")
    number: str
    kind: InvoiceKind
    ksef_number: str | None = strawberry.field(description="Number given by KSeF.")
    issue_date: date
    sale_date: date
    due_date: date
    currency: Currency
    vat_rate: int = strawberry.field(
        description="The VAT percentage (0 for zw and np).", deprecation_reason=VAT_RATE_DEPRECATED
    )
    vat_category: VatCategory = strawberry.field(
        description="What the invoice prints as its VAT rate (by kind of contract and invoice)."
    )
    net: Money = money("net", "Net amount.")
    vat: Money = money("vat", "VAT amount.")
    gross: Money = money("gross", "Gross amount as issued.")
    split_payment: bool = strawberry.field(description="Split payment (MPP) applies.")
    description: str

    @strawberry.field(description=PAYMENT_DEADLINE)
    def payment_deadline(self, root: InvoiceRow) -> date:
        return legal_deadline(root.due_date)

    @strawberry.field(
        description="Why the invoice charges no VAT, as it prints it (the provision of the VAT "
        "Act); null when VAT is charged."
    )
    def vat_basis(self, root: InvoiceRow) -> str | None:
        return root.vat_basis.text if root.vat_basis else None

    @strawberry.field(
        description="The net the VAT is computed on: the net, except on a financial lease's "
        "delivery invoice, which taxes everything owed under the contract while the gross asks "
        "now for the initial fee and the VAT (the rest is paid with the instalments)."
    )
    def tax_base(self, root: InvoiceRow) -> Money:
        base = root.net if root.tax_base is None else root.tax_base
        return Money(amount=base, currency=root.currency)

    @strawberry.field
    async def status(self, root: InvoiceRow, info: Info) -> InvoiceStatus:
        return (await invoice_standing(info, root)).status

    @strawberry.field(description="Left to pay after settlements and corrections.")
    async def amount_due(self, root: InvoiceRow, info: Info) -> Money:
        due = (await invoice_standing(info, root)).amount_due
        return Money(amount=due, currency=root.currency)

    @strawberry.field(
        description="The pay button: the online payment's status, whether it can be paid "
        "now, and the text to show."
    )
    async def payment(self, root: InvoiceRow, info: Info) -> InvoicePayment:
        return await invoice_payment(info, root)

    @strawberry.field(description="Booked payments settled against this invoice.")
    async def amount_paid(self, root: InvoiceRow, info: Info) -> Money:
        paid = (await invoice_standing(info, root)).paid
        return Money(amount=paid, currency=root.currency)

    @strawberry.field(description="Issued over a year ago.")
    def is_archived(self, root: InvoiceRow, info: Info) -> bool:
        return root.issue_date < archive_cutoff(info.context.today)

    @strawberry.field(extensions=scoped(Scope.CONTRACTS_READ))
    async def contract(self, root: InvoiceRow, info: Info) -> ContractRef | None:
        if root.contract_id is None:
            return None
        return await info.context.loaders[ContractByIdLoader].load(root.contract_id)

    @strawberry.field(extensions=scoped(Scope.PAYMENTS_READ))
    async def allocations(self, root: InvoiceRow, info: Info) -> list[PaymentAllocation] | None:
        return await info.context.loaders[AllocationsByInvoiceIdLoader].load(root.id)

    @strawberry.field(description="Correcting invoices issued to this one.")
    async def corrections(self, root: InvoiceRow, info: Info) -> list[Invoice]:
        return await info.context.loaders[CorrectionsByInvoiceIdLoader].load(root.id)

    @strawberry.field(description="For a correcting invoice: the invoice it corrects.")
    async def corrects(self, root: InvoiceRow, info: Info) -> Invoice | None:
        if root.corrects_id is None:
            return None
        return await info.context.loaders[InvoiceByIdLoader].load(root.corrects_id)

    @strawberry.field(
        extensions=scoped(Scope.INVOICES_READ),
        description="A link, valid for 5 minutes, to the invoice as PDF.",
    )
    def download_url(self, root: InvoiceRow, info: Info) -> str | None:
        return link(info.context, kind="invoice", object_id=root.id)  # type: ignore[arg-type]

    @strawberry.field(description="Duplicates issued so far, oldest first.")
    async def duplicates(self, root: InvoiceRow, info: Info) -> list[InvoiceDuplicate]:
        return await info.context.loaders[DuplicatesByInvoiceIdLoader].load(root.id)


@strawberry.type(description="A duplicate of an invoice: the same invoice, with its own date.")
@node_type(DuplicateRow, loader=InvoiceDuplicateByIdLoader, access=in_client(Scope.INVOICES_READ))
class InvoiceDuplicate(Node):
    id: strawberry.ID = node_id("InvoiceDuplicate")
    issue_date: date = strawberry.field(description="Printed on the duplicate.")

    @strawberry.field(description="When it was asked for.")
    def requested_at(self, root: DuplicateRow) -> datetime:
        return root.created_at

    @strawberry.field(description="The user who asked for it, if the account still exists.")
    def requested_by_id(self, root: DuplicateRow) -> strawberry.ID | None:
        if root.requested_by_id is None:
            return None
        return strawberry.ID(to_global_id("User", root.requested_by_id))

    @strawberry.field(
        extensions=scoped(Scope.INVOICES_READ),
        description="A link, valid for 5 minutes, to the duplicate as PDF.",
    )
    def download_url(self, root: DuplicateRow, info: Info) -> str | None:
        return link(info.context, kind="duplicate", object_id=root.id)  # type: ignore[arg-type]


@strawberry.type(description="The part of a booked payment settled against one invoice.")
class PaymentAllocation:
    amount: Money = money("amount", "Amount settled.")
    allocated_on: date

    @strawberry.field(extensions=scoped(Scope.INVOICES_READ))
    async def invoice(self, root: AllocationRow, info: Info) -> Invoice | None:
        return await info.context.loaders[InvoiceByIdLoader].load(root.invoice_id)

    @strawberry.field
    async def payment(self, root: AllocationRow, info: Info) -> Payment:
        return await info.context.loaders[PaymentByIdLoader].load(root.payment_id)


@strawberry.type(description="Money booked on the client's repayment account.")
@node_type(PaymentRow, loader=PaymentByIdLoader, access=in_client(Scope.PAYMENTS_READ))
class Payment(Node):
    id: strawberry.ID = node_id("Payment")
    booked_on: date
    amount: Money = money("amount", "Amount booked.")
    currency: Currency
    title: str
    source: PaymentSource

    @strawberry.field
    async def allocations(self, root: PaymentRow, info: Info) -> list[PaymentAllocation]:
        return await info.context.loaders[AllocationsByPaymentIdLoader].load(root.id)

    @strawberry.field(description="Not yet settled against any invoice (overpayment).")
    async def unallocated(self, root: PaymentRow, info: Info) -> Money:
        allocated = await info.context.loaders[AllocatedByPaymentIdLoader].load(root.id)
        return Money(amount=to_money(root.amount - allocated), currency=root.currency)


def invoice_list(loader: type[ChildPageLoader[Any]], client_of: Callable[[Any], int]) -> Any:
    """The filtered `invoices` connection of a client or of a contract: one definition."""

    async def resolve(
        root: Any,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        filter: InvoiceFilterInput | None = None,
    ) -> Connection[Invoice] | None:
        filters = await invoice_filter(info.context, client_id=client_of(root), given=filter)
        return await child_connection(
            info, loader, root.id, first=first, after=after, filters=filters
        )

    return strawberry.field(resolver=keys_only(resolve), extensions=scoped(Scope.INVOICES_READ))


@strawberry.input
class InvoiceDuplicateGenerateInput:
    invoice_id: strawberry.ID


@strawberry.type
class InvoiceDuplicateGeneratePayload:
    duplicate: InvoiceDuplicate | None
    errors: list[UserError]


@strawberry.type
class InvoiceMutation:
    @strawberry.mutation(
        description="Issue a duplicate of an invoice dated today; who asked and when is kept. "
        "Download it through the duplicate's `downloadUrl`."
    )
    async def invoice_duplicate_generate(
        self, info: Info, input: InvoiceDuplicateGenerateInput
    ) -> InvoiceDuplicateGeneratePayload:
        duplicate = await generate_duplicate(info.context, invoice_global_id=input.invoice_id)
        return InvoiceDuplicateGeneratePayload(duplicate=duplicate, errors=[])  # type: ignore[arg-type]
