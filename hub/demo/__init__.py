"""Deterministic Polish demo data for an empty, migrated LeaseHub database.

Every client is drawn from its own `random.Random(f"{seed}:{index}")`, so the batch size never
changes a row; what runs across clients (primary keys, invoice, contract and document numbers)
advances in generation order. Primary keys are assigned here rather than by the database, so one
client batch is a few bulk INSERTs in one transaction instead of a round trip per row, and memory
stays bounded by the batch. About 2,000 clients (730,000 rows) load in 45 s into SQLite.

Dates derive from `DemoSpec.today`, never from the clock, so one spec always gives the same rows;
only the three demo users' password hashes differ between runs (argon2 salts them).

The package follows the domains of `models/`: `world` (what every client shares: counters, the
demo logins, tyre centres), `client` (one client, domain by domain, in a fixed order), then
`contract`, `invoice`, `document`, `request`, `message`, `attachment`, `tyre` and `identity`;
`texts` holds the Polish names and places, `rows` the rows and small draws, `store` the inserts.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from hub.demo.client import client_batch
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
    # Hashing and generating run in a worker thread so the event loop stays responsive; one
    # step at a time, as generating next to storing only makes both fight over the GIL.
    world = await asyncio.to_thread(DemoWorld, spec)
    plans = InsertPlans(engine.dialect)
    counts: Counter[str] = Counter()
    # At least one batch, so the demo users and centres are stored even without clients.
    for first in range(1, max(spec.clients, 1) + 1, spec.batch_clients):
        last = min(first + spec.batch_clients - 1, spec.clients)
        rows = await asyncio.to_thread(client_batch, world, first, last)
        async with bulk_transaction(engine) as conn:
            counts.update(await plans.insert(conn, rows))
        if progress is not None:
            progress(last, spec.clients)
    if engine.dialect.name == "postgresql":
        await reset_sequences(engine)
        await analyze(engine)
    return {table.name: counts[table.name] for table in SQLModel.metadata.sorted_tables}
