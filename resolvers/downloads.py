"""Signed download links and the files behind them.

`link` signs what to download for the viewer; `open_download` checks the holder's rights again
when the link is used and gathers the data, and `exports/` renders it off the event loop.
Every refusal is the same `None`, so a link never tells whether a document exists.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.scopes import Scope
from auth.sessions import viewer_of_user
from auth.viewer import ANONYMOUS, Viewer
from exports import pdf
from exports.documents import BalanceConfirmationDocument, GeneralDocument, InterestNoteDocument
from exports.links import Grant
from exports.streams import CsvStream, XlsxStream
from exports.tables import SCHEDULE_COLUMNS, frame, to_csv, to_xlsx
from models.client import Client
from models.contract import Contract, Instalment
from models.document import Document
from models.invoice import Invoice, InvoiceDuplicate
from resolvers import documents as printed
from resolvers.tables import TABLES, decode_filters, table_pages

if TYPE_CHECKING:
    from hub.db import Database
    from hub.settings import Settings

M = TypeVar("M")
PDF = "application/pdf"
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": PDF,
}
PULL_OVERLAP = timedelta(minutes=1)
# A PDF costs up to a second of CPU: a burst of downloads queues here, one render per core,
# instead of filling the default pool that streamed table pages also need.
_PDF_RENDERERS = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="pdf")


@dataclass(frozen=True, slots=True)
class File:
    """What the route sends: whole `content`, `chunks` streamed as they are produced, or a
    finished file at `path`, whose folder the route removes once it is sent."""

    filename: str
    media_type: str
    content: bytes = b""
    chunks: AsyncIterator[bytes] | None = None
    path: Path | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Use:
    """A verified grant being served: the database, the settings and the moment."""

    db: Database
    settings: Settings
    grant: Grant
    now: datetime
    today: date

    async def viewer(self, session: AsyncSession) -> Viewer:
        via = self.grant.option("via")
        if via and not via.isdigit():
            return ANONYMOUS
        return await viewer_of_user(
            session,
            user_id=self.grant.user_id,
            api_token_id=int(via) if via else None,
            now=self.now,
        )

    async def owned(self, session: AsyncSession, model: type[M], pk: int, scope: Scope) -> M | None:
        """The row, if it exists and the holder still has `scope` in its client."""
        row = await session.get(model, pk)
        if row is None or not (await self.viewer(session)).has_scope(row.client_id, scope):  # type: ignore[attr-defined]
            return None
        return row


def _safe_name(number: str) -> str:
    """ASCII only: a header value cannot carry other letters (and no quote or CR/LF)."""
    return "".join(c if (c.isascii() and c.isalnum()) or c in "-_" else "-" for c in number)


async def _pdf_file(name: str, render: Callable[[Any], bytes], document: Any) -> File:
    content = await asyncio.get_running_loop().run_in_executor(_PDF_RENDERERS, render, document)
    return File(filename=f"{_safe_name(name)}.pdf", media_type=PDF, content=content)


async def _schedule(use: _Use) -> File | None:
    async with use.db.read() as session:
        contract = await use.owned(session, Contract, use.grant.object_id, Scope.SCHEDULES_READ)
        if contract is None:
            return None
        query = select(Instalment).where(Instalment.contract_id == contract.id)
        instalments = list((await session.execute(query.order_by(Instalment.number))).scalars())  # type: ignore[arg-type]
        client = await session.get(Client, contract.client_id)
    polish = use.grant.option("lang", "pl") == "pl"
    kind = use.grant.option("format", "xlsx")
    name = f"{'harmonogram' if polish else 'schedule'}-{contract.number}"
    if kind == "pdf":
        document = printed.schedule(use.settings, contract, client, instalments, use.today)  # type: ignore[arg-type]
        return await _pdf_file(name, pdf.schedule_pdf, document)
    rows = [row.model_dump() for row in instalments]

    def render() -> bytes:
        df = frame(rows, SCHEDULE_COLUMNS, polish=polish, totals=True)
        return to_xlsx(df, SCHEDULE_COLUMNS) if kind == "xlsx" else to_csv(df, polish=polish)

    content = await asyncio.to_thread(render)
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
    return await _pdf_file(name, pdf.invoice_pdf, document)


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
    return await _pdf_file(f"dokument-{row.number}", render, document)


async def _table(use: _Use) -> File | None:
    table = TABLES.get(use.grant.option("table"))
    if table is None:
        return None
    client_id = use.grant.object_id
    async with use.db.read() as session:
        if not (await use.viewer(session)).has_scope(client_id, table.scope):
            return None
    filters = decode_filters(table, use.grant.option("filters", "{}"), today=use.today)
    since = use.grant.option("since")
    pages = table_pages(
        use.db,
        table,
        client_id=client_id,
        filters=filters,
        updated_since=datetime.fromisoformat(since) if since else None,
        today=use.today,
    )
    polish = use.grant.option("lang") == "pl"
    kind = use.grant.option("format", "csv")
    name = f"{table.polish_name if polish else table.name}.{kind}"
    # Rows committed while the pull ran may carry stamps a little older than its start:
    # the next pull starts that much earlier, and a row may come twice (upsert by Id).
    headers = {"X-LeaseHub-Pulled-At": (use.now - PULL_OVERLAP).isoformat()}
    if kind == "xlsx":
        # Built whole before answering, so a failure is an error status, not a cut file.
        path = await _xlsx_file(pages, table.columns, polish)
        return File(filename=name, media_type=MEDIA_TYPES[kind], path=path, headers=headers)
    chunks = _csv_chunks(pages, table.columns, polish)
    return File(filename=name, media_type=MEDIA_TYPES[kind], chunks=chunks, headers=headers)


async def _csv_chunks(
    pages: AsyncIterator[list[dict[str, Any]]], columns: Any, polish: bool
) -> AsyncIterator[bytes]:
    stream = CsvStream(columns, polish=polish)
    async for page in pages:
        yield await asyncio.to_thread(stream.page, page)
    tail = stream.page([])  # the header, when there were no rows
    if tail:
        yield tail


async def _xlsx_file(
    pages: AsyncIterator[list[dict[str, Any]]], columns: Any, polish: bool
) -> Path:
    """Rows go to a workbook on disk page by page, in a folder of its own (XlsxWriter's
    row files too); on failure the folder goes at once, else after the response."""
    folder = Path(tempfile.mkdtemp(prefix="leasehub-"))
    try:
        path = folder / "table.xlsx"
        stream = await asyncio.to_thread(XlsxStream, path, columns, polish=polish)
        try:
            async for page in pages:
                await asyncio.to_thread(stream.append, page)
        finally:
            await asyncio.to_thread(stream.close)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return path


_KINDS: dict[str, Callable[[_Use], Awaitable[File | None]]] = {
    "schedule": _schedule,
    "invoice": lambda use: _invoice(use, use.grant.object_id),
    "duplicate": _duplicate,
    "document": _document,
    "table": _table,
}


async def open_download(
    db: Database, settings: Settings, grant: Grant, *, now: datetime, today: date
) -> File | None:
    """The file behind a verified grant, or None when its holder may no longer have it."""
    opener = _KINDS.get(grant.kind)
    if opener is None:
        return None
    return await opener(_Use(db, settings, grant, now, today))
