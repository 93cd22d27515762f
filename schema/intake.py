"""`adminImport`: small batches of core-system records for staff with the data-import
permission; files of any size go through `leasehub import` (README: Intake)."""

from __future__ import annotations

import enum

import strawberry
from strawberry.scalars import JSON

from auth.staff import StaffPermission
from intake.api import MAX_ROWS, import_batch
from intake.run import RowError
from schema.base import Info, staff_permission
from schema.identity import UserError


@strawberry.enum(description="The kinds of record the core leasing system sends.")
class IntakeKind(enum.Enum):
    CLIENTS = "clients"
    USERS = "users"
    CONTRACTS = "contracts"
    ITEMS = "items"
    SCHEDULES = "schedules"
    POLICIES = "policies"
    INVOICES = "invoices"
    PAYMENTS = "payments"
    DOCUMENTS = "documents"


@strawberry.input
class AdminImportInput:
    kind: IntakeKind
    rows: list[JSON] = strawberry.field(
        description=f"At most {MAX_ROWS} objects with the columns of the kind's file format."
    )
    dry_run: bool = strawberry.field(default=False, description="Check only; write nothing.")


@strawberry.type(description="A problem of one row (numbered from 1), or of the input (row 0).")
class IntakeError(UserError):
    row: int


@strawberry.type
class AdminImportPayload:
    created: int
    updated: int
    unchanged: int
    refused: int
    errors: list[IntakeError]


def _error(error: RowError) -> IntakeError:
    return IntakeError(row=error.row, field=error.field, code=error.code, text=error.message)


@strawberry.type
class IntakeMutation:
    @strawberry.mutation(
        description="Staff: upsert records of the core leasing system by external id, each row "
        "checked as in `leasehub import`; a dry run writes nothing.",
        extensions=staff_permission(StaffPermission.DATA_IMPORT),
    )
    async def admin_import(self, info: Info, input: AdminImportInput) -> AdminImportPayload:
        summary = await import_batch(
            info.context, kind=input.kind.value, rows=list(input.rows), dry_run=input.dry_run
        )
        return AdminImportPayload(
            created=summary.created,
            updated=summary.updated,
            unchanged=summary.unchanged,
            refused=summary.refused,
            errors=[_error(error) for error in summary.errors],
        )
