"""Message threads with customer service."""

from __future__ import annotations

import enum

from sqlmodel import Field

from models.base import Timestamped, client_fk, enum_type


class ThreadStatus(enum.StrEnum):
    OPEN = "OPEN"
    ANSWERED = "ANSWERED"
    CLOSED = "CLOSED"


class MessageThread(Timestamped, table=True):
    __tablename__ = "message_threads"

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


class Message(Timestamped, table=True):
    __tablename__ = "messages"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = client_fk()
    thread_id: int = Field(foreign_key="message_threads.id", index=True, ondelete="CASCADE")
    from_staff: bool = Field(default=False)
    author_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    body: str = Field(max_length=8000)
