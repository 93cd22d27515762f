"""What each speed step bought: CPU ms per request of the peer benchmark's queries, per commit.

For every revision given (by default the steps of issue 10, see STEPS) the tree is exported with
`git archive` and measured in a process of its own over a PostgreSQL demo database of its own,
migrated and loaded by that tree with the same spec (an older tree cannot read what a newer one
stores: a document kind, a VAT category it does not know); the app is
driven in-process through httpx's ASGI transport with the server's GC tuning, a warm-up, then
`--requests` requests per query, and the CPU time of the process divided by the requests;
`--rounds` times, the steps interleaved, each step's least of the rounds reported. The
figure includes the in-process client's share (about 0.3 ms per request), the same for every
step; the server-only figures under load are `make bench-peer`'s.

Run: `make bench-steps` or `.venv/bin/python -m bench.steps [REV ...] [--requests N]
[--rounds N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# (label, revision): each step's last commit; "WORKTREE" is the checkout as it is.
STEPS: list[tuple[str, str]] = [
    ("before (GC frozen and tuned, JIT off)", "55852e7"),
    ("+ compiled execution path", "6430533"),
    ("+ Core rows, statements built once", "be0d4dd"),
    ("+ fields awaited together, leaf shortcut", "037b8d7"),
    ("+ cached authentication", "2b697a5"),
    ("+ fixed read pool, no pre-ping on batches", "2a4ebcc"),
    ("+ sync source-only resolvers called directly", "f27f2d8"),
    ("+ loader batches straight to asyncpg", "7e6b0f7"),
    ("+ cached token checked on a bare reader", "1aa9856"),
    ("+ synchronous subtrees serialised flat", "3cd5437"),
    ("+ flat calls inlined, usual scalars inline", "9fd18d6"),
    ("+ Money read from the row, not built", "11416ef"),
    ("+ issue 15: audit frame, access log, staff roles (features, not speed)", "c02a1c0"),
    ("+ query cost priced once per document", "f4eb204"),
    ("+ global ids kept, node type checks inline", "e781431"),
    ("+ raw rows converted by one generated comprehension", "382342e"),
    ("+ extension hooks entered as plain generators", "1000f65"),
    ("+ idle read connections kept between batches", "f0ecd17"),
    ("+ access log appended in one autocommitted statement", "56c28f6"),
    ("+ narrowed reads: only the columns a query reads", "26960b5"),
    # The next two share statements between requests that arrive together: one at a time, as
    # measured here, they change nothing; `make bench-peer` measures them under 8 connections.
    ("+ tokens arriving together confirmed by one statement", "6ef10b0"),
    ("+ reads by primary key shared by requests arriving together", "2679531"),
    ("+ fast lane: known queries without strawberry's view", "f0332a0"),
    ("+ GraphQL POSTs without Starlette's middleware layers", "1d1be0c"),
    ("now", "WORKTREE"),
]
QUERY_NAMES = (
    "one client → contracts → schedule + invoices",
    "20 clients (staff) → same",
    "one client, 5 fields",
    "portal dashboard",
)
LOGIN = "mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) { token } }"


def queries() -> list[dict[str, Any]]:
    """The LeaseHub side of `make bench-peer`'s queries, and who asks them."""
    from bench.common import ONE_CLIENT
    from bench.dashboard import DASHBOARD
    from bench.peer import LH_CLIENT_DEEP, LH_CLIENTS_DEEP

    asked = [
        (LH_CLIENT_DEEP, "main"),
        (LH_CLIENTS_DEEP, "staff"),
        (ONE_CLIENT, "main"),
        (DASHBOARD, "main"),
    ]
    return [
        {"name": name, "query": query, "as": who}
        for name, (query, who) in zip(QUERY_NAMES, asked, strict=True)
    ]


# -- the child: runs inside an exported tree ------------------------------------------------------


async def _measure(url: str, asked: list[dict[str, Any]], requests: int) -> dict[str, float]:
    import httpx

    from hub.app import create_app
    from hub.db import Database
    from hub.demo import DEMO_MAIN_EMAIL, DEMO_PASSWORD, DEMO_STAFF_EMAIL
    from hub.runtime import server_gc
    from hub.settings import Settings

    settings = Settings(LEASEHUB_ENV="test", DATABASE_URL=url)
    db = Database.from_settings(settings)
    app = create_app(settings, db=db)
    figures: dict[str, float] = {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        tokens = {}
        for who, email in (("main", DEMO_MAIN_EMAIL), ("staff", DEMO_STAFF_EMAIL)):
            body = {"query": LOGIN, "variables": {"l": email, "p": DEMO_PASSWORD}}
            answer = (await client.post("/graphql", json=body)).json()
            tokens[who] = answer["data"]["login"]["token"]
        mine = {"query": "{ viewer { clients { client { id } } } }"}
        headers = {"Authorization": f"Bearer {tokens['main']}"}
        viewer = (await client.post("/graphql", json=mine, headers=headers)).json()
        client_id = viewer["data"]["viewer"]["clients"][0]["client"]["id"]
        with server_gc(settings.gc_thresholds):
            for item in asked:
                headers = {"Authorization": f"Bearer {tokens[item['as']]}"}
                body = {"query": item["query"], "variables": {"id": client_id}}
                first = (await client.post("/graphql", json=body, headers=headers)).json()
                if first.get("errors"):
                    raise SystemExit(f"{item['name']}: {first['errors'][0]['message']}")
                for _ in range(max(5, requests // 10)):
                    await client.post("/graphql", json=body, headers=headers)
                cpu = time.process_time()
                for _ in range(requests):
                    await client.post("/graphql", json=body, headers=headers)
                figures[item["name"]] = (time.process_time() - cpu) * 1000 / requests
    await db.dispose()
    return figures


def child(url: str, asked_file: str, requests: int) -> None:
    asked = json.loads(Path(asked_file).read_text(encoding="utf-8"))
    print(json.dumps(asyncio.run(_measure(url, asked, requests))))


# -- the parent ---------------------------------------------------------------------------------


def export(revision: str, into: Path) -> Path:
    """The tree of `revision` (or the checkout as it is) as plain files under `into`."""
    if revision == "WORKTREE":
        return ROOT
    tree = into / revision
    tree.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def load(url: str, clients: int) -> None:
    """In the child: migrate and fill this step's database with this tree's own code."""
    from hub.db import make_engine
    from hub.demo import DemoSpec, load_demo
    from hub.migrate import upgrade

    async def fill() -> None:
        await asyncio.to_thread(upgrade, url)
        engine = make_engine(url)
        await load_demo(engine, DemoSpec(clients=clients, seed=2026))
        await engine.dispose()

    asyncio.run(fill())


def run_child(tree: Path, *arguments: str) -> str:
    """This file run inside `tree` (its modules first on the path); its standard output."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    command = [sys.executable, str(Path(__file__).resolve()), *arguments]
    done = subprocess.run(command, cwd=tree, env=env, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{tree.name}: {' '.join(arguments[:1])} failed:\n{done.stderr[-3000:]}")
    return done.stdout


async def step_database(url: str, name: str) -> str:
    """A fresh database `name` next to the one `url` names (dropped first if it exists)."""
    from sqlalchemy import text

    from hub.db import make_engine

    engine = make_engine(url, autocommit=True)
    async with engine.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()
    return url.rsplit("/", 1)[0] + "/" + name


def measure_step(tree: Path, url: str, asked_file: Path, requests: int) -> dict[str, float]:
    out = run_child(tree, "--child", url, str(asked_file), str(requests))
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def least(figures: list[dict[str, float]]) -> dict[str, float]:
    """Per query, the least CPU of the rounds: what the step costs when nothing else ran."""
    return {name: min(each[name] for each in figures) for name in figures[0]}


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "--load":
        load(sys.argv[2], int(sys.argv[3]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revisions", nargs="*", help="revisions to measure (default: STEPS)")
    parser.add_argument("--requests", type=int, default=100, help="per query and step")
    parser.add_argument("--clients", type=int, default=200, help="demo clients")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved, the least counts")
    args = parser.parse_args()
    steps = [(rev, rev) for rev in args.revisions] or STEPS
    from bench.common import database

    asked = queries()
    with database() as url, tempfile.TemporaryDirectory(prefix="leasehub-steps-") as scratch:
        asked_file = Path(scratch) / "queries.json"
        asked_file.write_text(json.dumps(asked), encoding="utf-8")
        print(f"each step on its own demo database of {args.clients} clients", file=sys.stderr)
        print("| step | " + " | ".join(QUERY_NAMES) + " |")
        print("|---|" + "---:|" * len(QUERY_NAMES))
        prepared = []
        for index, (_label, revision) in enumerate(steps):
            step_url = asyncio.run(step_database(url, f"leasehub_step_{index}"))
            tree = export(revision, Path(scratch))
            run_child(tree, "--load", step_url, str(args.clients))
            prepared.append((tree, step_url))
        # Rounds interleave the steps, so that a busy moment of the machine falls on all of
        # them alike; each step's figure is its least of the rounds.
        rounds: list[list[dict[str, float]]] = [[] for _ in steps]
        for number in range(args.rounds):
            print(f"round {number + 1} of {args.rounds}", file=sys.stderr)
            for index, (tree, step_url) in enumerate(prepared):
                rounds[index].append(measure_step(tree, step_url, asked_file, args.requests))
        for (label, revision), measured in zip(steps, rounds, strict=True):
            figures = least(measured)
            cells = " | ".join(f"{figures[name]:.2f}" for name in QUERY_NAMES)
            print(f"| {label} (`{revision}`) | {cells} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
