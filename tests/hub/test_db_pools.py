"""Read connections stay open: a burst of parallel batches does not start new backends."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event

from tests.conftest import Hub
from tests.loaders.test_statement_count import DEEP_DASHBOARD
from tests.schema.helpers import client_ids


async def test_a_second_burst_of_parallel_dashboards_opens_no_new_read_connections(
    hub: Hub,
) -> None:
    client_id = (await client_ids(hub, "anna"))[0]
    opened: list[Any] = []

    def connected(*_args: Any) -> None:
        opened.append(1)

    async def burst() -> None:
        answers = await asyncio.gather(
            *(hub.gql(DEEP_DASHBOARD, {"id": client_id}, as_="anna") for _ in range(8))
        )
        assert all("errors" not in answer for answer in answers)

    engine = hub.db.read_engine.sync_engine
    event.listen(engine, "connect", connected)
    try:
        await burst()  # may fill the read pool
        first = len(opened)
        await burst()
    finally:
        event.remove(engine, "connect", connected)
    # An overflow connection is closed when given back, and the next burst must start a new
    # server backend for it: the read pool has none, so what the first burst opened serves.
    assert len(opened) == first
