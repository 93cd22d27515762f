"""Online payments through a payment gateway: one order per start of the pay button.

An order pays one or more invoices of one company; each of its invoices is a row of
`gateway_transactions` (models/invoice.py) pointing at the order. The order's status is the
guide's: IN_PROGRESS until the gateway says it ended, then ACCEPTED or FAILED, never back.
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field

from models.base import Timestamped, client_fk, enum_type, money_field
from models.contract import Currency
from models.invoice import GatewayStatus

PAYU = "payu"  # the provider of the first (and so far only) gateway protocol


class GatewayOrder(Timestamped, table=True):
    """An order at the gateway: what the payer pays in one go, for the invoices it lists."""

    __tablename__ = "gateway_orders"
    __table_args__ = (
        # A repeated start (a double click, a retried request) answers the same order.
        sa.UniqueConstraint("client_id", "idempotency_key", name="uq_gateway_orders_idempotency"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = client_fk()
    provider: str = Field(max_length=32)
    # Ours, sent as PayU's `extOrderId`: notifications name the order by it.
    ext_order_id: str = Field(max_length=64, unique=True)
    # The gateway's own id (PayU's `orderId`), known once the gateway created the order.
    provider_order_id: str | None = Field(default=None, max_length=64)
    amount: Decimal = money_field()
    currency: Currency = Field(default=Currency.PLN, sa_type=enum_type(Currency))
    status: GatewayStatus = Field(sa_type=enum_type(GatewayStatus))
    idempotency_key: str = Field(max_length=100)
    redirect_url: str | None = Field(default=None, max_length=2000)
    started_by_id: int | None = Field(
        default=None, foreign_key="users.id", index=True, ondelete="SET NULL"
    )
    # FAILED by the hub's own reckoning (the gateway never created it, or forgot it), not by
    # the gateway: a verified COMPLETED arriving later still takes it to ACCEPTED, since the
    # payer may have paid after all.
    assumed_failed: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
