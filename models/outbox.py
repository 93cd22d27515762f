"""Outgoing e-mail and SMS, written in the same transaction as the change that causes them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlmodel import Field

from models.base import Timestamped, UTCDateTime, enum_type


class Channel(enum.StrEnum):
    EMAIL = "EMAIL"
    SMS = "SMS"


class OutboxMessage(Timestamped, table=True):
    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int | None = Field(
        default=None, foreign_key="clients.id", index=True, ondelete="CASCADE"
    )
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    channel: Channel = Field(sa_type=enum_type(Channel))
    recipient: str = Field(max_length=254)
    template: str = Field(max_length=64)
    subject: str = Field(default="", max_length=200)
    body: str
    attempts: int = Field(default=0)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    # A deliverer sending it now holds it until then; after a crash, another may try again.
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
