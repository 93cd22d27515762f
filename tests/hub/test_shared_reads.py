"""Reads by primary key shared by requests that arrive together (hub/shared_reads.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from auth.errors import ServiceUnavailableError
from hub.shared_reads import SharedReads
from loaders.statements import KEYS
from tests.conftest import Hub, count_statements
from tests.schema.helpers import client_ids

NAME = "query($id: ID!) { client(id: $id) { id name } }"
OTHERS = "{ admin { clients(first: 4) { nodes { id name } } } }"


async def test_requests_arriving_together_share_one_read_and_keep_their_own_rows(
    hub: Hub,
) -> None:
    annas = await client_ids(hub, "anna")
    own = annas[0]
    others = (await hub.gql(OTHERS, as_="staff"))["data"]["admin"]["clients"]["nodes"]
    foreign = [node for node in others if node["id"] not in annas]
    assert foreign
    with count_statements(hub.db) as statements:
        bodies = await asyncio.gather(
            hub.gql(NAME, {"id": own}, as_="anna"),
            # Another company's client, asked by anna while staff read it in the same turn:
            hub.gql(NAME, {"id": foreign[0]["id"]}, as_="anna"),
            *(hub.gql(NAME, {"id": node["id"]}, as_="staff") for node in foreign),
        )
    assert bodies[0]["data"]["client"]["id"] == own
    assert bodies[1]["data"]["client"] is None  # answered as missing, as ever
    assert [body["data"]["client"] for body in bodies[2:]] == foreign
    reads = [each for each in statements if "FROM clients" in each and "count(" not in each]
    assert len(reads) == 1, reads  # one statement for the requests of this turn


async def test_a_failed_shared_read_fails_every_caller_and_a_cancelled_one_spares_the_rest() -> (
    None
):
    started = asyncio.Event()
    release = asyncio.Event()
    calls: list[list[Any]] = []

    async def reading(work: Any) -> list[Any]:
        class Reader:
            async def execute(self, _statement: Any, values: dict[str, Any]) -> list[Any]:
                calls.append(values[KEYS])
                started.set()
                await release.wait()
                if 99 in calls[-1]:
                    raise RuntimeError("database gone")
                return [(key,) for key in calls[-1]]

        return await work(Reader())  # type: ignore[no-any-return]

    shared = SharedReads(reading)
    statement = object()
    first = asyncio.ensure_future(shared.rows(statement, [1, 2]))
    second = asyncio.ensure_future(shared.rows(statement, [2, 3]))
    await started.wait()
    second.cancel()  # its request went away: the read goes on for the first
    release.set()
    assert await first == [(1,), (2,), (3,)]  # one read of every key asked in the turn
    assert len(calls) == 1
    with pytest.raises(asyncio.CancelledError):
        await second

    release.clear()
    started.clear()
    failing = [asyncio.ensure_future(shared.rows(statement, [99, n])) for n in (1, 2)]
    await started.wait()
    release.set()
    for each in failing:
        with pytest.raises(RuntimeError, match="database gone"):
            await each
    assert len(calls) == 2


async def test_a_shared_read_cut_short_answers_its_callers_service_unavailable() -> None:
    """A read cancelled under them (the process going down) settles every caller with the
    coded error their loaders pass on, never leaving a request waiting."""
    started = asyncio.Event()

    async def reading(_work: Any) -> list[Any]:
        started.set()
        await asyncio.sleep(3600)
        return []

    shared = SharedReads(reading)
    callers = [asyncio.ensure_future(shared.rows(object(), [n])) for n in (1, 2)]
    await started.wait()
    for task in list(shared._running):
        task.cancel()
    for caller in callers:
        with pytest.raises(ServiceUnavailableError):
            await caller
