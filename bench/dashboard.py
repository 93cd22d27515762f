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
import subprocess
import sys
import time

import httpx

from hub.db import make_engine
from hub.demo import DEMO_MAIN_EMAIL, DEMO_PASSWORD, DemoSpec, load_demo
from hub.migrate import upgrade
from tests.pg import Cluster, free_port

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
ONE_CLIENT = "query($id: ID!) { client(id: $id) { id number name nip regon einvoiceEmail } }"


async def _prepare(url: str, clients: int) -> None:
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    started = time.perf_counter()
    counts = await load_demo(engine, DemoSpec(clients=clients, seed=2026))
    await engine.dispose()
    rows = sum(counts.values())
    print(f"demo data: {clients} clients, {rows} rows in {time.perf_counter() - started:.1f} s")


async def _drive(
    base: str,
    token: str,
    query: str,
    variables: dict[str, str],
    *,
    connections: int,
    seconds: float,
    max_requests: int,
) -> list[float]:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def worker() -> None:
            while time.perf_counter() < deadline and len(latencies) < max_requests:
                started = time.perf_counter()
                response = await client.post(
                    "/graphql", headers=headers, json={"query": query, "variables": variables}
                )
                body = response.json()
                if response.status_code != 200 or body.get("errors"):
                    raise RuntimeError(f"benchmark request failed: {body}")
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(worker() for _ in range(connections)))
    return latencies


def _report(name: str, latencies: list[float], seconds: float) -> str:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    line = f"| {name} | {len(ordered)} | {len(ordered) / seconds:.0f} | {p50:.1f} | {p99:.1f} |"
    print(line)
    return line


async def _run(base: str, args: argparse.Namespace) -> list[str]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for _ in range(100):  # wait for the server, bounded
            try:
                if (await client.get("/health")).status_code == 200:
                    break
            except httpx.TransportError:
                await asyncio.sleep(0.2)
        login = await client.post(
            "/graphql",
            json={
                "query": "mutation($l: String!, $p: String!) "
                "{ login(input: {login: $l, password: $p}) { token } }",
                "variables": {"l": DEMO_MAIN_EMAIL, "p": DEMO_PASSWORD},
            },
        )
        token = login.json()["data"]["login"]["token"]
        viewer = await client.post(
            "/graphql",
            headers={"Authorization": f"Bearer {token}"},
            json={"query": "{ viewer { clients { client { id } } } }"},
        )
        client_id = viewer.json()["data"]["viewer"]["clients"][0]["client"]["id"]
    lines = ["| query | requests | req/s | p50 ms | p99 ms |", "|---|---|---|---|---|"]
    for name, query in (("portal dashboard", DASHBOARD), ("one client", ONE_CLIENT)):
        await _drive(
            base,
            token,
            query,
            {"id": client_id},
            connections=args.connections,
            seconds=2,
            max_requests=500,
        )  # warm-up
        started = time.perf_counter()
        latencies = await _drive(
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

    cluster = None
    url = os.environ.get("DATABASE_URL")
    if not url:
        cluster = Cluster()
        url = cluster.start() + "/postgres"
    port = free_port()
    server = None
    try:
        asyncio.run(_prepare(url, args.clients))
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "LEASEHUB_ENV": "production",
            "LEASEHUB_SECRET_KEY": "bench-" + "x" * 40,
            "PORT": str(port),
        }
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "hub.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
        )
        lines = asyncio.run(_run(f"http://127.0.0.1:{port}", args))
        print(
            f"\n{args.connections} connections, {args.workers} uvicorn worker(s), "
            f"{args.clients} clients on PostgreSQL, {os.cpu_count()} cores"
        )
        print("\n".join(lines))
    finally:
        if server:
            server.terminate()
            server.wait(timeout=30)
        if cluster:
            cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
