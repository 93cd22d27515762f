"""Loaders of invoices, payments and settlements.

The settlement rule of models/settlement.py in SQL: `paid` and `corrected` are correlated
sums, so a status filter is a WHERE clause and a page never has to be filtered in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, false, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import col

from loaders.base import BaseLoader, BuiltOnce, ByIdLoader, ManyByKeyLoader, RowReader, table_column
from loaders.paging import ChildPageLoader, Ordering
from loaders.statements import KEYS, KeysIn
from models.base import to_money
from models.calendar import overdue_before
from models.invoice import (
    GatewayStatus,
    GatewayTransaction,
    Invoice,
    InvoiceDuplicate,
    InvoiceKind,
    Payment,
    PaymentAllocation,
)
from models.settlement import InvoiceStatus, archive_cutoff

_Correction = aliased(Invoice)
_ZERO = Decimal("0.00")


def cents(amount: ColumnElement[Decimal]) -> ColumnElement[Decimal]:
    """Round a computed amount to grosze: SQLite adds money as binary floats (1e-12 is not due)."""
    return func.round(amount, 2)


# Built once: SQL expressions are immutable, and rebuilding these subqueries for every batch
# showed up as a sixth of a dashboard's CPU time.
PAID_AMOUNT: ColumnElement[Decimal] = (
    select(func.coalesce(func.sum(col(PaymentAllocation.amount)), _ZERO))
    .where(col(PaymentAllocation.invoice_id) == col(Invoice.id))
    .scalar_subquery()
)
CORRECTED_AMOUNT: ColumnElement[Decimal] = (
    select(func.coalesce(func.sum(col(_Correction.gross)), _ZERO))
    .where(col(_Correction.corrects_id) == col(Invoice.id))
    .scalar_subquery()
)
INVOICE_DUE = cents(col(Invoice.gross) + CORRECTED_AMOUNT - PAID_AMOUNT)
_IS_CORRECTION = col(Invoice.kind) == InvoiceKind.CORRECTION
_OPEN = and_(~_IS_CORRECTION, INVOICE_DUE > 0)
_PAID = or_(_IS_CORRECTION, INVOICE_DUE <= 0)


def status_condition(status: InvoiceStatus, today: date) -> ColumnElement[bool]:
    if status is InvoiceStatus.PAID:
        return _PAID
    # Overdue after the legal deadline (art. 115 of the Civil Code), as `invoice_status` decides:
    # one cutoff date, so the database needs no calendar.
    cutoff = overdue_before(today)
    if status is InvoiceStatus.OVERDUE:
        return and_(_OPEN, col(Invoice.due_date) < cutoff)
    not_yet_due = and_(_OPEN, col(Invoice.due_date) >= cutoff)
    if status is InvoiceStatus.PARTIALLY_PAID:
        return and_(not_yet_due, PAID_AMOUNT > 0)
    return and_(not_yet_due, PAID_AMOUNT <= 0)


@dataclass(frozen=True, slots=True)
class InvoiceFilter:
    today: date
    issued_from: date | None = None
    issued_to: date | None = None
    statuses: frozenset[InvoiceStatus] = frozenset()
    kinds: frozenset[InvoiceKind] = frozenset()
    contract_id: int | None = None
    archived: bool | None = None

    def apply(self, query: Select[Any]) -> Select[Any]:
        conditions: list[ColumnElement[bool]] = []
        if self.issued_from:
            conditions.append(col(Invoice.issue_date) >= self.issued_from)
        if self.issued_to:
            conditions.append(col(Invoice.issue_date) <= self.issued_to)
        if self.kinds:
            conditions.append(col(Invoice.kind).in_(self.kinds))
        if self.contract_id is not None:
            conditions.append(col(Invoice.contract_id) == self.contract_id)
        if self.archived is not None:
            old = col(Invoice.issue_date) < archive_cutoff(self.today)
            conditions.append(old if self.archived else ~old)
        if self.statuses:
            matches = (status_condition(status, self.today) for status in self.statuses)
            conditions.append(or_(false(), *matches))
        return query.where(*conditions)


class _InvoicePages(ChildPageLoader[Invoice]):
    model = Invoice
    ordering = Ordering(("issue_date",))


class InvoicesByClientIdLoader(_InvoicePages):
    parent = "client_id"


class InvoicesByContractIdLoader(_InvoicePages):
    parent = "contract_id"


class InvoiceByIdLoader(ByIdLoader[Invoice]):
    model = Invoice


@dataclass(frozen=True, slots=True)
class Settlement:
    paid: Decimal
    corrected: Decimal


class SettlementByInvoiceIdLoader(BuiltOnce, BaseLoader[int, Settlement]):
    @classmethod
    def build(cls) -> Select[Any]:
        invoice_id = table_column(Invoice, "id")
        return select(invoice_id, PAID_AMOUNT, CORRECTED_AMOUNT).where(KeysIn(invoice_id))

    async def load_batch(self, connection: RowReader, keys: list[int]) -> list[Settlement]:
        found = {
            invoice_id: Settlement(paid=to_money(paid), corrected=to_money(corrected))
            for invoice_id, paid, corrected in await connection.execute(
                self.statement(), {KEYS: keys}
            )
        }
        empty = Settlement(paid=_ZERO, corrected=_ZERO)
        return [found.get(key, empty) for key in keys]


class CorrectionsByInvoiceIdLoader(ManyByKeyLoader[Invoice]):
    model = Invoice
    key = "corrects_id"
    order_by = ("issue_date", "id")


class InvoiceDuplicateByIdLoader(ByIdLoader[InvoiceDuplicate]):
    model = InvoiceDuplicate


class DuplicatesByInvoiceIdLoader(ManyByKeyLoader[InvoiceDuplicate]):
    model = InvoiceDuplicate
    key = "invoice_id"
    order_by = ("created_at", "id")


class AllocationsByInvoiceIdLoader(ManyByKeyLoader[PaymentAllocation]):
    model = PaymentAllocation
    key = "invoice_id"
    order_by = ("allocated_on", "id")


class AllocationsByPaymentIdLoader(ManyByKeyLoader[PaymentAllocation]):
    model = PaymentAllocation
    key = "payment_id"
    order_by = ("allocated_on", "id")


class PaymentByIdLoader(ByIdLoader[Payment]):
    model = Payment


ALLOCATED_AMOUNT: ColumnElement[Decimal] = (
    select(func.coalesce(func.sum(col(PaymentAllocation.amount)), _ZERO))
    .where(col(PaymentAllocation.payment_id) == col(Payment.id))
    .scalar_subquery()
)
PAYMENT_LEFT = cents(col(Payment.amount) - ALLOCATED_AMOUNT)


@dataclass(frozen=True, slots=True)
class PaymentFilter:
    unsettled_only: bool = False
    booked_from: date | None = None
    booked_to: date | None = None

    def apply(self, query: Select[Any]) -> Select[Any]:
        if self.unsettled_only:
            query = query.where(PAYMENT_LEFT > 0)
        if self.booked_from:
            query = query.where(col(Payment.booked_on) >= self.booked_from)
        if self.booked_to:
            query = query.where(col(Payment.booked_on) <= self.booked_to)
        return query


class PaymentsByClientIdLoader(ChildPageLoader[Payment]):
    model = Payment
    parent = "client_id"
    ordering = Ordering(("booked_on",))


class AllocatedByPaymentIdLoader(BuiltOnce, BaseLoader[int, Decimal]):
    @classmethod
    def build(cls) -> Select[Any]:
        payment_id = table_column(PaymentAllocation, "payment_id")
        amount = table_column(PaymentAllocation, "amount")
        return select(payment_id, func.sum(amount)).where(KeysIn(payment_id)).group_by(payment_id)

    async def load_batch(self, connection: RowReader, keys: list[int]) -> list[Decimal]:
        result = await connection.execute(self.statement(), {KEYS: keys})
        found = {payment_id: to_money(total) for payment_id, total in result}
        return [found.get(key, _ZERO) for key in keys]


@dataclass(frozen=True, slots=True)
class ClientBalance:
    amount_due: Decimal
    overdue: Decimal
    overpayment: Decimal


def _dues_statement() -> Select[Any]:
    """Open amounts per client (`KEYS`), and those overdue: due before `cutoff`."""
    client_id, due_date = table_column(Invoice, "client_id"), table_column(Invoice, "due_date")
    per_invoice = (
        select(client_id, due_date, INVOICE_DUE.label("due"))
        .where(KeysIn(client_id), table_column(Invoice, "kind") != InvoiceKind.CORRECTION)
        .subquery()
    )
    cutoff = bindparam("cutoff", type_=due_date.type)  # `overdue_before` the day asked about
    open_due = func.sum(per_invoice.c.due).filter(per_invoice.c.due > 0)
    overdue = func.sum(per_invoice.c.due).filter(
        per_invoice.c.due > 0, per_invoice.c.due_date < cutoff
    )
    return select(per_invoice.c.client_id, open_due, overdue).group_by(per_invoice.c.client_id)


def _overpayments_statement() -> Select[Any]:
    """Money booked and not settled, per client (`KEYS`)."""
    client_id = table_column(Payment, "client_id")
    return (
        select(client_id, func.sum(PAYMENT_LEFT))
        .where(KeysIn(client_id), PAYMENT_LEFT > 0)
        .group_by(client_id)
    )


DUES = _dues_statement()
OVERPAYMENTS = _overpayments_statement()


class BalanceByClientIdLoader(BaseLoader[tuple[int, date], ClientBalance]):
    """The dashboard's settlement summary: two grouped statements for any number of clients."""

    async def load_batch(
        self, connection: RowReader, keys: list[tuple[int, date]]
    ) -> list[ClientBalance]:
        balances: dict[tuple[int, date], ClientBalance] = {}
        for day in {day for _, day in keys}:
            ids = [client_id for client_id, key_day in keys if key_day == day]
            due = {
                client_id: (to_money(total), to_money(late))
                for client_id, total, late in await connection.execute(
                    DUES, {KEYS: ids, "cutoff": overdue_before(day)}
                )
            }
            over = {
                client_id: to_money(total)
                for client_id, total in await connection.execute(OVERPAYMENTS, {KEYS: ids})
            }
            for client_id in ids:
                amount_due, overdue = due.get(client_id, (_ZERO, _ZERO))
                balances[(client_id, day)] = ClientBalance(
                    amount_due=amount_due, overdue=overdue, overpayment=over.get(client_id, _ZERO)
                )
        return [balances[key] for key in keys]


def _last_gateway_status_statement() -> Select[Any]:
    """The status of each invoice's latest gateway transaction (`KEYS`: invoice ids)."""
    invoice_id, row_id = (
        table_column(GatewayTransaction, "invoice_id"),
        table_column(GatewayTransaction, "id"),
    )
    latest = select(func.max(row_id)).where(KeysIn(invoice_id)).group_by(invoice_id)
    status = table_column(GatewayTransaction, "status")
    return select(invoice_id, status).where(row_id.in_(latest.scalar_subquery()))


class LastGatewayStatusByInvoiceIdLoader(BuiltOnce, BaseLoader[int, GatewayStatus | None]):
    """What the pay button shows: the last online payment's status, None if there was none."""

    @classmethod
    def build(cls) -> Select[Any]:
        return _last_gateway_status_statement()

    async def load_batch(
        self, connection: RowReader, keys: list[int]
    ) -> list[GatewayStatus | None]:
        result = await connection.execute(self.statement(), {KEYS: keys})
        found = {invoice_id: GatewayStatus(status) for invoice_id, status in result}
        return [found.get(key) for key in keys]
