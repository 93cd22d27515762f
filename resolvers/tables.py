"""Whole lists as tables for BI tools: the same filters as the API's lists, plus `updatedSince`.

A pull reads the client's rows in keyset pages (by id), each page in its own short read
session, so a table of any length streams with flat memory and no long transaction. The whole
pull (reads, row conversion, writing the file) runs in a worker process (`write_pull`) on a
connection of its own: it takes neither the server's CPU nor its request pool.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import types
import typing
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Row, Select, and_, exists, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import SQLModel, col

from auth.access import missing_scope
from auth.clock import warsaw_today
from auth.errors import BadInputError, ForbiddenError
from auth.scopes import Scope
from exports.catalogue import (
    ALLOCATION_COLUMNS,
    CONTRACT_COLUMNS,
    DELETION_COLUMNS,
    DOCUMENT_COLUMNS,
    INSTALMENT_COLUMNS,
    INVOICE_COLUMNS,
    PAYMENT_COLUMNS,
)
from exports.streams import CsvFile, XlsxStream
from exports.tables import Column, TableFormat
from loaders.base import ReadSessions
from loaders.contract import ContractFilter, InstalmentFilter
from loaders.document import DocumentFilter
from loaders.invoice import (
    ALLOCATED_AMOUNT,
    CORRECTED_AMOUNT,
    PAID_AMOUNT,
    InvoiceByIdLoader,
    InvoiceFilter,
    PaymentFilter,
)
from models.base import Timestamped
from models.calendar import legal_deadline, overdue_before
from models.contract import Contract, Instalment
from models.deletion import DeletableTable, DeletedRow
from models.document import Document
from models.i18n import _
from models.invoice import Invoice, Payment, PaymentAllocation
from models.settlement import standing
from resolvers.context import Context
from resolvers.ids import to_global_id
from resolvers.invoice import (
    contract_filter,
    contract_of_client,
    document_filter,
    instalment_filter,
    invoice_filter,
    payment_filter,
    row_of_client,
)
from resolvers.links import link

PAGE_ROWS = 2000  # rows per read: big enough to amortise a round trip, small enough to stream

_Correction = aliased(Invoice)


def _gid(type_name: str, pk: int | None) -> str | None:
    return None if pk is None else to_global_id(type_name, pk)


def _columns(model: Any, *extra: Any) -> Select[Any]:
    """Plain column rows, not ORM entities: a pull reads many, and identity-mapping each one
    took a third of its time."""
    return select(*model.__table__.columns, *extra)


FilterBuilder = Callable[[Context, int, Any], Awaitable[Any]]


def _checked(build: Callable[..., Awaitable[Any]]) -> FilterBuilder:
    """A filter whose ids must belong to the client (`contractId`)."""
    return lambda ctx, client_id, given: build(ctx, client_id=client_id, given=given)


def _unchecked(build: Callable[[Any], Any]) -> FilterBuilder:
    """A filter that names no other object."""

    async def built(ctx: Context, client_id: int, given: Any) -> Any:
        return build(given)

    return built


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    polish_name: str  # the file's name with `polish: true`
    scope: Scope
    model: type[SQLModel]
    columns: tuple[Column, ...]
    filters: type[Any]  # the loader filter its link carries
    build_filters: FilterBuilder  # from the GraphQL filter input, as the list builds it
    query: Callable[[], Select[Any]]
    row: Callable[[Row[Any], date], dict[str, Any]]
    # Rows whose own or dependent data changed after a moment (see `_invoice_changed`).
    changed_since: Callable[[datetime, date], ColumnElement[bool]]
    # Filters on values derived from other rows or from today, as (attribute, input field):
    # with `updatedSince`, a row that leaves one would never be sent again, so the two are
    # refused together.
    derived_filters: tuple[tuple[str, str], ...] = ()
    # Scopes the link needs besides `scope`, for rows that show another list's data; checked
    # when the link is made (the download checks `scope` again).
    also_needs: tuple[Scope, ...] = ()


def _own_change(model: type[Timestamped]) -> Callable[[datetime, date], ColumnElement[bool]]:
    return lambda since, today: col(model.updated_at) > since


def _plain(type_name: str, **ids: str) -> Callable[[Row[Any], date], dict[str, Any]]:
    """A row's columns as they are, with its id, its client and the named foreign keys as
    global ids (so tables join, also across companies)."""

    def row(result: Row[Any], today: date) -> dict[str, Any]:
        values = dict(result._mapping)
        values["id"] = to_global_id(type_name, values["id"])
        values["client_id"] = to_global_id("Client", values["client_id"])
        for key, target in ids.items():
            values[key] = _gid(target, values[key])
        return values

    return row


def _latest(values: dict[str, Any], *keys: str) -> datetime:
    """When a row last changed: its own stamp or that of a row its derived values come from."""
    return max(values[key] for key in ("updated_at", *keys) if values[key] is not None)


def _invoice_row(result: Row[Any], today: date) -> dict[str, Any]:
    values = _plain("Invoice", contract_id="Contract", corrects_id="Invoice")(result, today)
    invoice = typing.cast(Invoice, result)  # the columns `standing` reads, by name
    state = standing(invoice, paid=values["paid"], corrected=values["corrected"], today=today)
    values.update(
        status=state.status.value,
        payment_deadline=legal_deadline(values["due_date"]),
        paid=state.paid,
        amount_due=state.amount_due,
        updated_at=_latest(values, "allocated_at", "corrected_at"),
    )
    return values


def _instalment_row(result: Row[Any], today: date) -> dict[str, Any]:
    values = _plain("Instalment", contract_id="Contract", invoice_id="Invoice")(result, today)
    values["payment_deadline"] = legal_deadline(values["due_date"])
    return values


def _invoice_query() -> Select[Any]:
    allocated_at = select(func.max(col(PaymentAllocation.updated_at))).where(
        col(PaymentAllocation.invoice_id) == col(Invoice.id)
    )
    corrected_at = select(func.max(col(_Correction.updated_at))).where(
        col(_Correction.corrects_id) == col(Invoice.id)
    )
    return _columns(
        Invoice,
        PAID_AMOUNT.label("paid"),
        CORRECTED_AMOUNT.label("corrected"),
        allocated_at.scalar_subquery().label("allocated_at"),
        corrected_at.scalar_subquery().label("corrected_at"),
    )


def _invoice_changed(since: datetime, today: date) -> ColumnElement[bool]:
    """An invoice's status moves when a payment is allocated to it, when it is corrected, and
    when its legal deadline passes, none of which edits the invoice row."""
    allocated = exists().where(
        col(PaymentAllocation.invoice_id) == col(Invoice.id),
        col(PaymentAllocation.updated_at) > since,
    )
    corrected = exists().where(
        col(_Correction.corrects_id) == col(Invoice.id), col(_Correction.updated_at) > since
    )
    # Overdue on a day: due before `overdue_before` that day (art. 115 of the Civil Code), so
    # the invoices that turned OVERDUE between the last pull and today lie between two cutoffs.
    turned_overdue = and_(
        col(Invoice.due_date) >= overdue_before(warsaw_today(since)),
        col(Invoice.due_date) < overdue_before(today),
    )
    return or_(col(Invoice.updated_at) > since, allocated, corrected, turned_overdue)


def _payment_row(result: Row[Any], today: date) -> dict[str, Any]:
    values = _plain("Payment")(result, today)
    values["unallocated"] = values["amount"] - values["allocated"]
    values["updated_at"] = _latest(values, "allocated_at")
    return values


def _payment_query() -> Select[Any]:
    allocated_at = select(func.max(col(PaymentAllocation.updated_at))).where(
        col(PaymentAllocation.payment_id) == col(Payment.id)
    )
    return _columns(
        Payment,
        ALLOCATED_AMOUNT.label("allocated"),
        allocated_at.scalar_subquery().label("allocated_at"),
    )


def _payment_changed(since: datetime, today: date) -> ColumnElement[bool]:
    allocated = exists().where(
        col(PaymentAllocation.payment_id) == col(Payment.id),
        col(PaymentAllocation.updated_at) > since,
    )
    return or_(col(Payment.updated_at) > since, allocated)


def _allocation_query() -> Select[Any]:
    """An allocation with what a BI tool reports it by without a join of its own: the invoice's
    number and the payment's booking day and currency (an allocation is a part of it)."""
    return (
        _columns(
            PaymentAllocation,
            col(Invoice.number).label("invoice_number"),
            col(Payment.currency).label("currency"),
            col(Payment.booked_on).label("payment_booked_on"),
        )
        .select_from(PaymentAllocation)
        .join(Invoice, col(Invoice.id) == col(PaymentAllocation.invoice_id))
        .join(Payment, col(Payment.id) == col(PaymentAllocation.payment_id))
    )


@dataclass(frozen=True, slots=True)
class AllocationFilter:
    """The allocations of one invoice or of one contract's invoices, allocated in a range."""

    invoice_id: int | None = None
    contract_id: int | None = None
    allocated_from: date | None = None
    allocated_to: date | None = None

    def apply(self, query: Select[Any]) -> Select[Any]:
        if self.invoice_id is not None:
            query = query.where(col(PaymentAllocation.invoice_id) == self.invoice_id)
        if self.contract_id is not None:
            query = query.where(col(Invoice.contract_id) == self.contract_id)  # joined
        if self.allocated_from:
            query = query.where(col(PaymentAllocation.allocated_on) >= self.allocated_from)
        if self.allocated_to:
            query = query.where(col(PaymentAllocation.allocated_on) <= self.allocated_to)
        return query


async def _allocation_filter(ctx: Context, client_id: int, given: Any) -> AllocationFilter:
    if given is None:
        return AllocationFilter()
    if given.allocated_from and given.allocated_to and given.allocated_from > given.allocated_to:
        message = _("allocatedFrom must not be later than allocatedTo.")
        raise BadInputError(message, field="filter.allocatedFrom")
    return AllocationFilter(
        invoice_id=await row_of_client(
            ctx,
            InvoiceByIdLoader,
            "Invoice",
            client_id=client_id,
            global_id=given.invoice_id,
            field="filter.invoiceId",
        ),
        contract_id=await contract_of_client(
            ctx, client_id=client_id, global_id=given.contract_id, field="filter.contractId"
        ),
        allocated_from=given.allocated_from,
        allocated_to=given.allocated_to,
    )


# The type of each deletable table's global ids, as its own rows carry them.
DELETED_TYPES: dict[DeletableTable, str] = {DeletableTable.INSTALMENTS: "Instalment"}


@dataclass(frozen=True, slots=True)
class DeletionFilter:
    """The tables whose deletions a pull lists: those the viewer may pull (empty: none)."""

    tables: frozenset[DeletableTable] = frozenset()

    def apply(self, query: Select[Any]) -> Select[Any]:
        return query.where(col(DeletedRow.table_name).in_(sorted(self.tables)))


async def _deletion_filter(ctx: Context, client_id: int, given: Any) -> DeletionFilter:
    """A deleted row needs the scope of the table it left, checked when the link is made (the
    pull runs where there is no viewer); the link's own scope is checked again on download."""
    readable = (t for t in DeletableTable if ctx.viewer.has_scope(client_id, TABLES[t].scope))
    return DeletionFilter(tables=frozenset(readable))


def _deletion_row(result: Row[Any], today: date) -> dict[str, Any]:
    """`Id` is the deleted row's id in its own table: a BI tool deletes by what it upserts by."""
    table = DeletableTable(result.table_name)
    return {
        "table": table.value,
        "id": to_global_id(DELETED_TYPES[table], result.row_id),
        "client_id": to_global_id("Client", result.client_id),
        "deleted_at": result.deleted_at,
    }


TABLES: dict[str, Table] = {
    table.name: table
    for table in (
        Table(
            name="invoices",
            polish_name="faktury",
            scope=Scope.INVOICES_READ,
            model=Invoice,
            columns=INVOICE_COLUMNS,
            filters=InvoiceFilter,
            build_filters=_checked(invoice_filter),
            query=_invoice_query,
            row=_invoice_row,
            changed_since=_invoice_changed,
            derived_filters=(("statuses", "filter.status"), ("archived", "filter.archived")),
        ),
        Table(
            name="contracts",
            polish_name="umowy",
            scope=Scope.CONTRACTS_READ,
            model=Contract,
            columns=CONTRACT_COLUMNS,
            filters=ContractFilter,
            build_filters=_unchecked(contract_filter),
            query=lambda: _columns(Contract),
            row=_plain("Contract"),
            changed_since=_own_change(Contract),
        ),
        Table(
            name="instalments",
            polish_name="raty",
            scope=Scope.SCHEDULES_READ,
            model=Instalment,
            columns=INSTALMENT_COLUMNS,
            filters=InstalmentFilter,
            build_filters=_checked(instalment_filter),
            query=lambda: _columns(Instalment),
            row=_instalment_row,
            changed_since=_own_change(Instalment),
        ),
        Table(
            name="payments",
            polish_name="platnosci",
            scope=Scope.PAYMENTS_READ,
            model=Payment,
            columns=PAYMENT_COLUMNS,
            filters=PaymentFilter,
            build_filters=_unchecked(payment_filter),
            query=_payment_query,
            row=_payment_row,
            changed_since=_payment_changed,
            derived_filters=(("unsettled_only", "filter.unsettledOnly"),),
        ),
        # Which payment settled which invoice: invoice data (the invoices table's scope) and
        # payment data (payments:read, which the API's `Invoice.allocations` needs), so both.
        Table(
            name="allocations",
            polish_name="rozliczenia",
            scope=Scope.INVOICES_READ,
            also_needs=(Scope.PAYMENTS_READ,),
            model=PaymentAllocation,
            columns=ALLOCATION_COLUMNS,
            filters=AllocationFilter,
            build_filters=_allocation_filter,
            query=_allocation_query,
            row=_plain("PaymentAllocation", payment_id="Payment", invoice_id="Invoice"),
            # All of a row is the allocation's own but the invoice number and the payment's
            # day and currency, which nothing edits once booked: its own stamp is enough.
            changed_since=_own_change(PaymentAllocation),
        ),
        Table(
            name="documents",
            polish_name="dokumenty",
            scope=Scope.DOCUMENTS_READ,
            model=Document,
            columns=DOCUMENT_COLUMNS,
            filters=DocumentFilter,
            build_filters=_checked(document_filter),
            query=lambda: _columns(Document),
            row=_plain("Document", contract_id="Contract"),
            changed_since=_own_change(Document),
        ),
        # Rows that left the tables above (today only instalments: the unpaid ones past a
        # shortened term), for incremental pulls; `schedules:read` is the link's scope because
        # instalments are the only rows that leave, and each table's rows need its own scope.
        Table(
            name="deletions",
            polish_name="usuniete",
            scope=Scope.SCHEDULES_READ,
            model=DeletedRow,
            columns=DELETION_COLUMNS,
            filters=DeletionFilter,
            build_filters=_deletion_filter,
            query=lambda: _columns(DeletedRow),
            row=_deletion_row,
            changed_since=lambda since, today: col(DeletedRow.deleted_at) > since,
        ),
    )
}


async def table_pages(
    db: ReadSessions,
    table: Table,
    *,
    client_id: int,
    filters: Any,
    updated_since: datetime | None,
    today: date,
    page_rows: int = PAGE_ROWS,
) -> AsyncIterator[list[dict[str, Any]]]:
    """The client's rows that pass the filters, a page at a time, in id order (in a worker
    process when serving a pull: converting 2,000 rows is CPU the server should not spend)."""
    model: Any = table.model
    last_id = 0
    while True:
        query = filters.apply(table.query()).where(model.client_id == client_id, model.id > last_id)
        if updated_since is not None:
            query = query.where(table.changed_since(updated_since, today))
        async with db.read() as session:
            rows = list(await session.execute(query.order_by(model.id).limit(page_rows)))
        if not rows:
            return
        yield [table.row(row, today) for row in rows]
        last_id = rows[-1].id
        if len(rows) < page_rows:
            return


class PullDatabase(ReadSessions, Protocol):
    """What a worker process reads a pull through (`hub.db.Database`)."""

    async def dispose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Pull:
    """A pull whose rights were checked, as a worker process receives it (pickled)."""

    table: str
    client_id: int
    filters: str  # the link's JSON (`encode_filters`)
    updated_since: datetime | None
    today: date
    polish: bool
    kind: str  # "csv" or "xlsx"


def write_pull(pull: Pull, open_db: Callable[[], PullDatabase], path: Path) -> int:
    """In a worker process: the pull's rows written to `path` (a CSV flushed page by page,
    so it can be streamed as it grows), read through a database `open_db` opens for this pull
    alone. Answers the row count."""
    return asyncio.run(_write_pull(pull, open_db, path))


async def _write_pull(pull: Pull, open_db: Callable[[], PullDatabase], path: Path) -> int:
    table = TABLES[pull.table]
    filters = decode_filters(table, pull.filters, today=pull.today)
    kind = XlsxStream if pull.kind == "xlsx" else CsvFile
    writer = kind(path, table.columns, polish=pull.polish)
    db, count, complete = open_db(), 0, False
    try:
        pages = table_pages(
            db,
            table,
            client_id=pull.client_id,
            filters=filters,
            updated_since=pull.updated_since,
            today=pull.today,
        )
        async for page in pages:
            writer.append(page)
            count += len(page)
        complete = True
    finally:
        writer.close(complete=complete)
        await db.dispose()
    return count


# A link carries its table's filters as JSON: the loader filter, ids already checked.


def encode_filters(filters: Any) -> str:
    return json.dumps(_filters_to_json(filters), separators=(",", ":"), sort_keys=True)


def decode_filters(table: Table, text: str, *, today: date) -> Any:
    return _filters_from_json(table.filters, json.loads(text), today=today)


def _filters_to_json(filters: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in dataclasses.fields(filters):
        value = getattr(filters, field.name)
        if field.name == "today" or value in (None, frozenset()):
            continue
        if isinstance(value, frozenset):
            value = sorted(item.value for item in value)
        elif isinstance(value, date):
            value = value.isoformat()
        values[field.name] = value
    return values


def _filters_from_json(cls: type[Any], data: dict[str, Any], *, today: date) -> Any:
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {"today": today} if "today" in hints else {}
    for name, value in data.items():
        values[name] = _decode(hints[name], value)
    return cls(**values)


def _decode(hint: Any, value: Any) -> Any:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    if typing.get_origin(hint) is frozenset:
        (member,) = typing.get_args(hint)
        return frozenset(member(item) for item in value)
    if hint is date:
        return date.fromisoformat(value)
    return hint(value)  # an int, a bool or an enum member


def _refuse_derived(table: Table, filters: Any) -> None:
    for key, field in table.derived_filters:
        if getattr(filters, key) not in (None, False, frozenset()):
            raise BadInputError(
                _(
                    "{field} cannot be combined with updatedSince: a row that leaves the filter "
                    "would never be sent again. Pull the changed rows without it and filter "
                    "them on your side.",
                    field=field,
                ),
                field=field,
            )


async def table_link(
    ctx: Context,
    *,
    name: str,
    client_id: int,
    given: Any | None,
    format: TableFormat,
    polish: bool,
    updated_since: datetime | None,
) -> str:
    """A 5-minute link to the whole filtered list; the caller's field checks the scope."""
    if updated_since is not None and updated_since.tzinfo is None:
        message = _("updatedSince needs a time zone, e.g. 2026-11-01T00:00:00Z.")
        raise BadInputError(message, field="updatedSince")
    table = TABLES[name]
    for scope in table.also_needs:
        if not ctx.viewer.has_scope(client_id, scope):
            raise ForbiddenError(missing_scope(scope))
    filters = await table.build_filters(ctx, client_id, given)
    if updated_since is not None:
        _refuse_derived(table, filters)
    options = {
        "table": name,
        "format": format.value,
        "lang": "pl" if polish else "en",
        "filters": encode_filters(filters),
    }
    if updated_since is not None:
        options["since"] = updated_since.astimezone(UTC).isoformat()
    return link(ctx, kind="table", object_id=client_id, **options)
