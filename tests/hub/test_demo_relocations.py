"""Demo tyre relocations are planned at least four working days after they were ordered (TYR-4).

Working days are counted here straight from the `holidays` package (Mon-Fri, not a Polish public
holiday), not with models.calendar, over demos anchored just before Christmas, Easter and the
November holidays, where a week of calendar days holds fewer than four working days.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import holidays
import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from auth.clock import WARSAW
from hub.db import make_engine
from hub.demo import DemoSpec, load_demo
from models.tyre import RelocationStatus, TyreRelocation

LEAD_WORKING_DAYS = 4
POLISH = holidays.country_holidays("PL", years=range(2025, 2028))
TODAYS = (date(2025, 12, 23), date(2026, 4, 2), date(2026, 10, 30), date(2026, 12, 22))


def _working_days_after(ordered: date, planned: date) -> int:
    days = (ordered + timedelta(days=n) for n in range(1, (planned - ordered).days + 1))
    return sum(1 for day in days if day.weekday() < 5 and day not in POLISH)


async def _relocations(path: Path, today: date) -> list[sa.RowMapping]:
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(SQLModel.metadata.create_all)
        spec = DemoSpec(clients=12, seed=11, today=today, fleet_every=3, fleet_contracts=(20, 30))
        await load_demo(engine, spec)
        async with engine.connect() as connection:
            table = TyreRelocation.__table__  # type: ignore[attr-defined]
            return list((await connection.execute(sa.select(table))).mappings())
    finally:
        await engine.dispose()


@pytest.mark.parametrize("today", TODAYS, ids=str)
async def test_every_demo_relocation_is_planned_four_working_days_after_its_order(
    tmp_path: Path, today: date
) -> None:
    relocations = await _relocations(tmp_path / "demo.db", today)
    assert relocations
    too_soon = []
    for row in relocations:
        ordered = row["created_at"].astimezone(WARSAW).date()
        if _working_days_after(ordered, row["planned_date"]) < LEAD_WORKING_DAYS:
            too_soon.append((ordered, row["planned_date"]))
        assert ordered < today
        if row["status"] is not RelocationStatus.CANCELLED:
            assert row["planned_date"] > today  # still to come
    assert too_soon == []
