"""Benchmark against a peer: LeaseHub and PostGraphile 4.14 over the same PostgreSQL database.

Loads LeaseHub's demo (2,000 clients by default) into a throwaway PostgreSQL cluster (or
DATABASE_URL when given), serves LeaseHub (one process, production settings) and PostGraphile
(one node process, unauthenticated, the database owner's role) on 127.0.0.1, and asks both the
same questions: (a) one client → its contracts → instalments + invoices, (b) 20 clients (a staff
viewer in LeaseHub) → the same, (c) one client, 5 fields, plus (d) LeaseHub's full dashboard,
which PostGraphile has no equivalent of. Before measuring, each pair's answers are compared
value by value (ids, money as decimals, list order normalised); any difference stops the run.

The load generator is autocannon (bench/peer/load.js): 8 keep-alive connections, a bounded time
per round, two interleaved rounds, every answer checked against the expected body. For each side
it prints req/s, p50 and p99 latency and the server's CPU ms per request (utime + stime of its
process tree from /proc, before and after each round), plus PostgreSQL's, in one table.

`--servers` measures LeaseHub under uvicorn and under granian the same way instead (item 5 of
issue 10: `leasehub serve` uses the faster by default).

PostGraphile and autocannon come from the npm registry, pinned by bench/peer/package-lock.json,
installed with `npm ci` into bench/peer/node_modules on first use. Needs Node.js and npm.
Run: `make bench-peer` or `.venv/bin/python -m bench.peer --help`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
from sqlalchemy.engine import make_url

from bench.common import LOGIN, ONE_CLIENT, SERVERS, database, prepare, running, served
from bench.dashboard import DASHBOARD
from hub.cli import DEFAULT_SERVER
from hub.demo import DEMO_MAIN_EMAIL, DEMO_PASSWORD, DEMO_STAFF_EMAIL
from tests.pg import free_port

PEER_DIR = Path(__file__).parent / "peer"
TICKS = os.sysconf("SC_CLK_TCK")

# Page sizes of the nested lists: the same on both sides, and (b) within LeaseHub's query cost
# budget (LEASEHUB_MAX_QUERY_COST: fields × `first` of the lists around them).
CONTRACTS, INVOICES, CLIENTS = 20, 12, 20

_LH_CONTRACT = f"""contracts(first: {CONTRACTS}) {{ nodes {{ id number kind status startDate endDate
    schedule {{ id number dueDate capital {{ amount }} interest {{ amount }} gross {{ amount }}
      remainingCapital {{ amount }} }}
    invoices(first: {INVOICES}) {{ nodes {{ id number issueDate dueDate gross {{ amount }} }} }}
  }} }}"""
_PG_CONTRACT = f"""contracts: contractsByClientId(first: {CONTRACTS},
    orderBy: [START_DATE_DESC, ID_DESC]) {{ nodes {{ id number kind status startDate endDate
    schedule: instalmentsByContractIdList(orderBy: [NUMBER_ASC]) {{ id number dueDate capital
      interest gross remainingCapital }}
    invoices: invoicesByContractId(first: {INVOICES}, orderBy: [ISSUE_DATE_DESC, ID_DESC]) {{
      nodes {{ id number issueDate dueDate gross }} }}
  }} }}"""

LH_CLIENT_DEEP = f"query($id: ID!) {{ client(id: $id) {{ id number name {_LH_CONTRACT} }} }}"
PG_CLIENT_DEEP = (
    f"query($id: Int!) {{ client: clientById(id: $id) {{ id number name {_PG_CONTRACT} }} }}"
)
LH_CLIENTS_DEEP = (
    f"{{ admin {{ clients(first: {CLIENTS}) {{ nodes {{ id number name {_LH_CONTRACT} }} }} }} }}"
)
PG_CLIENTS_DEEP = (
    f"{{ clients: allClients(first: {CLIENTS}, orderBy: [NAME_ASC, ID_ASC]) {{ nodes {{ id number "
    f"name {_PG_CONTRACT} }} }} }}"
)
PG_ONE_CLIENT = (
    "query($id: Int!) { client: clientById(id: $id) { id number name nip regon einvoiceEmail } }"
)
# PostGraphile gives NUMERIC columns as strings: the money fields the queries ask for.
DECIMAL_FIELDS = frozenset({"capital", "interest", "gross", "remainingCapital"})


@dataclass
class Query:
    key: str
    title: str
    # The GraphQL request of each side ("lh" and "pg"; None: no equivalent) and where in the
    # answer's `data` the compared value sits.
    lh: dict[str, Any]
    pg: dict[str, Any] | None
    lh_path: tuple[str, ...]
    pg_path: tuple[str, ...] = ()
    staff: bool = False


@dataclass
class Target:
    """One server under test: how to reach it, how to ask it, which processes to count."""

    name: str
    url: str
    pid: int
    side: str  # "lh" or "pg": which request of a Query it answers
    headers: dict[str, str] = field(default_factory=dict)
    staff_headers: dict[str, str] = field(default_factory=dict)

    def headers_for(self, query: Query) -> dict[str, str]:
        base = {"Content-Type": "application/json"}
        return {**base, **(self.staff_headers if query.staff else self.headers)}


@dataclass
class Measured:
    answers: int = 0
    seconds: float = 0.0
    cpu: float = 0.0
    db_cpu: float | None = 0.0
    times: list[float] = field(default_factory=list)
    size: int = 0

    def add(self, answers: int, seconds: float, cpu: float, db_cpu: float | None) -> None:
        self.answers += answers
        self.seconds += seconds
        self.cpu += cpu
        self.db_cpu = None if db_cpu is None or self.db_cpu is None else self.db_cpu + db_cpu

    @property
    def rate(self) -> float:
        return self.answers / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.times)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else 0.0

    def cpu_ms(self, seconds: float | None) -> str:
        if seconds is None or not self.answers:
            return "–"
        return f"{seconds * 1000 / self.answers:.2f}"


# --- processes and CPU ------------------------------------------------------------------------


def _proc_stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a live process, from /proc/<pid>/stat: its own utime +
    stime and its reaped children's (cutime + cstime: PostgreSQL's ended backends and
    autovacuum workers, a server's ended workers)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # after "pid (comm) ": state, ppid, …
    return int(fields[1]), sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICKS


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by a process and all its descendants (a server's workers)."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _proc_stat(int(entry))) is not None:
            stats[int(entry)] = stat
    children: dict[int, list[int]] = {}
    for child, (parent, _) in stats.items():
        children.setdefault(parent, []).append(child)
    total, todo, seen = 0.0, [pid], set()
    while todo:
        current = todo.pop()
        if current in seen or current not in stats:
            continue
        seen.add(current)
        total += stats[current][1]
        todo.extend(children.get(current, []))
    return total


async def postmaster_pid(url: str, *, quiet: bool) -> int | None:
    """PostgreSQL's postmaster when it runs on this machine (its backends are its children).
    `quiet`: stop logging every statement (the throwaway cluster does, for the tests): the hub
    sends more statements per request than PostGraphile, so the log would weigh on its side."""
    try:
        connection = await asyncpg.connect(_libpq_url(url))
        try:
            if quiet:
                await connection.execute("ALTER SYSTEM SET log_statement = 'none'")
                await connection.execute("SELECT pg_reload_conf()")
            data = await connection.fetchval("SHOW data_directory")
        finally:
            await connection.close()
        return int((Path(data) / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, asyncpg.PostgresError):
        return None


def _libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# --- PostGraphile and the load generator ------------------------------------------------------


def install_peer() -> None:
    """`npm ci` from the committed lock file, when bench/peer/node_modules is missing or stale."""
    if not (shutil.which("node") and shutil.which("npm")):
        raise SystemExit("bench.peer needs Node.js and npm (Debian: apt-get install nodejs npm)")
    installed = PEER_DIR / "node_modules" / ".package-lock.json"
    lock = PEER_DIR / "package-lock.json"
    if installed.exists() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return
    print("npm ci: PostGraphile and autocannon into bench/peer/node_modules …", flush=True)
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=PEER_DIR,
        check=True,
        timeout=600,
    )


@contextmanager
def postgraphile(url: str, log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """PostGraphile 4 on 127.0.0.1: one node process, no query log, JIT off like the hub."""
    port = free_port()
    command = [str(PEER_DIR / "node_modules" / ".bin" / "postgraphile")]
    command += ["-c", _libpq_url(url), "--schema", "public", "--simple-collections", "both"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--disable-query-log"]
    command += ["--disable-graphiql"]
    env = {**os.environ, "NODE_ENV": "production", "PGOPTIONS": "-c jit=off"}
    with running(command, env=env, log=log) as process:
        yield f"http://127.0.0.1:{port}", process


def load_round(
    target: Target,
    query: Query,
    expected: str,
    *,
    connections: int,
    seconds: float,
    warm_up: bool = False,
) -> tuple[int, float, list[float]]:
    """One autocannon round: (answers, seconds, response times in ms). Fails on any error,
    non-2xx answer or answer that differs from `expected`, and on none at all but in warm-up."""
    request = query.lh if target.side == "lh" else query.pg
    with tempfile.TemporaryDirectory(prefix="leasehub-peer-") as scratch:
        settings_file = Path(scratch) / "settings.json"
        times_file = Path(scratch) / "times.json"
        settings = {
            "url": f"{target.url}/graphql",
            "headers": target.headers_for(query),
            "body": json.dumps(request),
            "expectBody": expected,
            "connections": connections,
            "seconds": seconds,
            "timesFile": str(times_file),
        }
        settings_file.write_text(json.dumps(settings))
        done = subprocess.run(
            ["node", str(PEER_DIR / "load.js"), str(settings_file)],
            capture_output=True,
            text=True,
            check=False,
            timeout=seconds + 120,
        )
        if done.returncode != 0:
            raise SystemExit(f"load generator failed for {target.name}: {done.stderr}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        times = json.loads(times_file.read_text())
    faults = {k: result[k] for k in ("non2xx", "errors", "timeouts", "mismatches") if result[k]}
    if faults or not (result["answers"] or warm_up):
        raise SystemExit(f"{target.name}, query {query.key}: bad answers under load: {result}")
    return int(result["answers"]), float(result["seconds"]), times


def log_summary(name: str, log: Path) -> str:
    """What a server wrote while measured. A round ends with requests in flight, so LeaseHub
    logs a few `ClientDisconnect` tracebacks; anything else is worth reading."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    raised: list[str] = []
    in_traceback = False
    for line in lines:
        if line.startswith("Traceback (most recent call last)"):
            in_traceback = True
        elif in_traceback and not line.startswith(" "):
            raised.append(line.strip())
            in_traceback = False
    disconnects = sum(1 for line in raised if line.endswith("ClientDisconnect"))
    others = len(raised) - disconnects
    text = f"{name}: {len(lines)} log lines, {disconnects} client-disconnect tracebacks"
    if others:
        text += f", {others} OTHER tracebacks ({raised[-1]}): read {log}"
    return text


# --- answers compared value by value ---------------------------------------------------------


def _pk(global_id: str) -> int:
    """The row id in a LeaseHub global id (base64 of "Type:pk")."""
    raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    return int(raw.partition(":")[2])


def _decimal(value: Any) -> str:
    return format(Decimal(str(value)).normalize(), "f")


def normalise(value: Any, *, side: str, key: str = "") -> Any:
    """Comparable form: ids as row ids, money as decimal strings, `nodes` lists unwrapped from
    their connection, lists of objects sorted by id (then number)."""
    if isinstance(value, dict):
        if set(value) == {"amount"}:  # LeaseHub's Money
            return _decimal(value["amount"])
        if set(value) == {"nodes"}:  # a connection of either side
            return normalise(value["nodes"], side=side, key=key)
        return {k: normalise(v, side=side, key=k) for k, v in value.items()}
    if isinstance(value, list):
        items = [normalise(v, side=side, key=key) for v in value]
        if items and all(isinstance(i, dict) for i in items):
            items.sort(key=lambda i: (i.get("id", 0), str(i.get("number", ""))))
        return items
    if key == "id" and side == "lh" and isinstance(value, str):
        return _pk(value)
    if key in DECIMAL_FIELDS and value is not None:
        return _decimal(value)
    return value


def first_difference(left: Any, right: Any, path: str = "") -> str | None:
    if isinstance(left, dict) and isinstance(right, dict):
        if set(left) != set(right):
            return f"{path or '.'}: fields {sorted(left)} ≠ {sorted(right)}"
        for key in left:
            found = first_difference(left[key], right[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            return f"{path}: {len(left)} ≠ {len(right)} items"
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            found = first_difference(a, b, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if left == right else f"{path}: {left!r} ≠ {right!r}"


def _dig(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


def _count_rows(value: Any) -> int:
    if isinstance(value, list):
        return sum(_count_rows(v) for v in value)
    if isinstance(value, dict):
        return 1 + sum(_count_rows(v) for v in value.values() if isinstance(v, list | dict))
    return 0


async def answer(target: Target, query: Query) -> str:
    """One answer's exact body; fails on an HTTP error or a GraphQL error."""
    request = query.lh if target.side == "lh" else query.pg
    async with httpx.AsyncClient(base_url=target.url, timeout=60) as client:
        response = await client.post(
            "/graphql", content=json.dumps(request), headers=target.headers_for(query)
        )
    body = response.json()
    if response.status_code != 200 or body.get("errors") or not body.get("data"):
        raise SystemExit(f"{target.name}, query {query.key}: {response.status_code} {body}")
    return response.text


async def check_pair(query: Query, targets: list[Target]) -> dict[str, str]:
    """Every target's exact answer to `query`, after checking they carry the same values."""
    bodies = {t.name: await answer(t, query) for t in targets if _asks(t, query)}
    compared = [
        (t.name, normalise(_dig(json.loads(bodies[t.name])["data"], _path(t, query)), side=t.side))
        for t in targets
        if _asks(t, query)
    ]
    (first_name, first), *others = compared
    for name, other in others:
        difference = first_difference(first, other)
        if difference:
            raise SystemExit(
                f"query {query.key}: {first_name} and {name} answer differently at {difference}"
            )
    rows = _count_rows(first)
    sizes = ", ".join(f"{name} {len(body) / 1024:.1f} kB" for name, body in bodies.items())
    same = "same values" if others else "no peer"
    costs = {
        json.dumps(cost)
        for body in bodies.values()
        if (cost := json.loads(body).get("extensions", {}).get("cost"))
    }
    priced = f"; LeaseHub's query cost {', '.join(costs)}" if costs else ""
    print(f"  ({query.key}) {query.title}: {rows} objects, {same}; {sizes}{priced}", flush=True)
    return bodies


def _asks(target: Target, query: Query) -> bool:
    return (query.lh if target.side == "lh" else query.pg) is not None


def _path(target: Target, query: Query) -> tuple[str, ...]:
    return query.lh_path if target.side == "lh" else query.pg_path


# --- the run -----------------------------------------------------------------------------------


async def _sign_in(base: str, email: str) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for _ in range(150):  # bounded: 30 s for the server to come up
            try:
                if (await client.get("/health")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
        else:
            raise SystemExit(f"LeaseHub at {base} did not come up")
        body = {"query": LOGIN, "variables": {"l": email, "p": DEMO_PASSWORD}}
        login = await client.post("/graphql", json=body)
    return str(login.json()["data"]["login"]["token"])


async def _wait_graphql(base: str, name: str) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for _ in range(300):  # bounded: 60 s (PostGraphile introspects the database first)
            try:
                answer = await client.post("/graphql", json={"query": "{ __typename }"})
                if answer.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit(f"{name} at {base} did not come up")


async def lh_target(name: str, base: str, pid: int) -> tuple[Target, str]:
    """A LeaseHub server with its main demo user and staff signed in; (target, client id)."""
    token = await _sign_in(base, DEMO_MAIN_EMAIL)
    staff = await _sign_in(base, DEMO_STAFF_EMAIL)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        viewer = await client.post(
            "/graphql", headers=headers, json={"query": "{ viewer { clients { client { id } } } }"}
        )
    client_id = str(viewer.json()["data"]["viewer"]["clients"][0]["client"]["id"])
    target = Target(
        name, base, pid, "lh", headers=headers, staff_headers={"Authorization": f"Bearer {staff}"}
    )
    return target, client_id


def queries(client_id: str, *, peer: bool) -> list[Query]:
    lh_vars, pg_vars = {"id": client_id}, {"id": _pk(client_id)}

    def pg(text: str, variables: dict[str, Any] | None = None) -> dict[str, Any] | None:
        if not peer:
            return None
        return {"query": text, "variables": variables} if variables else {"query": text}

    return [
        Query(
            "a",
            "one client → contracts → instalments + invoices",
            {"query": LH_CLIENT_DEEP, "variables": lh_vars},
            pg(PG_CLIENT_DEEP, pg_vars),
            ("client",),
            ("client",),
        ),
        Query(
            "b",
            f"{CLIENTS} clients (staff) → the same",
            {"query": LH_CLIENTS_DEEP},
            pg(PG_CLIENTS_DEEP),
            ("admin", "clients"),
            ("clients",),
            staff=True,
        ),
        Query(
            "c",
            "one client, 5 fields",
            {"query": ONE_CLIENT, "variables": lh_vars},
            pg(PG_ONE_CLIENT, pg_vars),
            ("client",),
            ("client",),
        ),
        Query(
            "d",
            "LeaseHub's full dashboard",
            {"query": DASHBOARD, "variables": lh_vars},
            None,
            ("client",),
        ),
    ]


def measure(
    targets: list[Target],
    query_list: list[Query],
    args: argparse.Namespace,
    postmaster: int | None,
) -> dict[tuple[str, str], Measured]:
    results: dict[tuple[str, str], Measured] = {}
    expected: dict[str, dict[str, str]] = {}
    print("answers compared:", flush=True)
    for query in query_list:
        expected[query.key] = asyncio.run(check_pair(query, targets))
    print(
        f"warm-up: {args.warmup:g} s per query and server; then {args.rounds} interleaved rounds "
        f"of {args.seconds:g} s, {args.connections} connections",
        flush=True,
    )
    for query in query_list:
        for target in targets:
            if _asks(target, query):
                body = expected[query.key][target.name]
                load_round(
                    target,
                    query,
                    body,
                    connections=args.connections,
                    seconds=args.warmup,
                    warm_up=True,
                )
    for round_number in range(1, args.rounds + 1):
        order = targets if round_number % 2 else list(reversed(targets))
        for query in query_list:
            for target in order:
                if not _asks(target, query):
                    continue
                body = expected[query.key][target.name]
                cpu_before = tree_cpu_seconds(target.pid)
                db_before = tree_cpu_seconds(postmaster) if postmaster else None
                answers, seconds, times = load_round(
                    target, query, body, connections=args.connections, seconds=args.seconds
                )
                cpu = tree_cpu_seconds(target.pid) - cpu_before
                db_cpu = None
                if postmaster and db_before is not None:
                    db_cpu = tree_cpu_seconds(postmaster) - db_before
                result = results.setdefault((query.key, target.name), Measured(size=len(body)))
                result.add(answers, seconds, cpu, db_cpu)
                result.times.extend(times)
                print(
                    f"  round {round_number}, ({query.key}) {target.name}: "
                    f"{answers / seconds:.1f} req/s, p50 {statistics.median(times):.1f} ms, "
                    f"CPU {cpu * 1000 / answers:.2f} ms/req",
                    flush=True,
                )
    return results


def table(
    targets: list[Target], query_list: list[Query], results: dict[tuple[str, str], Measured]
) -> list[str]:
    """One Markdown table, a row per query and server: answer size, req/s, p50 and p99, CPU
    ms per request of the server and of PostgreSQL, and the ratio of the second server's req/s
    to the first's (LeaseHub / PostGraphile, granian / uvicorn)."""
    first, second = (t.name for t in targets)
    lines = [
        "| query | server | answer kB | req/s | p50 ms | p99 ms | CPU ms/req "
        f"| PostgreSQL CPU ms/req | req/s {second} / {first} |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for query in query_list:
        title = f"({query.key}) {query.title}"
        base = results.get((query.key, first))
        for target in targets:
            m = results.get((query.key, target.name))
            if m is None:
                continue
            ratio = f"{m.rate / base.rate:.2f}" if target.name == second and base else ""
            cells = [
                title,
                target.name,
                f"{m.size / 1024:.1f}",
                f"{m.rate:,.1f}",
                f"{m.percentile(0.5):.1f}",
                f"{m.percentile(0.99):.1f}",
                m.cpu_ms(m.cpu),
                m.cpu_ms(m.db_cpu),
                ratio,
            ]
            lines.append("| " + " | ".join(cells) + " |")
            title = ""
    return lines


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({model}), {platform.system()} {platform.release()}"


def _versions() -> str:
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False)
    found = []
    for package in ("postgraphile", "autocannon"):
        meta = PEER_DIR / "node_modules" / package / "package.json"
        found.append(f"{package} {json.loads(meta.read_text())['version']}")
    return f"Node.js {node.stdout.strip()}, " + ", ".join(found)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=2000, help="demo clients (default 2000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of a round")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds per query and server")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="LeaseHub server processes")
    parser.add_argument(
        "--server",
        choices=SERVERS,
        default=DEFAULT_SERVER,
        help=f"LeaseHub's server against PostGraphile (default: {DEFAULT_SERVER}, as serve)",
    )
    parser.add_argument(
        "--servers",
        action="store_true",
        help="measure LeaseHub under uvicorn against granian instead of against PostGraphile",
    )
    parser.add_argument("--only", default="abcd", help="the queries to run, e.g. --only ac")
    args = parser.parse_args()
    if not (0 < args.seconds <= 600 and 1 <= args.rounds <= 10 and 0 <= args.warmup <= 60):
        parser.error("keep it bounded: 0 < --seconds ≤ 600, 1 ≤ --rounds ≤ 10, --warmup ≤ 60")

    install_peer()
    logs = Path(tempfile.mkdtemp(prefix="leasehub-peer-logs-"))
    print(f"server logs in {logs}", flush=True)
    with database() as url, ExitStack() as stack:
        asyncio.run(prepare(url, args.clients))
        throwaway = not os.environ.get("DATABASE_URL")
        postmaster = asyncio.run(postmaster_pid(url, quiet=throwaway))
        targets: list[Target] = []
        client_id = ""
        lh_servers = list(SERVERS) if args.servers else [args.server]
        for server in lh_servers:
            log = logs / f"leasehub-{server}.log"
            base, process = stack.enter_context(
                served(url, workers=args.workers, server=server, log=log)
            )
            name = server if args.servers else "LeaseHub"
            target, client_id = asyncio.run(lh_target(name, base, process.pid))
            targets.append(target)
        if not args.servers:
            base, process = stack.enter_context(postgraphile(url, logs / "postgraphile.log"))
            asyncio.run(_wait_graphql(base, "PostGraphile"))
            targets.insert(0, Target("PostGraphile", base, process.pid, "pg"))
        selected = [q for q in queries(client_id, peer=not args.servers) if q.key in args.only]
        load_before = os.getloadavg()[0]
        results = measure(targets, selected, args, postmaster)
        load_after = os.getloadavg()[0]
        lines = table(targets, selected, results)

    print(
        f"\n{time.strftime('%Y-%m-%d')}: {args.clients} demo clients on PostgreSQL, "
        f"{args.connections} connections, {args.rounds} × {args.seconds:g} s per query and "
        f"server, LeaseHub {args.workers} process(es) under "
        f"{'uvicorn and granian' if args.servers else args.server}; {machine()}; {_versions()}"
    )
    print(
        "CPU ms/req: utime + stime of the server's processes (PostgreSQL's: the postmaster and "
        "its backends) over the rounds, divided by the answers. Load average (1 min) before "
        f"the rounds {load_before:.1f}, after {load_after:.1f}: more than 3 means other work "
        "shared the cores."
    )
    print("\n".join(lines))
    print("\n".join(log_summary(path.stem, path) for path in sorted(logs.glob("*.log"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
