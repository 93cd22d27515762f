"""Benchmark: a BI pull of 10,000 and of 100,000 invoices as CSV and XLSX.

Loads a small demo into a throwaway PostgreSQL cluster (or DATABASE_URL), gives the first
client extra invoices, starts the hub under uvicorn, and pulls `invoicesTableUrl` while
sampling the server's resident memory and timing small requests from other connections.
Flat memory means the peak does not grow with the row count. Run: `make bench-tables`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa

from bench.common import ONE_CLIENT, database, drive, prepare, served, sign_in
from hub.db import make_engine
from models.invoice import Invoice
from resolvers.ids import from_global_id

TABLE_URL = (
    """query($id: ID!, $f: TableFormat!) { client(id: $id) { invoicesTableUrl(format: $f) } }"""
)
CHUNK = 5000


async def grow(url: str, client_id: int, target: int) -> int:
    """Copies of the client's invoices until it has `target` of them (numbers kept unique)."""
    engine = make_engine(url)
    async with engine.begin() as conn:
        count = sa.select(sa.func.count()).where(Invoice.client_id == client_id)
        have = (await conn.execute(count)).scalar_one()
        model = (
            (
                await conn.execute(
                    sa.select(Invoice.__table__).where(Invoice.client_id == client_id).limit(1)
                )
            )
            .mappings()
            .one()
        )
        for start in range(have, target, CHUNK):
            rows = [
                {
                    **{k: v for k, v in model.items() if k not in ("id", "ksef_number")},
                    "number": f"BENCH/{client_id}/{n:07d}",
                    "issue_date": model["issue_date"] - timedelta(days=n % 3000),
                    "corrects_id": None,
                }
                for n in range(start, min(start + CHUNK, target))
            ]
            await conn.execute(sa.insert(Invoice), rows)
    await engine.dispose()
    return max(have, target)


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class _Sampler:
    """The server's resident memory every 20 ms while a pull runs."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_kib(self.pid))
            time.sleep(0.02)

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


async def _pull(base: str, token: str, client_id: str, fmt: str) -> tuple[int, float]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, timeout=600) as client:
        body = await client.post(
            "/graphql",
            headers=headers,
            json={"query": TABLE_URL, "variables": {"id": client_id, "f": fmt}},
        )
        url = body.json()["data"]["client"]["invoicesTableUrl"]
        started, size = time.perf_counter(), 0
        async with client.stream("GET", url) as response:
            response.raise_for_status()
            async for chunk in response.aiter_bytes():
                size += len(chunk)
    return size, time.perf_counter() - started


async def _measure(base: str, pid: int, rows: int, fmt: str) -> str:
    token, client_id = await sign_in(base)
    baseline = _rss_kib(pid)
    with _Sampler(pid) as sampler:
        pull = asyncio.create_task(_pull(base, token, client_id, fmt))
        others: list[float] = []
        while not pull.done():  # small requests from another connection meanwhile, bounded
            others += await drive(
                base,
                token,
                ONE_CLIENT,
                {"id": client_id},
                connections=1,
                seconds=0.5,
                max_requests=200,
            )
        size, seconds = await pull
    p50 = statistics.median(others) * 1000 if others else float("nan")
    grown = (sampler.peak - baseline) / 1024
    line = (
        f"| {rows:,} | {fmt} | {size / 1e6:.1f} MB | {seconds:.1f} s | {rows / seconds:,.0f} "
        f"| {sampler.peak / 1024:.0f} MB (+{grown:.0f}) | {len(others)} | {p50:.0f} ms |"
    )
    print(line)
    return line


async def _run(url: str, sizes: list[int]) -> None:
    with served(url) as (base, server):
        token, client_id = await sign_in(base)
        await _pull(base, token, client_id, "CSV")  # starts the worker process: not measured
        idle = await drive(
            base, token, ONE_CLIENT, {"id": client_id}, connections=1, seconds=3, max_requests=500
        )
        print(f"small requests with no pull running: p50 {statistics.median(idle) * 1000:.0f} ms")
        lines = [
            "| rows | format | file | time | rows/s | server RSS peak (growth) "
            "| other requests | their p50 |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for rows in sizes:
            await grow(url, from_global_id(client_id)[1], rows)
            for fmt in ("CSV", "XLSX"):
                lines.append(await _measure(base, server.pid, rows, fmt))
    print("\n" + "\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000", help="invoice counts, ascending")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    with database() as url:
        asyncio.run(prepare(url, 3))
        asyncio.run(_run(url, sizes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
