"""`together`: many coroutines awaited without a Task each, as gather would, batching kept."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from aiodataloader import DataLoader

from schema.together import together


class Doubling(DataLoader):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[int]] = []

    async def batch_load_fn(self, keys: Sequence[int]) -> list[int]:
        self.batches.append(list(keys))
        await asyncio.sleep(0)
        return [key * 2 for key in keys]


async def test_results_come_in_order_and_loads_share_one_batch() -> None:
    loader = Doubling()

    async def twice(key: int) -> int:
        first = await loader.load(key)
        await asyncio.sleep(0)  # a bare yield in between
        return first + await loader.load(key + 100)

    assert await together([twice(key) for key in (3, 1, 2)]) == [212, 204, 208]
    assert loader.batches == [[3, 1, 2], [103, 101, 102]]


async def test_nested_together_and_shared_futures() -> None:
    loader = Doubling()

    async def pair(key: int) -> list[int]:
        return await together([_load(loader, key), _load(loader, key)])

    assert await together([pair(1), pair(2), _load(loader, 1)]) == [[2, 2], [4, 4], 2]
    assert loader.batches == [[1, 2]]  # one future per key, awaited by three coroutines


async def _load(loader: Doubling, key: int) -> int:
    return await loader.load(key)  # type: ignore[no-any-return]


async def test_runs_as_the_awaiting_task() -> None:
    async def whose() -> asyncio.Task[object] | None:
        await asyncio.sleep(0.001)
        return asyncio.current_task()

    outer = asyncio.current_task()
    assert await together([whose(), whose()]) == [outer, outer]


async def test_first_error_cancels_the_others_whose_cleanup_may_await_and_is_raised() -> None:
    cleaned: list[str] = []

    async def slow() -> None:
        try:
            await asyncio.sleep(10)
        finally:
            await asyncio.sleep(0.001)  # e.g. a session closing: it must still run
            cleaned.append("slow")

    async def failing() -> None:
        await asyncio.sleep(0.001)
        raise LookupError("boom")

    with pytest.raises(LookupError, match="boom"):
        await asyncio.wait_for(together([slow(), failing(), slow()]), timeout=5)
    assert cleaned == ["slow", "slow"]


async def test_cancelling_the_awaiting_task_unwinds_every_coroutine() -> None:
    cleaned: list[int] = []

    async def waits(index: int) -> None:
        try:
            await asyncio.sleep(10)
        finally:
            await asyncio.sleep(0.001)
            cleaned.append(index)

    task = asyncio.ensure_future(together([waits(0), waits(1)]))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sorted(cleaned) == [0, 1]


async def test_a_shared_future_survives_a_cancelled_sibling() -> None:
    """gather would cancel the future a cancelled task waits on, and with it every other
    branch that shares it (a dataloader's): `together` leaves it alone."""
    shared: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def waits() -> int:
        return await shared

    async def failing() -> None:
        await asyncio.sleep(0.001)
        raise LookupError("boom")

    with pytest.raises(LookupError):
        await together([waits(), failing()])
    assert not shared.cancelled()
    shared.set_result(7)
    assert await together([waits()]) == [7]
