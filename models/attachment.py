"""Files attached to requests and messages.

A file is declared first (`PENDING`: name, declared size, an upload link), its body is then
uploaded once (`UPLOADING` while it streams, `READY` when its content passed the checks) and is
finally claimed by one filing, reply or message (`claimed_at`). Uploaded bytes live in the file
storage under `storage_key` (exports/storage.py); rows written before staged uploads keep theirs
in `content`.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlmodel import Field

from models.base import Timestamped, UTCDateTime, client_fk, enum_type


class AttachmentKind(enum.StrEnum):
    """What a file is, decided by its content (exports/sniff.py)."""

    PDF = "PDF"
    DOC = "DOC"
    DOCX = "DOCX"
    ZIP = "ZIP"
    JPEG = "JPEG"
    PNG = "PNG"


# What requests accept (the guide: PDF, Word, ZIP); messages take pictures too.
DOCUMENT_KINDS = (AttachmentKind.PDF, AttachmentKind.DOC, AttachmentKind.DOCX, AttachmentKind.ZIP)


class AttachmentPurpose(enum.StrEnum):
    """What the file is for: a request (filing or reply) or a message."""

    REQUEST = "REQUEST"
    MESSAGE = "MESSAGE"


class AttachmentStatus(enum.StrEnum):
    PENDING = "PENDING"  # declared, waiting for its body
    UPLOADING = "UPLOADING"  # the one upload that won the link is streaming
    READY = "READY"  # stored and checked


class Attachment(Timestamped, table=True):
    __tablename__ = "attachments"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = client_fk()
    request_stage_id: int | None = Field(
        default=None, foreign_key="request_stages.id", index=True, ondelete="CASCADE"
    )
    message_id: int | None = Field(
        default=None, foreign_key="messages.id", index=True, ondelete="CASCADE"
    )
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    content: bytes | None = None
    storage_key: str | None = Field(default=None, max_length=64)
    kind: AttachmentKind | None = Field(default=None, sa_type=enum_type(AttachmentKind))
    purpose: AttachmentPurpose = Field(
        default=AttachmentPurpose.REQUEST, sa_type=enum_type(AttachmentPurpose)
    )
    status: AttachmentStatus = Field(
        default=AttachmentStatus.READY, sa_type=enum_type(AttachmentStatus)
    )
    upload_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set once, by the filing, reply or message that uses the file (`claim_attachments`).
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
