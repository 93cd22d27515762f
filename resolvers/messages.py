"""Messages with customer service (MSG-1): a new thread, comments, staff replies, the final
answer ("Odpowiedź"), unread markers and the staff inbox.

A thread is OPEN while the client waits, ANSWERED after a staff reply (a client's comment opens
it again) and CLOSED by the final answer, after which nothing more is written to it. Every
status move is one conditional UPDATE that refuses a CLOSED thread, so parallel answers give one
answer. A message's `read_at` records when the other side read it; replying reads what the other
side wrote before. The client is e-mailed (in Polish: staff cause it) when staff reply or answer;
the e-mail names the subject but never carries the text, which stays behind the portal's login.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.access import (
    require_authenticated,
    require_scope,
    require_staff_permission,
    require_staff_read,
)
from auth.errors import NotFoundError
from auth.scopes import Scope
from auth.staff import StaffPermission
from loaders.message import THREAD_ORDERING, ThreadByIdLoader
from loaders.paging import Page
from models.client import Client
from models.contract import Contract
from models.i18n import DEFAULT_LANGUAGE, Msg, _, translate
from models.identity import Membership, User
from models.message import Message, MessageThread, MessageTopic, ThreadStatus
from resolvers import outbox
from resolvers.attachments import claim_attachments
from resolvers.context import Context
from resolvers.errors import Abort, UserErrorData
from resolvers.ids import pk_of
from resolvers.invoice_issue import id_of_client
from resolvers.paging import root_list
from resolvers.staff import active_staff_with
from resolvers.validation import found, text_error

SUBJECT_MAX = 200
BODY_MAX = 8000  # the columns' sizes
KEY_MAX = 64
KEY_NAMES = ("uq_message_threads_idempotency", "message_threads.idempotency_key")


@dataclass(frozen=True, slots=True)
class Topic:
    code: MessageTopic
    label: Msg
    needs_contract: bool


# The new-message form's list, in its order; the Polish labels are the portal's categories.
TOPICS = (
    Topic(MessageTopic.INVOICES, _("Invoices"), needs_contract=False),
    Topic(MessageTopic.PAYMENTS, _("Payments"), needs_contract=False),
    Topic(MessageTopic.CONTRACT, _("Contract"), needs_contract=True),
    Topic(MessageTopic.INSURANCE, _("Insurance"), needs_contract=True),
    Topic(MessageTopic.TYRES, _("Tyres"), needs_contract=True),
    Topic(MessageTopic.OTHER, _("Other"), needs_contract=False),
)
TOPIC_OF = {topic.code: topic for topic in TOPICS}


def _error(field: str, code: str, message: Msg) -> UserErrorData:
    return UserErrorData(field=field, code=code, message=message)


# ---- a new thread ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewThread:
    """The new-message form as sent, before any check."""

    client_global_id: str
    topic: MessageTopic | None
    contract_global_id: str | None
    subject: str
    body: str
    attachment_global_ids: Sequence[str]
    idempotency_key: str


def _check_new(new: NewThread) -> list[UserErrorData]:
    """Every field of the guide's form is required; the contract where the topic needs one."""
    errors = found(
        text_error(new.subject, field="subject", limit=SUBJECT_MAX),
        text_error(new.body, field="body", limit=BODY_MAX),
        text_error(new.idempotency_key, field="idempotencyKey", limit=KEY_MAX),
    )
    if new.topic is None:
        errors.insert(0, _error("topic", "REQUIRED", _("{field} is required.", field="topic")))
    elif TOPIC_OF[new.topic].needs_contract and new.contract_global_id is None:
        message = _("Choose the contract this message is about.")
        errors.append(_error("contractId", "CONTRACT_REQUIRED", message))
    return errors


def _attachment_pks(global_ids: Sequence[str]) -> list[int]:
    return [pk_of(gid, "Attachment", field="attachmentIds") for gid in global_ids]


async def create_thread(
    ctx: Context, *, new: NewThread
) -> tuple[MessageThread | None, list[UserErrorData]]:
    """A thread with its first message and files; the same idempotency key answers with the
    thread it created first (the company's unique key decides between parallel ones)."""
    client_id = require_scope(
        ctx.viewer,
        pk_of(new.client_global_id, "Client", field="clientId"),
        Scope.MESSAGES_WRITE,
        field="clientId",
    )
    if errors := _check_new(new):
        return None, errors
    key = new.idempotency_key.strip()
    attachment_ids = _attachment_pks(new.attachment_global_ids)
    try:
        async with ctx.db.write() as session:
            thread_id = await _thread_by_key(session, client_id, key)
            if thread_id is None:
                thread_id = await _write_thread(session, ctx, new, client_id, key, attachment_ids)
    except Abort as abort:
        return None, abort.errors
    except IntegrityError as error:
        # A parallel request with the key committed first (PostgreSQL aborted this transaction,
        # so the winner is read in a session of its own).
        if not any(name in str(error.orig) for name in KEY_NAMES):
            raise
        async with ctx.db.read() as session:
            thread_id = await _thread_by_key(session, client_id, key)
        if thread_id is None:
            raise
    return await reloaded(ctx, thread_id), []


async def _thread_by_key(session: AsyncSession, client_id: int, key: str) -> int | None:
    query = select(col(MessageThread.id)).where(
        col(MessageThread.client_id) == client_id, col(MessageThread.idempotency_key) == key
    )
    return (await session.execute(query)).scalar_one_or_none()


async def _write_thread(
    session: AsyncSession,
    ctx: Context,
    new: NewThread,
    client_id: int,
    key: str,
    attachment_ids: list[int],
) -> int:
    contract_id = await id_of_client(
        session, Contract, new.contract_global_id, client_id=client_id, field="contractId"
    )
    assert new.topic is not None  # _check_new
    thread = MessageThread(
        client_id=client_id,
        contract_id=contract_id,
        subject=new.subject.strip(),
        # Older rows and readers know the topic by its Polish name.
        category=translate(TOPIC_OF[new.topic].label, DEFAULT_LANGUAGE),
        topic=new.topic,
        status=ThreadStatus.OPEN,
        created_by_id=ctx.viewer.user_id,
        idempotency_key=key,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    session.add(thread)
    await session.flush()  # a key taken meanwhile fails here, before any file is claimed
    assert thread.id is not None
    await _add_message(
        session,
        ctx,
        thread_id=thread.id,
        client_id=client_id,
        body=new.body,
        staff=False,
        attachment_ids=attachment_ids,
    )
    return thread.id


async def _add_message(
    session: AsyncSession,
    ctx: Context,
    *,
    thread_id: int,
    client_id: int,
    body: str,
    staff: bool,
    attachment_ids: Sequence[int] = (),
) -> Message:
    message = Message(
        client_id=client_id,
        thread_id=thread_id,
        from_staff=staff,
        author_id=ctx.viewer.user_id,
        body=body.strip(),
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    session.add(message)
    await session.flush()
    assert message.id is not None
    await claim_attachments(
        session, ids=attachment_ids, client_id=client_id, now=ctx.now, message_id=message.id
    )
    return message


async def reloaded(ctx: Context, thread_id: int) -> Any:
    """The thread as the database has it now (the request's loaders forget their cache)."""
    ctx.loaders.clear()
    return await ctx.loaders[ThreadByIdLoader].load(thread_id)


# ---- one thread: who may do what -----------------------------------------------------------


async def _thread(ctx: Context, global_id: str, *, scope: Scope) -> tuple[Any, bool]:
    """The thread and whether staff act on it: staff who manage messages on any, a client with
    `scope` in the thread's company. Another company's thread is missing, as a missing one is."""
    require_authenticated(ctx.viewer)
    thread = await ctx.loaders[ThreadByIdLoader].load(pk_of(global_id, "MessageThread"))
    if thread is None:
        raise NotFoundError(field="threadId")
    if ctx.viewer.is_staff:
        require_staff_permission(ctx.viewer, StaffPermission.MESSAGES_MANAGE)
        return thread, True
    require_scope(ctx.viewer, thread.client_id, scope, field="threadId")
    return thread, False


async def _move(
    session: AsyncSession,
    ctx: Context,
    thread_id: int,
    status: ThreadStatus,
    final_answer: str | None = None,
) -> None:
    """The status move, refused once the thread is CLOSED (also by a parallel final answer)."""
    values: dict[str, Any] = {"status": status, "updated_at": ctx.now}
    if final_answer is not None:
        values["final_answer"] = final_answer
    moved = await session.execute(
        update(MessageThread)
        .where(col(MessageThread.id) == thread_id, col(MessageThread.status) != ThreadStatus.CLOSED)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if int(moved.rowcount or 0) == 1:  # type: ignore[attr-defined]
        return
    closed = await session.get(MessageThread, thread_id)
    if final_answer is not None and closed is not None and closed.final_answer is not None:
        message = _("This message has already been answered.")
        raise Abort(_error("threadId", "ALREADY_ANSWERED", message))
    message = _("This conversation is closed; start a new message.")
    raise Abort(_error("threadId", "THREAD_CLOSED", message))


async def _mark_read(session: AsyncSession, ctx: Context, thread_id: int, *, staff: bool) -> None:
    """The other side's messages of the thread are read now (again: no change)."""
    await session.execute(
        update(Message)
        .where(
            col(Message.thread_id) == thread_id,
            col(Message.from_staff) == (not staff),
            col(Message.read_at).is_(None),
        )
        .values(read_at=ctx.now)
        .execution_options(synchronize_session=False)
    )


# ---- replies, the final answer, read markers -----------------------------------------------


async def reply(
    ctx: Context, *, thread_global_id: str, body: str, attachment_global_ids: Sequence[str]
) -> tuple[Any, Message | None, list[UserErrorData]]:
    """A client's comment (the thread is OPEN again) or a staff reply (ANSWERED; the client is
    e-mailed)."""
    thread, staff = await _thread(ctx, thread_global_id, scope=Scope.MESSAGES_WRITE)
    if errors := found(text_error(body, field="body", limit=BODY_MAX)):
        return None, None, errors
    attachment_ids = _attachment_pks(attachment_global_ids)
    try:
        async with ctx.db.write() as session:
            status = ThreadStatus.ANSWERED if staff else ThreadStatus.OPEN
            await _move(session, ctx, thread.id, status)
            message = await _add_message(
                session,
                ctx,
                thread_id=thread.id,
                client_id=thread.client_id,
                body=body,
                staff=staff,
                attachment_ids=attachment_ids,
            )
            await _mark_read(session, ctx, thread.id, staff=staff)
            if staff:
                notice = _reply_notice(thread, ctx.settings.portal_url)
                await _notify(session, thread, template="message_reply", notice=notice)
    except Abort as abort:
        return None, None, abort.errors
    return await reloaded(ctx, thread.id), message, []


async def answer(
    ctx: Context, *, thread_global_id: str, text: str
) -> tuple[Any, list[UserErrorData]]:
    """Staff's final answer: kept on the thread and in its history, and the thread CLOSED;
    once only. Needs MESSAGES_MANAGE, declared on the mutation."""
    thread, _staff = await _thread(ctx, thread_global_id, scope=Scope.MESSAGES_WRITE)
    if errors := found(text_error(text, field="answer", limit=BODY_MAX)):
        return None, errors
    try:
        async with ctx.db.write() as session:
            await _move(session, ctx, thread.id, ThreadStatus.CLOSED, final_answer=text.strip())
            await _add_message(
                session,
                ctx,
                thread_id=thread.id,
                client_id=thread.client_id,
                body=text,
                staff=True,
            )
            await _mark_read(session, ctx, thread.id, staff=True)
            notice = _answer_notice(thread, ctx.settings.portal_url)
            await _notify(session, thread, template="message_answer", notice=notice)
    except Abort as abort:
        return None, abort.errors
    return await reloaded(ctx, thread.id), []


async def mark_read(ctx: Context, *, thread_global_id: str) -> Any:
    """The viewer has read the other side's messages; marking twice changes nothing."""
    thread, staff = await _thread(ctx, thread_global_id, scope=Scope.MESSAGES_READ)
    async with ctx.db.write() as session:
        await _mark_read(session, ctx, thread.id, staff=staff)
    return await reloaded(ctx, thread.id)


async def assign(ctx: Context, *, thread_global_id: str, assignee_global_id: str | None) -> Any:
    """Staff: who in customer service handles the thread (none: back to everyone). Needs
    MESSAGES_MANAGE, declared on the mutation, and so does the assignee's role."""
    thread, _staff = await _thread(ctx, thread_global_id, scope=Scope.MESSAGES_WRITE)
    async with ctx.db.write() as session:
        assignee_id = None
        if assignee_global_id is not None:
            assignee_pk = pk_of(assignee_global_id, "User", field="assigneeId")
            assignee_id = await active_staff_with(
                session, assignee_pk, StaffPermission.MESSAGES_MANAGE
            )
            if assignee_id is None:
                raise NotFoundError(field="assigneeId")
        await session.execute(
            update(MessageThread)
            .where(col(MessageThread.id) == thread.id)
            .values(assignee_id=assignee_id, updated_at=ctx.now)
            .execution_options(synchronize_session=False)
        )
    return await reloaded(ctx, thread.id)


# ---- e-mail notices ------------------------------------------------------------------------


def _reply_notice(thread: Any, url: str) -> tuple[Msg, Msg]:
    return _("Reply to your message: {subject}", subject=thread.subject), _(
        "Customer service has replied to your message “{subject}”. The reply is not copied "
        "into e-mail: read it in the client portal, {url}.",
        subject=thread.subject,
        url=url,
    )


def _answer_notice(thread: Any, url: str) -> tuple[Msg, Msg]:
    return _("Answer to your message: {subject}", subject=thread.subject), _(
        "Customer service has given the final answer to your message “{subject}”, and the "
        "conversation is closed. Read the answer in the client portal, {url}.",
        subject=thread.subject,
        url=url,
    )


async def _notify(
    session: AsyncSession, thread: Any, *, template: str, notice: tuple[Msg, Msg]
) -> None:
    """To the person who started the thread while they still belong to the company, else to
    the company's address; in Polish, as staff cause it. The text stays in the portal."""
    subject, body = notice
    author = await _author(session, thread)
    if author is not None:
        outbox.email_user(
            session,
            author,
            language=DEFAULT_LANGUAGE,
            template=template,
            subject=subject,
            body=body,
            client_id=thread.client_id,
        )
        return
    client = await session.get(Client, thread.client_id)
    assert client is not None  # the thread's company
    outbox.email_client(
        session, client, language=DEFAULT_LANGUAGE, template=template, subject=subject, body=body
    )


async def _author(session: AsyncSession, thread: Any) -> User | None:
    if thread.created_by_id is None:
        return None
    query = (
        select(User)
        .join(Membership, col(Membership.user_id) == col(User.id))
        .where(
            col(User.id) == thread.created_by_id,
            col(User.is_active).is_(True),
            col(Membership.client_id) == thread.client_id,
            col(Membership.is_active).is_(True),
        )
    )
    return (await session.execute(query)).scalars().first()


# ---- the staff inbox -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InboxFilter:
    statuses: frozenset[ThreadStatus] = frozenset()
    client_global_id: str | None = None
    topic: MessageTopic | None = None
    unread: bool | None = None  # the client wrote something staff have not read
    assignee_global_id: str | None = None

    def query(self) -> Select[Any]:
        query = select(MessageThread)
        if self.statuses:
            query = query.where(col(MessageThread.status).in_(self.statuses))
        if self.client_global_id is not None:
            client_id = pk_of(self.client_global_id, "Client", field="clientId")
            query = query.where(col(MessageThread.client_id) == client_id)
        if self.topic is not None:
            query = query.where(col(MessageThread.topic) == self.topic)
        if self.assignee_global_id is not None:
            assignee_id = pk_of(self.assignee_global_id, "User", field="assigneeId")
            query = query.where(col(MessageThread.assignee_id) == assignee_id)
        if self.unread is not None:
            unread = exists().where(
                col(Message.thread_id) == col(MessageThread.id),
                col(Message.from_staff).is_(False),
                col(Message.read_at).is_(None),
            )
            query = query.where(unread if self.unread else ~unread)
        return query


async def inbox(
    ctx: Context, *, filters: InboxFilter, first: int | None, after: str | None
) -> Page[MessageThread]:
    """Every company's threads, the latest activity first: staff whose role reads messages."""
    require_staff_read(ctx.viewer, Scope.MESSAGES_READ)
    return await root_list(
        ctx,
        filters.query(),
        model=MessageThread,
        ordering=THREAD_ORDERING,
        first=first,
        after=after,
    )
