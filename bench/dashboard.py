"""Benchmark: req/s, p50 and p99 of the portal dashboard and of a one-client query.

Loads demo data for 2,000 clients into a throwaway PostgreSQL cluster (or DATABASE_URL when
given), starts the hub with uvicorn on 127.0.0.1 and drives it from 8 connections for a bounded
time and request count. Run: `make bench` or `.venv/bin/python -m bench.dashboard --help`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time

from bench.common import ONE_CLIENT, database, drive, prepare, served, sign_in

DASHBOARD = """
query($id: ID!) { client(id: $id) { name dashboard {
  latestInvoices { number status issueDate amountDue { amount currency } }
  overdueInvoices { number dueDate amountDue { amount } }
  nearestPayments { dueDate gross { amount } }
  recentDocuments { kind number issueDate }
  unsettledPayments { bookedOn unallocated { amount } }
  bankAccounts { iban bankName }
  settlements { amountDue { amount } overdue { amount } overpayment { amount } } } } }
"""


def _report(name: str, latencies: list[float], seconds: float) -> str:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    line = f"| {name} | {len(ordered)} | {len(ordered) / seconds:.0f} | {p50:.1f} | {p99:.1f} |"
    print(line)
    return line


async def _run(base: str, args: argparse.Namespace) -> list[str]:
    token, client_id = await sign_in(base)
    lines = ["| query | requests | req/s | p50 ms | p99 ms |", "|---|---|---|---|---|"]
    for name, query in (("portal dashboard", DASHBOARD), ("one client", ONE_CLIENT)):
        await drive(
            base,
            token,
            query,
            {"id": client_id},
            connections=args.connections,
            seconds=2,
            max_requests=500,
        )  # warm-up
        started = time.perf_counter()
        latencies = await drive(
            base,
            token,
            query,
            {"id": client_id},
            connections=args.connections,
            seconds=args.seconds,
            max_requests=args.max_requests,
        )
        lines.append(_report(name, latencies, time.perf_counter() - started))
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--max-requests", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()

    with database() as url:
        asyncio.run(prepare(url, args.clients))
        with served(url, workers=args.workers) as (base, _):
            lines = asyncio.run(_run(base, args))
    print(
        f"\n{args.connections} connections, {args.workers} uvicorn worker(s), "
        f"{args.clients} clients on PostgreSQL, {os.cpu_count()} cores"
    )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
