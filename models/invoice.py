"""Invoices, incoming payments, their allocations, and payment-gateway transactions."""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field

from models.base import Timestamped, client_fk, enum_type, external_id_field, money_field
from models.contract import Currency
from models.vat import VatBasis, VatCategory


class InvoiceKind(enum.StrEnum):
    INSTALMENT = "INSTALMENT"
    INITIAL_FEE = "INITIAL_FEE"
    INSURANCE = "INSURANCE"
    FEE = "FEE"
    CORRECTION = "CORRECTION"


class PaymentSource(enum.StrEnum):
    TRANSFER = "TRANSFER"
    GATEWAY = "GATEWAY"


class GatewayStatus(enum.StrEnum):
    NOT_STARTED = "NOT_STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    ACCEPTED = "ACCEPTED"
    FAILED = "FAILED"
    UNAVAILABLE = "UNAVAILABLE"


class Invoice(Timestamped, table=True):
    """An invoice as issued; what is still due is derived from allocations and corrections."""

    __tablename__ = "invoices"

    id: int | None = Field(default=None, primary_key=True)
    external_id: str | None = external_id_field()
    client_id: int = client_fk()
    contract_id: int | None = Field(
        default=None, foreign_key="contracts.id", index=True, ondelete="SET NULL"
    )
    number: str = Field(max_length=32, unique=True)
    kind: InvoiceKind = Field(sa_type=enum_type(InvoiceKind), index=True)
    ksef_number: str | None = Field(default=None, max_length=36, unique=True)
    issue_date: date = Field(index=True)
    sale_date: date
    due_date: date = Field(index=True)
    currency: Currency = Field(default=Currency.PLN, sa_type=enum_type(Currency))
    # The percentage VAT was computed with (0 for zw and np), kept for the deprecated `vatRate`
    # and the tables; `vat_category` says what the invoice prints.
    vat_rate: int = Field(default=23)
    vat_category: VatCategory = Field(default=VatCategory.RATE_23, sa_type=enum_type(VatCategory))
    vat_basis: VatBasis | None = Field(default=None, sa_type=enum_type(VatBasis))
    net: Decimal = money_field()
    vat: Decimal = money_field()
    gross: Decimal = money_field()
    # The net the VAT is computed on when it is not `net`: a financial lease's delivery invoice
    # taxes everything owed under the contract while asking now only for the initial fee (and
    # the VAT); the rest is paid with the instalments (models.finance.vat_for).
    tax_base: Decimal | None = money_field(default=None)
    split_payment: bool = Field(default=False)
    corrects_id: int | None = Field(
        default=None, foreign_key="invoices.id", index=True, ondelete="SET NULL"
    )
    description: str = Field(default="", max_length=300)


class InvoiceDuplicate(Timestamped, table=True):
    """A duplicate of an invoice, issued on request: who asked for it and when (INV-1)."""

    __tablename__ = "invoice_duplicates"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = client_fk()
    invoice_id: int = Field(foreign_key="invoices.id", index=True, ondelete="CASCADE")
    issue_date: date
    requested_by_id: int | None = Field(
        default=None, foreign_key="users.id", index=True, ondelete="SET NULL"
    )


class Payment(Timestamped, table=True):
    """Money booked on the client's repayment account."""

    __tablename__ = "payments"

    id: int | None = Field(default=None, primary_key=True)
    external_id: str | None = external_id_field()
    client_id: int = client_fk()
    booked_on: date = Field(index=True)
    amount: Decimal = money_field()
    currency: Currency = Field(default=Currency.PLN, sa_type=enum_type(Currency))
    title: str = Field(max_length=200)
    payer_iban: str | None = Field(default=None, max_length=34)
    source: PaymentSource = Field(default=PaymentSource.TRANSFER, sa_type=enum_type(PaymentSource))


class PaymentAllocation(Timestamped, table=True):
    """The part of a booked payment settled against one invoice."""

    __tablename__ = "payment_allocations"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = client_fk()
    payment_id: int = Field(foreign_key="payments.id", index=True, ondelete="CASCADE")
    invoice_id: int = Field(foreign_key="invoices.id", index=True, ondelete="CASCADE")
    amount: Decimal = money_field()
    allocated_on: date


LIVE_PAYMENT = sa.text("status = 'IN_PROGRESS'")


class GatewayTransaction(Timestamped, table=True):
    """One invoice of a gateway order (models/gateway.py), with the amount it pays of it."""

    __tablename__ = "gateway_transactions"
    __table_args__ = (
        # One live payment per invoice, kept by the database: of parallel starts one inserts.
        sa.Index(
            "uq_gateway_transactions_live",
            "invoice_id",
            unique=True,
            postgresql_where=LIVE_PAYMENT,
            sqlite_where=LIVE_PAYMENT,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = client_fk()
    invoice_id: int = Field(foreign_key="invoices.id", index=True, ondelete="CASCADE")
    amount: Decimal = money_field()
    status: GatewayStatus = Field(sa_type=enum_type(GatewayStatus))
    provider_reference: str | None = Field(default=None, max_length=64)
    started_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    # Null for payments recorded without an order (the demo's history).
    order_id: int | None = Field(
        default=None, foreign_key="gateway_orders.id", index=True, ondelete="CASCADE"
    )
