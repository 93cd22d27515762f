"""Awaiting many coroutines at once without a Task for each.

`asyncio.gather` wraps every coroutine in a Task: an object, a context copy and a trip through
the event loop for its first step and for every wake-up. A response with two hundred invoices
made four hundred of them, a fifth of the process's CPU. `together` steps the coroutines itself,
inside the task that awaits it: all of them run to their first suspension at once (so their
dataloader keys land in the same batch, as with gather), then, whenever a future one of them
waits for is done, that one is stepped again, in the order the futures finished.

The coroutines run in the awaiting task's context and as that task (`current_task()`), which is
what a coroutine awaited directly would see. As with graphql-core's `gather_with_cancel`, the
first exception cancels the others, and so does cancelling the awaiting task: CancelledError is
thrown into each coroutine still running, which is then driven to its end (its `finally` blocks
may await: closing a session, say), and the first exception is raised once all have ended. The
futures they waited for are left alone: a dataloader future other branches share stays valid.
"""

from __future__ import annotations

from asyncio import CancelledError, Future, get_running_loop
from collections.abc import Coroutine
from typing import Any


class _Wave:
    """The coroutines still running, which future each waits for, and the first failure."""

    __slots__ = ("coroutines", "error", "ready", "results", "signal", "thrown", "waiting")

    def __init__(self, coroutines: list[Coroutine[Any, Any, Any]]) -> None:
        self.coroutines: list[Coroutine[Any, Any, Any] | None] = list(coroutines)
        self.results: list[Any] = [None] * len(coroutines)
        self.ready: list[int] = list(range(len(coroutines)))
        self.waiting: dict[Future[Any], list[int]] = {}
        self.signal: Future[None] | None = None
        self.error: BaseException | None = None
        self.thrown: set[int] = set()  # the coroutines CancelledError was thrown into

    def wake(self, future: Future[Any]) -> None:
        """A done-callback: the coroutines waiting for `future` can go on."""
        self.ready.extend(self.waiting.pop(future, ()))
        self._signal()

    def _signal(self) -> None:
        signal = self.signal
        if signal is not None and not signal.done():
            signal.set_result(None)

    def fail(self, error: BaseException) -> None:
        """The first failure: every coroutine still running is cancelled (and unwound)."""
        if self.error is not None:
            return
        self.error = error
        for future, indices in self.waiting.items():
            future.remove_done_callback(self.wake)
            self.ready.extend(indices)
        self.waiting.clear()
        self._signal()

    def step_ready(self) -> None:
        ready, self.ready = self.ready, []
        for index in ready:
            self._step(index)

    def _step(self, index: int) -> None:
        coroutine = self.coroutines[index]
        if coroutine is None:
            return
        try:
            if self.error is not None and index not in self.thrown:
                self.thrown.add(index)
                yielded = coroutine.throw(CancelledError())
            else:
                yielded = coroutine.send(None)
        except StopIteration as stop:
            self.results[index] = stop.value
            self.coroutines[index] = None
            return
        except BaseException as error:  # the first one is raised by `together`
            self.coroutines[index] = None
            self.fail(error)
            return
        self._wait(index, yielded)

    def _wait(self, index: int, yielded: Any) -> None:
        if yielded is None:  # a bare yield (asyncio.sleep(0)): go round the loop once
            self.ready.append(index)
            return
        if not getattr(yielded, "_asyncio_future_blocking", False):
            self.coroutines[index] = None  # what a Task would say of it, as its error
            self.fail(RuntimeError(f"a coroutine yielded what is no future: {yielded!r}"))
            return
        yielded._asyncio_future_blocking = False
        waiting = self.waiting.get(yielded)
        if waiting is None:
            self.waiting[yielded] = [index]
            yielded.add_done_callback(self.wake)
        else:
            waiting.append(index)


async def together(coroutines: list[Coroutine[Any, Any, Any]]) -> list[Any]:
    """The coroutines' results, in their order; see the module's note."""
    wave = _Wave(coroutines)
    loop = get_running_loop()
    while True:
        wave.step_ready()
        try:
            if wave.ready:  # bare yields: let the loop run once
                await _yield_once()
                continue
            if not wave.waiting:
                break
            wave.signal = loop.create_future()
            await wave.signal
        except BaseException as error:  # this task is cancelled: so are they
            wave.fail(error)
        finally:
            wave.signal = None
    if wave.error is not None:
        raise wave.error
    return wave.results


class _YieldOnce:
    def __await__(self) -> Any:
        yield


def _yield_once() -> _YieldOnce:
    return _YieldOnce()
