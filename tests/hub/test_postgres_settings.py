"""PostgreSQL as the hub uses it: no JIT for its short statements, statistics after a load."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import Hub


async def test_postgresql_connections_run_without_jit_and_the_demo_is_analyzed(
    hub: Hub, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("JIT and ANALYZE are PostgreSQL's")
    for engine in (hub.db.engine, hub.db.read_engine):
        async with engine.connect() as connection:
            assert (await connection.execute(text("SHOW jit"))).scalar_one() == "off"
    async with hub.db.read() as session:
        analyzed = await session.execute(
            text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'invoices'")
        )
        assert analyzed.scalar_one() is not None
