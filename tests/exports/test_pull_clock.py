"""Incremental pulls of a fresh demo at any hour: no row may be stamped after the moment it ran.

The demo once stamped rows at 09:00 UTC of their date, so before 09:00 every row of "today" was a
change still to come and the suite failed every morning. The clock is frozen (and keeps ticking)
just after and just before Warsaw's midnight and in the morning, in winter and in summer time.
"""

from __future__ import annotations

import io
from datetime import datetime

import pandas as pd
import pytest
import time_machine
from sqlalchemy import func, or_, select
from sqlmodel import SQLModel

from auth.clock import WARSAW
from hub.db import Database
from hub.demo import DEMO_MAIN_EMAIL, DemoSpec, load_demo
from models.base import utcnow
from tests.auth.helpers import first_company, token_of
from tests.conftest import DatabaseFactory, open_hub

MOMENTS = {
    "winter-00:30": datetime(2026, 1, 15, 0, 30, tzinfo=WARSAW),
    "winter-08:00": datetime(2026, 1, 15, 8, 0, tzinfo=WARSAW),  # before 09:00 UTC
    "winter-23:30": datetime(2026, 1, 15, 23, 30, tzinfo=WARSAW),
    "summer-00:30": datetime(2026, 7, 15, 0, 30, tzinfo=WARSAW),
    "summer-10:30": datetime(2026, 7, 15, 10, 30, tzinfo=WARSAW),  # before 09:00 UTC
    "summer-23:30": datetime(2026, 7, 15, 23, 30, tzinfo=WARSAW),
}
TABLE_LINKS = """query($id: ID!, $since: DateTime) { client(id: $id) {
  invoicesTableUrl(updatedSince: $since) contractsTableUrl(updatedSince: $since)
  instalmentsTableUrl(updatedSince: $since) paymentsTableUrl(updatedSince: $since)
  documentsTableUrl(updatedSince: $since) allocationsTableUrl(updatedSince: $since) } }"""


async def _stamped_after(db: Database, moment: datetime) -> dict[str, int]:
    """Rows per table whose creation or last change lies after `moment`."""
    found = {}
    async with db.read() as session:
        for table in SQLModel.metadata.sorted_tables:
            stamps = [table.c[name] for name in ("created_at", "updated_at") if name in table.c]
            if stamps:
                query = select(func.count()).where(or_(*(stamp > moment for stamp in stamps)))
                if count := (await session.execute(query)).scalar_one():
                    found[table.name] = count
    return found


@pytest.mark.parametrize("moment", MOMENTS.values(), ids=MOMENTS.keys())
async def test_fresh_demo_pulled_since_now_has_no_changes_at_any_hour(
    databases: DatabaseFactory, moment: datetime
) -> None:
    with time_machine.travel(moment, tick=True):
        hub, db = await open_hub(await databases.create())
        try:
            await load_demo(db.engine, DemoSpec(clients=16, seed=3))
            since = utcnow()
            assert await _stamped_after(db, since) == {}
            anna = await token_of(hub, DEMO_MAIN_EMAIL)
            company = await first_company(hub)
            full = await hub.gql(TABLE_LINKS, {"id": company, "since": None}, token=anna)
            changed = await hub.gql(
                TABLE_LINKS, {"id": company, "since": since.isoformat()}, token=anna
            )
            for name, url in changed["data"]["client"].items():
                response = await hub.client.get(url)
                assert response.status_code == 200, name
                rows = pd.read_csv(io.BytesIO(response.content), encoding="utf-8-sig")
                assert rows.empty, f"{name}: {len(rows)} rows stamped after {since}"
                # The full pull of the same table has rows, none of them from the future.
                response = await hub.client.get(full["data"]["client"][name])
                every = pd.read_csv(io.BytesIO(response.content), encoding="utf-8-sig")
                stamps = pd.to_datetime(every["Updated at (UTC)"], utc=True)
                assert not every.empty and stamps.max() <= since, name
        finally:
            await hub.close()
            await db.dispose()
