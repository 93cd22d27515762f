"""Loaders of message threads, messages, their attachments and unread counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import Select, func, select

from loaders.base import (
    BaseLoader,
    BuiltOnce,
    ByIdLoader,
    ManyByKeyLoader,
    RowReader,
    table_column,
)
from loaders.paging import ChildPageLoader, Ordering
from loaders.statements import KEYS, KeysIn
from models.attachment import Attachment
from models.message import Message, MessageThread

# The staff inbox and a client's list: the thread with the latest activity first.
THREAD_ORDERING = Ordering(("updated_at",))


class ThreadByIdLoader(ByIdLoader[MessageThread]):
    model = MessageThread


class ThreadsByClientIdLoader(ChildPageLoader[MessageThread]):
    model = MessageThread
    parent = "client_id"
    ordering = THREAD_ORDERING


class MessageByIdLoader(ByIdLoader[Message]):
    model = Message


class MessagesByThreadIdLoader(ManyByKeyLoader[Message]):
    model = Message
    key = "thread_id"
    order_by = ("created_at", "id")


class AttachmentsByMessageIdLoader(ManyByKeyLoader[Attachment]):
    model = Attachment
    key = "message_id"


@dataclass(frozen=True, slots=True)
class Unread:
    """Messages nobody on the other side has read yet, by who wrote them."""

    from_client: int = 0  # what staff have not read
    from_staff: int = 0  # what the client has not read

    def for_viewer(self, *, staff: bool) -> int:
        """What the viewer has not read: the other side's messages."""
        return self.from_client if staff else self.from_staff


def _unread_statement(key: str) -> Select[Any]:
    """Unread messages per `key` (`KEYS`) and side, in one grouped statement."""
    grouped, from_staff = table_column(Message, key), table_column(Message, "from_staff")
    return (
        select(grouped, from_staff, func.count())
        .where(KeysIn(grouped), table_column(Message, "read_at").is_(None))
        .group_by(grouped, from_staff)
    )


class _UnreadLoader(BuiltOnce, BaseLoader[int, Unread]):
    key: ClassVar[str]

    @classmethod
    def build(cls) -> Select[Any]:
        return _unread_statement(cls.key)

    async def load_batch(self, connection: RowReader, keys: list[int]) -> list[Unread]:
        counts: dict[int, dict[bool, int]] = {}
        for key, from_staff, count in await connection.execute(self.statement(), {KEYS: keys}):
            counts.setdefault(key, {})[bool(from_staff)] = int(count)
        return [
            Unread(from_client=c.get(False, 0), from_staff=c.get(True, 0))
            for c in (counts.get(key, {}) for key in keys)
        ]


class UnreadByThreadIdLoader(_UnreadLoader):
    key = "thread_id"


class UnreadByClientIdLoader(_UnreadLoader):
    key = "client_id"
