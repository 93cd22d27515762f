"""GraphQL types of message threads with customer service."""

from __future__ import annotations

from datetime import datetime

import strawberry

from auth.scopes import Scope
from loaders.message import AttachmentsByMessageIdLoader, MessagesByThreadIdLoader, ThreadByIdLoader
from models.message import Message as MessageRow
from models.message import MessageThread as ThreadRow
from models.message import ThreadStatus
from resolvers.node import in_client
from schema.base import Info, Node, node_id, node_type
from schema.request import Attachment


@strawberry.type
class Message:
    from_staff: bool
    body: str
    created_at: datetime

    @strawberry.field
    async def attachments(self, root: MessageRow, info: Info) -> list[Attachment]:
        return await info.context.loaders[AttachmentsByMessageIdLoader].load(root.id)


@strawberry.type(description="A conversation with customer service.")
@node_type(ThreadRow, loader=ThreadByIdLoader, access=in_client(Scope.MESSAGES_READ))
class MessageThread(Node):
    id: strawberry.ID = node_id("MessageThread")
    subject: str
    category: str
    status: ThreadStatus
    final_answer: str | None = strawberry.field(description="The final answer, once given.")
    created_at: datetime
    updated_at: datetime

    @strawberry.field(description="Messages and comments, oldest first.")
    async def messages(self, root: ThreadRow, info: Info) -> list[Message]:
        return await info.context.loaders[MessagesByThreadIdLoader].load(root.id)
