"""The pay button: `Invoice.payment` and the mutation `paymentStart` (PayU protocol)."""

from __future__ import annotations

import strawberry

from loaders.invoice import LastGatewayStatusByInvoiceIdLoader, SettlementByInvoiceIdLoader
from models.base import to_money
from models.gateway import GatewayOrder
from models.i18n import Msg, translate
from models.invoice import GatewayStatus
from models.invoice import Invoice as InvoiceRow
from models.settlement import amount_due
from resolvers import payments
from resolvers.ids import to_global_id
from schema.base import Info, Money
from schema.identity import UserError, user_errors


@strawberry.type(
    description="The pay button of an invoice: the state of its online payment, whether it "
    "can be paid now, and the text to show (the request's language)."
)
class InvoicePayment:
    status: GatewayStatus = strawberry.field(
        description="NOT_STARTED: no payment under way; IN_PROGRESS: one started and has not "
        "ended (the button is locked); ACCEPTED: the gateway accepted it, settlement pending "
        "until the bank statement books it; FAILED: the last one failed (pay again); "
        "UNAVAILABLE: online payment is down for now."
    )
    can_pay: bool = strawberry.field(
        description="The PAY button is active: something is due, no payment is under way or "
        "awaiting settlement, and the gateway is available."
    )
    text: strawberry.Private[Msg]

    @strawberry.field(description="The guide's text for the status.")
    def message(self, info: Info) -> str:
        return translate(self.text, info.context.language)


async def invoice_payment(info: Info, invoice: InvoiceRow) -> InvoicePayment:
    """Batched: one statement for the last payments and one for the settlements of all the
    invoices of a response."""
    loaders = info.context.loaders
    assert invoice.id is not None
    last = await loaders[LastGatewayStatusByInvoiceIdLoader].load(invoice.id)
    settlement = await loaders[SettlementByInvoiceIdLoader].load(invoice.id)
    due = amount_due(
        kind=invoice.kind, gross=invoice.gross, paid=settlement.paid, corrected=settlement.corrected
    )
    state = payments.payment_state(
        last=last, amount_due=due, available=payments.gateway_available(info.context.settings)
    )
    return InvoicePayment(status=state.status, can_pay=state.can_pay, text=state.message)


@strawberry.type(description="An online payment of one or more invoices of one company.")
class OnlinePayment:
    row: strawberry.Private[GatewayOrder]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(to_global_id("OnlinePayment", self.row.id or 0))

    @strawberry.field(description="IN_PROGRESS until the gateway says ACCEPTED or FAILED.")
    def status(self) -> GatewayStatus:
        return self.row.status

    @strawberry.field(
        description="Send the payer here (the gateway's payment page); null while a parallel "
        "start is still creating the order at the gateway."
    )
    def redirect_url(self) -> str | None:
        return self.row.redirect_url

    @strawberry.field(description="The invoices' amount due when the payment started.")
    def amount(self) -> Money:
        return Money(amount=to_money(self.row.amount), currency=self.row.currency)


@strawberry.input(description="Pay invoices of one company online, for what is due on them.")
class PaymentStartInput:
    client_id: strawberry.ID
    invoice_ids: list[strawberry.ID] = strawberry.field(
        description="At most 50 invoices of the company, each with something due."
    )
    return_url: str = strawberry.field(
        description="Where the gateway sends the payer back: an http(s) page of the portal "
        "(an allowed origin). Coming back changes nothing; the status comes from the gateway."
    )
    idempotency_key: str = strawberry.field(
        description="1–64 printable ASCII characters: a repeated start with the same key "
        "answers the same payment."
    )


@strawberry.type
class PaymentStartPayload:
    payment: OnlinePayment | None
    errors: list[UserError]


@strawberry.type
class PaymentMutation:
    @strawberry.mutation(
        description="Start an online payment of invoices (payments:pay): the amount is what "
        "is due on them now. Answers the gateway's payment page to send the payer to. An "
        "invoice with a payment under way answers that payment."
    )
    async def payment_start(self, info: Info, input: PaymentStartInput) -> PaymentStartPayload:
        order, errors = await payments.start_payment(
            info.context,
            client_global_id=input.client_id,
            invoice_global_ids=list(input.invoice_ids),
            return_url=input.return_url,
            idempotency_key=input.idempotency_key,
        )
        return PaymentStartPayload(
            payment=OnlinePayment(row=order) if order else None, errors=user_errors(errors)
        )
