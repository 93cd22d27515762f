"""The `leasehub` command: run, serve, migrate, demo, export-schema, interest-rate,
import-statement, import, interest-notes, gateway-sandbox, gateway-poll, reminders,
idp-sandbox, sso-link."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from hub.db import make_engine
from hub.migrate import upgrade
from hub.settings import Settings, get_settings

SCHEMA_FILE = Path("schema.graphql")
SERVERS = ("uvicorn", "granian")
# The faster for the hub on a quiet machine (`python -m bench.peer --servers`, README): a tie
# on big answers, uvicorn a little ahead on small ones, and it writes the redacted access log.
DEFAULT_SERVER = "uvicorn"
SANDBOX_PORT = 8090  # `run` in development: the PayU-protocol sandbox (`gateway-sandbox`)
IDP_SANDBOX_PORT = 8091  # `run` in development: the OpenID Connect sandbox (`idp-sandbox`)
# `leasehub import KIND`: the kinds of intake/kinds.py, in the order a core system sends them.
INTAKE_KINDS = (
    "clients",
    "users",
    "contracts",
    "items",
    "schedules",
    "policies",
    "invoices",
    "payments",
    "documents",
)


def _progress(done: int, total: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    bar = "#" * filled + "." * (width - filled)
    sys.stderr.write(f"\r  demo data [{bar}] {done}/{total} clients")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


async def _client_count(url: str) -> int:
    from models.client import Client

    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return int(
                (await connection.execute(select(func.count()).select_from(Client))).scalar_one()
            )
    finally:
        await engine.dispose()


async def _load_demo(url: str, clients: int, seed: int, today: date | None) -> dict[str, int]:
    from hub.demo import DemoSpec, load_demo

    spec = (
        DemoSpec(clients=clients, seed=seed, today=today)
        if today
        else DemoSpec(clients=clients, seed=seed)
    )
    engine = make_engine(url)
    try:
        return await load_demo(engine, spec, progress=_progress)
    finally:
        await engine.dispose()


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    print(f"Migrating {_safe_url(settings.database_url)} …", file=sys.stderr)
    upgrade(settings.database_url)
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from hub.demo import DemoDataExists

    upgrade(settings.database_url)
    try:
        counts = asyncio.run(_load_demo(settings.database_url, args.clients, args.seed, args.today))
    except DemoDataExists:
        print(
            "The database already holds clients; demo data goes into an empty one.", file=sys.stderr
        )
        return 1
    print("Loaded: " + ", ".join(f"{n} {table}" for table, n in counts.items()), file=sys.stderr)
    return 0


def server_app() -> Any:
    """The app of one server process: uvicorn calls it in each worker of `serve --workers N`,
    which read their settings from the environment as `serve` does."""
    from hub.app import create_app
    from hub.logs import install_log_redaction

    install_log_redaction()  # uvicorn's access log prints /download/<token> paths
    return create_app(get_settings())


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from hub.logs import install_log_redaction

    workers = getattr(args, "workers", 1)
    server = getattr(args, "server", DEFAULT_SERVER)
    install_log_redaction()
    print(
        f"LeaseHub on http://{settings.host}:{settings.port}/graphql "
        f"({workers} worker(s), {server})",
        file=sys.stderr,
    )
    if server == "granian":
        _serve_granian(settings, workers)
    else:
        _serve_uvicorn(settings, workers)
    return 0


def _serve_granian(settings: Settings, workers: int) -> None:
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces, Loops

    # Granian builds the app in worker processes of its own, always from the import string
    # (they read their settings from the environment, as `serve` does). The ASGI interface
    # runs the app's lifespan in each (ASGINL would skip it: no frozen start-up objects, no
    # outbox task, download workers and pools never released). Granian never takes the peer
    # from X-Forwarded-For: the hub believes it only from LEASEHUB_TRUSTED_PROXIES. No access
    # log: granian logs its fields as a mapping, which the token redaction does not rewrite.
    Granian(
        "hub.cli:server_app",
        factory=True,
        interface=Interfaces.ASGI,
        address=settings.host,
        port=settings.port,
        workers=workers,
        loop=Loops.uvloop,
        http=HTTPModes.http1,
        websockets=True,  # live subscriptions (graphql-transport-ws on /graphql)
        log_access=False,
    ).serve()


def _serve_uvicorn(settings: Settings, workers: int) -> None:
    import uvicorn

    from hub.app import create_app

    # Several workers are separate processes that build their own app from an import string.
    app = create_app(settings) if workers == 1 else "hub.cli:server_app"
    # proxy_headers=False: uvicorn would otherwise take X-Forwarded-For from any local peer;
    # the hub itself believes it only from LEASEHUB_TRUSTED_PROXIES (auth/addresses.py).
    uvicorn.run(
        app,
        factory=workers > 1,
        workers=workers,
        host=settings.host,
        port=settings.port,
        log_level="info",
        proxy_headers=False,
    )


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """First run: migrate and load demo data into an empty database; then serve."""
    cmd_migrate(settings, args)
    if asyncio.run(_client_count(settings.database_url)) == 0:
        print(
            "Empty database: loading demo data (password of every demo login: LeaseHub!2026)",
            file=sys.stderr,
        )
        asyncio.run(_load_demo(settings.database_url, args.clients, args.seed, None))
    settings, sandbox = _with_sandbox(settings)
    settings, idp = _with_idp_sandbox(settings)
    try:
        return cmd_serve(settings, args)
    finally:
        for process in (sandbox, idp):
            if process is not None:
                process.terminate()
                process.wait(timeout=10)


def _with_sandbox(settings: Settings) -> tuple[Settings, subprocess.Popen[bytes] | None]:
    """In development without a gateway configured, `run` starts the PayU-protocol sandbox
    beside the hub (its own process, on 127.0.0.1), so that a payment can be clicked through
    with the demo data. Both use the development placeholders of the PayU settings."""
    if not settings.is_development or settings.payu_base_url is not None:
        return settings, None
    url = f"http://127.0.0.1:{SANDBOX_PORT}"
    os.environ["LEASEHUB_PAYU_BASE_URL"] = url  # server processes read their settings there
    command = [sys.executable, "-m", "hub.cli", "gateway-sandbox", "--port", str(SANDBOX_PORT)]
    print(f"PayU sandbox for development payments on {url}", file=sys.stderr)
    process = subprocess.Popen(command)  # noqa: S603 - our own interpreter and module
    return settings.model_copy(update={"payu_base_url": url}), process


def _with_idp_sandbox(settings: Settings) -> tuple[Settings, subprocess.Popen[bytes] | None]:
    """In development without sign-in providers configured, `run` starts the OpenID Connect
    sandbox beside the hub as the providers `bank` (clients) and `staff`, and links the demo
    main account to its bank customer, so the bank entry can be clicked through."""
    if not settings.is_development or settings.sso_providers:
        return settings, None
    from hub.demo import DEMO_MAIN_EMAIL
    from hub.idp_sandbox import DEMO_LINKED_SUBJECT, demo_providers

    url = f"http://127.0.0.1:{IDP_SANDBOX_PORT}"
    providers = json.dumps(demo_providers(url))
    os.environ["LEASEHUB_SSO_PROVIDERS"] = providers  # server processes read it there
    command = [sys.executable, "-m", "hub.cli", "idp-sandbox", "--port", str(IDP_SANDBOX_PORT)]
    print(f"Sign-in sandbox (providers bank, staff) on {url}", file=sys.stderr)
    process = subprocess.Popen(command)  # noqa: S603 - our own interpreter and module
    configured = settings.model_copy(update={"sso_providers_json": providers})
    asyncio.run(_sso_link(configured, "bank", DEMO_LINKED_SUBJECT, DEMO_MAIN_EMAIL))
    return configured, process


def cmd_idp_sandbox(settings: Settings, args: argparse.Namespace) -> int:
    """The OpenID Connect sandbox (hub/idp_sandbox.py); back-channel logouts go to this hub."""
    import uvicorn

    from hub.idp_sandbox import IdpSandbox

    sandbox = IdpSandbox(hub_url=f"http://{settings.host}:{settings.port}")
    print(f"Sign-in sandbox on http://127.0.0.1:{args.port} (bank, staff)", file=sys.stderr)
    uvicorn.run(sandbox.app(), host="127.0.0.1", port=args.port, log_level="warning")
    return 0


def cmd_sso_link(settings: Settings, args: argparse.Namespace) -> int:
    """The lessor links a provider's subject (the bank's customer id) to an account."""
    if args.provider not in settings.sso_providers:
        print(f"No provider {args.provider!r} in LEASEHUB_SSO_PROVIDERS", file=sys.stderr)
        return 1
    refused = asyncio.run(_sso_link(settings, args.provider, args.subject, args.email))
    if refused is not None:
        print(
            f"Not linked ({refused}): no such account, an account of the other audience "
            "(clients / staff), or either side is linked already",
            file=sys.stderr,
        )
        return 1
    print(f"Linked {args.provider}:{args.subject} to {args.email}", file=sys.stderr)
    return 0


async def _sso_link(settings: Settings, provider: str, subject: str, email: str) -> str | None:
    """None when linked, else the refusal's code; audited and e-mailed (resolvers/sso.py)."""
    from hub.db import Database
    from resolvers.sso import link_by_lessor

    db = Database.from_settings(settings)
    try:
        refused = await link_by_lessor(
            db,
            provider=settings.sso_providers[provider],
            subject=subject,
            email=email,
            now=datetime.now(UTC),
        )
    finally:
        await db.dispose()
    return refused.code if refused is not None else None


def cmd_export_schema(_settings: Settings, args: argparse.Namespace) -> int:
    from schema import schema

    sdl = str(schema) + "\n"
    if args.check:
        if not args.output.exists() or args.output.read_text() != sdl:
            print(
                f"{args.output} differs from the schema in code: run `leasehub export-schema`",
                file=sys.stderr,
            )
            return 1
        return 0
    args.output.write_text(sdl)
    print(f"Wrote {args.output}", file=sys.stderr)
    return 0


def cmd_access_log_purge(settings: Settings, args: argparse.Namespace) -> int:
    """The access log's retention: entries older than LEASEHUB_ACCESS_LOG_DAYS (or --days)."""
    days = args.days or settings.access_log_days
    removed = asyncio.run(_access_log_purge(settings, days=days))
    print(f"access-log-purge: {removed} entries older than {days} days removed", file=sys.stderr)
    return 0


async def _access_log_purge(settings: Settings, *, days: int) -> int:
    from hub.db import Database
    from models.audit import job
    from resolvers.access_log import purge_access_log

    def progress(done: int, total: int) -> None:
        sys.stderr.write(f"\r  access log: {done}/{total} entries removed")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    db = Database.from_settings(settings)
    try:
        with job("access-log-purge"):
            return await purge_access_log(db, days=days, progress=progress)
    finally:
        await db.dispose()


def _utc_time(text: str) -> datetime:
    """An ISO time from the command line; without a zone it is UTC, as the log's times are."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cmd_audit_export(settings: Settings, args: argparse.Namespace) -> int:
    """The audit log for auditors: CSV or XLSX (by the file's suffix), filtered like
    `admin.auditLog`, oldest first."""
    written = asyncio.run(_audit_export(settings, args))
    print(f"audit-export: {written} rows written to {args.file}", file=sys.stderr)
    return 0


async def _audit_export(settings: Settings, args: argparse.Namespace) -> int:
    from exports.tables import TableFormat
    from hub.db import Database
    from resolvers.audit import AuditFilter, export_audit_log

    def progress(done: int) -> None:
        sys.stderr.write(f"\r  audit log: {done} rows")
        sys.stderr.flush()

    filters = AuditFilter(
        client_id=args.client, action=args.action, since=args.since, until=args.until
    )
    table_format = TableFormat.XLSX if args.file.suffix.lower() == ".xlsx" else TableFormat.CSV
    db = Database.from_settings(settings)
    try:
        written = await export_audit_log(
            db,
            args.file,
            filters=filters,
            table_format=table_format,
            polish=args.polish,
            progress=progress,
        )
    finally:
        await db.dispose()
    sys.stderr.write("\n")
    return written


def cmd_prune(settings: Settings, args: argparse.Namespace) -> int:
    """Forget attempt counters, spent captchas and failed-login history older than --days,
    expired single sign-on starts and spent logout tokens, and attachment uploads declared but
    never finished (with their files)."""
    removed, uploads = asyncio.run(_prune(settings, days=args.days))
    print(f"prune: {removed} rows removed, {uploads} unfinished uploads", file=sys.stderr)
    return 0


async def _prune(settings: Settings, *, days: float) -> tuple[int, int]:
    from auth import throttle
    from hub.db import Database
    from models.base import utcnow
    from resolvers.attachments import prune_uploads
    from resolvers.sso import prune_sign_ins

    db = Database.from_settings(settings)
    try:
        async with db.write() as session:
            removed = await throttle.prune(session, older_than=utcnow() - timedelta(days=days))
            removed += await prune_sign_ins(session, now=utcnow())
        return removed, await prune_uploads(db, settings, now=utcnow())
    finally:
        await db.dispose()


def cmd_outbox(settings: Settings, args: argparse.Namespace) -> int:
    """Deliver waiting e-mail and SMS; with --watch, keep doing so every few seconds."""
    return asyncio.run(_outbox(settings, watch=args.watch, interval=args.interval))


async def _outbox(settings: Settings, *, watch: bool, interval: float) -> int:
    from hub.db import Database
    from hub.outbox import deliver_pending, sender_for

    db = Database.from_settings(settings)
    email, sms = (
        sender_for(settings.mail_sender, settings),
        sender_for(settings.sms_sender, settings),
    )
    try:
        while True:
            delivery = await deliver_pending(db, email=email, sms=sms)
            print(f"outbox: {delivery.sent} sent, {delivery.failed} failed", file=sys.stderr)
            if not watch:
                return 0 if delivery.failed == 0 else 1
            await asyncio.sleep(interval)
    finally:
        await db.dispose()


def cmd_interest_rate(settings: Settings, args: argparse.Namespace) -> int:
    """The statutory late-interest table: list it, or add the half-year just announced."""
    from sqlalchemy.exc import DBAPIError

    try:
        if args.action == "add":
            return asyncio.run(_add_interest_rate(settings, args))
        return asyncio.run(_list_interest_rates(settings))
    except DBAPIError as error:  # most often a database not migrated yet: say so, no traceback
        url = _safe_url(settings.database_url)
        print(
            f"interest-rate: the database at {url} could not be read ({type(error.orig).__name__}"
            f"); run `leasehub migrate` first",
            file=sys.stderr,
        )
        return 2


def _percent(rate: Decimal) -> str:
    return f"{rate * 100:.2f} %"


async def _add_interest_rate(settings: Settings, args: argparse.Namespace) -> int:
    from auth.clock import warsaw_today
    from hub.db import Database
    from models.base import utcnow
    from resolvers.interest_rates import RateRefused, add_rate

    db = Database.from_settings(settings)
    try:
        async with db.write() as session:
            added = await add_rate(
                session,
                valid_from=args.valid_from,
                annual_rate=args.rate,
                source=args.source,
                today=warsaw_today(utcnow()),
            )
    except RateRefused as refused:
        print(f"interest-rate: not added: {refused}", file=sys.stderr)
        return 1
    finally:
        await db.dispose()
    print(
        f"interest-rate: added {_percent(added.annual_rate)} from {added.valid_from} "
        f"({added.source})",
        file=sys.stderr,
    )
    return 0


async def _list_interest_rates(settings: Settings) -> int:
    from auth.clock import warsaw_today
    from hub.db import Database
    from models.base import utcnow
    from models.interest import half_year_start
    from resolvers.interest_rates import stored_rates

    db = Database.from_settings(settings)
    try:
        async with db.read() as session:
            rates = await stored_rates(session)
    finally:
        await db.dispose()
    for rate in rates:
        print(f"{rate.valid_from}  {_percent(rate.annual_rate):>8}  {rate.source}")
    current = half_year_start(warsaw_today(utcnow()))
    missing = "" if current in {r.valid_from for r in rates} else f"; none yet from {current}"
    print(f"interest-rate: {len(rates)} half-years{missing}", file=sys.stderr)
    return 0


def cmd_import_statement(settings: Settings, args: argparse.Namespace) -> int:
    """Book an MT940 bank statement: the same booking as the staff mutation `statementImport`."""
    from resolvers.booking import InvalidStatement, decode

    try:
        content = decode(args.file.read_bytes())
        summary = asyncio.run(_import_statement(settings, content, args.file.name))
    except (OSError, InvalidStatement) as error:
        print(f"import-statement: {args.file}: {error}", file=sys.stderr)
        return 1
    print(
        f"import-statement: {summary.lines} lines read, {summary.credits} credits, "
        f"{summary.booked} booked ({summary.booked_amount} PLN), {summary.duplicates} "
        f"duplicates skipped, {summary.unmatched} unmatched, {summary.debits} debits ignored, "
        f"{summary.allocated_amount} PLN allocated, {summary.overpayments} PLN overpayments",
        file=sys.stderr,
    )
    for line in summary.unmatched_lines:
        print(f"  unmatched: {line.value_date} {line.amount} {line.title!r}", file=sys.stderr)
    return 0


async def _import_statement(settings: Settings, content: str, file_name: str) -> Any:
    from auth.clock import warsaw_today
    from hub.db import Database
    from models.base import utcnow
    from resolvers.booking import book_statement

    db = Database.from_settings(settings)
    _step("statement", 0, 2)
    try:
        async with db.write() as session:
            summary = await book_statement(
                session, content=content, file_name=file_name, today=warsaw_today(utcnow())
            )
            _step("statement", 1, 2)
    finally:
        await db.dispose()
    _step("statement", 2, 2)
    return summary


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    """Records from the core leasing system (intake/): validated, then upserted by external id
    in batches, or with `--dry-run` only reported."""
    from auth.clock import warsaw_today
    from intake.files import FileFormat, UnreadableFile, count_rows
    from intake.run import kind_of
    from models.base import utcnow

    kind = kind_of(args.kind, today=warsaw_today(utcnow()))
    assert kind is not None  # argparse's choices
    try:
        file_format = FileFormat(args.format) if args.format else FileFormat.of(args.file)
    except ValueError:
        print(f"import: {args.file}: give --format csv, xlsx or jsonl", file=sys.stderr)
        return 1
    try:
        total = count_rows(args.file, file_format)
        summary = asyncio.run(_import(settings, args, kind, file_format, total))
    except (OSError, UnreadableFile) as error:
        print(f"import: {args.file}: {error}", file=sys.stderr)
        return 1
    return _import_report(args, summary)


async def _import(
    settings: Settings, args: argparse.Namespace, kind: Any, file_format: Any, total: int
) -> Any:
    import time

    from hub.db import Database
    from intake.run import import_file

    started = time.monotonic()

    def progress(done: int) -> None:
        rate = done / max(time.monotonic() - started, 1e-6)
        _step(f"{args.kind} ({rate:,.0f} rows/s)", min(done, total), max(total, done))

    db = Database.from_settings(settings)
    try:
        return await import_file(
            db,
            kind=kind,
            path=args.file,
            file_format=file_format,
            dry_run=args.dry_run,
            portal_url=settings.portal_url,
            progress=progress,
            settings=settings,
        )
    finally:
        await db.dispose()


def _import_report(args: argparse.Namespace, summary: Any) -> int:
    """Every refused row's problems, then the summary; exit 1 when any row was refused."""
    from models.i18n import Language, translate

    language = Language(args.lang)
    for error in summary.errors:
        field = error.field or "-"
        text = translate(error.message, language)
        print(f"  row {error.row}: {field}: {error.code} {text}", file=sys.stderr)
    mode = "dry run, nothing written: " if args.dry_run else ""
    print(
        f"import {args.kind}: {mode}{summary.rows} rows, {summary.created} created, "
        f"{summary.updated} updated, {summary.unchanged} unchanged, {summary.refused} refused",
        file=sys.stderr,
    )
    return 1 if summary.refused else 0


def cmd_interest_notes(settings: Settings, args: argparse.Namespace) -> int:
    """Issue a month's interest notes: the same job as the staff mutation `interestNotesIssue`."""
    from auth.clock import warsaw_today
    from models.base import utcnow
    from models.i18n import Language, translate
    from resolvers.interest_notes import month_error

    today = warsaw_today(utcnow())
    month, error = month_error(args.month, today=today)
    if month is None:
        text = translate(error.message, Language.EN) if error else args.month
        print(f"interest-notes: {args.month}: {text}", file=sys.stderr)
        return 1
    summary = asyncio.run(_interest_notes(settings, month, today))
    print(
        f"interest-notes: {args.month}: {summary.invoices} invoices examined, "
        f"{summary.late_payments} late payments, {len(summary.notes)} notes issued "
        f"({summary.interest} PLN interest), {len(summary.skipped)} skipped",
        file=sys.stderr,
    )
    for note in summary.notes:
        print(f"  issued: {note.number} {note.amount} PLN ({note.title})", file=sys.stderr)
    for skip in summary.skipped:
        reason = translate(skip.message, Language.EN)
        print(
            f"  skipped: {skip.invoice_number} booked {skip.booked_on}: {skip.code} {reason}",
            file=sys.stderr,
        )
    return 0


async def _interest_notes(settings: Settings, month: date, today: date) -> Any:
    from hub.db import Database
    from resolvers.interest_notes import issue_interest_notes

    db = Database.from_settings(settings)
    try:
        return await issue_interest_notes(
            db,
            month=month,
            today=today,
            progress=lambda done, total: _step("late payments", done, total),
        )
    finally:
        await db.dispose()


def _step(what: str, done: int, total: int) -> None:
    """`_progress` for other work: read, booked (one transaction, so two steps)."""
    width = 30
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\r  {what} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def cmd_gateway_sandbox(settings: Settings, args: argparse.Namespace) -> int:
    """The PayU-protocol sandbox (hub/gateway_sandbox.py) with the hub's own PayU settings,
    so LEASEHUB_PAYU_BASE_URL=http://127.0.0.1:PORT is all the hub needs."""
    import uvicorn

    from hub.gateway_sandbox import Sandbox

    sandbox = Sandbox(
        pos_id=settings.payu_pos_id,
        client_id=settings.payu_client_id,
        client_secret=settings.payu_client_secret,
        second_key=settings.payu_second_key,
    )
    print(f"PayU sandbox on http://127.0.0.1:{args.port}", file=sys.stderr)
    uvicorn.run(sandbox.app(), host="127.0.0.1", port=args.port, log_level="warning")
    return 0


def cmd_gateway_poll(settings: Settings, args: argparse.Namespace) -> int:
    """One round of asking the gateway about payments whose notification never came (the
    server does it every half-minute when a gateway is configured)."""
    from resolvers.gateway import provider_of

    if provider_of(settings) is None:
        print("gateway-poll: no gateway configured (LEASEHUB_PAYU_BASE_URL)", file=sys.stderr)
        return 1
    report = asyncio.run(_gateway_poll(settings, limit=args.limit))
    print(
        f"gateway-poll: {report.asked} orders asked, {report.changed} changed, "
        f"{report.failed_unknown} never created at the gateway failed, {report.errors} errors, "
        f"{report.left} left for the next round",
        file=sys.stderr,
    )
    return 0 if report.errors == 0 and report.left == 0 else 1


async def _gateway_poll(settings: Settings, *, limit: int | None) -> Any:
    from hub.db import Database
    from models.base import utcnow
    from resolvers.gateway.polling import ROUND_LIMIT, poll_stuck_orders

    db = Database.from_settings(settings)
    try:
        return await poll_stuck_orders(
            db=db,
            settings=settings,
            now=utcnow(),
            limit=limit or ROUND_LIMIT,
            progress=lambda done, total: _step("orders", done, total),
        )
    finally:
        await db.dispose()


def cmd_reminders(settings: Settings, _args: argparse.Namespace) -> int:
    """E-mail a reminder of every tyre appointment of tomorrow (Europe/Warsaw), once each:
    a second run, or two at once, send nothing twice."""
    report = asyncio.run(_reminders(settings))
    print(
        f"reminders: {report.day}: {report.claimed} appointments reminded of, "
        f"{report.emailed} e-mails queued",
        file=sys.stderr,
    )
    return 0


async def _reminders(settings: Settings) -> Any:
    from hub.db import Database
    from models.base import utcnow
    from resolvers.tyre_booking import send_reminders

    db = Database.from_settings(settings)
    try:
        return await send_reminders(db, now=utcnow())
    finally:
        await db.dispose()


def _fraction(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation as error:
        raise argparse.ArgumentTypeError("a fraction, e.g. 0.1375 for 13.75 %") from error


def _safe_url(url: str) -> str:
    """The database URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="leasehub", description="LeaseHub data hub.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="migrate, load demo data when empty, and serve")
    run.add_argument("--clients", type=int, default=100, help="demo clients on first run")
    run.add_argument("--seed", type=int, default=2026)
    run.set_defaults(handler=cmd_run)
    serve = commands.add_parser("serve", help="serve the API")
    serve.set_defaults(handler=cmd_serve)
    for serving in (run, serve):
        serving.add_argument(
            "--workers", type=_positive, default=1, help="server processes (one per core at most)"
        )
        serving.add_argument(
            "--server",
            choices=SERVERS,
            default=DEFAULT_SERVER,
            help=f"the HTTP server (default: {DEFAULT_SERVER}, the faster in bench.peer --servers)",
        )
    commands.add_parser("migrate", help="apply migrations").set_defaults(handler=cmd_migrate)
    demo = commands.add_parser("demo", help="fill an empty database with demo data")
    demo.add_argument("--clients", type=int, default=100)
    demo.add_argument("--seed", type=int, default=2026)
    demo.add_argument(
        "--today",
        type=date.fromisoformat,
        default=None,
        help="the day the data is anchored to (YYYY-MM-DD; default: today)",
    )
    demo.set_defaults(handler=cmd_demo)
    outbox = commands.add_parser("outbox", help="deliver waiting e-mail and SMS")
    outbox.add_argument("--watch", action="store_true", help="keep delivering until stopped")
    outbox.add_argument("--interval", type=float, default=5.0, help="seconds between rounds")
    outbox.set_defaults(handler=cmd_outbox)
    export = commands.add_parser(
        "audit-export", help="the audit log for auditors, as CSV or XLSX (by the suffix)"
    )
    export.add_argument("file", type=Path)
    export.add_argument("--client", type=int, default=None, help="one company's (its number id)")
    export.add_argument("--action", default=None, help="one mutation or job, e.g. invoiceIssue")
    export.add_argument("--since", type=_utc_time, default=None, help="ISO time")
    export.add_argument("--until", type=_utc_time, default=None, help="exclusive")
    export.add_argument("--polish", action="store_true", help="Polish headers and separators")
    export.set_defaults(handler=cmd_audit_export)
    purge = commands.add_parser(
        "access-log-purge", help="remove access-log entries past their retention (daily job)"
    )
    purge.add_argument("--days", type=int, default=None, help="default: LEASEHUB_ACCESS_LOG_DAYS")
    purge.set_defaults(handler=cmd_access_log_purge)
    prune = commands.add_parser(
        "prune", help="forget old attempt counters, spent captchas and failed logins (daily job)"
    )
    prune.add_argument("--days", type=float, default=1.0, help="keep what is younger (days)")
    prune.set_defaults(handler=cmd_prune)
    rates = commands.add_parser(
        "interest-rate", help="the statutory late-interest table, one rate per half-year"
    )
    rate_actions = rates.add_subparsers(dest="action", required=True)
    rate_actions.add_parser("list", help="print the table with each rate's source")
    add = rate_actions.add_parser("add", help="add the rate of a half-year once announced")
    add.add_argument(
        "--from",
        dest="valid_from",
        type=date.fromisoformat,
        required=True,
        help="the half-year's first day: YYYY-01-01 or YYYY-07-01",
    )
    add.add_argument("--rate", type=_fraction, required=True, help="0.1375 for 13.75 %%")
    add.add_argument(
        "--source", required=True, help='where it was announced, e.g. "M.P. 2026 poz. 123"'
    )
    rates.set_defaults(handler=cmd_interest_rate)
    statement = commands.add_parser(
        "import-statement", help="book an MT940 bank statement (a re-import books nothing twice)"
    )
    statement.add_argument("file", type=Path, help="the statement file (.sta, .mt940)")
    statement.set_defaults(handler=cmd_import_statement)
    intake = commands.add_parser(
        "import",
        help="records from the core leasing system, upserted by external id (README: Intake)",
    )
    intake.add_argument("kind", choices=INTAKE_KINDS)
    intake.add_argument("file", type=Path, help="CSV (comma, header row), XLSX or JSON Lines")
    intake.add_argument(
        "--dry-run", action="store_true", help="report every problem, write nothing"
    )
    intake.add_argument("--format", choices=("csv", "xlsx", "jsonl"), help="default: the extension")
    intake.add_argument("--lang", choices=("pl", "en"), default="pl", help="of the row messages")
    intake.set_defaults(handler=cmd_import)
    notes = commands.add_parser(
        "interest-notes",
        help="issue the interest notes of a month's late payments (a re-run issues nothing twice)",
    )
    notes.add_argument("--month", required=True, help="YYYY-MM, a month that has begun")
    notes.set_defaults(handler=cmd_interest_notes)
    sandbox = commands.add_parser(
        "gateway-sandbox", help="a PayU-protocol payment gateway on 127.0.0.1 for development"
    )
    sandbox.add_argument("--port", type=_positive, default=SANDBOX_PORT)
    sandbox.set_defaults(handler=cmd_gateway_sandbox)
    idp = commands.add_parser(
        "idp-sandbox",
        help="an OpenID Connect identity provider on 127.0.0.1 for development (bank, staff)",
    )
    idp.add_argument("--port", type=_positive, default=IDP_SANDBOX_PORT)
    idp.set_defaults(handler=cmd_idp_sandbox)
    link = commands.add_parser(
        "sso-link", help="link a sign-in provider's subject (e.g. a bank customer id) to an account"
    )
    link.add_argument("provider", help="a provider of LEASEHUB_SSO_PROVIDERS")
    link.add_argument("subject", help="the person's id at the provider")
    link.add_argument("email", help="the LeaseHub account's e-mail")
    link.set_defaults(handler=cmd_sso_link)
    poll = commands.add_parser(
        "gateway-poll",
        help="ask the gateway about payments whose notification never came (one round)",
    )
    poll.add_argument(
        "--limit", type=_positive, default=None, help="orders asked at most (default: 20)"
    )
    poll.set_defaults(handler=cmd_gateway_poll)
    reminders = commands.add_parser(
        "reminders", help="e-mail tomorrow's tyre appointments a reminder (once each; daily job)"
    )
    reminders.set_defaults(handler=cmd_reminders)
    export = commands.add_parser("export-schema", help="write schema.graphql")
    export.add_argument("--output", type=Path, default=SCHEMA_FILE)
    export.add_argument("--check", action="store_true", help="fail when the file is stale")
    export.set_defaults(handler=cmd_export_schema)
    return parser


def main(argv: list[str] | None = None) -> int:
    from models.audit import job

    args = build_parser().parse_args(argv)
    if args.command in SERVING_COMMANDS:  # each request and background loop records its own actor
        return int(args.handler(get_settings(), args))
    with job(args.command):  # the command's writes are on the audit log as `job:<command>`
        return int(args.handler(get_settings(), args))


SERVING_COMMANDS = frozenset({"run", "serve", "gateway-sandbox", "idp-sandbox"})


if __name__ == "__main__":
    sys.exit(main())
