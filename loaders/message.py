"""Loaders of message threads, messages and their attachments."""

from __future__ import annotations

from loaders.base import ByIdLoader, ManyByKeyLoader
from loaders.paging import ChildPageLoader, Ordering
from models.attachment import Attachment
from models.message import Message, MessageThread


class ThreadByIdLoader(ByIdLoader[MessageThread]):
    model = MessageThread


class ThreadsByClientIdLoader(ChildPageLoader[MessageThread]):
    model = MessageThread
    parent = "client_id"
    ordering = Ordering(("updated_at",))


class MessagesByThreadIdLoader(ManyByKeyLoader[Message]):
    model = Message
    key = "thread_id"
    order_by = ("created_at", "id")


class AttachmentsByMessageIdLoader(ManyByKeyLoader[Attachment]):
    model = Attachment
    key = "message_id"
