"""Deterministic Polish demo data for an empty, migrated LeaseHub database.

Every client is drawn from its own `random.Random(f"{seed}:{index}")`, so the batch size never
changes a row; primary keys run across clients in generation order. Invoice, contract, request
and document numbers run in date order within each series (FV/2026/11/000001 …): a counting pass
over the whole spec comes first (`SeriesNumbers`), adding about 60 % to the time to load.
Primary keys are assigned here rather than by the database, so one client batch is a few bulk
INSERTs (COPY on PostgreSQL) in one transaction instead of a round trip per row, and memory
stays bounded by the batch.

Most clients have one to four contracts; one in every twenty (`DemoSpec.fleets`, drawn from the
seed, never a demo login's) is a fleet with 20 to 60, mostly cars and vans, so that big answers
are measured on realistic sizes. 2,000 clients (1,076,000 rows) load in about 25 s into SQLite
and 32 s into PostgreSQL on a busy 2-core machine (730,000 rows without fleets took 18 and 33 s).

Dates derive from `DemoSpec.today`, never from the clock, so one spec always gives the same rows;
only the three demo users' password hashes differ between runs (argon2 salts them).

The package follows the domains of `models/`: `world` (what every client shares: counters, the
demo logins, tyre centres), `client` (one client, domain by domain, in a fixed order), then
`contract`, `invoice`, `document`, `request`, `message`, `attachment`, `tyre` and `identity`;
`texts` holds the Polish names and places, `rows` the rows and small draws, `store` the inserts.
"""

from __future__ import annotations

import asyncio
import gc
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from hub.demo.client import client_batch
from hub.demo.rows import SeriesNumbers
from hub.demo.spec import (
    DEMO_MAIN_EMAIL,
    DEMO_PASSWORD,
    DEMO_STAFF_EMAIL,
    DEMO_SUB_EMAIL,
    LESSOR_NIP,
    SUBACCOUNT_SCOPES,
    DemoDataExists,
    DemoSpec,
)
from hub.demo.store import (
    InsertPlans,
    analyze,
    bulk_transaction,
    refuse_non_empty,
    reset_sequences,
)
from hub.demo.world import DemoWorld

__all__ = [
    "DEMO_MAIN_EMAIL",
    "DEMO_PASSWORD",
    "DEMO_STAFF_EMAIL",
    "DEMO_SUB_EMAIL",
    "LESSOR_NIP",
    "SUBACCOUNT_SCOPES",
    "DemoDataExists",
    "DemoSpec",
    "load_demo",
]

# The collector's thresholds while the demo loads (gen0 allocations, gen1 and gen2 rounds). A
# batch is some hundred thousand rows alive at once, and with Python's (700, 10, 10) a full
# collection walked them every few thousand rows: a fifth of the generating CPU, for nothing,
# as the rows hold no cycles.
LOAD_GC_THRESHOLDS = (50_000, 20, 100)


@contextmanager
def _bulk_collector() -> Iterator[None]:
    previous = gc.get_threshold()
    gc.set_threshold(*LOAD_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


async def load_demo(
    engine: AsyncEngine,
    spec: DemoSpec | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Fill an empty, migrated database. progress(done_clients, total_clients) after each batch.
    Returns row counts per table name.

    Each batch commits on its own: a failure keeps the batches before it, so start again from an
    empty database. `spec` defaults to `DemoSpec()` built at call time (today is today).
    """
    spec = spec or DemoSpec()
    await refuse_non_empty(engine)
    with _bulk_collector():
        counts = await _load(engine, spec, progress)
    if engine.dialect.name == "postgresql":
        await reset_sequences(engine)
        await analyze(engine)
    return {table.name: counts[table.name] for table in SQLModel.metadata.sorted_tables}


async def _load(
    engine: AsyncEngine, spec: DemoSpec, progress: Callable[[int, int], None] | None
) -> Counter[str]:
    # Hashing and generating run in a worker thread so the event loop stays responsive; one
    # step at a time, as generating next to storing only makes both fight over the GIL.
    numbers = await asyncio.to_thread(_count_numbers, spec)
    world = await asyncio.to_thread(DemoWorld, spec, numbers)
    plans = InsertPlans(engine.dialect)
    counts: Counter[str] = Counter()
    for first, last in _batches(spec):
        rows = await asyncio.to_thread(client_batch, world, first, last)
        async with bulk_transaction(engine) as conn:
            counts.update(await plans.insert(conn, rows))
        if progress is not None:
            progress(last, spec.clients)
    return counts


def _batches(spec: DemoSpec) -> Iterator[tuple[int, int]]:
    """First and last client of each batch; at least one batch, so the demo users and centres
    are stored even without clients."""
    for first in range(1, max(spec.clients, 1) + 1, spec.batch_clients):
        yield first, min(first + spec.batch_clients - 1, spec.clients)


def _count_numbers(spec: DemoSpec) -> SeriesNumbers:
    """The counting pass: every client generated and dropped, to learn how many documents each
    day of each numbered series has (see `SeriesNumbers`)."""
    world = DemoWorld(spec)
    for first, last in _batches(spec):
        client_batch(world, first, last)
    return SeriesNumbers(world.numbers.taken)
