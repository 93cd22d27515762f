"""The staff console's root (USE-3)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.extensions.field_extension import FieldExtension

from auth.scopes import Scope
from auth.staff import StaffPermission
from loaders.identity import RecentEventsByKeyLoader, UserByIdLoader
from loaders.paging import Page
from models.audit import note_read
from models.document import DocumentKind
from models.identity import StaffRole
from models.identity import User as UserRow
from models.invoice import InvoiceKind
from models.vat import VatCategory
from resolvers import audit, document_issue, invoice_issue, messages, request_processing, staff
from resolvers.audit import AuditFilter
from resolvers.client import search_clients
from resolvers.identity import login_account_key
from resolvers.node import staff_only
from schema.audit import AuditEntry, AuditLogFilterInput
from schema.base import (
    Connection,
    Info,
    Node,
    connection,
    node_id,
    node_type,
    staff_permission,
)
from schema.identity import UserError, user_errors
from schema.message import MessageThread, MessageThreadFilterInput
from schema.narrow import keys_only, row_free
from schema.refs import ClientRef, DocumentRef, InvoiceRef, RequestRef
from schema.request_admin import AdminRequestFilterInput
from schema.support_view import (
    AdminSupportViewStartInput,
    AdminSupportViewStartPayload,
    support_view_start,
)
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


REASON = "Why (3 to 500 characters): kept in the audit log with the change."


@strawberry.input
class AdminUserInput:
    user_id: strawberry.ID
    reason: str = strawberry.field(default="", description=REASON)


@strawberry.input
class AdminSubaccountScopesInput:
    user_id: strawberry.ID
    client_id: strawberry.ID = strawberry.field(description="The company of the subaccount.")
    scopes: list[Scope] = strawberry.field(description="The whole new set, from the catalogue.")
    reason: str = strawberry.field(default="", description=REASON)


@strawberry.input
class AdminApiTokenRevokeInput:
    token_id: strawberry.ID
    reason: str = strawberry.field(default="", description=REASON)


@strawberry.type
class AdminUserPayload:
    user: AdminUser | None
    errors: list[UserError]

    @staticmethod
    def of(outcome: staff.Outcome) -> AdminUserPayload:
        return AdminUserPayload(user=outcome.user, errors=user_errors(outcome.errors))  # type: ignore[arg-type]


def logged(page: Page[Any], scope: Scope) -> Connection[Any]:
    """A list of every company's rows read by staff: each company shown goes to its access
    log (the rows carry their company, so no statement more)."""
    for row in page.rows:
        note_read(row.client_id, scope)
    return connection(page)


def clients_read() -> list[FieldExtension]:
    return staff_permission(StaffPermission.CLIENTS_READ)


def users_manage() -> list[FieldExtension]:
    return staff_permission(StaffPermission.USERS_MANAGE)


@strawberry.type(
    description="Staff with USERS_MANAGE (a staff member's account: STAFF_MANAGE too). Each "
    "takes a reason (REQUIRED, TOO_LONG) and is audited with it and the before and after; "
    "a change that finds nothing to change answers the same and is not audited twice."
)
class AdminMutation:
    @strawberry.mutation(
        description="Disable an account: its sessions end and its API tokens are refused at "
        "once. Codes: CANNOT_DISABLE_SELF.",
        extensions=users_manage(),
    )
    async def admin_user_disable(self, info: Info, input: AdminUserInput) -> AdminUserPayload:
        ctx = info.context
        return AdminUserPayload.of(
            await staff.disable_user(ctx, global_id=input.user_id, reason=input.reason)
        )

    @strawberry.mutation(description="Enable a disabled account.", extensions=users_manage())
    async def admin_user_enable(self, info: Info, input: AdminUserInput) -> AdminUserPayload:
        ctx = info.context
        return AdminUserPayload.of(
            await staff.enable_user(ctx, global_id=input.user_id, reason=input.reason)
        )

    @strawberry.mutation(
        description="End every session of the user (API tokens stay).", extensions=users_manage()
    )
    async def admin_user_sessions_end(self, info: Info, input: AdminUserInput) -> AdminUserPayload:
        ctx = info.context
        return AdminUserPayload.of(
            await staff.end_user_sessions(ctx, global_id=input.user_id, reason=input.reason)
        )

    @strawberry.mutation(
        description="Clear a user's failed logins (no more captcha).", extensions=users_manage()
    )
    async def admin_user_unlock(self, info: Info, input: AdminUserInput) -> AdminUserPayload:
        ctx = info.context
        return AdminUserPayload.of(
            await staff.unlock_user(ctx, global_id=input.user_id, reason=input.reason)
        )

    @strawberry.mutation(
        description="E-mail the user a reset link (staff never see or set a password).",
        extensions=users_manage(),
    )
    async def admin_password_reset_start(
        self, info: Info, input: AdminUserInput
    ) -> AdminUserPayload:
        ctx = info.context
        return AdminUserPayload.of(
            await staff.start_reset(ctx, global_id=input.user_id, reason=input.reason)
        )

    @strawberry.mutation(
        description="E-mail a person who never set a password a fresh activation link (the "
        "earlier one stops working). Codes: ALREADY_ACTIVE (send a reset), USER_DISABLED.",
        extensions=users_manage(),
    )
    async def admin_welcome_resend(self, info: Info, input: AdminUserInput) -> AdminUserPayload:
        ctx = info.context
        return AdminUserPayload.of(
            await staff.resend_welcome(ctx, global_id=input.user_id, reason=input.reason)
        )

    @strawberry.mutation(
        description="Set a subaccount's scopes on its company's behalf. Codes: MAIN_ACCOUNT "
        "(a main account holds every scope), NOT_FOUND (no account in this company).",
        extensions=users_manage(),
    )
    async def admin_subaccount_scopes_set(
        self, info: Info, input: AdminSubaccountScopesInput
    ) -> AdminUserPayload:
        outcome = await staff.set_subaccount_scopes(
            info.context,
            global_id=input.user_id,
            client_global_id=input.client_id,
            scopes=input.scopes,
            reason=input.reason,
        )
        return AdminUserPayload.of(outcome)

    @strawberry.mutation(
        description="Revoke an API token; it stops working at once. `user` is its owner.",
        extensions=users_manage(),
    )
    async def admin_api_token_revoke(
        self, info: Info, input: AdminApiTokenRevokeInput
    ) -> AdminUserPayload:
        ctx = info.context
        return AdminUserPayload.of(
            await staff.revoke_api_token(ctx, token_global_id=input.token_id, reason=input.reason)
        )

    @strawberry.mutation(
        description="Staff with SUPPORT_VIEW: a short-lived, read-only token that reads the API "
        "exactly as the client user sees it; audited, and every read goes to the access log. "
        "Codes: REQUIRED and TOO_LONG (reason), NOT_FOUND (userId: no such client user).",
        extensions=staff_permission(StaffPermission.SUPPORT_VIEW),
    )
    async def admin_support_view_start(
        self, info: Info, input: AdminSupportViewStartInput
    ) -> AdminSupportViewStartPayload:
        return await support_view_start(info, input)


@row_free
@strawberry.type(description="Staff only: every client, for the admin console.")
class Admin:
    @strawberry.field(
        extensions=staff_permission(StaffPermission.AUDIT_READ),
        description="The audit log: every write, newest first (ADMIN and AUDITOR).",
    )
    async def audit_log(
        self,
        info: Info,
        filter: AuditLogFilterInput | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[AuditEntry]:
        filters = filter.audit_filter() if filter else AuditFilter()
        page = await audit.audit_log(info.context, filters=filters, first=first, after=after)
        return connection(page)

    @strawberry.field(description="Users by e-mail or last name.", extensions=clients_read())
    async def users(
        self,
        info: Info,
        search: str | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[AdminUser]:
        page = await staff.search_users(info.context, search=search, first=first, after=after)
        return connection(page)

    @strawberry.field(
        description="Clients by name, NIP, client number or city.", extensions=clients_read()
    )
    @keys_only
    async def clients(
        self,
        info: Info,
        search: str | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[ClientRef]:
        page = await search_clients(info.context, search=search, first=first, after=after)
        return connection(page)

    # Every role with CLIENTS_READ gets past the declaration; the resolver then asks for the
    # role's client scope of the list's kind (messages:read), as each role reads other data.
    @strawberry.field(
        description="Every company's message threads, the latest activity first.",
        extensions=clients_read(),
    )
    async def message_threads(
        self,
        info: Info,
        filter: MessageThreadFilterInput | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[MessageThread]:
        filters = filter.inbox_filter() if filter else messages.InboxFilter()
        page = await messages.inbox(info.context, filters=filters, first=first, after=after)
        return logged(page, Scope.MESSAGES_READ)

    @strawberry.field(
        description="Customer service's queue: every company's requests, the nearest deadline "
        "first.",
        extensions=clients_read(),
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
        return logged(page, Scope.REQUESTS_READ)

    @strawberry.field(
        description="The tyre desk's queue: every company's relocations, the nearest planned "
        "date first.",
        extensions=clients_read(),
    )
    async def tyre_relocations(
        self,
        info: Info,
        filter: AdminTyreRelocationFilterInput | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[TyreRelocation]:
        queue = await tyre_relocation_queue(info, filter=filter, first=first, after=after)
        return logged(queue.page, Scope.TYRES_READ)


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
        "(and welcomed to the portal with its first invoice).",
        extensions=staff_permission(StaffPermission.INVOICES_MANAGE),
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
        description="Staff: issue a document to a client; the client is notified by e-mail.",
        extensions=staff_permission(StaffPermission.DOCUMENTS_MANAGE),
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
