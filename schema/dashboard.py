"""The home screen of a client (INV-2): one field, every block behind its own permission."""

from __future__ import annotations

import strawberry

from auth.scopes import Scope
from loaders.client import BankAccountsByClientIdLoader
from loaders.contract import InstalmentFilter, UpcomingInstalmentsByClientIdLoader
from loaders.document import DocumentsByClientIdLoader
from loaders.invoice import (
    BalanceByClientIdLoader,
    InvoiceFilter,
    InvoicesByClientIdLoader,
    PaymentFilter,
    PaymentsByClientIdLoader,
)
from models.calendar import overdue_before
from models.contract import Currency
from models.settlement import InvoiceStatus
from schema.base import Info, Money, child_page, scoped
from schema.refs import BankAccountRef, DocumentRef, InstalmentRef, InvoiceRef, PaymentRef


@strawberry.type(description="Summary of current settlements.")
class SettlementSummary:
    amount_due: Money = strawberry.field(description="Everything left to pay, overdue included.")
    overdue: Money = strawberry.field(
        description="Left to pay after the payment deadline (art. 115 KC)."
    )
    overpayment: Money = strawberry.field(description="Booked money not settled yet.")


@strawberry.type(description="The client's home screen.")
class Dashboard:
    client_id: strawberry.Private[int]

    @strawberry.field(extensions=scoped(Scope.INVOICES_READ), description="Newest invoices.")
    async def latest_invoices(self, info: Info, first: int = 5) -> list[InvoiceRef] | None:
        filters = InvoiceFilter(today=info.context.today)
        page = await child_page(
            info, InvoicesByClientIdLoader, self.client_id, first=first, filters=filters
        )
        return page.rows

    @strawberry.field(extensions=scoped(Scope.INVOICES_READ), description="Overdue invoices.")
    async def overdue_invoices(self, info: Info, first: int = 10) -> list[InvoiceRef] | None:
        filters = InvoiceFilter(
            today=info.context.today, statuses=frozenset({InvoiceStatus.OVERDUE})
        )
        page = await child_page(
            info, InvoicesByClientIdLoader, self.client_id, first=first, filters=filters
        )
        return page.rows

    @strawberry.field(
        extensions=scoped(Scope.SCHEDULES_READ),
        description="Nearest instalments not yet overdue, soonest first.",
    )
    async def nearest_payments(self, info: Info, first: int = 5) -> list[InstalmentRef] | None:
        # An instalment due on Saturday may still be paid on Monday (art. 115 KC): it is near.
        filters = InstalmentFilter(due_from=overdue_before(info.context.today))
        page = await child_page(
            info,
            UpcomingInstalmentsByClientIdLoader,
            self.client_id,
            first=first,
            filters=filters,
        )
        return page.rows

    @strawberry.field(
        extensions=scoped(Scope.DOCUMENTS_READ), description="The most recent documents."
    )
    async def recent_documents(self, info: Info, first: int = 6) -> list[DocumentRef] | None:
        page = await child_page(info, DocumentsByClientIdLoader, self.client_id, first=first)
        return page.rows

    @strawberry.field(
        extensions=scoped(Scope.PAYMENTS_READ),
        description="Payments not fully settled (overpayments).",
    )
    async def unsettled_payments(self, info: Info, first: int = 5) -> list[PaymentRef] | None:
        filters = PaymentFilter(unsettled_only=True)
        page = await child_page(
            info, PaymentsByClientIdLoader, self.client_id, first=first, filters=filters
        )
        return page.rows

    @strawberry.field(description="Accounts for repayments.")
    async def bank_accounts(self, info: Info) -> list[BankAccountRef]:
        return await info.context.loaders[BankAccountsByClientIdLoader].load(self.client_id)

    @strawberry.field(extensions=scoped(Scope.PAYMENTS_READ))
    async def settlements(self, info: Info) -> SettlementSummary | None:
        balance = await info.context.loaders[BalanceByClientIdLoader].load(
            (self.client_id, info.context.today)
        )
        return SettlementSummary(
            amount_due=Money(amount=balance.amount_due, currency=Currency.PLN),
            overdue=Money(amount=balance.overdue, currency=Currency.PLN),
            overpayment=Money(amount=balance.overpayment, currency=Currency.PLN),
        )
