"""The pay button (INV-5): what an invoice's online payment looks like, and starting one.

- `payment_state` is the button: the guide's five statuses and texts. A payment under way
  locks it; an accepted one says "settlement pending" until a bank statement books the money
  (resolvers/booking.py) and the invoice is paid; while the gateway is missing or failing it
  says payments are unavailable.
- `start_payment` (mutation `paymentStart`) pays the invoices' amount due as the database
  has it: the client never sends an amount. One live payment per invoice is the database's
  rule (a unique partial index): of parallel starts one inserts, the others answer its
  order. The order is written before the gateway is called, so the gateway sees one order.
- `apply_notification` moves a status forward once, by conditional updates: IN_PROGRESS →
  ACCEPTED or FAILED, and nothing ever leaves ACCEPTED or FAILED.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.access import require_scope
from auth.errors import NotFoundError
from auth.scopes import Scope
from hub.events import announce, order_topic
from loaders.invoice import INVOICE_DUE
from models.base import stored_id, to_money
from models.contract import Currency
from models.gateway import GatewayOrder
from models.i18n import Msg, _
from models.invoice import GatewayStatus, GatewayTransaction, Invoice, InvoiceKind
from resolvers.context import Context
from resolvers.errors import Abort, UserErrorData
from resolvers.gateway import (
    GatewayError,
    GatewayProvider,
    OrderLine,
    OrderRequest,
    OrderState,
    provider_of,
)
from resolvers.ids import pk_of
from resolvers.request_file import key_error

if TYPE_CHECKING:
    from hub.db import Database
    from hub.settings import Settings

MAX_INVOICES = 50  # one payment of a company's open invoices; PayU lists each as a product
FIELD_IDS = "invoiceIds"
MESSAGES: dict[GatewayStatus, Msg] = {
    GatewayStatus.IN_PROGRESS: _(
        "The payment has started. The PAY button is locked while it is processed."
    ),
    GatewayStatus.ACCEPTED: _("The payment has been accepted; settlement is pending."),
    GatewayStatus.FAILED: _("The payment failed. Please try again."),
    GatewayStatus.NOT_STARTED: _("Waiting for the payment to start."),
    GatewayStatus.UNAVAILABLE: _("Online payment is temporarily unavailable."),
}
PAID = _("The invoice is paid.")
ENDED = frozenset({GatewayStatus.ACCEPTED, GatewayStatus.FAILED})


@dataclass(frozen=True, slots=True)
class PaymentState:
    status: GatewayStatus
    can_pay: bool
    message: Msg


def payment_state(
    *, last: GatewayStatus | None, amount_due: Decimal, available: bool
) -> PaymentState:
    """The button of one invoice from its last online payment, what is due, and the gateway."""
    if amount_due <= 0:
        shown = (
            GatewayStatus.ACCEPTED if last is GatewayStatus.ACCEPTED else GatewayStatus.NOT_STARTED
        )
        return PaymentState(shown, False, PAID)
    # A payment under way or awaiting its booking says so even while the gateway is down.
    if last in (GatewayStatus.IN_PROGRESS, GatewayStatus.ACCEPTED):
        return PaymentState(last, False, MESSAGES[last])
    if not available:
        return PaymentState(GatewayStatus.UNAVAILABLE, False, MESSAGES[GatewayStatus.UNAVAILABLE])
    shown = GatewayStatus.FAILED if last is GatewayStatus.FAILED else GatewayStatus.NOT_STARTED
    return PaymentState(shown, True, MESSAGES[shown])


def gateway_available(settings: Settings) -> bool:
    provider = provider_of(settings)
    return provider is not None and provider.available()


# ---- starting a payment -------------------------------------------------------------------


def _error(field: str | None, code: str, message: Msg) -> UserErrorData:
    return UserErrorData(field=field, code=code, message=message)


UNAVAILABLE = _error(None, "PAYMENT_UNAVAILABLE", MESSAGES[GatewayStatus.UNAVAILABLE])


def allowed_return(settings: Settings, url: str) -> bool:
    """An http(s) page of the portal: the payer comes back to one of our own origins."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
        return False
    portal = urlsplit(settings.portal_url)
    origins = {*settings.allowed_origins, f"{portal.scheme}://{portal.netloc}"}
    return f"{parts.scheme}://{parts.netloc}".lower() in {o.lower() for o in origins}


def _check(
    settings: Settings, invoice_ids: list[int], return_url: str, key: str
) -> list[UserErrorData]:
    errors = [e for e in (key_error(key),) if e]
    if not invoice_ids:
        errors.append(_error(FIELD_IDS, "REQUIRED", _("{field} is required.", field=FIELD_IDS)))
    elif len(invoice_ids) > MAX_INVOICES:
        message = _("Pay at most {limit} invoices at once.", limit=MAX_INVOICES)
        errors.append(_error(FIELD_IDS, "TOO_MANY_INVOICES", message))
    if len(return_url) > 1000 or not allowed_return(settings, return_url):
        message = _("The return address must be a page of the portal.")
        errors.append(_error("returnUrl", "INVALID_RETURN_URL", message))
    return errors


@dataclass(frozen=True, slots=True)
class Due:
    number: str
    amount: Decimal


async def _dues(
    session: AsyncSession, client_id: int, invoice_ids: list[int]
) -> tuple[list[Due], Currency]:
    """What is due on each invoice now, in the order given, and their one currency."""
    query = select(
        col(Invoice.id), col(Invoice.number), col(Invoice.kind), col(Invoice.currency), INVOICE_DUE
    ).where(col(Invoice.id).in_(invoice_ids), col(Invoice.client_id) == client_id)
    rows = {row[0]: row for row in (await session.execute(query)).all()}
    if len(rows) != len(invoice_ids):
        raise NotFoundError(field=FIELD_IDS)  # another company's invoice: as a missing one
    dues = []
    for invoice_id in invoice_ids:
        _id, number, kind, _currency, due = rows[invoice_id]
        amount = to_money(0) if kind is InvoiceKind.CORRECTION else to_money(due)
        if amount <= 0:
            message = _("Nothing is due on invoice {number}.", number=number)
            raise Abort(_error(FIELD_IDS, "NOTHING_DUE", message))
        dues.append(Due(number=number, amount=amount))
    currencies = {row[3] for row in rows.values()}
    if len(currencies) != 1:
        message = _("Invoices in different currencies are paid separately.")
        raise Abort(_error(FIELD_IDS, "MIXED_CURRENCIES", message))
    return dues, Currency(currencies.pop())


async def _insert(
    ctx: Context, *, client_id: int, invoice_ids: list[int], key: str, provider: str
) -> tuple[GatewayOrder, list[Due]]:
    """The order and one transaction per invoice, IN_PROGRESS; raises IntegrityError when
    an invoice has a live payment already (or the key was taken meanwhile)."""
    async with ctx.db.write() as session:
        dues, currency = await _dues(session, client_id, invoice_ids)
        order = GatewayOrder(
            client_id=client_id,
            provider=provider,
            ext_order_id=uuid.uuid4().hex,
            amount=to_money(sum(due.amount for due in dues)),
            currency=currency,
            status=GatewayStatus.IN_PROGRESS,
            idempotency_key=key,
            started_by_id=ctx.viewer.user_id,
        )
        session.add(order)
        await session.flush()
        for invoice_id, due in zip(invoice_ids, dues, strict=True):
            session.add(
                GatewayTransaction(
                    client_id=client_id,
                    invoice_id=invoice_id,
                    amount=due.amount,
                    status=GatewayStatus.IN_PROGRESS,
                    started_by_id=ctx.viewer.user_id,
                    order_id=stored_id(order),
                )
            )
        await session.flush()
    return order, dues


async def _by_key(ctx: Context, client_id: int, key: str) -> GatewayOrder | None:
    async with ctx.db.read() as session:
        query = select(GatewayOrder).where(
            col(GatewayOrder.client_id) == client_id, col(GatewayOrder.idempotency_key) == key
        )
        return (await session.execute(query)).scalars().first()


async def _invoices_of(ctx: Context, order: GatewayOrder) -> set[int]:
    async with ctx.db.read() as session:
        query = select(col(GatewayTransaction.invoice_id)).where(
            col(GatewayTransaction.order_id) == order.id
        )
        return set((await session.execute(query)).scalars())


async def _live(ctx: Context, client_id: int, invoice_ids: list[int]) -> GatewayOrder | None:
    """The order under way for one of these invoices (the one a parallel start created)."""
    async with ctx.db.read() as session:
        live = select(col(GatewayTransaction.order_id)).where(
            col(GatewayTransaction.invoice_id).in_(invoice_ids),
            col(GatewayTransaction.client_id) == client_id,
            col(GatewayTransaction.status) == GatewayStatus.IN_PROGRESS,
        )
        query = select(GatewayOrder).where(col(GatewayOrder.id).in_(live.scalar_subquery()))
        return (await session.execute(query)).scalars().first()


async def _earlier(
    ctx: Context, client_id: int, invoice_ids: list[int], key: str
) -> tuple[GatewayOrder | None, list[UserErrorData]]:
    """The start this key made before: the same invoices answer its payment."""
    order = await _by_key(ctx, client_id, key)
    if order is None:
        return None, []
    if await _invoices_of(ctx, order) != set(invoice_ids):
        message = _("This idempotency key was used for another payment; use a new key.")
        return None, [_error("idempotencyKey", "IDEMPOTENCY_KEY_REUSED", message)]
    return order, []


async def start_payment(
    ctx: Context,
    *,
    client_global_id: str,
    invoice_global_ids: list[str],
    return_url: str,
    idempotency_key: str,
) -> tuple[GatewayOrder | None, list[UserErrorData]]:
    """The payment of the invoices' amount due with its redirect URL, or why not."""
    client_id = require_scope(
        ctx.viewer,
        pk_of(client_global_id, "Client", field="clientId"),
        Scope.PAYMENTS_PAY,
        field="clientId",
    )
    invoice_ids = list(
        dict.fromkeys(pk_of(i, "Invoice", field=FIELD_IDS) for i in invoice_global_ids)
    )
    if errors := _check(ctx.settings, invoice_ids, return_url, idempotency_key):
        return None, errors
    order, errors = await _earlier(ctx, client_id, invoice_ids, idempotency_key)
    if order is not None or errors:
        return order, errors
    provider = provider_of(ctx.settings)
    if provider is None or not provider.available():
        return None, [UNAVAILABLE]
    try:
        order, dues = await _insert(
            ctx,
            client_id=client_id,
            invoice_ids=invoice_ids,
            key=idempotency_key,
            provider=provider.name,
        )
    except Abort as abort:
        return None, abort.errors
    except IntegrityError:
        # Outside the failed transaction: a parallel start of the same key or of one of the
        # invoices won; its payment is the answer.
        order, errors = await _earlier(ctx, client_id, invoice_ids, idempotency_key)
        if order is None and not errors:
            order = await _live(ctx, client_id, invoice_ids)
        if order is None and not errors:
            message = _("Another payment of these invoices has just ended; start again.")
            errors = [_error(FIELD_IDS, "PAYMENT_CONFLICT", message)]
        return order, errors
    return await _create_at_gateway(ctx, provider, order, dues, return_url.strip())


async def _create_at_gateway(
    ctx: Context, provider: GatewayProvider, order: GatewayOrder, dues: list[Due], back: str
) -> tuple[GatewayOrder | None, list[UserErrorData]]:
    request = OrderRequest(
        ext_order_id=order.ext_order_id,
        amount=order.amount,
        currency=order.currency.value,
        description=f"{ctx.settings.lessor_name}: " + ", ".join(d.number for d in dues),
        notify_url=ctx.settings.gateway_notify_url,
        continue_url=back,
        customer_ip=ctx.client_ip or "127.0.0.1",
        lines=tuple(OrderLine(name=d.number, amount=d.amount) for d in dues),
    )
    try:
        created = await provider.create_order(request)
    except GatewayError:
        await _forget(ctx.db, stored_id(order))  # never reached the payer: the button is free
        return None, [UNAVAILABLE]
    async with ctx.db.write() as session:
        await session.execute(
            update(GatewayOrder)
            .where(col(GatewayOrder.id) == order.id)
            .values(
                provider_order_id=created.provider_order_id,
                redirect_url=created.redirect_url,
                updated_at=ctx.now,
            )
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            update(GatewayTransaction)
            .where(col(GatewayTransaction.order_id) == order.id)
            .values(provider_reference=created.provider_order_id, updated_at=ctx.now)
            .execution_options(synchronize_session=False)
        )
    order.provider_order_id, order.redirect_url = created.provider_order_id, created.redirect_url
    ctx.loaders.clear()
    return order, []


async def _forget(db: Database, order_id: int) -> None:
    async with db.write() as session:
        await session.execute(
            delete(GatewayTransaction).where(col(GatewayTransaction.order_id) == order_id)
        )
        await session.execute(
            delete(GatewayOrder).where(
                col(GatewayOrder.id) == order_id, col(GatewayOrder.provider_order_id).is_(None)
            )
        )


# ---- notifications ------------------------------------------------------------------------


def _movable(status: GatewayStatus) -> Any:
    """The orders a verified `status` may move: those under way, and, for an acceptance,
    those the hub itself assumed failed (a late COMPLETED is money the payer did pay)."""
    under_way = col(GatewayOrder.status) == GatewayStatus.IN_PROGRESS
    if status is not GatewayStatus.ACCEPTED:
        return under_way
    assumed = (col(GatewayOrder.status) == GatewayStatus.FAILED) & col(GatewayOrder.assumed_failed)
    return under_way | assumed


class UnknownOrder(Exception):
    """No order of ours has this extOrderId."""


class OrderMismatch(Exception):
    """A signed notification whose amount, currency or gateway id is not the order's."""


def _mismatch(order: GatewayOrder, state: OrderState) -> bool:
    if state.amount is not None and state.amount != order.amount:
        return True
    if state.currency is not None and state.currency != order.currency.value:
        return True
    known, reported = order.provider_order_id, state.provider_order_id
    return known is not None and reported is not None and known != reported


async def apply_notification(
    db: Database, state: OrderState, *, now: datetime, assumed: bool = False
) -> bool:
    """Applies a verified status once and only forward; True when it changed the order.
    `assumed`: the hub's own FAILED (polling), which a verified COMPLETED may still undo.

    Raises `UnknownOrder` or `OrderMismatch` (nothing changes)."""
    async with db.write() as session:
        query = select(GatewayOrder).where(col(GatewayOrder.ext_order_id) == state.ext_order_id)
        order = (await session.execute(query)).scalars().first()
        if order is None:
            raise UnknownOrder(state.ext_order_id)
        if _mismatch(order, state):
            raise OrderMismatch(state.ext_order_id)
        if state.status not in ENDED:
            return False  # PENDING and the like: the order is under way, as it was
        moved = await session.execute(
            update(GatewayOrder)
            .where(col(GatewayOrder.id) == order.id, _movable(state.status))
            .values(
                status=state.status,
                provider_order_id=state.provider_order_id or order.provider_order_id,
                assumed_failed=assumed,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if int(moved.rowcount or 0) != 1:  # type: ignore[attr-defined]
            return False  # a replay, or a late status after the order ended: ignored
        from_statuses = [GatewayStatus.IN_PROGRESS]
        if order.status is GatewayStatus.FAILED:  # an assumed failure, revived
            from_statuses.append(GatewayStatus.FAILED)
        await session.execute(
            update(GatewayTransaction)
            .where(
                col(GatewayTransaction.order_id) == order.id,
                col(GatewayTransaction.status).in_(from_statuses),
            )
            .values(status=state.status, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        await announce(session, [order_topic(order.id)])
    return True
