"""Benchmark (issue 13): a 10,000-credit MT940 statement booked, and 50 concurrent payment starts.

1. Statement import. Loads a demo (2,000 clients) into a throwaway PostgreSQL cluster (or
   DATABASE_URL) and writes an MT940 file of `--credits` credits that pay its open invoices the
   ways transfers arrive: the invoice number in the title (the amount due, part of it, or more
   than it), the company's virtual repayment account named in the title of a line of the
   lessor's collective account (ING layout, `<` subfields), or a statement of the virtual
   account itself (PKO BP layout, `~` subfields); one in ten credits is nobody's. Each
   statement has a bank fee (a debit). The file is booked by `leasehub import-statement FILE`
   (`hub.cli.main`, the command's own code path) in a fresh child process, so its peak RSS is
   the import's and not the demo loader's; then once more, which must book nothing. Measured:
   wall time of the command, SQL statements (a `before_cursor_execute` listener on every
   engine: the import writes through one SQLAlchemy session and reads nothing on the raw
   asyncpg path of hub/raw_reads.py; an executemany is one statement, its parameter sets are
   counted apart), the child's peak RSS (VmHWM) and its growth over the process before
   the import, and what was booked, from the command's summary and from the database; and the
   parser alone on the same file (`parse_statement`, in this process). An SQLite file demo gets
   the same (`--sqlite-clients`, as many clients by default, 0 to skip).
2. Payment starts. Serves the hub (uvicorn, production settings) against the PayU-protocol
   sandbox (hub/gateway_sandbox.py, in a thread of this process, so its record of created
   orders can be read), gives `--payers` demo main accounts the demo password, signs them in
   and fires their `paymentStart`s at once, each for an open invoice of its own company; then
   the demo's main account starts the same invoice `--payers` times at once with different
   idempotency keys. Each round reports p50/p95/max latency and errors, and checks in the
   database and in the sandbox that every invoice got exactly one gateway order. One start
   before the rounds fetches the gateway's OAuth token and is not counted.

Every request has a timeout, every loop a bound. Progress goes to stderr, the tables to stdout.
Run: `make bench-payments` or `.venv/bin/python -m bench.payments --help`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.engine.interfaces import ExecuteStyle
from sqlmodel import col

from auth.clock import warsaw_today
from auth.passwords import hash_password
from bench.common import LOGIN, database, prepare, served, sign_in
from bench.drills import outcome
from hub.db import make_engine
from hub.demo import DEMO_PASSWORD
from hub.gateway_sandbox import Sandbox
from loaders.invoice import INVOICE_DUE
from models.base import utcnow
from models.client import BankAccount, Client
from models.contract import Currency
from models.identity import Membership, User
from models.invoice import (
    GatewayStatus,
    GatewayTransaction,
    Invoice,
    InvoiceKind,
    Payment,
    PaymentAllocation,
)
from models.statement import StatementLine
from resolvers.booking import parse_statement
from resolvers.ids import from_global_id, to_global_id
from tests.hub.live import live_server

# The lessor's collective account: no company's virtual account.
COLLECTIVE = "PL27114020040000300201355387"
# How credits arrive, in tenths of the file (they add up to 10).
SHARES = {"full": 4, "partial": 1.5, "over": 1, "named": 1, "virtual": 1.5, "nobody": 1}
NOBODY_TITLES = ("DAROWIZNA", "ZWROT ZA PALIWO", "PRZELEW WŁASNY", "KAUCJA ZA SALĘ", "ZWROT")
LINE_WIDTH = 65  # an MT940 line; field 86 breaks between subfields
CHILD_TIMEOUT = 900.0  # seconds for one import command
REQUEST_TIMEOUT = httpx.Timeout(60.0)
POS_ID = "145227"
CLIENT_SECRET = "bench-client-secret-" + "0" * 24
SECOND_KEY = "bench-second-key-" + "1" * 24
RETURN_URL = "http://127.0.0.1:3000/faktury/platnosc"  # the portal's default origin
START = """mutation($input: PaymentStartInput!) { paymentStart(input: $input) {
  payment { id status redirectUrl amount { amount } } errors { field code } } }"""
SUMMARY = re.compile(
    r"(?P<lines>\d+) lines read, (?P<credits>\d+) credits, (?P<booked>\d+) booked "
    r"\((?P<booked_amount>[\d.]+) PLN\), (?P<duplicates>\d+) duplicates skipped, "
    r"(?P<unmatched>\d+) unmatched, (?P<debits>\d+) debits ignored, "
    r"(?P<allocated>[\d.]+) PLN allocated, (?P<overpayments>[\d.]+) PLN overpayments"
)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- 1. the statement ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """An invoice a credit pays, with what is due on it (what it asked, when it is paid: paid
    again, that is an overpayment) and its company's virtual account."""

    client_id: int
    number: str
    due: Decimal
    account: str
    payer: str


@dataclass(frozen=True, slots=True)
class Credit:
    """One planned credit: `account` is its statement's (field 25)."""

    kind: str
    account: str
    day: date
    amount: Decimal
    title: str
    payer_iban: str
    payer_name: str


async def targets(url: str) -> tuple[list[Target], list[Target]]:
    """Open PLN invoices oldest due first, and paid ones (paying one again is an overpayment)."""
    engine = make_engine(url)
    accounts = (
        select(col(BankAccount.client_id), func.min(col(BankAccount.iban)).label("iban"))
        .where(col(BankAccount.currency) == Currency.PLN)
        .group_by(col(BankAccount.client_id))
        .subquery()
    )
    query = (
        select(col(Invoice.client_id), col(Invoice.number), INVOICE_DUE, col(Invoice.gross))
        .add_columns(accounts.c.iban, col(Client.name))
        .join(accounts, accounts.c.client_id == col(Invoice.client_id))
        .join(Client, col(Client.id) == col(Invoice.client_id))
        .where(
            col(Invoice.currency) == Currency.PLN,
            col(Invoice.kind) != InvoiceKind.CORRECTION,
            col(Invoice.gross) > 0,
        )
        .order_by(col(Invoice.due_date), col(Invoice.id))
    )
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    await engine.dispose()
    cent = Decimal("0.01")
    open_ = [Target(c, n, Decimal(d).quantize(cent), a, p) for c, n, d, _g, a, p in rows if d > 0]
    paid = [Target(c, n, Decimal(g), a, p) for c, n, d, g, a, p in rows if d <= 0]
    return open_, paid


def _iban(rng: random.Random) -> str:
    return "PL" + "".join(rng.choice("0123456789") for _ in range(26))


def _name(text: str) -> str:
    """A payer's name as banks print it: capitals, no colon (it would start an MT940 tag)."""
    return " ".join(text.upper().replace(":", " ").split())[:70]


def _amount(kind: str, due: Decimal, rng: random.Random) -> Decimal:
    cent = Decimal("0.01")
    if kind == "partial":
        return max(cent, (due * Decimal(rng.randint(20, 90)) / 100).quantize(cent))
    if kind == "over":
        return due + max(cent, (due * Decimal(rng.randint(5, 50)) / 100).quantize(cent))
    return due


def _title(kind: str, target: Target, rng: random.Random) -> str:
    if kind == "named":
        return f"RATA LEASINGOWA {target.account}"
    if kind == "virtual":
        return f"RATA LEASINGOWA {rng.choice(('LISTOPAD', 'GRUDZIEŃ', 'STYCZEŃ'))}"
    lead = rng.choice(("ZAPŁATA ZA", "FAKTURA", "FV NR", "OPŁATA"))
    return f"{lead} {target.number}"


def _paid_credit(
    kind: str, target: Target, day: date, payer_iban: str, rng: random.Random
) -> Credit:
    return Credit(
        kind=kind,
        account=target.account if kind == "virtual" else COLLECTIVE,
        day=day,
        amount=_amount(kind, target.due, rng),
        title=_title(kind, target, rng),
        payer_iban=payer_iban,
        payer_name=_name(target.payer),
    )


def _nobody_credit(day: date, rng: random.Random) -> Credit:
    amount = Decimal(rng.randint(1000, 500_000)) / 100
    name = rng.choice(("JAN KOWALSKI", "FUNDACJA POMOCY", "ANNA NOWAK", "ZAKŁAD USŁUG"))
    title = rng.choice(NOBODY_TITLES)
    return Credit("nobody", COLLECTIVE, day, amount, title, _iban(rng), name)


def plan_credits(
    *, open_: list[Target], paid: list[Target], credits: int, days: int, today: date, seed: int
) -> list[Credit]:
    """`credits` credits in the shares of SHARES, each open invoice paid at most once (then
    paid ones again), spread over the `days` days before `today`."""
    rng = random.Random(seed)
    kinds = [k for k, share in SHARES.items() for _ in range(round(credits * share / 10))]
    kinds = (kinds + ["full"] * credits)[:credits]
    rng.shuffle(kinds)
    fresh = iter(rng.sample(open_, len(open_)))
    payers: dict[int, str] = {}
    planned = []
    for kind in kinds:
        day = today - timedelta(days=rng.randint(1, days))
        if kind == "nobody":
            planned.append(_nobody_credit(day, rng))
            continue
        target = next(fresh, None) or rng.choice(paid or open_)
        iban = payers.setdefault(target.client_id, _iban(random.Random(target.client_id)))
        planned.append(_paid_credit(kind, target, day, iban, rng))
    return planned


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}".replace(".", ",")


def _field86(code: str, separator: str, subfields: list[tuple[str, str]]) -> list[str]:
    """Field 86 with its subfields, lines of LINE_WIDTH broken between subfields."""
    parts = [f"{separator}{key}{value}" for key, value in subfields if value]
    lines, line = [], f":86:{code}"
    for part in parts:
        if len(line) + len(part) > LINE_WIDTH:
            lines.append(line)
            line = ""
        line += part
    return [*lines, line]


def _title_subfields(title: str) -> list[tuple[str, str]]:
    """A title in 27-character subfields 20–25, as the banks cut it."""
    return [(str(20 + n), title[27 * n : 27 * n + 27]) for n in range(6) if title[27 * n :]]


def _ing_line(credit: Credit, position: int) -> list[str]:
    payer = [("30", credit.payer_iban[4:12]), ("31", credit.payer_iban[12:])]
    names = [("32", credit.payer_name[:35]), ("33", credit.payer_name[35:])]
    subfields = [("00", "Przelew przychodzący"), *_title_subfields(credit.title)]
    subfields += [*payer, *names, ("38", credit.payer_iban)]
    day = f"{credit.day:%y%m%d}{credit.day:%m%d}"
    return [
        f":61:{day}C{_money(credit.amount)}S051{position:08d}//NONREF",
        *_field86("051", "<", subfields),
    ]


def _pko_line(credit: Credit, position: int) -> list[str]:
    subfields = [("00", "VE02PRZELEW PRZYCHODZĄCY"), *_title_subfields(credit.title)]
    subfields += [("30", credit.payer_iban[4:12]), ("31", credit.payer_iban[12:])]
    subfields += [("32", credit.payer_name[:35]), ("33", credit.payer_name[35:])]
    subfields.append(("38", credit.payer_iban))
    day = f"{credit.day:%y%m%d}{credit.day:%m%d}"
    reference = f"{credit.day:%y%m%d}{position:04d}"
    return [
        f":61:{day}CN{_money(credit.amount)}NTRFNONREF//{reference}",
        *_field86("020", "~", subfields),
    ]


def _fee(day: date, position: int, pko: bool) -> list[str]:
    when = f"{day:%y%m%d}{day:%m%d}"
    if pko:
        return [
            f":61:{when}DN5,00NCHGNONREF//{day:%y%m%d}{position:04d}",
            ":86:073~00VE05OPŁATA BANKOWA~20OPŁATA ZA PRZELEW ELIXIR",
        ]
    return [f":61:{when}D5,00S073{position:08d}//NONREF", ":86:073<00Opłata<20PROWIZJA"]


def statement_text(*, account: str, number: str, day: date, credits: list[Credit]) -> str:
    """One statement of `account` for `day`: its credits, then the bank's fee."""
    pko = account != COLLECTIVE
    body: list[str] = []
    for position, credit in enumerate(credits, start=1):
        body += (_pko_line if pko else _ing_line)(credit, position)
    body += _fee(day, len(credits) + 1, pko)
    closing = sum((c.amount for c in credits), Decimal("-5.00"))
    sign = "C" if closing >= 0 else "D"
    head = [f":20:ST{day:%y%m%d}/{number}", f":25:/{account}", f":28C:{number}"]
    head.append(f":60F:C{day:%y%m%d}PLN0,00")
    tail = [f":62F:{sign}{day:%y%m%d}PLN{_money(abs(closing))}", "-"]
    return "\n".join([*head, *body, *tail]) + "\n"


def mt940_file(planned: list[Credit]) -> tuple[str, int]:
    """The file's text and its number of statements: one per account and day."""
    grouped: dict[tuple[str, date], list[Credit]] = defaultdict(list)
    for credit in planned:
        grouped[(credit.account, credit.day)].append(credit)
    texts = [
        statement_text(account=account, number=f"{n:05d}/001", day=day, credits=credits)
        for n, ((account, day), credits) in enumerate(sorted(grouped.items()), start=1)
    ]
    return "".join(texts), len(texts)


# -- 1. the import, in a child process ------------------------------------------------------


@dataclass
class StatementCounter:
    """Statements sent through any SQLAlchemy engine of the process. An executemany is one
    statement (its parameter sets counted apart); an INSERT of many rows that SQLAlchemy sends
    as batches ("insertmanyvalues") is one statement per batch."""

    statements: int = 0
    executemany_sets: int = 0

    def __call__(
        self, _conn: Any, _cursor: Any, _sql: str, params: Any, context: Any, _many: bool
    ) -> None:
        self.statements += 1
        if getattr(context, "execute_style", None) is ExecuteStyle.EXECUTEMANY:
            self.executemany_sets += len(params)


def peak_rss_kib() -> int:
    """This process's peak resident memory. VmHWM, not `ru_maxrss`: Linux carries a parent's
    `ru_maxrss` over fork and exec, so a child of the bench (which loaded the demo) would
    report the bench's peak; VmHWM starts afresh with the new program."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child_import(path: Path, trace: bool) -> dict[str, Any]:
    """`leasehub import-statement PATH` in this process, measured (DATABASE_URL from the env)."""
    from resolvers import booking  # noqa: F401 - imported before the baseline is taken

    return measured_command(["import-statement", str(path)], trace=trace)


def measured_command(argv: list[str], *, trace: bool) -> dict[str, Any]:
    """A `leasehub` command run in this process: its exit code, time, statements and memory
    (the peak resident size, its growth, and with `trace` Python's own allocations' peak)."""
    import tracemalloc

    from hub.cli import main as cli_main

    counter = StatementCounter()
    event.listen(Engine, "before_cursor_execute", counter)
    before = peak_rss_kib()
    if trace:
        tracemalloc.start()
    try:
        started = time.perf_counter()
        code = cli_main(argv)
        seconds = time.perf_counter() - started
        traced = tracemalloc.get_traced_memory()[1] if trace else 0
    finally:
        tracemalloc.stop()
        event.remove(Engine, "before_cursor_execute", counter)
    after = peak_rss_kib()
    return {
        "code": code,
        "seconds": seconds,
        "statements": counter.statements,
        "executemany_sets": counter.executemany_sets,
        "rss_kib": after,
        "rss_growth_kib": after - before,
        "traced_peak": traced,
    }


@dataclass(frozen=True, slots=True)
class Booked:
    """What the database holds of bank statements."""

    lines: int
    payments: int
    allocated: Decimal


async def booked(url: str) -> Booked:
    engine = make_engine(url)
    async with engine.connect() as connection:
        lines = await connection.scalar(select(func.count()).select_from(StatementLine))
        payments = await connection.scalar(select(func.count()).select_from(Payment))
        allocated = await connection.scalar(
            select(func.coalesce(func.sum(col(PaymentAllocation.amount)), 0))
        )
    await engine.dispose()
    return Booked(int(lines or 0), int(payments or 0), Decimal(allocated or 0))


@dataclass
class ImportRun:
    figures: dict[str, Any]
    summary: dict[str, str]
    before: Booked
    after: Booked


async def run_import(url: str, path: Path, *, trace: bool) -> ImportRun:
    """The command in a fresh child process (production settings), and the database around it."""
    before = await booked(url)
    command = [sys.executable, "-m", "bench.payments", "--child-import", str(path)]
    command += ["--trace"] if trace else []
    env = {**os.environ, "DATABASE_URL": url, "LEASEHUB_ENV": "production"}
    env["LEASEHUB_SECRET_KEY"] = "bench-" + "x" * 40
    done = await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT
    )
    found = SUMMARY.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"import-statement failed: {done.stderr[-2000:]}")
    progress("  " + found.group(0))
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return ImportRun(figures, found.groupdict(), before, await booked(url))


def import_row(backend: str, clients: int, run_name: str, run: ImportRun, parsing: float) -> str:
    f, s = run.figures, run.summary
    payments = run.after.payments - run.before.payments
    lines = run.after.lines - run.before.lines
    allocated = run.after.allocated - run.before.allocated
    rss = f"{f['rss_kib'] / 1024:.0f} MB (+{f['rss_growth_kib'] / 1024:.0f})"
    if f["traced_peak"]:
        rss += f", traced {f['traced_peak'] / 2**20:.0f} MB"
    return (
        f"| {backend}, {clients:,} clients | {run_name} | {f['seconds']:.1f} s "
        f"({parsing:.1f} s) "
        f"| {f['statements']} ({f['executemany_sets']:,} sets) | {rss} "
        f"| {lines:,} / {payments:,} | {s['unmatched']} | {s['duplicates']} "
        f"| {Decimal(s['booked_amount']):,.2f} | {allocated:,.2f} |"
    )


IMPORT_HEAD = [
    "| database | run | time (parsing alone) | SQL statements (executemany sets) "
    "| peak RSS (growth) | lines stored / payments booked | unmatched | duplicates "
    "| booked PLN | allocated PLN |",
    "|---|---|---|---|---|---|---|---|---|---|",
]


async def statement_bench(
    url: str, backend: str, clients: int, args: argparse.Namespace, folder: Path
) -> list[str]:
    """Write the file from this database's invoices, import it twice: two table rows."""
    open_, paid = await targets(url)
    today = warsaw_today(utcnow())
    planned = plan_credits(
        open_=open_, paid=paid, credits=args.credits, days=args.days, today=today, seed=args.seed
    )
    text, statements = mt940_file(planned)
    began = time.perf_counter()
    parse_statement(text)
    parsing = time.perf_counter() - began
    path = folder / f"wyciag-{backend}.sta"
    path.write_text(text, encoding="utf-8")
    kinds = Counter(c.kind for c in planned)
    progress(
        f"{backend}: {len(planned):,} credits in {statements:,} statements, "
        f"{path.stat().st_size / 1e6:.1f} MB ({dict(kinds)}; {len(open_):,} open invoices); "
        f"parsed alone in {parsing:.1f} s"
    )
    first = await run_import(url, path, trace=args.trace)
    expected = len(planned) - kinds["nobody"]
    if int(first.summary["booked"]) != expected:
        raise RuntimeError(f"booked {first.summary['booked']} credits, expected {expected}")
    again = await run_import(url, path, trace=args.trace)
    if int(again.summary["booked"]) or again.after.payments != first.after.payments:
        raise RuntimeError(f"the second import booked: {again.summary}")
    return [
        import_row(backend, clients, "first import", first, parsing),
        import_row(backend, clients, "same file again", again, parsing),
    ]


# -- 2. payment starts --------------------------------------------------------------------


@contextlib.contextmanager
def sandbox_thread() -> Iterator[tuple[str, Sandbox]]:
    """The PayU-protocol sandbox on 127.0.0.1, on an event loop of its own thread (the bench's
    loop stays the clients'), until the block ends."""
    sandbox = Sandbox(
        pos_id=POS_ID, client_id=POS_ID, client_secret=CLIENT_SECRET, second_key=SECOND_KEY
    )
    ready: list[tuple[str, asyncio.AbstractEventLoop, asyncio.Event]] = []

    async def serve() -> None:
        stop = asyncio.Event()
        async with live_server(sandbox.app()) as url:
            ready.append((url, asyncio.get_running_loop(), stop))
            await stop.wait()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    for _ in range(200):  # at most 10 s to start
        if ready or not thread.is_alive():
            break
        time.sleep(0.05)
    if not ready:
        raise RuntimeError("the sandbox gateway did not start")
    url, loop, stop = ready[0]
    try:
        yield url, sandbox
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)


def gateway_env(gateway: str) -> dict[str, str]:
    return {
        "LEASEHUB_PAYU_BASE_URL": gateway,
        "LEASEHUB_PAYU_POS_ID": POS_ID,
        "LEASEHUB_PAYU_CLIENT_ID": POS_ID,
        "LEASEHUB_PAYU_CLIENT_SECRET": CLIENT_SECRET,
        "LEASEHUB_PAYU_SECOND_KEY": SECOND_KEY,
    }


@dataclass(frozen=True, slots=True)
class Payer:
    email: str
    client_id: int
    invoice_id: int
    number: str


async def _open_by_client(connection: Any) -> dict[int, list[tuple[int, str]]]:
    """Open PLN invoices with no payment under way, per company, oldest due first."""
    live = select(col(GatewayTransaction.invoice_id)).where(
        col(GatewayTransaction.status) == GatewayStatus.IN_PROGRESS
    )
    query = (
        select(col(Invoice.client_id), col(Invoice.id), col(Invoice.number))
        .where(
            INVOICE_DUE > 0,
            col(Invoice.kind) != InvoiceKind.CORRECTION,
            col(Invoice.currency) == Currency.PLN,
            col(Invoice.id).not_in(live),
        )
        .order_by(col(Invoice.due_date), col(Invoice.id))
    )
    found: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for client_id, invoice_id, number in await connection.execute(query):
        found[client_id].append((invoice_id, number))
    return found


async def make_payers(url: str, count: int) -> list[Payer]:
    """`count` companies' main accounts (not the demo logins) get the demo password; each
    pays the oldest open invoice of its own company."""
    engine = make_engine(url)
    async with engine.begin() as connection:
        owners = await connection.execute(
            select(col(Membership.client_id), col(User.id), col(User.email))
            .join(User, col(User.id) == col(Membership.user_id))
            .where(col(Membership.is_main), col(User.password_hash).is_(None))
            .order_by(col(Membership.client_id))
        )
        open_ = await _open_by_client(connection)
        chosen = [(c, u, e) for c, u, e in owners if open_.get(c)][:count]
        secret = hash_password(DEMO_PASSWORD)
        users = [user_id for _, user_id, _ in chosen]
        await connection.execute(
            update(User).where(col(User.id).in_(users)).values(password_hash=secret)
        )
    await engine.dispose()
    if len(chosen) < count:
        raise RuntimeError(f"only {len(chosen)} companies with an open invoice to pay")
    return [Payer(e, c, *open_[c][0]) for c, _, e in chosen]


async def open_invoices_of(url: str, client_id: int) -> list[tuple[int, str]]:
    engine = make_engine(url)
    async with engine.connect() as connection:
        found = (await _open_by_client(connection)).get(client_id, [])
    await engine.dispose()
    return found


async def log_in(http: httpx.AsyncClient, email: str) -> str:
    body = await http.post(
        "/graphql", json={"query": LOGIN, "variables": {"l": email, "p": DEMO_PASSWORD}}
    )
    return str(body.json()["data"]["login"]["token"])


@dataclass
class Started:
    seconds: float
    seen: str  # `ok`, or the error code the client got
    payment: str | None
    redirect: bool  # a gateway page to send the payer to (null while a parallel start
    # is still creating the order at the gateway, as the schema says)


async def start(
    http: httpx.AsyncClient, *, token: str, client_id: int, invoice_id: int, key: str
) -> Started:
    variables = {
        "input": {
            "clientId": to_global_id("Client", client_id),
            "invoiceIds": [to_global_id("Invoice", invoice_id)],
            "returnUrl": RETURN_URL,
            "idempotencyKey": key,
        }
    }
    headers = {"Authorization": f"Bearer {token}"}
    began = time.perf_counter()
    try:
        response = await http.post(
            "/graphql", json={"query": START, "variables": variables}, headers=headers
        )
    except httpx.HTTPError as error:
        return Started(time.perf_counter() - began, type(error).__name__, None, False)
    seconds = time.perf_counter() - began
    seen = outcome(response)
    payment = (response.json().get("data") or {}).get("paymentStart", {}).get("payment")
    if seen == "ok" and not payment:
        seen = "no payment"
    redirect = bool(payment and payment.get("redirectUrl"))
    return Started(seconds, seen, payment["id"] if payment else None, redirect)


def nearest_rank(values: list[float], share: float) -> float:
    """The value below which `share` of them lie (nearest rank: always one of them)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


async def orders_in_database(url: str, invoice_ids: list[int]) -> dict[int, int]:
    """Gateway orders per invoice, as the hub recorded them."""
    engine = make_engine(url)
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(
                col(GatewayTransaction.invoice_id),
                func.count(func.distinct(col(GatewayTransaction.order_id))),
            )
            .where(
                col(GatewayTransaction.invoice_id).in_(invoice_ids),
                col(GatewayTransaction.order_id).is_not(None),
            )
            .group_by(col(GatewayTransaction.invoice_id))
        )
        found = {invoice_id: int(count) for invoice_id, count in rows}
    await engine.dispose()
    return {invoice_id: found.get(invoice_id, 0) for invoice_id in invoice_ids}


def orders_at_gateway(sandbox: Sandbox, numbers: list[str]) -> dict[str, int]:
    """Orders per invoice number, as the sandbox gateway created them (one product each)."""
    made = Counter(
        product["name"]
        for order in list(sandbox.orders.values())
        for product in order.document["products"]
    )
    return {number: made[number] for number in numbers}


@dataclass
class Round:
    name: str
    starts: list[Started]
    seconds: float
    invoices: list[int] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)


async def round_row(url: str, sandbox: Sandbox, round_: Round) -> str:
    ms = [s.seconds * 1000 for s in round_.starts]
    errors = Counter(s.seen for s in round_.starts if s.seen != "ok")
    in_db = await orders_in_database(url, round_.invoices)
    at_gateway = orders_at_gateway(sandbox, round_.numbers)
    exact = sum(1 for n in in_db.values() if n == 1), sum(1 for n in at_gateway.values() if n == 1)
    payments = len({s.payment for s in round_.starts if s.payment})
    waiting = sum(1 for s in round_.starts if s.payment and not s.redirect)
    bad = ", ".join(f"{code} ×{n}" for code, n in errors.items())
    return (
        f"| {round_.name} | {len(ms)} | {nearest_rank(ms, 0.5):.0f} / "
        f"{nearest_rank(ms, 0.95):.0f} / {max(ms):.0f} ms | {round_.seconds:.2f} s "
        f"| {sum(errors.values())}{f' ({bad})' if bad else ''} | {payments} ({waiting}) "
        f"| {exact[0]}/{len(in_db)} | {exact[1]}/{len(at_gateway)} |"
    )


START_HEAD = [
    "| round | starts | latency p50 / p95 / max | all answered in | errors "
    "| payments answered (of them without redirectUrl yet) "
    "| invoices with exactly 1 order: database | sandbox gateway |",
    "|---|---|---|---|---|---|---|---|",
]


async def fire(http: httpx.AsyncClient, name: str, calls: list[Any]) -> Round:
    began = time.perf_counter()
    starts = await asyncio.gather(*calls)
    return Round(name, list(starts), time.perf_counter() - began)


async def starts_bench(url: str, base: str, sandbox: Sandbox, payers: list[Payer]) -> list[str]:
    limits = httpx.Limits(max_connections=len(payers) + 10)
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT, limits=limits) as http:
        anna, anna_client = await sign_in(base)
        tokens = [await log_in(http, payer.email) for payer in payers]  # sequential: argon2
        warm, *rest = payers
        first = await start(
            http, token=tokens[0], client_id=warm.client_id, invoice_id=warm.invoice_id, key="w"
        )
        progress(f"  warm-up start (OAuth token): {first.seconds * 1000:.0f} ms, {first.seen}")
        own = await fire(
            http,
            f"{len(rest)} payers, own invoice each",
            [
                start(http, token=t, client_id=p.client_id, invoice_id=p.invoice_id, key="k")
                for p, t in zip(rest, tokens[1:], strict=True)
            ],
        )
        own.invoices, own.numbers = [p.invoice_id for p in rest], [p.number for p in rest]
        client_id = from_global_id(anna_client)[1]
        invoice_id, number = (await open_invoices_of(url, client_id))[0]
        same = await fire(
            http,
            f"1 payer, same invoice, {len(rest)} keys",
            [
                start(http, token=anna, client_id=client_id, invoice_id=invoice_id, key=key)
                for key in (uuid.uuid4().hex for _ in rest)
            ],
        )
        same.invoices, same.numbers = [invoice_id], [number]
    return [await round_row(url, sandbox, own), await round_row(url, sandbox, same)]


async def payments_bench(url: str, args: argparse.Namespace) -> list[str]:
    payers = await make_payers(url, args.payers + 1)  # one more warms the gateway token up
    progress(f"payment starts: {args.payers} payers signed in, the hub with {args.workers} worker")
    with (
        sandbox_thread() as (gateway, sandbox),
        served(url, workers=args.workers, env=gateway_env(gateway)) as (base, _),
    ):
        await sign_in(base)  # waits for the server
        return await starts_bench(url, base, sandbox, payers)


# -- the run --------------------------------------------------------------------------------


async def load(url: str, clients: int) -> None:
    progress(f"loading {clients:,} demo clients …")
    with contextlib.redirect_stdout(sys.stderr):
        await prepare(url, clients)


@dataclass
class Tables:
    """The rows measured so far: printed at the end even when a later part fails."""

    imports: list[str] = field(default_factory=list)
    starts: list[str] = field(default_factory=list)

    def print(self, args: argparse.Namespace, load_before: float) -> None:
        print(
            f"\n{args.credits:,} credits, {os.cpu_count()} cores, load average (1 min) "
            f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
        )
        print("\n".join([*IMPORT_HEAD, *self.imports]))
        if self.starts:
            print("\n" + "\n".join([*START_HEAD, *self.starts]))


async def postgres_part(url: str, args: argparse.Namespace, folder: Path, tables: Tables) -> None:
    await load(url, args.clients)
    tables.imports += await statement_bench(url, "PostgreSQL", args.clients, args, folder)
    if args.payers:
        tables.starts += await payments_bench(url, args)


async def sqlite_part(args: argparse.Namespace, folder: Path, tables: Tables) -> None:
    url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    await load(url, args.sqlite_clients)
    tables.imports += await statement_bench(url, "SQLite", args.sqlite_clients, args, folder)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=2000, help="PostgreSQL demo clients")
    parser.add_argument("--credits", type=int, default=10_000, help="credits in the statement")
    parser.add_argument("--days", type=int, default=5, help="days the statement covers")
    parser.add_argument(
        "--sqlite-clients", type=int, default=None, help="default: --clients; 0: no SQLite run"
    )
    parser.add_argument("--payers", type=int, default=50, help="concurrent starts; 0: none")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers of the hub")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--trace", action="store_true", help="also tracemalloc (slower)")
    parser.add_argument("--child-import", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.sqlite_clients is None:
        args.sqlite_clients = args.clients
    bounds = ((args.credits, 1, 200_000), (args.days, 1, 31), (args.payers, 0, 500))
    if not all(low <= value <= high for value, low, high in bounds):
        parser.error("--credits 1–200,000, --days 1–31, --payers 0–500")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child_import:
        print(json.dumps(child_import(args.child_import, args.trace)))
        return 0
    folder = Path(tempfile.mkdtemp(prefix="leasehub-bench-payments-"))
    tables, load_before = Tables(), os.getloadavg()[0]
    try:
        with database() as url:
            asyncio.run(postgres_part(url, args, folder, tables))
        if args.sqlite_clients:
            asyncio.run(sqlite_part(args, folder, tables))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        tables.print(args, load_before)
    return 0


if __name__ == "__main__":
    sys.exit(main())
