"""GraphQL types of message threads with customer service, and their mutations (MSG-1)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from auth.scopes import Scope
from auth.staff import StaffPermission
from loaders.contract import ContractByIdLoader
from loaders.identity import UserByIdLoader
from loaders.message import (
    AttachmentsByMessageIdLoader,
    MessageByIdLoader,
    MessagesByThreadIdLoader,
    ThreadByIdLoader,
    UnreadByThreadIdLoader,
)
from models.i18n import translate
from models.message import Message as MessageRow
from models.message import MessageThread as ThreadRow
from models.message import MessageTopic, ThreadStatus
from resolvers import messages
from resolvers.node import in_client
from schema.base import Info, Node, node_id, node_type, scoped, staff_permission
from schema.identity import UserError, user_errors
from schema.refs import ContractRef
from schema.request import Attachment

if TYPE_CHECKING:
    from schema.admin import AdminUser

AdminUserRef = Annotated["AdminUser", strawberry.lazy("schema.admin")]

strawberry.enum(MessageTopic, description="What a message to customer service is about.")


@strawberry.type(description="A topic of the new-message form.")
class MessageTopicInfo:
    code: MessageTopic
    label: str = strawberry.field(description="In the request's language (Accept-Language).")
    needs_contract: bool = strawberry.field(description="A message on it names a contract.")


def message_topics(info: Info) -> list[MessageTopicInfo]:
    language = info.context.language
    return [
        MessageTopicInfo(
            code=topic.code,
            label=translate(topic.label, language),
            needs_contract=topic.needs_contract,
        )
        for topic in messages.TOPICS
    ]


@strawberry.type(description="A message or comment of a thread.")
@node_type(MessageRow, loader=MessageByIdLoader, access=in_client(Scope.MESSAGES_READ))
class Message(Node):
    id: strawberry.ID = node_id("Message")
    from_staff: bool
    body: str
    created_at: datetime

    @strawberry.field(description="The other side (staff for a client's message) has read it.")
    def read(self, root: MessageRow) -> bool:
        return root.read_at is not None

    @strawberry.field
    async def attachments(self, root: MessageRow, info: Info) -> list[Attachment]:
        return await info.context.loaders[AttachmentsByMessageIdLoader].load(root.id)


@strawberry.type(description="A conversation with customer service.")
@node_type(ThreadRow, loader=ThreadByIdLoader, access=in_client(Scope.MESSAGES_READ))
class MessageThread(Node):
    id: strawberry.ID = node_id("MessageThread")
    subject: str
    category: str = strawberry.field(description="The topic's Polish name.")
    topic: MessageTopic
    status: ThreadStatus
    final_answer: str | None = strawberry.field(
        description="The final answer (Odpowiedź), once given; the thread is CLOSED then."
    )
    created_at: datetime
    updated_at: datetime

    @strawberry.field(description="Messages and comments, oldest first.")
    async def messages(self, root: ThreadRow, info: Info) -> list[Message]:
        return await info.context.loaders[MessagesByThreadIdLoader].load(root.id)

    @strawberry.field(
        description="Messages of the other side the viewer has not read: staff's for a "
        "client, the client's for staff."
    )
    async def unread_count(self, root: ThreadRow, info: Info) -> int:
        unread = await info.context.loaders[UnreadByThreadIdLoader].load(root.id)
        return unread.for_viewer(staff=info.context.viewer.is_staff)

    @strawberry.field(
        extensions=scoped(Scope.CONTRACTS_READ), description="The contract it is about, if any."
    )
    async def contract(self, root: ThreadRow, info: Info) -> ContractRef | None:
        if root.contract_id is None:
            return None
        return await info.context.loaders[ContractByIdLoader].load(root.contract_id)

    @strawberry.field(description="Staff only: who in customer service handles it.")
    async def assignee(self, root: ThreadRow, info: Info) -> AdminUserRef | None:
        if root.assignee_id is None or not info.context.viewer.is_staff:
            return None
        return await info.context.loaders[UserByIdLoader].load(root.assignee_id)


# ---- mutations -----------------------------------------------------------------------------


@strawberry.input(description="The new-message form: every field is required.")
class MessageThreadCreateInput:
    client_id: strawberry.ID
    topic: MessageTopic | None = strawberry.field(
        default=None, description="Null answers REQUIRED, as an unchosen list would."
    )
    contract_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required where the topic needs a contract (`messageTopics`)."
    )
    subject: str = strawberry.field(description="At most 200 characters.")
    body: str = strawberry.field(description="At most 8000 characters.")
    attachment_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list,
        description="Uploaded files (purpose MESSAGE) of the same company, each used once.",
    )
    idempotency_key: str = strawberry.field(
        description="Chosen by the portal, at most 64 characters: sending again with the same "
        "key answers with the thread the first sending created."
    )


@strawberry.type
class MessageThreadPayload:
    thread: MessageThread | None
    errors: list[UserError]


@strawberry.input
class MessageReplyInput:
    thread_id: strawberry.ID
    body: str = strawberry.field(description="At most 8000 characters.")
    attachment_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.type
class MessageReplyPayload:
    thread: MessageThread | None
    message: Message | None
    errors: list[UserError]


@strawberry.input
class MessageThreadAnswerInput:
    thread_id: strawberry.ID
    answer: str = strawberry.field(description="At most 8000 characters.")


@strawberry.input
class MessageThreadMarkReadInput:
    thread_id: strawberry.ID


@strawberry.input
class MessageThreadAssignInput:
    thread_id: strawberry.ID
    assignee_id: strawberry.ID | None = strawberry.field(
        default=None, description="A staff user; null: nobody."
    )


@strawberry.input(description="The staff inbox's filters; all given must hold.")
class MessageThreadFilterInput:
    statuses: list[ThreadStatus] | None = None
    client_id: strawberry.ID | None = None
    topic: MessageTopic | None = None
    unread: bool | None = strawberry.field(
        default=None, description="true: the client wrote something staff have not read."
    )
    assignee_id: strawberry.ID | None = None

    def inbox_filter(self) -> messages.InboxFilter:
        return messages.InboxFilter(
            statuses=frozenset(self.statuses or ()),
            client_global_id=self.client_id,
            topic=self.topic,
            unread=self.unread,
            assignee_global_id=self.assignee_id,
        )


@strawberry.type
class MessageMutation:
    @strawberry.mutation(
        description="A new message to customer service (needs messages:write in the company)."
    )
    async def message_thread_create(
        self, info: Info, input: MessageThreadCreateInput
    ) -> MessageThreadPayload:
        new = messages.NewThread(
            client_global_id=input.client_id,
            topic=input.topic,
            contract_global_id=input.contract_id,
            subject=input.subject,
            body=input.body,
            attachment_global_ids=input.attachment_ids,
            idempotency_key=input.idempotency_key,
        )
        thread, errors = await messages.create_thread(info.context, new=new)
        return MessageThreadPayload(thread=thread, errors=user_errors(errors))  # type: ignore[arg-type]

    @strawberry.mutation(
        description="A client's comment (the thread is OPEN again) or a staff reply (ANSWERED, "
        "the client is e-mailed); a CLOSED thread takes none."
    )
    async def message_reply(self, info: Info, input: MessageReplyInput) -> MessageReplyPayload:
        thread, message, errors = await messages.reply(
            info.context,
            thread_global_id=input.thread_id,
            body=input.body,
            attachment_global_ids=input.attachment_ids,
        )
        return MessageReplyPayload(thread=thread, message=message, errors=user_errors(errors))  # type: ignore[arg-type]

    @strawberry.mutation(
        description="Staff: the final answer; the thread is CLOSED and the client e-mailed.",
        extensions=staff_permission(StaffPermission.MESSAGES_MANAGE),
    )
    async def message_thread_answer(
        self, info: Info, input: MessageThreadAnswerInput
    ) -> MessageThreadPayload:
        thread, errors = await messages.answer(
            info.context, thread_global_id=input.thread_id, text=input.answer
        )
        return MessageThreadPayload(thread=thread, errors=user_errors(errors))

    @strawberry.mutation(
        description="The viewer has read the other side's messages of the thread (idempotent)."
    )
    async def message_thread_mark_read(
        self, info: Info, input: MessageThreadMarkReadInput
    ) -> MessageThreadPayload:
        thread = await messages.mark_read(info.context, thread_global_id=input.thread_id)
        return MessageThreadPayload(thread=thread, errors=[])

    @strawberry.mutation(
        description="Staff: who handles the thread (staff whose role manages messages).",
        extensions=staff_permission(StaffPermission.MESSAGES_MANAGE),
    )
    async def message_thread_assign(
        self, info: Info, input: MessageThreadAssignInput
    ) -> MessageThreadPayload:
        thread = await messages.assign(
            info.context, thread_global_id=input.thread_id, assignee_global_id=input.assignee_id
        )
        return MessageThreadPayload(thread=thread, errors=[])
