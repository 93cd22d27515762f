"""Reads run in autocommit: a loader batch reaches PostgreSQL as one SELECT, no BEGIN/ROLLBACK."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from hub.demo import DEMO_MAIN_EMAIL, DEMO_PASSWORD, DemoSpec, load_demo
from hub.migrate import upgrade
from tests.conftest import LOGIN, open_hub
from tests.pg import Cluster

DASHBOARD = """
query($id: ID!) { client(id: $id) { dashboard {
  latestInvoices { number status } recentDocuments { number }
  settlements { amountDue { amount } } } } }
"""
MARKER = "SELECT 'end-of-request-marker'"


async def _log_since(cluster: Cluster, offset: int) -> list[str]:
    for _ in range(50):  # the server writes its log asynchronously: wait for the marker, bounded
        lines = cluster.log.read_bytes()[offset:].decode(errors="replace").splitlines()
        if any(MARKER in line for line in lines):
            return lines
        await asyncio.sleep(0.1)
    raise AssertionError("the marker statement never reached the server log")


async def _database(cluster: Cluster) -> str:
    admin = create_async_engine(f"{cluster.url}/postgres", isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text('CREATE DATABASE "lh_read_tx"'))
    await admin.dispose()
    url = f"{cluster.url}/lh_read_tx"
    await asyncio.to_thread(upgrade, url)
    return url


async def test_read_request_sends_no_transaction_statements(pg_cluster: Cluster) -> None:
    hub, db = await open_hub(await _database(pg_cluster))
    try:
        await load_demo(db.engine, DemoSpec(clients=2, seed=5))
        token = (await hub.gql(LOGIN, {"login": DEMO_MAIN_EMAIL, "password": DEMO_PASSWORD}))[
            "data"
        ]["login"]["token"]
        viewer = await hub.gql("{ viewer { clients { client { id } } } }", token=token)
        client_id = viewer["data"]["viewer"]["clients"][0]["client"]["id"]
        offset = pg_cluster.log.stat().st_size
        body = await hub.gql(DASHBOARD, {"id": client_id}, token=token)
        async with db.read() as session:
            await session.execute(text(MARKER))
        lines = await _log_since(pg_cluster, offset)
    finally:
        await hub.client.aclose()
        await db.dispose()
    assert "errors" not in body
    selects = [line for line in lines if "SELECT" in line and MARKER not in line]
    assert len(selects) >= 5  # the request's reads really were logged
    assert [
        line for line in lines if any(word in line for word in ("BEGIN", "ROLLBACK", "COMMIT"))
    ] == []
