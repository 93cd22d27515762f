"""What the benchmarks share: a throwaway database, the hub under uvicorn, a signed-in user."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from hub.db import make_engine
from hub.demo import DEMO_MAIN_EMAIL, DEMO_PASSWORD, DemoSpec, load_demo
from hub.migrate import upgrade
from tests.pg import Cluster, free_port

ONE_CLIENT = "query($id: ID!) { client(id: $id) { id number name nip regon einvoiceEmail } }"
LOGIN = (
    """mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) { token } }"""
)


@contextmanager
def database() -> Iterator[str]:
    """DATABASE_URL when given, else a throwaway PostgreSQL cluster."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    cluster = Cluster()
    try:
        yield cluster.start() + "/postgres"
    finally:
        cluster.stop()


async def prepare(url: str, clients: int) -> None:
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    started = time.perf_counter()
    counts = await load_demo(engine, DemoSpec(clients=clients, seed=2026))
    await engine.dispose()
    rows = sum(counts.values())
    print(f"demo data: {clients} clients, {rows} rows in {time.perf_counter() - started:.1f} s")


@contextmanager
def served(
    url: str, *, workers: int = 1, env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The hub under uvicorn on 127.0.0.1 (production settings, `env` on top), and its process."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "LEASEHUB_ENV": "production",
        "LEASEHUB_SECRET_KEY": "bench-" + "x" * 40,
        "PORT": str(port),
        **(env or {}),
    }
    command = [sys.executable, "-m", "uvicorn", "hub.app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    command += ["--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(command, env=env)
    try:
        yield f"http://127.0.0.1:{port}", server
    finally:
        server.terminate()
        server.wait(timeout=30)


async def sign_in(base: str) -> tuple[str, str]:
    """Wait (bounded) for the server, sign in as the demo's main user: (token, client id)."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for _ in range(100):
            try:
                if (await client.get("/health")).status_code == 200:
                    break
            except httpx.TransportError:
                await asyncio.sleep(0.2)
        variables = {"l": DEMO_MAIN_EMAIL, "p": DEMO_PASSWORD}
        login = await client.post("/graphql", json={"query": LOGIN, "variables": variables})
        token = login.json()["data"]["login"]["token"]
        viewer = await client.post(
            "/graphql",
            headers={"Authorization": f"Bearer {token}"},
            json={"query": "{ viewer { clients { client { id } } } }"},
        )
    return token, viewer.json()["data"]["viewer"]["clients"][0]["client"]["id"]


async def drive(
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
