"""Turning filter inputs into loader filters, checking every id they carry."""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol

from auth.errors import BadInputError, NotFoundError
from loaders.base import ByIdLoader
from loaders.contract import ContractByIdLoader, ContractFilter, InstalmentFilter
from loaders.document import DocumentFilter
from loaders.invoice import InvoiceFilter, PaymentFilter
from models.i18n import _
from resolvers.context import Context
from resolvers.ids import pk_of


class _DateRange(Protocol):
    issued_from: date | None
    issued_to: date | None


def _check_range(given: _DateRange, field: str) -> None:
    if given.issued_from and given.issued_to and given.issued_from > given.issued_to:
        message = _("issuedFrom must not be later than issuedTo.")
        raise BadInputError(message, field=f"{field}.issuedFrom")


async def row_of_client(
    ctx: Context,
    loader: type[ByIdLoader[Any]],
    type_name: str,
    *,
    client_id: int,
    global_id: str | None,
    field: str,
) -> int | None:
    """An id from a filter (`type_name`, read by `loader`): it must be a row of this very
    client; another company's answers as a missing one."""
    if global_id is None:
        return None
    row = await ctx.loaders[loader].load(pk_of(global_id, type_name, field=field))
    if row is None or row.client_id != client_id:
        raise NotFoundError(field=field)
    return int(row.id)


async def contract_of_client(
    ctx: Context, *, client_id: int, global_id: str | None, field: str
) -> int | None:
    """A contract id from a filter: it must be a contract of this very client."""
    return await row_of_client(
        ctx, ContractByIdLoader, "Contract", client_id=client_id, global_id=global_id, field=field
    )


async def invoice_filter(ctx: Context, *, client_id: int, given: Any | None) -> InvoiceFilter:
    if given is None:
        return InvoiceFilter(today=ctx.today)
    _check_range(given, "filter")
    return InvoiceFilter(
        today=ctx.today,
        issued_from=given.issued_from,
        issued_to=given.issued_to,
        statuses=frozenset(given.status or ()),
        kinds=frozenset(given.kind or ()),
        contract_id=await contract_of_client(
            ctx, client_id=client_id, global_id=given.contract_id, field="filter.contractId"
        ),
        archived=given.archived,
    )


async def document_filter(ctx: Context, *, client_id: int, given: Any | None) -> DocumentFilter:
    if given is None:
        return DocumentFilter()
    _check_range(given, "filter")
    return DocumentFilter(
        kinds=frozenset(given.kind or ()),
        issued_from=given.issued_from,
        issued_to=given.issued_to,
        contract_id=await contract_of_client(
            ctx, client_id=client_id, global_id=given.contract_id, field="filter.contractId"
        ),
    )


def payment_filter(given: Any | None) -> PaymentFilter:
    if given is None:
        return PaymentFilter()
    if given.booked_from and given.booked_to and given.booked_from > given.booked_to:
        message = _("bookedFrom must not be later than bookedTo.")
        raise BadInputError(message, field="filter.bookedFrom")
    return PaymentFilter(
        unsettled_only=bool(given.unsettled_only),
        booked_from=given.booked_from,
        booked_to=given.booked_to,
    )


def contract_filter(given: Any | None) -> ContractFilter:
    return ContractFilter(statuses=frozenset(given.status or ())) if given else ContractFilter()


async def instalment_filter(ctx: Context, *, client_id: int, given: Any | None) -> InstalmentFilter:
    if given is None:
        return InstalmentFilter()
    if given.due_from and given.due_to and given.due_from > given.due_to:
        message = _("dueFrom must not be later than dueTo.")
        raise BadInputError(message, field="filter.dueFrom")
    return InstalmentFilter(
        due_from=given.due_from,
        due_to=given.due_to,
        contract_id=await contract_of_client(
            ctx, client_id=client_id, global_id=given.contract_id, field="filter.contractId"
        ),
    )
