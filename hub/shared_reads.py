"""Reads by primary key that concurrent requests share: one statement for all of them.

Loaders batch within a request; under load, requests arrive together and step in lockstep (the
shared token check, `auth.sessions.LivenessChecks`, wakes them in the same turn of the event
loop), so each sent its own `WHERE id = ANY($1)` for the same table in the same turn. Here
those keys are gathered until the turn ends and read by one statement; each caller gets the
rows and keeps those of its own keys (its loader maps rows by id). Every caller's statement is
sent after it asked, so a request still reads what was committed before it came; nothing is
kept between turns, and a request's loader cache stays its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from auth.errors import ServiceUnavailableError
from loaders.statements import KEYS

Reading = Callable[[Callable[[Any], Awaitable[list[Any]]]], Awaitable[list[Any]]]


class _Turn:
    __slots__ = ("future", "keys")

    def __init__(self, future: asyncio.Future[list[Any]]) -> None:
        self.future = future
        self.keys: dict[Hashable, None] = {}  # ordered and unique


class SharedReads:
    """Per process (one per `Database`): the statements asked for in this turn of the loop."""

    def __init__(self, reading: Reading) -> None:
        self._reading = reading
        self._turns: dict[Any, _Turn] = {}
        self._running: set[asyncio.Task[None]] = set()  # tasks are weakly held by the loop

    async def rows(self, statement: Any, keys: list[Hashable]) -> list[Any]:
        """The rows of `statement` (bound to `KEYS` alone) for `keys`, and maybe for keys
        other requests asked for in the same turn: the caller picks its own."""
        turn = self._turns.get(statement)
        loop = asyncio.get_running_loop()
        if turn is None or turn.future.get_loop() is not loop:  # (a dead loop's: tests)
            turn = self._turns[statement] = _Turn(loop.create_future())
            turn.future.add_done_callback(_retrieved)  # its callers may all be gone
            loop.call_soon(self._send, statement)
        turn.keys.update(dict.fromkeys(keys))
        # Shielded: a request cancelled while waiting must not cancel the others' read.
        return await asyncio.shield(turn.future)

    def _send(self, statement: Any) -> None:
        turn = self._turns.pop(statement)
        task = asyncio.get_running_loop().create_task(self._read(statement, turn))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _read(self, statement: Any, turn: _Turn) -> None:
        keys = list(turn.keys)

        async def read(reader: Any) -> list[Any]:
            return list(await reader.execute(statement, {KEYS: keys}))

        try:
            rows = await self._reading(read)
        except asyncio.CancelledError:
            # The callers' loaders settle only on an error (aiodataloader catches Exception),
            # and the process is going down: they answer SERVICE_UNAVAILABLE.
            turn.future.set_exception(ServiceUnavailableError())
            raise
        except Exception as error:  # every caller gets it, as its own read would
            turn.future.set_exception(error)
            return
        turn.future.set_result(rows)


def _retrieved(future: asyncio.Future[list[Any]]) -> None:
    """Marks a failure as seen: asyncio logs one nobody retrieved."""
    if not future.cancelled():
        future.exception()
