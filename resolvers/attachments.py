"""Attachments by staged upload: declare, upload once through a signed link, claim once.

1. `declare` (mutation `attachmentUploadCreate`) checks the caller's write scope in the company,
   the name, the declared size against its kind's limit and the company's quota, and answers
   with a signed one-time `PUT` link (purpose "upload": never valid as a download link).
2. `receive` (route `PUT /upload/{token}`, hub/uploads.py) lets one upload win the link with a
   conditional update, streams the body to storage while counting it against the declared size,
   decides the kind by content (exports/sniff.py) and makes the file ready. Any refusal removes
   both the file and the row.
3. `claim_attachments` is how a filing, reply or message takes its files: once each.
"""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.access import require_scope
from auth.scopes import Scope
from exports.links import LIFETIME, UPLOAD, Grant, verify
from exports.sniff import Refused, ZipLimits, detect
from exports.storage import Storage, file_storage
from models.attachment import (
    DOCUMENT_KINDS,
    Attachment,
    AttachmentKind,
    AttachmentPurpose,
    AttachmentStatus,
)
from models.audit import current_frame
from models.base import stored_id
from models.client import Client
from models.i18n import Msg, _
from resolvers.context import Context
from resolvers.downloads import File, holder, may_read
from resolvers.errors import Abort, UserErrorData
from resolvers.ids import pk_of
from resolvers.links import link

if TYPE_CHECKING:
    from hub.db import Database
    from hub.settings import Settings

ATTACHMENT = "attachment"  # the kind of a download link
UPLOAD_KIND = "attachment-upload"
NAME_MAX = 255
KIND_BY_SUFFIX = {
    ".pdf": AttachmentKind.PDF,
    ".doc": AttachmentKind.DOC,
    ".docx": AttachmentKind.DOCX,
    ".zip": AttachmentKind.ZIP,
    ".jpg": AttachmentKind.JPEG,
    ".jpeg": AttachmentKind.JPEG,
    ".png": AttachmentKind.PNG,
}
MEDIA_TYPES = {
    AttachmentKind.PDF: "application/pdf",
    AttachmentKind.DOC: "application/msword",
    AttachmentKind.DOCX: (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    ),
    AttachmentKind.ZIP: "application/zip",
    AttachmentKind.JPEG: "image/jpeg",
    AttachmentKind.PNG: "image/png",
}
# Pictures (a photo of damage, a screenshot) go with messages only, as in the guide.
KINDS_FOR = {
    AttachmentPurpose.REQUEST: frozenset(DOCUMENT_KINDS),
    AttachmentPurpose.MESSAGE: frozenset(AttachmentKind),
}
WRITE_SCOPE = {
    AttachmentPurpose.REQUEST: Scope.REQUESTS_WRITE,
    AttachmentPurpose.MESSAGE: Scope.MESSAGES_WRITE,
}
READ_SCOPE = {
    AttachmentPurpose.REQUEST: Scope.REQUESTS_READ,
    AttachmentPurpose.MESSAGE: Scope.MESSAGES_READ,
}
FIELD_IDS = "attachmentIds"


def storage_of(settings: Settings) -> Storage:
    return file_storage(settings.attachment_dir)


def max_bytes(settings: Settings, kind: AttachmentKind) -> int:
    """The largest file of `kind` (the request catalogue shows it with each form)."""
    if kind in (AttachmentKind.JPEG, AttachmentKind.PNG):
        return settings.attachment_image_max_bytes
    if kind is AttachmentKind.ZIP:
        return settings.attachment_zip_max_bytes
    return settings.attachment_max_bytes


def zip_limits(settings: Settings) -> ZipLimits:
    return ZipLimits(
        max_entries=settings.zip_max_entries,
        max_unpacked=settings.zip_max_unpacked_bytes,
        max_ratio=settings.zip_max_ratio,
    )


def _error(field: str, code: str, message: Msg) -> UserErrorData:
    return UserErrorData(field=field, code=code, message=message)


def clean_name(name: str) -> str | UserErrorData:
    """The name as shown (NFC, trimmed), or why it is refused: control characters (NUL, new
    lines, bidirectional overrides that disguise `exe.pdf`) and path separators are never part
    of a file's name."""
    shown = unicodedata.normalize("NFC", name).strip()
    if not shown:
        return _error("fileName", "REQUIRED", _("{field} is required.", field="fileName"))
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in shown) or any(
        c in "/\\" for c in shown
    ):
        return _error(
            "fileName",
            "INVALID_FILE_NAME",
            _("A file name cannot contain control characters or path separators."),
        )
    if len(shown) > NAME_MAX or shown.startswith("."):
        return _error(
            "fileName", "INVALID_FILE_NAME", _("Give a file name of at most 255 characters.")
        )
    return shown


def kind_of_name(name: str) -> AttachmentKind | None:
    """The kind the name claims (only its last suffix counts: `x.pdf.exe` is an EXE)."""
    return KIND_BY_SUFFIX.get(PurePosixPath(name).suffix.lower())


def _check_declaration(
    settings: Settings, purpose: AttachmentPurpose, file_name: str, content_type: str, size: int
) -> tuple[str, AttachmentKind] | UserErrorData:
    name = clean_name(file_name)
    if isinstance(name, UserErrorData):
        return name
    kind = kind_of_name(name)
    if kind is None or kind not in KINDS_FOR[purpose]:
        return _error(
            "fileName",
            "UNSUPPORTED_FILE_TYPE",
            _("This kind of file is not accepted here."),
        )
    if not content_type.strip() or len(content_type) > 100:
        return _error("contentType", "REQUIRED", _("{field} is required.", field="contentType"))
    if size <= 0:
        return _error("size", "INVALID_SIZE", _("A file cannot be empty."))
    if size > max_bytes(settings, kind):
        return _error(
            "size",
            "FILE_TOO_LARGE",
            _("The file is larger than {limit} bytes.", limit=max_bytes(settings, kind)),
        )
    return name, kind


async def stored_bytes(session: AsyncSession, client_id: int, now: datetime) -> int:
    """What counts against the quota: ready files and uploads whose link still lives."""
    query = select(func.coalesce(func.sum(col(Attachment.size)), 0)).where(
        col(Attachment.client_id) == client_id,
        or_(
            col(Attachment.status) != AttachmentStatus.PENDING,
            col(Attachment.upload_expires_at) >= now,
        ),
    )
    return int((await session.execute(query)).scalar_one())


async def declare(
    ctx: Context,
    *,
    client_global_id: str,
    file_name: str,
    content_type: str,
    size: int,
    purpose: AttachmentPurpose,
) -> tuple[Attachment | None, str | None, list[UserErrorData]]:
    """The pending attachment and its upload link, or the errors (nothing written)."""
    client_id = require_scope(
        ctx.viewer,
        pk_of(client_global_id, "Client", field="clientId"),
        WRITE_SCOPE[purpose],
        field="clientId",
    )
    checked = _check_declaration(ctx.settings, purpose, file_name, content_type, size)
    if isinstance(checked, UserErrorData):
        return None, None, [checked]
    name, _kind = checked
    expires = ctx.now + LIFETIME
    try:
        async with ctx.db.write() as session:
            # The company's row is locked first, so parallel declarations add up one by one.
            await session.execute(
                select(col(Client.id)).where(col(Client.id) == client_id).with_for_update()
            )
            used = await stored_bytes(session, client_id, ctx.now)
            if used + size > ctx.settings.attachment_quota_bytes:
                raise Abort(
                    _error(
                        "size",
                        "QUOTA_EXCEEDED",
                        _("The company's storage for attachments is full."),
                    )
                )
            row = Attachment(
                client_id=client_id,
                filename=name,
                content_type=content_type.strip()[:100],
                size=size,
                sha256="",
                purpose=purpose,
                status=AttachmentStatus.PENDING,
                upload_expires_at=expires,
            )
            session.add(row)
            await session.flush()
    except Abort as abort:
        return None, None, abort.errors
    url = link(ctx, kind=UPLOAD_KIND, object_id=stored_id(row), purpose=UPLOAD, route="upload")
    return row, url, []


# ---- the upload ------------------------------------------------------------------------


class UploadRefused(Exception):
    """Why an upload was refused: the HTTP status, a stable code and the message."""

    def __init__(self, status: int, code: str, message: Msg) -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message


NOT_FOUND = (404, "NOT_FOUND", _("Not found."))
EXPIRED = (410, "UPLOAD_LINK_EXPIRED", _("This upload link has expired; declare the file again."))
LINK_USED = (409, "UPLOAD_LINK_USED", _("This upload link has been used."))
TOO_LONG = (413, "UPLOAD_LARGER_THAN_DECLARED", _("The file is larger than its declared size."))
TOO_SHORT = (400, "UPLOAD_SIZE_MISMATCH", _("The file is not of its declared size."))
REFUSALS: dict[str, Msg] = {
    "UNSUPPORTED_FILE_CONTENT": _("The content is none of the accepted kinds of file."),
    "POLYGLOT_FILE": _("The file is two kinds of file at once; it is refused."),
    "INVALID_ARCHIVE": _("The archive cannot be read."),
    "ARCHIVE_TOO_MANY_ENTRIES": _("The archive has too many entries."),
    "ARCHIVE_TOO_LARGE_UNPACKED": _("The archive unpacks to too many bytes."),
    "ARCHIVE_RATIO_TOO_HIGH": _("The archive is compressed too much to be safe."),
    "ARCHIVE_UNSAFE_PATH": _("An entry of the archive has an unsafe path."),
    "ARCHIVE_LINK_ENTRY": _("The archive contains a link."),
    "ARCHIVE_NESTED_TOO_DEEP": _("Archives may be nested one level deep at most."),
    "FILE_KIND_MISMATCH": _("The content does not match the file name's type."),
    "UNSUPPORTED_FILE_TYPE": _("This kind of file is not accepted here."),
}


def _refused(code: str) -> UploadRefused:
    return UploadRefused(422, code, REFUSALS[code])


@dataclass(frozen=True, slots=True)
class Uploaded:
    attachment_id: int
    kind: AttachmentKind
    size: int
    sha256: str


async def _counted(body: AsyncIterable[bytes], declared: int) -> AsyncIterator[bytes]:
    """The body, cut off the moment it passes its declared size (never buffered whole)."""
    seen = 0
    async for chunk in body:
        seen += len(chunk)
        if seen > declared:
            raise UploadRefused(*TOO_LONG)
        yield chunk
    if seen != declared:
        raise UploadRefused(*TOO_SHORT)


async def _win_link(db: Database, grant: Grant, now: datetime, key: str) -> Attachment:
    """The one upload allowed per link: PENDING → UPLOADING, a conditional update that only
    one of parallel uploads wins. The holder's rights are checked again first. The storage key
    is recorded before a byte is written: a server that dies mid-upload leaves a row that
    `prune_uploads` finds, with its file."""
    async with db.write() as session:
        row = await session.get(Attachment, grant.object_id)
        if row is None:
            raise UploadRefused(*NOT_FOUND)
        viewer = await holder(session, grant, now)
        if viewer.read_only or not viewer.has_scope(row.client_id, WRITE_SCOPE[row.purpose]):
            raise UploadRefused(*NOT_FOUND)
        won = await session.execute(
            update(Attachment)
            .where(
                col(Attachment.id) == grant.object_id,
                col(Attachment.status) == AttachmentStatus.PENDING,
                col(Attachment.upload_expires_at) >= now,
            )
            .values(status=AttachmentStatus.UPLOADING, storage_key=key)
            .execution_options(synchronize_session=False)
        )
        if int(won.rowcount or 0) != 1:  # type: ignore[attr-defined]
            await session.refresh(row)
            raise UploadRefused(*(EXPIRED if row.status is AttachmentStatus.PENDING else LINK_USED))
        return row


async def _forget(db: Database, storage: Storage, attachment_id: int, key: str) -> None:
    """A refused or broken upload leaves nothing: neither the file nor the row."""
    await storage.delete(key)
    async with db.write() as session:
        await session.execute(
            delete(Attachment).where(
                col(Attachment.id) == attachment_id,
                col(Attachment.status) == AttachmentStatus.UPLOADING,
            )
        )


def _judge(settings: Settings, storage: Storage, key: str, row: Attachment) -> AttachmentKind:
    """The kind by content; it must be allowed for the purpose and match the name's type."""
    try:
        kind = detect(storage.local_path(key), zip_limits(settings))
    except Refused as refused:
        raise _refused(refused.code) from refused
    if kind not in KINDS_FOR[row.purpose]:
        raise _refused("UNSUPPORTED_FILE_TYPE")
    if kind is not kind_of_name(row.filename):
        raise _refused("FILE_KIND_MISMATCH")
    return kind


async def receive(
    db: Database,
    settings: Settings,
    token: str,
    body: AsyncIterable[bytes],
    *,
    now: datetime,
    length: int | None = None,
) -> Uploaded:
    """Stores the body of a declared file; raises `UploadRefused` (nothing kept) otherwise."""
    grant = verify(settings.secret_key, token, now=now, purpose=UPLOAD)
    if grant is None or grant.kind != UPLOAD_KIND:
        raise UploadRefused(*NOT_FOUND)
    current_frame().actor_id = grant.user_id  # the upload's writes are the link's user's
    storage = storage_of(settings)
    key = storage.new_key()
    row = await _win_link(db, grant, now, key)
    try:
        if length is not None and length != row.size:  # refused before reading a byte
            raise UploadRefused(*(TOO_LONG if length > row.size else TOO_SHORT))
        stored = await storage.put(key, _counted(body, row.size))
        kind = await asyncio.to_thread(_judge, settings, storage, key, row)
        async with db.write() as session:
            done = await session.execute(
                update(Attachment)
                .where(
                    col(Attachment.id) == row.id,
                    col(Attachment.status) == AttachmentStatus.UPLOADING,
                )
                .values(
                    status=AttachmentStatus.READY,
                    kind=kind,
                    content_type=MEDIA_TYPES[kind],
                    sha256=stored.sha256,
                    upload_expires_at=None,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if int(done.rowcount or 0) != 1:  # type: ignore[attr-defined]
                raise UploadRefused(*NOT_FOUND)  # pruned meanwhile: a server stalled for an hour
    except BaseException:
        # Also when the client went away (Starlette's ClientDisconnect, a cancelled task).
        await asyncio.shield(_forget(db, storage, grant.object_id, key))
        raise
    return Uploaded(grant.object_id, kind, stored.size, stored.sha256)


STALE_UPLOAD = timedelta(hours=1)  # far longer than any upload within the link's life


async def prune_uploads(db: Database, settings: Settings, *, now: datetime) -> int:
    """Forgets declarations never uploaded and uploads a dead server left half-written, with
    their files (a daily job, like the other prunes). Returns how many rows went."""
    stale = or_(
        (col(Attachment.status) == AttachmentStatus.PENDING)
        & (col(Attachment.upload_expires_at) < now),
        (col(Attachment.status) == AttachmentStatus.UPLOADING)
        & (col(Attachment.upload_expires_at) < now - STALE_UPLOAD),
    )
    async with db.write() as session:
        rows = list((await session.execute(select(Attachment).where(stale))).scalars())
        await session.execute(delete(Attachment).where(stale))
    storage = storage_of(settings)
    for row in rows:
        if row.storage_key is not None:
            await storage.delete(row.storage_key)
    return len(rows)


# ---- claiming ---------------------------------------------------------------------------


async def claim_attachments(
    session: AsyncSession,
    *,
    ids: Sequence[int],
    client_id: int,
    now: datetime,
    request_stage_id: int | None = None,
    message_id: int | None = None,
) -> None:
    """Hangs ready, unused files of `client_id` on a request's stage or a message, once each.

    One conditional update takes them all: a file another filing took first, one of another
    company (answered as missing), one not uploaded yet, or a picture on a request raises
    `Abort` with the reason, and the caller's transaction rolls back.
    """
    if (request_stage_id is None) == (message_id is None):
        raise ValueError("a claim hangs the files on a stage or on a message")
    wanted = set(ids)
    if not wanted:
        return
    purpose = AttachmentPurpose.MESSAGE if message_id else AttachmentPurpose.REQUEST
    taken = await session.execute(
        update(Attachment)
        .where(
            col(Attachment.id).in_(wanted),
            col(Attachment.client_id) == client_id,
            col(Attachment.status) == AttachmentStatus.READY,
            col(Attachment.purpose) == purpose,
            col(Attachment.claimed_at).is_(None),
            # Rows written without a claim (the demo's, older ones) hang on something already.
            col(Attachment.request_stage_id).is_(None),
            col(Attachment.message_id).is_(None),
        )
        .values(
            claimed_at=now,
            request_stage_id=request_stage_id,
            message_id=message_id,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if int(taken.rowcount or 0) != len(wanted):  # type: ignore[attr-defined]
        raise Abort(await _why_not(session, wanted, client_id, purpose))


async def _why_not(
    session: AsyncSession, wanted: set[int], client_id: int, purpose: AttachmentPurpose
) -> UserErrorData:
    query = select(Attachment).where(
        col(Attachment.id).in_(wanted), col(Attachment.client_id) == client_id
    )
    rows = {row.id: row for row in (await session.execute(query)).scalars()}
    if len(rows) != len(wanted):
        return _error(FIELD_IDS, "NOT_FOUND", _("Not found."))
    # The update above may have marked some of them: only the others tell why.
    if any(r.status is not AttachmentStatus.READY for r in rows.values()):
        return _error(FIELD_IDS, "ATTACHMENT_NOT_READY", _("A file has not been uploaded yet."))
    if any(r.purpose is not purpose for r in rows.values()):
        return _error(FIELD_IDS, "UNSUPPORTED_FILE_TYPE", REFUSALS["UNSUPPORTED_FILE_TYPE"])
    return _error(FIELD_IDS, "ATTACHMENT_USED", _("A file has already been used."))


# ---- download ---------------------------------------------------------------------------


def read_scope(row: Attachment) -> Scope:
    """Read with what it hangs on: a request's stage, a message, else what it was sent for."""
    if row.request_stage_id is not None:
        return Scope.REQUESTS_READ
    if row.message_id is not None:
        return Scope.MESSAGES_READ
    return READ_SCOPE[row.purpose]


def _shown_name(row: Attachment) -> str:
    """ASCII only: a header value cannot carry other letters (nor a quote or CR/LF)."""
    stem = PurePosixPath(row.filename).stem
    safe = "".join(c if (c.isascii() and c.isalnum()) or c in "-_" else "-" for c in stem)
    suffix = {v: k for k, v in KIND_BY_SUFFIX.items()}
    kind = row.kind or kind_of_name(row.filename)
    return f"{safe or 'plik'}{suffix[kind] if kind else ''}"


async def open_attachment(
    db: Database, settings: Settings, grant: Grant, *, now: datetime
) -> File | None:
    """The file behind a download grant, if its holder may still read it."""
    async with db.read() as session:
        row = await session.get(Attachment, grant.object_id)
        if row is None or row.status is not AttachmentStatus.READY:
            return None
        if not may_read(await holder(session, grant, now), row.client_id, read_scope(row)):
            return None  # (a person at the lessor reading it is noted for the access log)
    media_type = MEDIA_TYPES[row.kind] if row.kind else "application/octet-stream"
    if row.storage_key is not None:
        chunks = storage_of(settings).open(row.storage_key)
        return File(filename=_shown_name(row), media_type=media_type, chunks=chunks)
    return File(filename=_shown_name(row), media_type=media_type, content=row.content or b"")
