"""The raw read path's generated row conversion (hub/raw_reads.py) gives what SQLAlchemy's
result processors give: values, types and errors."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import asyncpg as pg_asyncpg

from hub.raw_reads import PreparedRead
from models.contract import Contract, ContractStatus

VARCHAR, INT4, TIMESTAMPTZ = 1043, 23, 1184


def test_inlined_conversions_give_the_processors_values_and_errors() -> None:
    table = Contract.__table__  # type: ignore[attr-defined]
    read = PreparedRead(
        select(table.c.id, table.c.status, table.c.created_at), pg_asyncpg.dialect()
    )
    read.learn([INT4, VARCHAR, TIMESTAMPTZ])
    noon = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    warsaw = noon.astimezone(ZoneInfo("Europe/Warsaw"))
    rows = read.rows([(1, "ACTIVE", warsaw), (2, None, None), (3, "ENDED", datetime(2026, 1, 1))])
    assert rows == [
        (1, ContractStatus.ACTIVE, noon),
        (2, None, None),
        (3, ContractStatus.ENDED, datetime(2026, 1, 1, tzinfo=UTC)),
    ]
    assert rows[0][2].tzinfo is UTC and type(rows[0][1]) is ContractStatus
    with pytest.raises(LookupError, match="is not among the defined enum values"):
        read.rows([(4, "NO_SUCH_STATUS", warsaw)])
