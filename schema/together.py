"""Awaiting many coroutines at once without a Task for each.

`asyncio.gather` wraps every coroutine in a Task: an object, a context copy and a trip through
the event loop for its first step and for every wake-up. A response with two hundred invoices
made four hundred of them, a fifth of the process's CPU. `together` steps the coroutines itself,
inside the task that awaits it: all of them run to their first suspension at once (so their
dataloader keys land in the same batch, as with gather), then, whenever a future one of them
waits for is done, that one is stepped again, in the order the futures finished.

The coroutines run in the awaiting task's context and as that task (`current_task()`), which is
what a coroutine awaited directly would see. The first exception (the execution path's own
coroutines catch field errors themselves, so only cancellation and bugs come this way) closes
the others and is raised, as `gather_with_cancel` would.
"""

from __future__ import annotations

from asyncio import Future, get_running_loop
from collections.abc import Coroutine
from typing import Any


class _Wave:
    """The coroutines still running and which future each waits for."""

    __slots__ = ("coroutines", "ready", "results", "signal", "waiting")

    def __init__(self, coroutines: list[Coroutine[Any, Any, Any]]) -> None:
        self.coroutines = coroutines
        self.results: list[Any] = [None] * len(coroutines)
        self.ready: list[int] = list(range(len(coroutines)))
        self.waiting: dict[Future[Any], list[int]] = {}
        self.signal: Future[None] | None = None

    def wake(self, future: Future[Any]) -> None:
        """A done-callback: the coroutines waiting for `future` can go on."""
        self.ready.extend(self.waiting.pop(future))
        signal = self.signal
        if signal is not None and not signal.done():
            signal.set_result(None)

    def step_ready(self) -> None:
        ready, self.ready = self.ready, []
        for index in ready:
            self._step(index)

    def _step(self, index: int) -> None:
        try:
            yielded = self.coroutines[index].send(None)
        except StopIteration as stop:
            self.results[index] = stop.value
            self.coroutines[index] = None  # type: ignore[call-overload]
            return
        if yielded is None:  # a bare yield (asyncio.sleep(0)): go round the loop once
            self.ready.append(index)
            return
        if not getattr(yielded, "_asyncio_future_blocking", False):
            raise RuntimeError(f"a coroutine awaited something that is not a future: {yielded!r}")
        yielded._asyncio_future_blocking = False
        waiting = self.waiting.get(yielded)
        if waiting is None:
            self.waiting[yielded] = [index]
            yielded.add_done_callback(self.wake)
        else:
            waiting.append(index)

    def close(self) -> None:
        for coroutine in self.coroutines:
            if coroutine is not None:
                coroutine.close()


async def together(coroutines: list[Coroutine[Any, Any, Any]]) -> list[Any]:
    """The coroutines' results, in their order; see the module's note."""
    wave = _Wave(coroutines)
    loop = get_running_loop()
    try:
        while True:
            wave.step_ready()
            if wave.ready:  # bare yields: let the loop run once
                await _yield_once()
                continue
            if not wave.waiting:
                return wave.results
            wave.signal = loop.create_future()
            await wave.signal
            wave.signal = None
    except BaseException:
        wave.close()
        raise


class _YieldOnce:
    def __await__(self) -> Any:
        yield


def _yield_once() -> _YieldOnce:
    return _YieldOnce()
