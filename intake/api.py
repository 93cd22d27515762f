"""The staff mutation's side of intake: small batches given as objects, checked and written
exactly as a file's (intake/run.py), in one batch."""

from __future__ import annotations

from typing import Any

from intake.run import BATCH_ROWS, RowError, Summary, import_rows, kind_of
from models.i18n import _
from resolvers.context import Context

MAX_ROWS = BATCH_ROWS  # one batch, one transaction: larger loads go through `leasehub import`


def _too_many(count: int) -> Summary:
    message = _(
        "At most {limit} rows at once ({count} given); import larger sets with `leasehub import`.",
        limit=MAX_ROWS,
        count=count,
    )
    return Summary(rows=count, errors=[RowError(0, "rows", "TOO_MANY_ROWS", message)])


def _not_objects(rows: list[Any]) -> list[RowError]:
    message = _("Each row is an object of the kind's columns.")
    return [
        RowError(number, None, "INVALID_ROW", message)
        for number, row in enumerate(rows, start=1)
        if not isinstance(row, dict)
    ]


async def import_batch(ctx: Context, *, kind: str, rows: list[Any], dry_run: bool) -> Summary:
    """The caller's permission is checked by the field (StaffPermission.DATA_IMPORT)."""
    if len(rows) > MAX_ROWS:
        return _too_many(len(rows))
    if errors := _not_objects(rows):
        return Summary(rows=len(rows), refused=len(errors), errors=errors)
    chosen = kind_of(kind, today=ctx.today)
    assert chosen is not None  # the schema's enum
    return await import_rows(
        ctx.db,
        kind=chosen,
        rows=rows,
        dry_run=dry_run,
        portal_url=ctx.settings.portal_url,
        settings=ctx.settings,
        today=ctx.today,
    )
