"""Benchmark (issue 15 point 6): importing 100,000 invoices from CSV and from XLSX.

Into a throwaway PostgreSQL cluster (or DATABASE_URL), migrated and empty: `--clients` clients
and a contract each are imported first (not measured), then `--invoices` invoices spread over
them, written as CSV and, with other external ids and numbers, as XLSX (openpyxl's write-only
mode). Each file is imported by `leasehub import invoices FILE` (`hub.cli.main`, the command's
own code path) in a fresh child process, so its peak RSS is the import's own; then the CSV once
more, which must change nothing. Measured: wall time and rows/s, SQL statements (every engine's
`before_cursor_execute`; an executemany is one statement) and statements per 1,000 rows, the
child's peak RSS (VmHWM) and, with `--trace`, tracemalloc's peak.

Run: `make bench-intake` or `.venv/bin/python -m bench.imports --help`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]

from bench.common import database
from bench.payments import measured_command
from hub.migrate import upgrade
from models.finance import vat_amount
from models.identifiers import make_nip, make_regon
from models.vat import VatCategory

CHILD_TIMEOUT = 3600
SUMMARY = re.compile(
    r"import invoices: (?P<rows>\d+) rows, (?P<created>\d+) created, (?P<updated>\d+) updated, "
    r"(?P<unchanged>\d+) unchanged, (?P<refused>\d+) refused"
)
INVOICE_HEADER = (
    "external_id",
    "client_external_id",
    "contract_external_id",
    "number",
    "kind",
    "issue_date",
    "due_date",
    "net",
    "vat",
    "gross",
    "description",
)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def write_rows(path: Path, header: tuple[str, ...], rows: Any) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


CLIENT_HEADER = (
    "external_id",
    "number",
    "name",
    "nip",
    "regon",
    "street",
    "postal_code",
    "city",
    "email",
    "phone",
    "einvoice_email",
)
CONTRACT_HEADER = (
    "external_id",
    "client_external_id",
    "number",
    "kind",
    "status",
    "start_date",
    "end_date",
    "net_value",
    "initial_fee",
    "residual_value",
    "annual_rate",
    "term_months",
    "payment_day",
)


def clients_file(folder: Path, count: int, rng: random.Random) -> Path:
    nips: set[str] = set()
    while len(nips) < count:
        nips.add(make_nip(rng))
    rows = (
        (
            *(f"C-{n}", f"{800000 + n}", f"Firma {n} sp. z o.o.", nip, make_regon(rng)),
            *("ul. Prosta 1", "00-950", "Warszawa", f"biuro{n}@firma.pl", "+48221234567"),
            f"faktury{n}@firma.pl",
        )
        for n, nip in enumerate(sorted(nips))
    )
    return write_rows(folder / "clients.csv", CLIENT_HEADER, rows)


def contracts_file(folder: Path, count: int) -> Path:
    rows = (
        (
            *(f"K-{n}", f"C-{n}", f"UL/B/{n:06d}", "OPERATING_LEASE", "ACTIVE", "2025-01-15"),
            *("2029-01-15", "120000.00", "12000.00", "1200.00", "0.0899", "48", "15"),
        )
        for n in range(count)
    )
    return write_rows(folder / "contracts.csv", CONTRACT_HEADER, rows)


def invoice_rows(count: int, clients: int, prefix: str, rng: random.Random) -> Any:
    """Instalment invoices of an operating lease (23 %), of every client in turn."""
    first = date(2026, 1, 1)
    for n in range(count):
        client = n % clients
        net = Decimal(rng.randint(50_000, 900_000)) / 100
        vat = vat_amount(net, VatCategory.RATE_23)
        issued = first + timedelta(days=n % 300)
        yield (
            f"{prefix}-{n}",
            f"C-{client}",
            f"K-{client}",
            f"FV/{prefix}/{n:07d}",
            "INSTALMENT",
            issued.isoformat(),
            (issued + timedelta(days=14)).isoformat(),
            f"{net:.2f}",
            f"{vat:.2f}",
            f"{net + vat:.2f}",
            f"Rata {n // clients + 1}",
        )


def invoices_xlsx(path: Path, rows: Any) -> Path:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Faktury")
    sheet.append(INVOICE_HEADER)
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


def child_import(kind: str, path: Path, trace: bool) -> dict[str, Any]:
    """`leasehub import KIND PATH` in this process, measured (DATABASE_URL from the env)."""
    from intake import run  # noqa: F401 - imported before the baseline is taken

    return measured_command(["import", kind, str(path)], trace=trace)


def run_child(url: str, kind: str, path: Path, *, trace: bool) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.imports", "--child", kind, str(path)]
    command += ["--trace"] if trace else []
    env = {**os.environ, "DATABASE_URL": url, "LEASEHUB_ENV": "production"}
    env["LEASEHUB_SECRET_KEY"] = "bench-" + "x" * 40
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT, check=False
    )
    found = SUMMARY.search(done.stderr) if kind == "invoices" else None
    if found is None if kind == "invoices" else done.returncode != 0:
        raise RuntimeError(f"import {kind} failed: {done.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    figures["summary"] = found.groupdict() if found else {}
    return figures


def row(name: str, rows: int, figures: dict[str, Any]) -> str:
    f, s = figures, figures["summary"]
    rate = rows / f["seconds"]
    per_thousand = f["statements"] / max(rows / 1000, 1e-9)
    rss = f"{f['rss_kib'] / 1024:.0f} MB (+{f['rss_growth_kib'] / 1024:.0f})"
    if f["traced_peak"]:
        rss += f", traced {f['traced_peak'] / 2**20:.0f} MB"
    outcome = f"{s['created']} / {s['updated']} / {s['unchanged']} / {s['refused']}"
    return (
        f"| {name} | {rows:,} | {f['seconds']:.1f} s | {rate:,.0f} | {f['statements']:,} "
        f"({per_thousand:.1f}) | {rss} | {outcome} |"
    )


HEAD = [
    "| run | rows | time | rows/s | SQL statements (per 1,000 rows) | peak RSS (growth) "
    "| created / updated / unchanged / refused |",
    "|---|---:|---:|---:|---:|---|---|",
]


def bench(args: argparse.Namespace) -> list[str]:
    rng = random.Random(2026)
    lines = list(HEAD)
    with database() as url, tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        upgrade(url)
        progress(f"files: {args.clients:,} clients, {args.invoices:,} invoices …")
        for kind, path in (
            ("clients", clients_file(folder, args.clients, rng)),
            ("contracts", contracts_file(folder, args.clients)),
        ):
            run_child(url, kind, path, trace=False)
        csv_path = write_rows(
            folder / "invoices.csv",
            INVOICE_HEADER,
            invoice_rows(args.invoices, args.clients, "F", random.Random(1)),
        )
        progress(f"CSV {csv_path.stat().st_size / 2**20:.1f} MB: importing …")
        lines.append(
            row("CSV", args.invoices, run_child(url, "invoices", csv_path, trace=args.trace))
        )
        progress(lines[-1])
        lines.append(
            row("CSV again", args.invoices, run_child(url, "invoices", csv_path, trace=False))
        )
        progress(lines[-1])
        if args.xlsx_invoices:
            started = time.perf_counter()
            xlsx_rows = invoice_rows(args.xlsx_invoices, args.clients, "X", random.Random(2))
            xlsx = invoices_xlsx(folder / "invoices.xlsx", xlsx_rows)
            made = time.perf_counter() - started
            progress(
                f"XLSX {xlsx.stat().st_size / 2**20:.1f} MB written in {made:.0f} s: importing …"
            )
            figures = run_child(url, "invoices", xlsx, trace=args.trace)
            lines.append(row("XLSX", args.xlsx_invoices, figures))
            progress(lines[-1])
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--xlsx-invoices", type=int, default=100_000, help="0: skip XLSX")
    parser.add_argument("--clients", type=int, default=2_000)
    parser.add_argument("--trace", action="store_true", help="also tracemalloc's peak (slower)")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_import(args.child[0], Path(args.child[1]), args.trace)))
        return
    print("\n".join(bench(args)))


if __name__ == "__main__":
    main()
