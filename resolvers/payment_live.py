"""Live status of an online payment: what `paymentStatusChanged` pushes, and when.

The subscription watches its payment's topic and its invoices' (hub/events.py) before it reads
anything, then reads the payment and its invoices afresh after every signal — with new loaders,
the current time and the viewer verified again, since one WebSocket connection outlives many
changes — and pushes only when what a portal shows changed: the payment's status or an
invoice's amount due. It also reads again every `RECHECK_SECONDS` without a signal, so a lost
signal (a listening connection that dropped) delays an update but never loses it.

A database that is away (a restart) makes it wait and read again, with a growing pause, rather
than end. It ends by itself once nothing more can change for the payment: it failed (the PAY
button is active again; a new payment is a new subscription), or it was accepted and its
invoices are paid.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import col, select

from auth.access import require_scope
from auth.clock import warsaw_today
from auth.errors import NotFoundError, ServiceUnavailableError
from auth.scopes import Scope
from hub.events import invoice_topic, order_topic
from loaders.base import Loaders
from loaders.invoice import InvoiceByIdLoader, SettlementByInvoiceIdLoader
from models.base import utcnow
from models.gateway import GatewayOrder
from models.invoice import GatewayStatus, GatewayTransaction
from models.invoice import Invoice as InvoiceRow
from models.settlement import amount_due
from resolvers.context import Context
from resolvers.ids import pk_of

RECHECK_SECONDS = 30.0
SCOPE = Scope.INVOICES_READ  # what is pushed is the invoices' amount due and button state


@dataclass(frozen=True, slots=True)
class PaymentView:
    """One push: the payment and its invoices as they are now."""

    order: GatewayOrder
    invoices: list[InvoiceRow]
    due: tuple[Decimal, ...]

    @property
    def shown(self) -> tuple[GatewayStatus, tuple[Decimal, ...]]:
        return self.order.status, self.due

    @property
    def final(self) -> bool:
        status = self.order.status
        paid = all(amount <= 0 for amount in self.due)
        return status is GatewayStatus.FAILED or (status is GatewayStatus.ACCEPTED and paid)


async def _order(ctx: Context, order_id: int) -> tuple[GatewayOrder | None, list[int]]:
    async with ctx.db.read() as session:
        order = await session.get(GatewayOrder, order_id, populate_existing=True)
        query = select(col(GatewayTransaction.invoice_id)).where(
            col(GatewayTransaction.order_id) == order_id
        )
        invoice_ids = sorted(set((await session.execute(query)).scalars()))
    return order, invoice_ids


async def _fresh(ctx: Context, order_id: int, invoice_ids: list[int]) -> PaymentView:
    """Read again as a new request would: new loaders (which the pushed fields then use), the
    time now, the viewer's token verified again (a logout ends the subscription).

    The context is the connection's, shared by its subscriptions: another one's push may use
    these loaders too, which only makes its answer as fresh; the viewer is the same token's."""
    ctx.now = utcnow()
    ctx.today = warsaw_today(ctx.now)
    ctx.loaders = Loaders(ctx.db)
    if ctx.renew_viewer is not None:
        ctx.viewer = await ctx.renew_viewer(ctx.now)
    order, _ids = await _order(ctx, order_id)
    if order is None:
        raise NotFoundError(field="paymentId")
    require_scope(ctx.viewer, order.client_id, SCOPE, field="paymentId")
    loaders = ctx.loaders
    invoices = await loaders[InvoiceByIdLoader].load_many(invoice_ids)
    settlements = await loaders[SettlementByInvoiceIdLoader].load_many(invoice_ids)
    rows = [invoice for invoice in invoices if invoice is not None]
    due = tuple(
        amount_due(
            kind=invoice.kind, gross=invoice.gross, paid=settled.paid, corrected=settled.corrected
        )
        for invoice, settled in zip(invoices, settlements, strict=True)
        if invoice is not None
    )
    return PaymentView(order=order, invoices=rows, due=due)


async def payment_views(ctx: Context, *, payment_id: str) -> AsyncIterator[PaymentView]:
    """The payment as it is, then after every change of what a portal shows of it.

    The id and the viewer's rights are checked here, before the stream starts, so that a
    refusal is the field's error (with its path) rather than the stream's."""
    order_id = pk_of(payment_id, "OnlinePayment", field="paymentId")
    order, invoice_ids = await _order(ctx, order_id)
    # Another company's payment is not found, like a missing one; a missing scope says so.
    client_id = order.client_id if order is not None else None
    require_scope(ctx.viewer, client_id, SCOPE, field="paymentId")
    return _watch(ctx, order_id, invoice_ids)


async def _watch(ctx: Context, order_id: int, invoice_ids: list[int]) -> AsyncIterator[PaymentView]:
    topics = [order_topic(order_id), *(invoice_topic(invoice_id) for invoice_id in invoice_ids)]
    async with ctx.db.changes.watching(topics) as changed:
        shown, pause = None, 0.0
        while True:
            try:
                view = await _fresh(ctx, order_id, invoice_ids)
            except ServiceUnavailableError:
                # The database is away (a restart, a failover): read again later rather than
                # end every subscription at once; each waits a little longer, not in step.
                pause = min(RECHECK_SECONDS, max(1.0, 2 * pause))
                await asyncio.sleep(pause * random.uniform(0.5, 1.0))  # noqa: S311 - jitter
                continue
            pause = 0.0
            if view.shown != shown:
                shown = view.shown
                yield view
            if view.final:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), RECHECK_SECONDS)
            changed.clear()
            await ctx.db.changes.listen()  # again if the listening connection was lost
