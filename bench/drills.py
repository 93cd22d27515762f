"""Fault drills: what clients see when the database or the machine is under stress.

Four drills, each bounded in time and in requests, against the hub under uvicorn on 127.0.0.1:

a. SQLite: 8 writers (API tokens created, profile updates) and logins at once;
b. PostgreSQL restarted (`pg_ctl restart`) while requests come at 10 per second;
c. a request pool of 5 and 50 concurrent table exports (refused ones retried after
   Retry-After), while `/health` is probed;
d. a 100,000-row XLSX pull during a burst of logins.

Each prints the errors clients saw (count and codes), the rows lost (acknowledged writes or
exported rows missing: must be 0) and the light query's (`client(id) {…}`) p50/p95 against the
idle server. Run: `make drills` (`python -m bench.drills --only a,d --seconds 10 --rows 20000`).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import itertools
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from auth.tokens import hash_secret
from bench.common import LOGIN, ONE_CLIENT, prepare, served, sign_in
from bench.tables import grow
from hub.db import make_engine
from hub.demo import DEMO_MAIN_EMAIL, DEMO_PASSWORD, DEMO_STAFF_EMAIL, DEMO_SUB_EMAIL
from models.identity import AuthToken
from resolvers.ids import from_global_id
from tests.pg import Cluster

NEW_API_KEY = """mutation($c: ID!, $n: String!) {
  apiTokenCreate(input: {clientId: $c, name: $n}) { token errors { code } } }"""
PROFILE_UPDATE = """mutation($p: String!) {
  profileUpdate(input: {phone: $p}) { errors { code } } }"""
TABLE_URL = """query($id: ID!, $f: TableFormat!) { client(id: $id) {
  invoicesTableUrl(format: $f) invoices(first: 1) { totalCount } } }"""
VIEWER = "{ viewer { clients { client { id } } } }"
PEOPLE = (DEMO_MAIN_EMAIL, DEMO_SUB_EMAIL, DEMO_STAFF_EMAIL)
LIGHT_EVERY = 0.1  # seconds between light queries: a steady 10 per second
MAX_REQUESTS = 20_000  # per drill, whatever the duration


def outcome(response: httpx.Response) -> str:
    """`ok`, or what the client was told: a code, else a message, else the HTTP status."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    errors = body.get("errors") or []
    if not errors:  # a mutation's own errors count too
        data = body.get("data") or {}
        payload = next(iter(data.values()), None) if isinstance(data, dict) else None
        errors = (payload or {}).get("errors") or [] if isinstance(payload, dict) else []
    if response.status_code == 200 and not errors:
        return "ok"
    if not errors:
        return f"HTTP {response.status_code}"
    first = errors[0]
    return str(first.get("code") or first.get("extensions", {}).get("code") or first["message"])


@dataclass
class Tally:
    """What clients saw, and how long the light queries took."""

    seen: Counter[str] = field(default_factory=Counter)
    light: list[float] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)  # secrets the server handed out

    @property
    def requests(self) -> int:
        return sum(self.seen.values())

    def errors(self) -> str:
        bad = {code: n for code, n in self.seen.items() if code != "ok"}
        total = sum(bad.values())
        return f"{total}" + (f" ({', '.join(f'{c} ×{n}' for c, n in bad.items())})" if bad else "")


def percentiles(latencies: list[float]) -> tuple[float, float]:
    """p50 and p95 in milliseconds."""
    if len(latencies) < 2:
        return float("nan"), float("nan")
    cuts = statistics.quantiles(latencies, n=100)
    return cuts[49] * 1000, cuts[94] * 1000


class Hub:
    """One client connection pool to the served hub, signed in as the demo's main user."""

    def __init__(self, base: str, token: str, client_id: str) -> None:
        self.base, self.token, self.client_id = base, token, client_id
        limits = httpx.Limits(max_connections=100)
        self.http = httpx.AsyncClient(base_url=base, timeout=120, limits=limits)

    async def gql(self, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        payload = {"query": query, "variables": variables}
        return await self.http.post("/graphql", json=payload, headers=headers)

    async def light(self, tally: Tally) -> None:
        started = time.perf_counter()
        try:
            response = await self.gql(ONE_CLIENT, {"id": self.client_id})
        except httpx.TransportError as error:
            tally.seen[type(error).__name__] += 1
            return
        seen = outcome(response)
        tally.seen[seen] += 1
        if seen == "ok":
            tally.light.append(time.perf_counter() - started)

    async def login(self, tally: Tally, email: str) -> None:
        variables = {"l": email, "p": DEMO_PASSWORD}
        response = await self.http.post("/graphql", json={"query": LOGIN, "variables": variables})
        seen = outcome(response)
        tally.seen[seen] += 1
        if seen == "ok":
            tally.acknowledged.append(response.json()["data"]["login"]["token"])

    async def create_token(self, tally: Tally, name: str) -> None:
        response = await self.gql(NEW_API_KEY, {"c": self.client_id, "n": name})
        seen = outcome(response)
        tally.seen[seen] += 1
        if seen == "ok":
            tally.acknowledged.append(response.json()["data"]["apiTokenCreate"]["token"])

    async def close(self) -> None:
        await self.http.aclose()


async def _hub(base: str) -> Hub:
    token, client_id = await sign_in(base)
    return Hub(base, token, client_id)


async def until(deadline: float, tally: Tally, step: Callable[[], Awaitable[None]]) -> None:
    """`step` again and again until the deadline (or the drill's request bound)."""
    while time.perf_counter() < deadline and tally.requests < MAX_REQUESTS:
        await step()


async def paced_light(hub: Hub, tally: Tally, stop: asyncio.Event) -> None:
    """A light query every LIGHT_EVERY seconds until `stop`, each timed on its own."""
    while not stop.is_set() and tally.requests < MAX_REQUESTS:
        tick = asyncio.create_task(asyncio.sleep(LIGHT_EVERY))
        await hub.light(tally)
        await tick


async def idle(hub: Hub, seconds: float = 3) -> tuple[float, float]:
    tally, stop = Tally(), asyncio.Event()
    asyncio.get_running_loop().call_later(seconds, stop.set)
    await paced_light(hub, tally, stop)
    return percentiles(tally.light)


async def missing_tokens(url: str, secrets: list[str]) -> int:
    """Acknowledged secrets (sessions, API tokens) without their row: rows lost."""
    hashes = {hash_secret(secret) for secret in secrets}
    engine, found = make_engine(url), set()
    async with engine.connect() as connection:
        chunk = list(hashes)
        for start in range(0, len(chunk), 500):
            query = sa.select(AuthToken.token_hash).where(
                AuthToken.token_hash.in_(chunk[start : start + 500])  # type: ignore[attr-defined]
            )
            found |= set((await connection.execute(query)).scalars())
    await engine.dispose()
    return len(hashes - found)


def report(name: str, tally: Tally, lost: int, idle_p: tuple[float, float], extra: str) -> str:
    p50, p95 = percentiles(tally.light)
    line = (
        f"| {name} | {tally.requests} | {tally.errors()} | {lost} | {p50:.0f} / {p95:.0f} ms "
        f"| {idle_p[0]:.0f} / {idle_p[1]:.0f} ms | {extra} |"
    )
    print(line, flush=True)
    return line


# a. SQLite: 8 writers with logins


async def sqlite_writers(seconds: float) -> str:
    folder = Path(tempfile.mkdtemp(prefix="leasehub-drill-"))
    try:
        return await _sqlite_writers(f"sqlite+aiosqlite:///{folder / 'drill.db'}", seconds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def _sqlite_writers(url: str, seconds: float) -> str:
    await prepare(url, 3)
    with served(url) as (base, _server):
        hub = await _hub(base)
        baseline = await idle(hub)
        tally, stop = Tally(), asyncio.Event()
        deadline = time.perf_counter() + seconds
        names = itertools.count()

        async def writer(number: int) -> None:
            while time.perf_counter() < deadline and tally.requests < MAX_REQUESTS:
                await hub.create_token(tally, f"drill-{number}-{next(names)}")
                phone = f"+48 601 {number:03d} {next(names) % 1000:03d}"
                response = await hub.gql(PROFILE_UPDATE, {"p": phone})
                tally.seen[outcome(response)] += 1

        async def logins(offset: int) -> None:
            people = itertools.cycle(PEOPLE[offset:] + PEOPLE[:offset])
            await until(deadline, tally, lambda: hub.login(tally, next(people)))

        light = asyncio.create_task(paced_light(hub, tally, stop))
        await asyncio.gather(*(writer(n) for n in range(8)), logins(0), logins(1))
        stop.set()
        await light
        await hub.close()
    lost = await missing_tokens(url, tally.acknowledged)
    extra = f"{len(tally.acknowledged)} sessions and API tokens acknowledged"
    return report("a. SQLite, 8 writers + logins", tally, lost, baseline, extra)


# b. PostgreSQL restart at 10 requests per second


async def postgres_restart(cluster: Cluster, url: str, seconds: float) -> str:
    with served(url) as (base, _server):
        hub = await _hub(base)
        baseline = await idle(hub)
        tally, names, running = Tally(), itertools.count(), []
        started = time.perf_counter()
        restarted: asyncio.Task[None] | None = None
        for tick in range(int(seconds * 10)):  # one request each 100 ms, answered or not
            if restarted is None and time.perf_counter() - started > seconds / 3:
                restarted = asyncio.create_task(asyncio.to_thread(cluster.restart))
            step = hub.light(tally) if tick % 2 else hub.create_token(tally, f"r-{next(names)}")
            running.append(asyncio.create_task(step))
            await asyncio.sleep(0.1)
        await asyncio.gather(*running)
        if restarted is not None:
            await restarted
        await hub.close()
    lost = await missing_tokens(url, tally.acknowledged)
    extra = f"restart after {seconds / 3:.0f} s; {len(tally.acknowledged)} writes acknowledged"
    return report("b. PostgreSQL restart, 10 req/s", tally, lost, baseline, extra)


# c. A pool of 5 and 50 concurrent exports


async def export(hub: Hub, token: str, fmt: str, deadline: float, refusals: Counter[str]) -> int:
    """One export, retried after Retry-After while refused: its data rows short of the list's
    total (0 when whole), or -1 when it never came."""
    body = (await hub.gql(TABLE_URL, {"id": hub.client_id, "f": fmt}, token=token)).json()
    client = body["data"]["client"]
    while time.perf_counter() < deadline:
        response = await hub.http.get(client["invoicesTableUrl"])
        if response.status_code in (429, 503):
            refusals[f"{response.status_code} {response.json()['code']}"] += 1
            await asyncio.sleep(float(response.headers["retry-after"]))
            continue
        if response.status_code != 200:
            refusals[f"HTTP {response.status_code}"] += 1
            return -1
        rows = _xlsx_rows(response.content) if fmt == "XLSX" else _csv_rows(response.text)
        return int(client["invoices"]["totalCount"]) - (rows - 1)
    return -1


async def health_probe(hub: Hub, stop: asyncio.Event, seen: Counter[str]) -> list[float]:
    waits = []
    while not stop.is_set():
        started = time.perf_counter()
        response = await hub.http.get("/health")
        waits.append(time.perf_counter() - started)
        seen[str(response.status_code)] += 1
        await asyncio.sleep(0.25)
    return waits


async def pool_and_exports(url: str, seconds: float) -> str:
    with served(url, env={"LEASEHUB_DB_POOL_SIZE": "5"}) as (base, _server):
        hub = await _hub(base)
        baseline = await idle(hub)
        tokens = [hub.token]
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            for email in PEOPLE[1:]:
                variables = {"l": email, "p": DEMO_PASSWORD}
                login = await client.post("/graphql", json={"query": LOGIN, "variables": variables})
                tokens.append(login.json()["data"]["login"]["token"])
        tally, stop, health, refusals = Tally(), asyncio.Event(), Counter[str](), Counter[str]()
        light = asyncio.create_task(paced_light(hub, tally, stop))
        probe = asyncio.create_task(health_probe(hub, stop, health))
        deadline = time.perf_counter() + seconds * 4  # the time for all 50 to be served
        exports = [
            export(hub, tokens[n % len(tokens)], ("CSV", "XLSX")[n % 2], deadline, refusals)
            for n in range(50)
        ]
        short = await asyncio.gather(*exports)
        stop.set()
        await light
        health_waits = await probe
        await hub.close()
    served_count = sum(1 for s in short if s >= 0)
    lost = sum(s for s in short if s > 0)
    refused = ", ".join(f"{code} ×{n}" for code, n in refusals.items()) or "none"
    extra = (
        f"{served_count}/50 exports whole; refused and retried: {refused}; /health "
        f"{dict(health)} in ≤ {max(health_waits) * 1000:.0f} ms"
    )
    return report("c. pool of 5, 50 exports", tally, lost, baseline, extra)


# d. A 100,000-row XLSX pull during a login burst


def _csv_rows(text: str) -> int:
    return sum(1 for _ in csv.reader(io.StringIO(text)))


def _xlsx_rows(content: bytes) -> int:
    """Rows of the first sheet, header included, counted in its XML (no workbook loaded)."""
    with (
        zipfile.ZipFile(io.BytesIO(content)) as book,
        book.open("xl/worksheets/sheet1.xml") as xml,
    ):
        rows, tail = 0, b""
        for chunk in iter(lambda: xml.read(1 << 20), b""):
            text = tail + chunk  # a tag cut by the chunk's edge is counted with the next one
            rows += text.count(b"<row ")
            tail = text[-4:]  # too short to hold a whole tag: never counted twice
        return rows


async def pull_during_logins(url: str, rows: int, seconds: float) -> str:
    with served(url) as (base, _server):
        hub = await _hub(base)
        await grow(url, from_global_id(hub.client_id)[1], rows)
        baseline = await idle(hub)
        tally, stop = Tally(), asyncio.Event()
        light = asyncio.create_task(paced_light(hub, tally, stop))
        started = time.perf_counter()
        pull = asyncio.create_task(export(hub, hub.token, "XLSX", started + 600, Counter()))
        logins_until = started + seconds

        async def logins(offset: int) -> None:
            people = itertools.cycle(PEOPLE[offset:] + PEOPLE[:offset])
            await until(logins_until, tally, lambda: hub.login(tally, next(people)))

        await asyncio.gather(logins(0), logins(1), logins(2))
        burst = len(tally.light)  # light queries answered while logins ran; then the pull alone
        short = await pull
        took = time.perf_counter() - started
        stop.set()
        await light
        await hub.close()
    p95 = percentiles(tally.light)[1]
    during, alone = percentiles(tally.light[:burst])[1], percentiles(tally.light[burst:])[1]
    extra = (
        f"pull {took:.0f} s, {rows:,} rows, {'whole' if short == 0 else f'short by {short}'}; "
        f"{len(tally.acknowledged)} logins in the first {seconds:.0f} s; light p95 "
        f"{p95 / baseline[1]:.1f}× idle ({during:.0f} ms with logins, {alone:.0f} ms without)"
    )
    return report(f"d. {rows:,}-row XLSX + logins", tally, max(short, 0), baseline, extra)


@contextmanager
def cluster() -> Iterator[tuple[Cluster, str]]:
    """A throwaway PostgreSQL cluster on 127.0.0.1, and its database's URL."""
    instance = Cluster()
    try:
        yield instance, instance.start() + "/postgres"
    finally:
        instance.stop()


async def _postgres_drills(only: set[str], seconds: float, rows: int) -> list[str]:
    lines: list[str] = []
    with cluster() as (instance, url):
        await prepare(url, 3)
        if "b" in only:
            lines.append(await postgres_restart(instance, url, min(seconds, 15)))
        if "c" in only:
            lines.append(await pool_and_exports(url, seconds))
        if "d" in only:
            lines.append(await pull_during_logins(url, rows, seconds))
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default="a,b,c,d", help="which drills, e.g. a,d")
    parser.add_argument("--seconds", type=float, default=30, help="length of each drill")
    parser.add_argument("--rows", type=int, default=100_000, help="rows of drill d's pull")
    args = parser.parse_args()
    only = set(args.only.split(","))
    lines = [
        "| drill | requests | errors seen by clients | rows lost | light p50 / p95 "
        "| idle p50 / p95 | notes |",
        "|---|---|---|---|---|---|---|",
    ]
    if "a" in only:
        lines.append(asyncio.run(sqlite_writers(args.seconds)))
    if only & {"b", "c", "d"}:
        lines += asyncio.run(_postgres_drills(only, args.seconds, args.rows))
    print("\n" + "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
