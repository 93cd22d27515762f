"""Signed download links and the files behind them.

`link` signs what to download for the viewer; `open_download` checks the holder's rights again
when the link is used and gathers the data; rendering and table pulls run through `Heavy`, in
worker processes (`hub/downloads.py`), so they take neither the server's CPU nor its pool.
Every refusal is the same `None`, so a link never tells whether a document exists. A person at
the lessor (staff, or a support view) who is let through is noted in the download's audit
frame, which `hub/downloads.py` writes to the company's access log.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.scopes import Scope
from auth.sessions import viewer_of_user
from auth.viewer import ANONYMOUS, Viewer
from exports import pdf
from exports.documents import BalanceConfirmationDocument, GeneralDocument, InterestNoteDocument
from exports.links import Grant
from exports.tables import SCHEDULE_COLUMNS, frame, to_csv, to_xlsx
from models.audit import current_frame, note_read
from models.client import Client
from models.contract import Contract, Instalment
from models.document import Document
from models.i18n import Language
from models.invoice import Invoice, InvoiceDuplicate
from resolvers import documents as printed
from resolvers.tables import TABLES, Pull, PullDatabase, write_pull

if TYPE_CHECKING:
    from hub.db import Database
    from hub.settings import Settings

M = TypeVar("M")
T = TypeVar("T")
PDF = "application/pdf"
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": PDF,
}
PULL_OVERLAP = timedelta(minutes=1)
FOLLOW_CHUNK = 1 << 16
FOLLOW_WAIT = 0.05  # seconds between looks at a CSV the worker is still writing


class Heavy(Protocol):
    """Where CPU-heavy work runs: worker processes behind a bounded queue. The functions and
    their arguments cross to another process, so they must be picklable (module-level)."""

    # Opens a database of the worker's own for a pull (picklable, called in the worker).
    open_db: Callable[[], PullDatabase]

    async def start(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Waits for a free worker and hands it `fn`: its result, later."""
        ...

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in a worker, once one is free."""
        ...


@dataclass(frozen=True, slots=True)
class File:
    """What the route sends: whole `content`, `chunks` streamed as they are produced, or a
    finished file at `path`; the route removes `folder` once the answer is over, also when the
    client left before it began."""

    filename: str
    media_type: str
    content: bytes = b""
    chunks: AsyncIterator[bytes] | None = None
    path: Path | None = None
    folder: Path | None = None
    headers: dict[str, str] = field(default_factory=dict)


async def holder(session: AsyncSession, grant: Grant, now: datetime) -> Viewer:
    """The rights of whoever a link was made for, as they are now (an API token's, when the
    link was made with one)."""
    via = grant.option("via")
    if via and not via.isdigit():
        return ANONYMOUS
    return await viewer_of_user(
        session, user_id=grant.user_id, api_token_id=int(via) if via else None, now=now
    )


@dataclass(frozen=True, slots=True)
class _Use:
    """A verified grant being served: the database, the settings and the moment."""

    db: Database
    settings: Settings
    grant: Grant
    now: datetime
    today: date
    heavy: Heavy

    async def viewer(self, session: AsyncSession) -> Viewer:
        return await holder(session, self.grant, self.now)

    async def owned(self, session: AsyncSession, model: type[M], pk: int, scope: Scope) -> M | None:
        """The row, if it exists and the holder still has `scope` in its client."""
        row = await session.get(model, pk)
        if row is None or not may_read(await self.viewer(session), row.client_id, scope):  # type: ignore[attr-defined]
            return None
        return row


def may_read(viewer: Viewer, client_id: int, *scopes: Scope) -> bool:
    """The holder has every scope in the company; a person at the lessor is noted for the
    access log (one row per download, written by the route once the file is found)."""
    if not all(viewer.has_scope(client_id, scope) for scope in scopes):
        return False
    if viewer.looks_as_staff:
        frame = current_frame()
        frame.actor_id, frame.token_id = viewer.user_id, viewer.token_id
        frame.on_behalf_of_id = viewer.on_behalf_of
        frame.reads = frame.reads if frame.reads is not None else {}
        for scope in scopes:
            note_read(client_id, scope)
    return True


def _safe_name(number: str) -> str:
    """ASCII only: a header value cannot carry other letters (and no quote or CR/LF)."""
    return "".join(c if (c.isascii() and c.isalnum()) or c in "-_" else "-" for c in number)


async def _pdf_file(use: _Use, name: str, render: Callable[[Any], bytes], document: Any) -> File:
    content = await use.heavy.run(render, document)
    return File(filename=f"{_safe_name(name)}.pdf", media_type=PDF, content=content)


def schedule_table(rows: list[dict[str, Any]], kind: str, polish: bool) -> bytes:
    """A schedule as XLSX or CSV (in a worker process)."""
    df = frame(rows, SCHEDULE_COLUMNS, polish=polish, totals=True)
    return to_xlsx(df, SCHEDULE_COLUMNS) if kind == "xlsx" else to_csv(df, polish=polish)


async def _schedule(use: _Use) -> File | None:
    async with use.db.read() as session:
        contract = await use.owned(session, Contract, use.grant.object_id, Scope.SCHEDULES_READ)
        if contract is None:
            return None
        query = (
            select(Instalment)
            .where(col(Instalment.contract_id) == contract.id)
            .order_by(col(Instalment.number))
        )
        instalments = list((await session.execute(query)).scalars())
        client = await session.get(Client, contract.client_id)
    polish = use.grant.option("lang", "pl") == "pl"
    kind = use.grant.option("format", "xlsx")
    name = f"{'harmonogram' if polish else 'schedule'}-{contract.number}"
    if kind == "pdf":
        if client is None:  # the contract's client (a foreign key): only a race removes it
            return None
        language = Language.PL if polish else Language.EN
        document = printed.schedule(
            use.settings, contract, client, instalments, use.today, language
        )
        return await _pdf_file(use, name, pdf.schedule_pdf, document)
    rows = [row.model_dump() for row in instalments]
    content = await use.heavy.run(schedule_table, rows, kind, polish)
    return File(
        filename=f"{_safe_name(name)}.{kind}", media_type=MEDIA_TYPES[kind], content=content
    )


async def _invoice(use: _Use, invoice_id: int, duplicate_of: date | None = None) -> File | None:
    async with use.db.read() as session:
        invoice = await use.owned(session, Invoice, invoice_id, Scope.INVOICES_READ)
        if invoice is None:
            return None
        document = await printed.invoice(session, use.settings, invoice, duplicate_of)
    name = f"{'duplikat-' if duplicate_of else ''}faktura-{invoice.number}"
    return await _pdf_file(use, name, pdf.invoice_pdf, document)


async def _duplicate(use: _Use) -> File | None:
    async with use.db.read() as session:
        duplicate = await session.get(InvoiceDuplicate, use.grant.object_id)
    if duplicate is None:
        return None
    return await _invoice(use, duplicate.invoice_id, duplicate.issue_date)


_DOCUMENT_RENDERERS: dict[type[Any], Callable[[Any], bytes]] = {
    InterestNoteDocument: pdf.interest_note_pdf,
    BalanceConfirmationDocument: pdf.balance_confirmation_pdf,
    GeneralDocument: pdf.general_document_pdf,
}


async def _document(use: _Use) -> File | None:
    async with use.db.read() as session:
        row = await use.owned(session, Document, use.grant.object_id, Scope.DOCUMENTS_READ)
        if row is None:
            return None
        document = await printed.document(session, use.settings, row)
    render = _DOCUMENT_RENDERERS[type(document)]
    return await _pdf_file(use, f"dokument-{row.number}", render, document)


async def _table(use: _Use) -> File | None:
    table = TABLES.get(use.grant.option("table"))
    if table is None:
        return None
    client_id = use.grant.object_id
    async with use.db.read() as session:
        if not may_read(await use.viewer(session), client_id, table.scope, *table.also_needs):
            return None
    since = use.grant.option("since")
    polish = use.grant.option("lang") == "pl"
    kind = use.grant.option("format", "csv")
    pull = Pull(
        table=table.name,
        client_id=client_id,
        filters=use.grant.option("filters", "{}"),
        updated_since=datetime.fromisoformat(since) if since else None,
        today=use.today,
        polish=polish,
        kind=kind,
    )
    name = f"{table.polish_name if polish else table.name}.{kind}"
    # Rows committed while the pull ran may carry stamps a little older than its start:
    # the next pull starts that much earlier, and a row may come twice (upsert by Id).
    headers = {"X-LeaseHub-Pulled-At": (use.now - PULL_OVERLAP).isoformat()}
    media_type = MEDIA_TYPES[kind]
    if kind == "xlsx":
        path = await _xlsx_file(use, pull)
        return File(name, media_type, path=path, folder=path.parent, headers=headers)
    chunks, folder = await _csv_chunks(use, pull)
    return File(name, media_type, chunks=chunks, folder=folder, headers=headers)


def _folder() -> Path:
    """A folder of the pull's own, for the file and XlsxWriter's row files."""
    return Path(tempfile.mkdtemp(prefix="leasehub-"))


async def _xlsx_file(use: _Use, pull: Pull) -> Path:
    """Built whole before answering, so a failure is an error status, not a cut file. On
    failure the folder goes at once, else after the response."""
    path = _folder() / "table.xlsx"
    try:
        await use.heavy.run(write_pull, pull, use.heavy.open_db, path)
    except BaseException:
        shutil.rmtree(path.parent, ignore_errors=True)
        raise
    return path


async def _csv_chunks(use: _Use, pull: Pull) -> tuple[AsyncIterator[bytes], Path]:
    """The CSV streams as the worker writes it, from a folder of its own; a pull that fails
    before its first page is an error status rather than an empty file."""
    path = _folder() / "table.csv"
    try:
        path.touch()  # the worker appends, the server follows
        written = await use.heavy.start(write_pull, pull, use.heavy.open_db, path)
        while not written.done() and path.stat().st_size == 0:
            await asyncio.wait([written], timeout=FOLLOW_WAIT)
        if written.done():
            written.result()  # the worker's error, if it failed
    except BaseException:
        shutil.rmtree(path.parent, ignore_errors=True)
        raise
    return _follow(path, written), path.parent


async def _follow(path: Path, written: asyncio.Future[Any]) -> AsyncIterator[bytes]:
    """The file as it grows, until the worker is done with it (the route removes its folder)."""
    with path.open("rb") as file:
        while True:
            finished = written.done()  # all it wrote before this moment is read below
            chunk = file.read(FOLLOW_CHUNK)
            if chunk:
                yield chunk
            elif finished:
                written.result()  # a worker that failed mid-way cuts the stream
                return
            else:
                await asyncio.wait([written], timeout=FOLLOW_WAIT)


_KINDS: dict[str, Callable[[_Use], Awaitable[File | None]]] = {
    "schedule": _schedule,
    "invoice": lambda use: _invoice(use, use.grant.object_id),
    "duplicate": _duplicate,
    "document": _document,
    "table": _table,
}


async def open_download(
    db: Database, settings: Settings, grant: Grant, *, now: datetime, today: date, heavy: Heavy
) -> File | None:
    """The file behind a verified grant, or None when its holder may no longer have it."""
    opener = _KINDS.get(grant.kind)
    if opener is None:
        return None
    return await opener(_Use(db, settings, grant, now, today, heavy))
