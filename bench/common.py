"""What the benchmarks share: a throwaway database, the hub under uvicorn, a signed-in user."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from hub.cli import SERVERS
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


def server_command(server: str, port: int, workers: int) -> list[str]:
    """The command line serving the hub's app factory: uvicorn (httptools, uvloop) or granian
    (ASGI with its lifespan, uvloop, HTTP/1.1), as `leasehub serve --server` runs them (uvicorn
    without proxy headers: the hub reads X-Forwarded-For itself), but without uvicorn's access
    log (PostGraphile writes none either)."""
    if server not in SERVERS:
        raise ValueError(f"unknown server {server!r}: one of {', '.join(SERVERS)}")
    if server == "granian":
        command = [sys.executable, "-m", "granian", "--interface", "asgi", "--factory"]
        command += ["--loop", "uvloop", "--http", "1", "--no-ws", "--log-level", "warning"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
        return [*command, "hub.app:create_app"]
    command = [sys.executable, "-m", "uvicorn", "hub.app:create_app", "--factory"]
    command += ["--loop", "uvloop", "--http", "httptools"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    return [*command, "--no-proxy-headers", "--log-level", "warning", "--no-access-log"]


@contextmanager
def served(
    url: str,
    *,
    workers: int = 1,
    env: dict[str, str] | None = None,
    server: str = "uvicorn",
    log: Path | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The hub under `server` on 127.0.0.1 (production settings, `env` on top), and its
    process (granian's, and uvicorn's with several workers, supervises worker processes).
    `log`: the file its output goes to instead of this process's."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "LEASEHUB_ENV": "production",
        "LEASEHUB_SECRET_KEY": "bench-" + "x" * 40,
        "PORT": str(port),
        **(env or {}),
    }
    with running(server_command(server, port, workers), env=env, log=log) as process:
        yield f"http://127.0.0.1:{port}", process


@contextmanager
def running(
    command: list[str], *, env: dict[str, str], log: Path | None
) -> Iterator[subprocess.Popen[bytes]]:
    """A server process for the length of the block (output to `log` when given), then
    terminated and waited for."""
    with ExitStack() as files:
        output = files.enter_context(log.open("ab")) if log else None
        process = subprocess.Popen(command, env=env, stdout=output, stderr=output)
        try:
            yield process
        finally:
            process.terminate()
            process.wait(timeout=30)


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
