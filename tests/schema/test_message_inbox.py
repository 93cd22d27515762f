"""Unread markers on both sides and customer service's inbox (`admin.messageThreads`), with
the SQL statement counts of the lists pinned."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from hub.demo import DEMO_MAIN_EMAIL
from models.attachment import Attachment, AttachmentPurpose, AttachmentStatus
from models.base import utcnow
from models.identity import StaffRole, User
from models.message import Message, MessageThread, MessageTopic, ThreadStatus
from resolvers.ids import from_global_id, to_global_id
from tests.auth.helpers import first_company
from tests.conftest import DatabaseFactory, Hub, count_statements
from tests.loaders.test_statement_count import shapes
from tests.schema.helpers import error_codes
from tests.schema.test_messages import ASSIGN, created, message_desk, reply

THREAD = """query($id: ID!) { node(id: $id) { ... on MessageThread {
  unreadCount status messages { fromStaff read } } } }"""
CLIENT_UNREAD = "query($c: ID!) { client(id: $c) { unreadMessageCount } }"
MARK = """mutation($t: ID!) { messageThreadMarkRead(input: {threadId: $t}) {
  thread { id unreadCount } errors { code } } }"""
INBOX = """query($f: MessageThreadFilterInput, $first: Int, $after: String) {
  admin { messageThreads(filter: $f, first: $first, after: $after) {
    nodes { id status topic updatedAt unreadCount } pageInfo { hasNextPage endCursor } } } }"""
CLIENT_THREADS = """query($c: ID!) { client(id: $c) { unreadMessageCount
  messageThreads(first: 100) { nodes { unreadCount topic contract { number }
    messages { read attachments { id } } } } } }"""
DEEP_INBOX = """query($c: ID!) { admin { messageThreads(first: 100, filter: {clientId: $c}) {
  nodes { unreadCount topic contract { number } assignee { email }
    messages { read attachments { id } } } } } }"""

_subjects = itertools.count(1)


@pytest.fixture(scope="module")
async def inbox(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Hub]:
    async for hub in message_desk(databases, tmp_path_factory):
        yield hub


async def unread(hub: Hub, thread: str, as_: str) -> int:
    body = await hub.gql(THREAD, {"id": thread}, as_=as_)
    assert "errors" not in body, body
    return body["data"]["node"]["unreadCount"]  # type: ignore[no-any-return]


async def client_unread(hub: Hub, as_: str) -> int:
    body = await hub.gql(CLIENT_UNREAD, {"c": await first_company(hub)}, as_=as_)
    assert "errors" not in body, body
    return body["data"]["client"]["unreadMessageCount"]  # type: ignore[no-any-return]


async def mark_read(hub: Hub, thread: str, as_: str) -> dict[str, Any]:
    body = await hub.gql(MARK, {"t": thread}, as_=as_)
    assert "errors" not in body, body
    return body["data"]["messageThreadMarkRead"]["thread"]  # type: ignore[no-any-return]


async def threads_of_inbox(hub: Hub, filters: dict[str, Any], as_: str = "staff") -> list[dict]:
    body = await hub.gql(INBOX, {"f": filters, "first": 100}, as_=as_)
    assert "errors" not in body, body
    return body["data"]["admin"]["messageThreads"]["nodes"]  # type: ignore[no-any-return]


async def test_demo_client_sees_an_unread_reply(inbox: Hub) -> None:
    assert await client_unread(inbox, "anna") >= 1
    waiting = await threads_of_inbox(inbox, {"unread": True})
    assert waiting and all(t["unreadCount"] >= 1 for t in waiting)


async def test_unread_counts_and_marking_read_on_both_sides(inbox: Hub) -> None:
    thread = await created(inbox)
    assert await unread(inbox, thread, "anna") == 0
    assert await unread(inbox, thread, "staff") == 1  # the client's question
    before = await client_unread(inbox, "anna")
    await reply(inbox, thread, "Sprawdzamy.", "staff")
    await reply(inbox, thread, "Faktura wysłana.", "staff")
    assert await unread(inbox, thread, "staff") == 0  # replying read the question
    assert await unread(inbox, thread, "anna") == 2
    assert await client_unread(inbox, "anna") == before + 2
    body = await inbox.gql(THREAD, {"id": thread}, as_="anna")
    assert [m["read"] for m in body["data"]["node"]["messages"]] == [True, False, False]
    for _ in range(2):  # marking twice changes nothing
        assert (await mark_read(inbox, thread, "anna"))["unreadCount"] == 0
    assert await client_unread(inbox, "anna") == before
    await reply(inbox, thread, "Dziękuję.", "anna")
    assert await unread(inbox, thread, "staff") == 1
    assert (await mark_read(inbox, thread, "staff"))["unreadCount"] == 0
    assert await unread(inbox, thread, "anna") == 0


async def test_inbox_filters_by_status_company_topic_unread_and_assignee(inbox: Hub) -> None:
    company = await first_company(inbox)
    question = await created(inbox, topic="PAYMENTS")
    answered = await created(inbox, topic="PAYMENTS")
    await reply(inbox, answered, "Nadpłatę zaliczymy.", "staff")
    filters = {"clientId": company, "topic": "PAYMENTS"}
    ids = [t["id"] for t in await threads_of_inbox(inbox, filters)]
    assert ids[:2] == [answered, question]  # the latest activity first
    open_ids = {t["id"] for t in await threads_of_inbox(inbox, {**filters, "statuses": ["OPEN"]})}
    assert question in open_ids and answered not in open_ids
    unread_ids = {t["id"] for t in await threads_of_inbox(inbox, {**filters, "unread": True})}
    assert question in unread_ids and answered not in unread_ids
    read_ids = {t["id"] for t in await threads_of_inbox(inbox, {**filters, "unread": False})}
    assert answered in read_ids and question not in read_ids
    other = await threads_of_inbox(inbox, {"clientId": company, "topic": "TYRES"})
    assert not {question, answered} & {t["id"] for t in other}
    async with inbox.db.read() as session:
        query = select(User.id).where(User.staff_role == StaffRole.CUSTOMER_SERVICE)
        operator = to_global_id("User", (await session.execute(query)).scalars().first() or 0)
    body = await inbox.gql(ASSIGN, {"t": question, "u": operator}, as_="staff")
    assert body["data"]["messageThreadAssign"]["errors"] == []
    mine = await threads_of_inbox(inbox, {"assigneeId": operator})
    assert [t["id"] for t in mine] == [question]
    anna_user = await inbox.gql("{ viewer { user { email } } }", as_="anna")
    assert anna_user["data"]["viewer"]["user"]["email"] == DEMO_MAIN_EMAIL


async def test_a_thread_cannot_be_handed_to_an_auditor(inbox: Hub) -> None:
    question = await created(inbox, topic="OTHER")
    async with inbox.db.read() as session:
        query = select(User.id).where(User.staff_role == StaffRole.AUDITOR)
        auditor = to_global_id("User", (await session.execute(query)).scalars().first() or 0)
    body = await inbox.gql(ASSIGN, {"t": question, "u": auditor}, as_="staff")
    assert error_codes(body) == ["NOT_FOUND"]
    mine = await threads_of_inbox(inbox, {"assigneeId": auditor})
    assert mine == []


async def test_inbox_pages_with_cursors_in_order(inbox: Hub) -> None:
    seen: list[dict[str, Any]] = []
    after = None
    while True:
        body = await inbox.gql(INBOX, {"first": 3, "after": after}, as_="auditor")
        page = body["data"]["admin"]["messageThreads"]
        seen += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    keys = [(t["updatedAt"], from_global_id(t["id"])[1]) for t in seen]
    assert keys == sorted(keys, reverse=True) and len(set(keys)) == len(keys) > 3


async def test_clients_cannot_read_the_inbox(inbox: Hub) -> None:
    body = await inbox.gql(INBOX, {"first": 5}, as_="anna")
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["data"] == {"admin": None}


# ---- statement counts ----------------------------------------------------------------------


async def _grow(hub: Hub, client_id: int, threads: int) -> None:
    """More threads of the company, each with three messages and a file on each message."""
    now = utcnow()
    async with hub.db.write() as session:
        for n in range(threads):
            stamp = now - timedelta(minutes=n + 1)
            thread = MessageThread(
                client_id=client_id,
                subject=f"Wątek {next(_subjects)}",
                category="Inne",
                topic=MessageTopic.OTHER,
                status=ThreadStatus.ANSWERED,
                created_at=stamp,
                updated_at=stamp,
            )
            session.add(thread)
            await session.flush()
            for position in range(3):
                message = Message(
                    client_id=client_id,
                    thread_id=thread.id or 0,
                    from_staff=position % 2 == 1,
                    body="Treść",
                    read_at=None if position == 2 else stamp,
                    created_at=stamp,
                    updated_at=stamp,
                )
                session.add(message)
                await session.flush()
                session.add(
                    Attachment(
                        client_id=client_id,
                        message_id=message.id,
                        filename="plik.pdf",
                        content_type="application/pdf",
                        size=4,
                        sha256="0" * 64,
                        content=b"%PDF",
                        purpose=AttachmentPurpose.MESSAGE,
                        status=AttachmentStatus.READY,
                    )
                )


async def _statements(hub: Hub, query: str, who: str) -> tuple[Counter[str], int]:
    with count_statements(hub.db) as statements:
        body = await hub.gql(query, {"c": await first_company(hub)}, as_=who)
    assert "errors" not in body, body
    data = body["data"]["client"] if "client" in body["data"] else body["data"]["admin"]
    return shapes(statements), len(data["messageThreads"]["nodes"])


@pytest.mark.parametrize(("query", "who"), [(CLIENT_THREADS, "anna"), (DEEP_INBOX, "staff")])
async def test_thread_lists_cost_the_same_statements_at_ten_times_the_threads(
    inbox: Hub, query: str, who: str
) -> None:
    client_id = from_global_id(await first_company(inbox))[1]
    await _grow(inbox, client_id, 2)
    small, small_threads = await _statements(inbox, query, who)
    await _grow(inbox, client_id, 20)
    large, large_threads = await _statements(inbox, query, who)
    assert large_threads >= small_threads + 20
    # The same statements whatever the size. A batch may come in two parts when its loads are
    # reached in two event-loop turns (one thread's contract arrives later), never one per row.
    assert set(large) == set(small)
    assert max(large.values()) <= 2 and sum(small.values()) <= 14
