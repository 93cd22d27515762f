"""`adminImport`: small batches of core-system records for staff with the data-import
permission, each row checked as in `leasehub import`, per-row errors, at most 1,000 rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from models.client import Client
from models.identity import StaffRole
from tests.auth.helpers import staff_token
from tests.conftest import Hub
from tests.intake.helpers import EXAMPLES, fresh, read_csv

__all__ = ["fresh"]  # the fixture, imported for pytest
IMPORT = """mutation($kind: IntakeKind!, $rows: [JSON!]!, $dry: Boolean!) {
  adminImport(input: {kind: $kind, rows: $rows, dryRun: $dry}) {
    created updated unchanged refused errors { row field code message } } }"""


async def admin_import(
    hub: Hub, rows: list[Any], *, role: StaffRole = StaffRole.FINANCE, dry: bool = False
) -> dict[str, Any]:
    token = await staff_token(hub, role)
    body = await hub.gql(IMPORT, {"kind": "CLIENTS", "rows": rows, "dry": dry}, token=token)
    return body


async def clients(hub: Hub) -> int:
    async with hub.db.read() as session:
        return int((await session.execute(select(func.count()).select_from(Client))).scalar_one())


async def test_finance_imports_rows_with_per_row_errors_and_again_changes_nothing(
    fresh: Hub,
) -> None:
    rows: list[Any] = read_csv(EXAMPLES / "clients.csv")
    rows[1] = rows[1] | {"nip": "123"}
    body = await admin_import(fresh, rows)
    answer = body["data"]["adminImport"]
    assert (answer["created"], answer["refused"]) == (1, 1)
    assert [(e["row"], e["field"], e["code"]) for e in answer["errors"]] == [
        (2, "nip", "INVALID_NIP")
    ]
    assert answer["errors"][0]["message"]  # in Polish once the catalogue has it
    again = (await admin_import(fresh, rows[:1]))["data"]["adminImport"]
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1)


async def test_a_dry_run_through_the_api_writes_nothing(fresh: Hub) -> None:
    body = await admin_import(fresh, read_csv(EXAMPLES / "clients.csv"), dry=True)
    assert body["data"]["adminImport"]["created"] == 2
    assert await clients(fresh) == 0


async def test_more_than_a_thousand_rows_are_refused_whole(fresh: Hub) -> None:
    row = read_csv(EXAMPLES / "clients.csv")[0]
    body = await admin_import(fresh, [row] * 1001)
    answer = body["data"]["adminImport"]
    assert [(e["row"], e["field"], e["code"]) for e in answer["errors"]] == [
        (0, "rows", "TOO_MANY_ROWS")
    ]
    assert await clients(fresh) == 0


async def test_a_row_that_is_no_object_is_refused(fresh: Hub) -> None:
    body = await admin_import(fresh, ["CORE-C-1", read_csv(EXAMPLES / "clients.csv")[0]])
    codes = [(e["row"], e["code"]) for e in body["data"]["adminImport"]["errors"]]
    assert codes == [(1, "INVALID_ROW")]
    assert await clients(fresh) == 0


async def test_staff_without_the_import_permission_are_refused(fresh: Hub) -> None:
    for role in (StaffRole.CUSTOMER_SERVICE, StaffRole.TYRE_DESK, StaffRole.AUDITOR):
        body = await admin_import(fresh, read_csv(EXAMPLES / "clients.csv"), role=role)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await clients(fresh) == 0
