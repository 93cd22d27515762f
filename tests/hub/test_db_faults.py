"""Database faults: a PostgreSQL restart costs only the requests in flight, and those get the
coded SERVICE_UNAVAILABLE; an exhausted pool answers SERVICE_UNAVAILABLE after a short wait
while `/health`, on a connection of its own, still answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from hub.app import create_app
from hub.db import Database
from hub.demo import DEMO_MAIN_EMAIL, DEMO_PASSWORD, DemoSpec, load_demo
from hub.migrate import upgrade
from tests.conftest import LOGIN, Hub, _postgres_required, known_captcha, open_hub, settings_for
from tests.pg import Cluster

ONE_CLIENT = "query($id: ID!) { client(id: $id) { id number name } }"
VIEWER = "{ viewer { clients { client { id } } } }"
GUARD_SECONDS = 60  # far above every wait configured here: a hang fails, slowness does not


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[Cluster]:
    """A cluster of this module's own: restarting the suite's shared one would cut the other
    tests' connections."""
    cluster = Cluster()
    if not cluster.available:
        if _postgres_required():
            pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) not found")
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found")
    cluster.start()
    yield cluster
    cluster.stop()


def outcome(response: httpx.Response) -> str:
    """`ok`, or what the client was told: the error code, else the message or the status."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    errors = body.get("errors") or []
    if response.status_code == 200 and not errors:
        return "ok"
    if not errors:
        return f"HTTP {response.status_code}"
    return str(errors[0].get("extensions", {}).get("code") or errors[0].get("message"))


async def signed_in(client: httpx.AsyncClient) -> tuple[dict[str, str], dict[str, Any]]:
    variables = {"login": DEMO_MAIN_EMAIL, "password": DEMO_PASSWORD}
    login = await client.post("/graphql", json={"query": LOGIN, "variables": variables})
    headers = {"Authorization": f"Bearer {login.json()['data']['login']['token']}"}
    viewer = await client.post("/graphql", json={"query": VIEWER}, headers=headers)
    client_id = viewer.json()["data"]["viewer"]["clients"][0]["client"]["id"]
    return headers, {"query": ONE_CLIENT, "variables": {"id": client_id}}


@pytest.fixture(scope="module")
async def restartable(own_cluster: Cluster) -> AsyncIterator[Hub]:
    url = f"{own_cluster.url}/postgres"
    await asyncio.to_thread(upgrade, url)
    hub, db = await open_hub(url)
    await load_demo(db.engine, DemoSpec(clients=2, seed=11))
    yield hub
    await hub.close()
    await db.dispose()


async def test_after_a_postgresql_restart_every_request_succeeds(
    own_cluster: Cluster, restartable: Hub
) -> None:
    client = restartable.client
    headers, query = await signed_in(client)

    async def ask() -> str:
        return outcome(await client.post("/graphql", json=query, headers=headers))

    async with asyncio.timeout(GUARD_SECONDS):
        warm = await asyncio.gather(*(ask() for _ in range(8)))  # several pooled connections
        during: list[str] = []
        restarted = asyncio.create_task(asyncio.to_thread(own_cluster.restart))
        while not restarted.done():  # requests keep coming while the server goes and returns
            during.append(await ask())
        await restarted
        after = [result for _ in range(5) for result in await asyncio.gather(ask(), ask())]
    assert warm == ["ok"] * 8
    # In flight: answered, or told to retry with the code; never "Unexpected error." or a 500.
    assert set(during) <= {"ok", "SERVICE_UNAVAILABLE"}
    assert after == ["ok"] * 10  # stale pooled connections were replaced before use


def _url(hub: Hub) -> str:
    return hub.db.read_engine.url.render_as_string(hide_password=False)


async def test_an_exhausted_pool_answers_service_unavailable_while_health_answers(
    hub: Hub,
) -> None:
    url = _url(hub)
    config = settings_for(url, LEASEHUB_DB_POOL_SIZE=1, LEASEHUB_DB_POOL_TIMEOUT_SECONDS=0.2)
    db = Database.from_settings(config)
    app = create_app(config, db=db, captcha=known_captcha(config.secret_key))
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client,
        AsyncExitStack() as held,
    ):
        headers, query = await signed_in(client)
        async with asyncio.timeout(GUARD_SECONDS):
            for _ in range(2):  # 1 and 1 overflow; 2 and none for reads
                await held.enter_async_context(db.engine.connect())
                # the hub's own bare read connection: it takes back what the raw path keeps idle
                await held.enter_async_context(db.read_connection())
            signed = await client.post("/graphql", json=query, headers=headers)
            anonymous = await client.post(  # fails inside execution, not while authenticating
                "/graphql",
                json={"query": LOGIN, "variables": {"login": "x@y.pl", "password": "Secret1!"}},
            )
            health = await client.get("/health")
            await held.aclose()
            again = await client.post("/graphql", json=query, headers=headers)
    await db.dispose()
    assert signed.status_code == 503 and signed.headers["retry-after"]
    assert outcome(signed) == "SERVICE_UNAVAILABLE"
    assert outcome(anonymous) == "SERVICE_UNAVAILABLE"
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert outcome(again) == "ok"


async def test_a_read_cut_by_the_server_is_read_again_on_a_fresh_connection(
    restartable: Hub,
) -> None:
    """The server ends the connection under the first try (as a restart does): the reader gets
    its rows from the second, and never sees the cut. A write is never retried this way."""
    db, tries = restartable.db, []

    async def work(session: Any) -> int:
        tries.append(1)
        if len(tries) == 1:
            await session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return int((await session.execute(text("SELECT 41 + 1"))).scalar_one())

    assert await db.reading(work) == 42
    assert len(tries) == 2


async def test_a_loader_read_cut_by_the_server_is_read_again(restartable: Hub) -> None:
    """The same for the bare connections loaders read on (`Database.reading_rows`)."""
    db, tries = restartable.db, []

    async def work(connection: Any) -> int:
        tries.append(1)
        if len(tries) == 1:
            await connection.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return int((await connection.execute(text("SELECT 41 + 1"))).scalar_one())

    assert await db.reading_rows(work) == 42
    assert len(tries) == 2


async def test_after_a_restart_a_read_that_cannot_run_again_finds_a_live_connection(
    own_cluster: Cluster, restartable: Hub
) -> None:
    """The read pool has no pre-ping (its batches run again instead); `Database.read`'s
    callers ping first, so a pool full of connections the restart killed costs them nothing."""
    db = restartable.db
    async with asyncio.timeout(GUARD_SECONDS):
        async with AsyncExitStack() as held:  # several pooled connections, alive
            for _ in range(4):
                session = await held.enter_async_context(db.read())
                await session.execute(text("SELECT 1"))
        await asyncio.to_thread(own_cluster.restart)
        for _ in range(6):
            async with db.read() as session:
                assert (await session.execute(text("SELECT 1"))).scalar() == 1
