"""The server process's garbage collector, tuned for many short requests over a large heap.

At start-up the process holds a quarter of a million long-lived objects (modules, the schema,
compiled statements). Python's default thresholds (700, 10, 10) ran a full collection every
seven deep requests, each walking all of them: 24 of 50 ms of CPU per request went to the
collector (`make bench-gc`). Freezing what start-up built moves it out of every collection,
and larger thresholds let a request's short-lived objects die before a collection looks at
them.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def server_gc(thresholds: tuple[int, int, int] | None) -> Iterator[None]:
    """Freeze start-up's objects and set the thresholds while the server runs; restore after.

    `thresholds` None keeps Python's own (the setting is empty)."""
    previous = gc.get_threshold()
    gc.collect()
    gc.freeze()
    if thresholds is not None:
        gc.set_threshold(*thresholds)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()
