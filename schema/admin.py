"""The staff console's root (USE-3)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import strawberry

from loaders.identity import RecentEventsByKeyLoader, UserByIdLoader
from models.document import DocumentKind
from models.identity import StaffRole
from models.identity import User as UserRow
from models.invoice import InvoiceKind
from models.vat import VatCategory
from resolvers import document_issue, invoice_issue, messages, request_processing, staff
from resolvers.client import search_clients
from resolvers.identity import login_account_key
from resolvers.node import staff_only
from schema.base import Connection, Info, Node, connection, node_id, node_type
from schema.identity import UserError, user_errors
from schema.message import MessageThread, MessageThreadFilterInput
from schema.refs import ClientRef, DocumentRef, InvoiceRef, RequestRef
from schema.request_admin import AdminRequestFilterInput
from schema.tyre import TyreRelocation
from schema.tyre_desk import AdminTyreRelocationFilterInput, tyre_relocation_queue


@strawberry.type(description="A user account as staff see it.")
@node_type(UserRow, loader=UserByIdLoader, access=staff_only, id_name="User")
class AdminUser(Node):
    id: strawberry.ID = node_id("User")
    email: str
    first_name: str
    last_name: str
    phone: str | None
    is_active: bool
    staff_role: StaffRole | None
    last_login_at: datetime | None
    password_changed_at: datetime | None

    @strawberry.field(description="A password is set (the account was activated).")
    def is_activated(self, root: UserRow) -> bool:
        return root.password_hash is not None

    @strawberry.field(
        description="Failed logins in the current window; past the limit the "
        "login asks for a captcha until `adminUserUnlock`."
    )
    async def recent_failed_logins(self, root: UserRow, info: Info) -> int:
        ctx = info.context
        key = login_account_key(ctx, user_id=root.id, login=root.email)
        since = ctx.now - timedelta(minutes=ctx.settings.login_window_minutes)
        return await ctx.loaders[RecentEventsByKeyLoader].load((key, since))


@strawberry.input
class AdminUserInput:
    user_id: strawberry.ID


@strawberry.type
class AdminUserPayload:
    user: AdminUser | None
    errors: list[UserError]


@strawberry.type
class AdminMutation:
    @strawberry.mutation(description="Staff: clear a user's failed logins (no more captcha).")
    async def admin_user_unlock(self, info: Info, input: AdminUserInput) -> AdminUserPayload:
        user = await staff.unlock_user(info.context, global_id=input.user_id)
        return AdminUserPayload(user=user, errors=[])  # type: ignore[arg-type]

    @strawberry.mutation(description="Staff: e-mail the user a reset link (staff never set it).")
    async def admin_password_reset_start(
        self, info: Info, input: AdminUserInput
    ) -> AdminUserPayload:
        user = await staff.start_reset(info.context, global_id=input.user_id)
        return AdminUserPayload(user=user, errors=[])  # type: ignore[arg-type]


@strawberry.type(description="Staff only: every client, for the admin console.")
class Admin:
    @strawberry.field(description="Users by e-mail or last name.")
    async def users(
        self,
        info: Info,
        search: str | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[AdminUser]:
        page = await staff.search_users(info.context, search=search, first=first, after=after)
        return connection(page)

    @strawberry.field(description="Clients by name, NIP, client number or city.")
    async def clients(
        self,
        info: Info,
        search: str | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[ClientRef]:
        page = await search_clients(info.context, search=search, first=first, after=after)
        return connection(page)

    @strawberry.field(description="Every company's message threads, the latest activity first.")
    async def message_threads(
        self,
        info: Info,
        filter: MessageThreadFilterInput | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[MessageThread]:
        filters = filter.inbox_filter() if filter else messages.InboxFilter()
        page = await messages.inbox(info.context, filters=filters, first=first, after=after)
        return connection(page)

    @strawberry.field(
        description="Customer service's queue: every company's requests, the nearest deadline "
        "first."
    )
    async def requests(
        self,
        info: Info,
        filter: AdminRequestFilterInput | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[RequestRef]:
        wanted = filter.wanted() if filter else request_processing.QueueFilter()
        page = await request_processing.request_queue(
            info.context, wanted=wanted, first=first, after=after
        )
        return connection(page)

    @strawberry.field(
        description="The tyre desk's queue: every company's relocations, the nearest planned "
        "date first."
    )
    async def tyre_relocations(
        self,
        info: Info,
        filter: AdminTyreRelocationFilterInput | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[TyreRelocation]:
        return await tyre_relocation_queue(info, filter=filter, first=first, after=after)


@strawberry.input
class InvoiceIssueInput:
    client_id: strawberry.ID
    contract_id: strawberry.ID | None = None
    kind: InvoiceKind
    issue_date: date
    due_date: date
    net: Decimal
    vat_rate: int = strawberry.field(
        default=23,
        description="A percentage, 23, 8, 5 or 0: 23 (the default) leaves the rate to the law "
        "like an omitted vatCategory, another one is chosen.",
        deprecation_reason="Use vatCategory, which also offers exempt (zw) and not subject (np).",
    )
    description: str = ""
    vat_category: VatCategory | None = strawberry.field(
        default=None,
        description="Left out: what the VAT Act gives for the kind of contract and invoice (23 "
        "under an operating lease, zw under a loan and for re-invoiced insurance, the financial "
        "lease's delivery taxed on the whole contract, its instalments np); a correction keeps "
        "the corrected invoice's.",
    )
    corrects_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="CORRECTION only, and required there: the invoice it corrects, of the same "
        "client and not itself a correction; the correction takes its contract, currency, VAT "
        "and split payment.",
    )


@strawberry.type
class InvoiceIssuePayload:
    invoice: InvoiceRef | None
    errors: list[UserError]


@strawberry.type
class InvoiceAdminMutation:
    @strawberry.mutation(
        description="Staff: issue an invoice; the client is notified by e-mail "
        "(and welcomed to the portal with its first invoice)."
    )
    async def invoice_issue(self, info: Info, input: InvoiceIssueInput) -> InvoiceIssuePayload:
        order = invoice_issue.InvoiceOrder(
            client_global_id=input.client_id,
            contract_global_id=input.contract_id,
            kind=input.kind,
            issue_date=input.issue_date,
            due_date=input.due_date,
            net=input.net,
            description=input.description,
            corrects_global_id=input.corrects_id,
            vat_category=input.vat_category,
            vat_rate=input.vat_rate,
        )
        invoice, errors = await invoice_issue.issue_invoice(info.context, order)
        return InvoiceIssuePayload(invoice=invoice, errors=user_errors(errors))  # type: ignore[arg-type]


@strawberry.input
class DocumentIssueInput:
    client_id: strawberry.ID
    contract_id: strawberry.ID | None = None
    kind: DocumentKind
    title: str
    issue_date: date
    amount: Decimal | None = strawberry.field(
        default=None,
        description="Interest notes: computed from the period when left out (given, it must "
        "match); payment reminders: the amount still due when left out.",
    )
    invoice_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Interest notes: the invoice paid late; payment reminders: the overdue one.",
    )
    basis_amount: Decimal | None = strawberry.field(
        default=None, description="Interest notes: the late amount."
    )
    period_start: date | None = strawberry.field(
        default=None, description="Interest notes: the first day of delay."
    )
    period_end: date | None = strawberry.field(
        default=None,
        description="Interest notes: the day paid; balance confirmations: the balance date.",
    )
    annual_rate: Decimal | None = strawberry.field(
        default=None,
        description="Interest notes: left out, the statutory rates for commercial transactions "
        "(NBP reference rate + 10 pp, half-year by half-year); another yearly rate as a "
        "fraction, e.g. 0.14, only with `rateReason`.",
    )
    rate_reason: str | None = strawberry.field(
        default=None,
        description="Interest notes: why `annualRate` differs from the statutory rate (stored).",
    )


@strawberry.type
class DocumentIssuePayload:
    document: DocumentRef | None
    errors: list[UserError]


@strawberry.type
class DocumentAdminMutation:
    @strawberry.mutation(
        description="Staff: issue a document to a client; the client is notified by e-mail."
    )
    async def document_issue(self, info: Info, input: DocumentIssueInput) -> DocumentIssuePayload:
        document, errors = await document_issue.issue_document(
            info.context,
            client_global_id=input.client_id,
            contract_global_id=input.contract_id,
            kind=input.kind,
            title=input.title,
            issue_date=input.issue_date,
            amount=input.amount,
            details=document_issue.Details(
                invoice_global_id=input.invoice_id,
                basis_amount=input.basis_amount,
                period_start=input.period_start,
                period_end=input.period_end,
                annual_rate=input.annual_rate,
                rate_reason=input.rate_reason,
            ),
        )
        return DocumentIssuePayload(document=document, errors=user_errors(errors))  # type: ignore[arg-type]
