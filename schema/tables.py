"""Links to whole lists as CSV/XLSX tables for BI tools (USE-2): `client.invoicesTableUrl`.

No `from __future__ import annotations` here: the factory gives each field its own filter
input type, which strawberry must see as a real type, not as a string to look up.
"""

from datetime import date, datetime
from typing import Any

import strawberry

from exports.tables import TableFormat
from models.client import Client as ClientRow
from models.contract import ContractStatus
from resolvers.tables import TABLES, table_link
from schema.base import Info, scoped


@strawberry.input(description="Contract table filters.")
class ContractFilterInput:
    status: list[ContractStatus] | None = None


@strawberry.input(description="Instalment table filters; all given conditions must hold.")
class InstalmentFilterInput:
    contract_id: strawberry.ID | None = None
    due_from: date | None = None
    due_to: date | None = None


@strawberry.input(description="Allocation table filters; all given conditions must hold.")
class AllocationFilterInput:
    invoice_id: strawberry.ID | None = None
    contract_id: strawberry.ID | None = strawberry.field(
        default=None, description="The allocations to this contract's invoices."
    )
    allocated_from: date | None = None
    allocated_to: date | None = None


async def _link(
    root: ClientRow,
    info: Info,
    name: str,
    *,
    format: TableFormat,
    polish: bool,
    updated_since: datetime | None,
    given: Any,
) -> str:
    return await table_link(
        info.context,
        name=name,
        client_id=root.id,  # type: ignore[arg-type]
        given=given,
        format=format,
        polish=polish,
        updated_since=updated_since,
    )


PULLED_AT = "The response's X-LeaseHub-Pulled-At header is the next pull's `updatedSince`."


def table_url(name: str, filter_input: type, note: str = "") -> Any:
    """A `<name>TableUrl` field: a 5-minute link to the whole filtered list, streamed."""

    async def resolve(
        root: ClientRow,
        info: Info,
        format: TableFormat = TableFormat.CSV,
        polish: bool = False,
        updated_since: datetime | None = None,
        filter: Any = None,
    ) -> str | None:
        return await _link(
            root,
            info,
            name,
            format=format,
            polish=polish,
            updated_since=updated_since,
            given=filter,
        )

    resolve.__annotations__["filter"] = filter_input | None
    return strawberry.field(
        resolver=resolve,
        extensions=scoped(TABLES[name].scope),
        description=f"A link, valid for 5 minutes, to all {name} passing `filter` as one "
        "table (CSV or XLSX), streamed; `updatedSince` keeps only rows changed after it. "
        + note
        + PULLED_AT,
    )


ALLOCATIONS_NOTE = (
    "One row per allocation: which payment settled which invoice, how much and when. It shows "
    "invoices and settlements, so it needs invoices:read (as the invoices table) and "
    "payments:read (as `Invoice.allocations`). "
)


def allocations_url() -> Any:
    """`allocationsTableUrl`: the settlement detail behind the invoices' `Paid`."""
    return table_url("allocations", AllocationFilterInput, ALLOCATIONS_NOTE)


def deletions_url() -> Any:
    """`deletionsTableUrl`: the rows deleted from the other tables; it has no filters."""

    async def resolve(
        root: ClientRow,
        info: Info,
        format: TableFormat = TableFormat.CSV,
        polish: bool = False,
        updated_since: datetime | None = None,
    ) -> str | None:
        return await _link(
            root,
            info,
            "deletions",
            format=format,
            polish=polish,
            updated_since=updated_since,
            given=None,
        )

    return strawberry.field(
        resolver=resolve,
        extensions=scoped(TABLES["deletions"].scope),
        description="A link, valid for 5 minutes, to the rows deleted from the other tables, "
        "one per row: its table, its `Id` there, its client and when it went. Today only "
        "instalments leave (the unpaid ones past the new term when a schedule change is "
        "accepted), so it needs the instalments' scope, schedules:read. `updatedSince` keeps "
        "the deletions after it: an incremental pull reads the other tables and this one. "
        + PULLED_AT,
    )
