"""What the garbage collector costs a deep query, in-process, with and without the server's tuning.

Loads a 60-client demo into a SQLite file, then sends the same deep query (client → contracts →
schedule + invoices) 200 times through the ASGI app in three set-ups: Python's collector as it
comes, start-up objects frozen, and frozen with the server's thresholds (LEASEHUB_GC_THRESHOLDS).
Prints CPU per request, collections per generation and the time spent in them. Each set-up
runs in a process of its own, so one does not inherit another's heap.
"""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from typing import Any

import httpx

from hub.app import create_app
from hub.db import Database
from hub.demo import DEMO_MAIN_EMAIL, DEMO_PASSWORD, DemoSpec, load_demo
from hub.migrate import upgrade
from hub.runtime import server_gc
from hub.settings import Settings

DEEP = """query($id: ID!) { client(id: $id) { contracts(first: 10) { nodes { number
  schedule { number dueDate gross { amount } settlementState }
  invoices(first: 20) { nodes { number status amountDue { amount } } } } } } }"""
LOGIN = "mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) { token } }"
WARM_UP, REQUESTS = 20, 200
SETUPS = ("python", "frozen", "frozen+thresholds")


class Collections:
    """gc.callbacks: how many collections of each generation, and how long they took."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        generation = info["generation"]
        self.count[generation] += 1
        self.seconds[generation] += time.perf_counter() - self._started


async def measure(setup: str) -> str:
    url = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/gc.db"
    await asyncio.to_thread(upgrade, url)
    settings = Settings(LEASEHUB_ENV="test", DATABASE_URL=url)
    db = Database.from_settings(settings)
    await load_demo(db.engine, DemoSpec(clients=60, seed=1))
    app = create_app(settings, db=db)
    transport = httpx.ASGITransport(app=app)
    tuning = {
        "python": nullcontext(),
        "frozen": server_gc(None),
        "frozen+thresholds": server_gc(settings.gc_thresholds),
    }[setup]
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        body = {"query": LOGIN, "variables": {"l": DEMO_MAIN_EMAIL, "p": DEMO_PASSWORD}}
        token = (await client.post("/graphql", json=body)).json()["data"]["login"]["token"]
        headers = {"Authorization": f"Bearer {token}"}
        viewer = {"query": "{ viewer { clients { client { id } } } }"}
        clients = (await client.post("/graphql", json=viewer, headers=headers)).json()
        query = {
            "query": DEEP,
            "variables": {"id": clients["data"]["viewer"]["clients"][0]["client"]["id"]},
        }
        with tuning:
            for _ in range(WARM_UP):
                await client.post("/graphql", json=query, headers=headers)
            collections = Collections()
            gc.callbacks.append(collections)
            cpu = time.process_time()
            for _ in range(REQUESTS):
                await client.post("/graphql", json=query, headers=headers)
            cpu = time.process_time() - cpu
            gc.callbacks.remove(collections)
    await db.dispose()
    per_request = 1000 / REQUESTS
    counts = " / ".join(str(n) for n in collections.count)
    return (
        f"| {setup} | {cpu * per_request:.1f} | {sum(collections.seconds) * per_request:.1f} "
        f"| {counts} | {collections.seconds[2] * 1000:.0f} |"
    )


def main() -> int:
    if len(sys.argv) > 1:  # one set-up, in this process
        print(asyncio.run(measure(sys.argv[1])))
        return 0
    print("| set-up | CPU ms/request | GC ms/request | collections gen0 / gen1 / gen2 | gen2 ms |")
    print("|---|---|---|---|---|")
    for setup in SETUPS:
        run = [sys.executable, "-m", "bench.gc", setup]
        print(subprocess.run(run, check=True, capture_output=True, text=True).stdout.strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
