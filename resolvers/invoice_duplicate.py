"""Duplicates of invoices (INV-1): issued on request, recording who asked and when."""

from __future__ import annotations

from auth.access import require_authenticated, require_scope, require_staff_permission
from auth.errors import NotFoundError
from auth.scopes import Scope
from auth.staff import StaffPermission
from loaders.invoice import DuplicatesByInvoiceIdLoader, InvoiceByIdLoader
from models.invoice import InvoiceDuplicate
from resolvers.context import Context
from resolvers.ids import pk_of


async def generate_duplicate(ctx: Context, *, invoice_global_id: str) -> InvoiceDuplicate:
    """A duplicate dated today, by the Warsaw calendar; its PDF is printed on download."""
    require_authenticated(ctx.viewer)
    invoice_id = pk_of(invoice_global_id, "Invoice", field="invoiceId")
    invoice = await ctx.loaders[InvoiceByIdLoader].load(invoice_id)
    if invoice is None:
        raise NotFoundError(field="invoiceId")
    require_scope(ctx.viewer, invoice.client_id, Scope.INVOICES_READ, field="invoiceId")
    if ctx.viewer.is_staff:  # staff read every client, but issuing is finance's work
        require_staff_permission(ctx.viewer, StaffPermission.INVOICES_MANAGE)
    duplicate = InvoiceDuplicate(
        client_id=invoice.client_id,
        invoice_id=invoice_id,
        issue_date=ctx.today,
        requested_by_id=ctx.viewer.user_id,
    )
    async with ctx.db.write() as session:
        session.add(duplicate)
        await session.flush()
    ctx.loaders[DuplicatesByInvoiceIdLoader].clear(invoice_id)
    return duplicate
