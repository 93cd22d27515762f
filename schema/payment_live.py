"""`Subscription.paymentStatusChanged`: a payment's status and its invoices' amount due, live."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator

import strawberry

from resolvers.payment_live import PaymentView, payment_views
from schema.base import Info
from schema.invoice import Invoice
from schema.payments import OnlinePayment


@strawberry.type(description="An online payment and its invoices as they are now.")
class PaymentStatusUpdate:
    payment: OnlinePayment
    invoices: list[Invoice] = strawberry.field(
        description="The payment's invoices: `amountDue` and the pay button (`payment`) now."
    )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="A payment as it is, then whenever its status or its invoices' amount due "
        "change, so that a locked PAY button unlocks without polling (graphql-transport-ws; "
        'sign in with `connection_init` `{authorization: "Bearer …"}`). Needs invoices:read '
        "in the payment's company. Ends once the payment failed, or was accepted and its "
        "invoices are paid."
    )
    async def payment_status_changed(
        self, info: Info, payment_id: strawberry.ID
    ) -> AsyncGenerator[PaymentStatusUpdate, None]:
        # Awaited before the stream starts: a refused id is this field's error, with its path.
        views = await payment_views(info.context, payment_id=payment_id)
        return _updates(views)


async def _updates(views: AsyncIterator[PaymentView]) -> AsyncGenerator[PaymentStatusUpdate, None]:
    async for view in views:
        yield PaymentStatusUpdate(
            payment=OnlinePayment(row=view.order),
            invoices=view.invoices,  # type: ignore[arg-type]  # rows serve the Invoice type
        )
