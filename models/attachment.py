"""Files attached to requests and messages; the bytes live in the database with their digest."""

from __future__ import annotations

from sqlmodel import Field

from models.base import Timestamped, client_fk


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
    content: bytes
