"""Message threads with customer service."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from models.base import Timestamped, UTCDateTime, client_fk, enum_type


class ThreadStatus(enum.StrEnum):
    OPEN = "OPEN"
    ANSWERED = "ANSWERED"
    CLOSED = "CLOSED"


class MessageTopic(enum.StrEnum):
    """What a message is about (the new-message form's list); `category` keeps the Polish name."""

    INVOICES = "INVOICES"
    PAYMENTS = "PAYMENTS"
    CONTRACT = "CONTRACT"
    INSURANCE = "INSURANCE"
    TYRES = "TYRES"
    OTHER = "OTHER"


class MessageThread(Timestamped, table=True):
    __tablename__ = "message_threads"
    __table_args__ = (
        sa.UniqueConstraint("client_id", "idempotency_key", name="uq_message_threads_idempotency"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = client_fk()
    contract_id: int | None = Field(
        default=None, foreign_key="contracts.id", index=True, ondelete="SET NULL"
    )
    subject: str = Field(max_length=200)
    category: str = Field(max_length=50)
    status: ThreadStatus = Field(sa_type=enum_type(ThreadStatus), index=True)
    final_answer: str | None = Field(default=None, max_length=8000)
    created_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    topic: MessageTopic = Field(default=MessageTopic.OTHER, sa_type=enum_type(MessageTopic))
    idempotency_key: str | None = Field(default=None, max_length=64)
    assignee_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")


class Message(Timestamped, table=True):
    __tablename__ = "messages"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = client_fk()
    thread_id: int = Field(foreign_key="message_threads.id", index=True, ondelete="CASCADE")
    from_staff: bool = Field(default=False)
    author_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    body: str = Field(max_length=8000)
    # When the other side (staff for a client's message, the client for staff's) read it.
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
