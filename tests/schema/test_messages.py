"""Messages with customer service (MSG-1): the new-message form, comments, staff replies and
the final answer, with their codes, tenancy, scopes and the rules that hold under concurrency."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.demo import DEMO_MAIN_EMAIL, DemoSpec, load_demo
from models.attachment import Attachment, AttachmentPurpose, AttachmentStatus
from models.contract import Contract
from models.identity import StaffRole
from models.message import MessageThread, ThreadStatus
from models.outbox import OutboxMessage
from resolvers.ids import from_global_id, to_global_id
from tests.auth.helpers import TOKEN_CREATE, first_company, staff_token, token_of
from tests.conftest import DatabaseFactory, Hub, open_hub
from tests.hub.test_uploads import pdf_file, png_file, upload
from tests.schema.helpers import client_ids, error_codes, other_client_id

TOPICS = "{ messageTopics { code label needsContract } }"
CREATE = """mutation($input: MessageThreadCreateInput!) { messageThreadCreate(input: $input) {
  thread { id status topic category subject contract { id }
           messages { body fromStaff attachments { id filename } } }
  errors { field code message } } }"""
REPLY = """mutation($t: ID!, $b: String!, $a: [ID!]) {
  messageReply(input: {threadId: $t, body: $b, attachmentIds: $a}) {
    thread { id status } message { id body fromStaff read } errors { field code message } } }"""
ANSWER = """mutation($t: ID!, $a: String!) {
  messageThreadAnswer(input: {threadId: $t, answer: $a}) {
  thread { id status finalAnswer messages { body fromStaff } } errors { field code message } } }"""
ASSIGN = """mutation($t: ID!, $u: ID) {
  messageThreadAssign(input: {threadId: $t, assigneeId: $u}) { thread { id } errors { code } } }"""

_keys = itertools.count(1)


async def message_desk(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Hub]:
    """A demo of its own (these tests write), with anna (client 100001), an operator and an
    auditor signed in, and a folder for the files."""
    folder = tmp_path_factory.mktemp("message-files")
    hub, db = await open_hub(await databases.create(), LEASEHUB_ATTACHMENT_DIR=str(folder))
    await load_demo(db.engine, DemoSpec(clients=3, seed=11))
    hub.tokens["anna"] = await token_of(hub, DEMO_MAIN_EMAIL)
    hub.tokens["staff"] = await staff_token(hub, StaffRole.CUSTOMER_SERVICE)
    hub.tokens["auditor"] = await staff_token(hub, StaffRole.AUDITOR)
    yield hub
    await hub.close()
    await db.dispose()


@pytest.fixture(scope="module")
async def desk(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Hub]:
    async for hub in message_desk(databases, tmp_path_factory):
        yield hub


def new_key() -> str:
    return f"msg-{next(_keys)}"


async def form(hub: Hub, **fields: Any) -> dict[str, Any]:
    """A complete new-message form of anna's company; `fields` override its parts."""
    return {
        "clientId": await first_company(hub),
        "topic": "INVOICES",
        "subject": "Brak faktury",
        "body": "Dzień dobry, nie dostaliśmy faktury za październik.",
        "attachmentIds": [],
        "idempotencyKey": new_key(),
        **fields,
    }


async def create(hub: Hub, *, as_: str = "anna", **fields: Any) -> dict[str, Any]:
    body = await hub.gql(CREATE, {"input": await form(hub, **fields)}, as_=as_)
    assert "errors" not in body, body
    return body["data"]["messageThreadCreate"]  # type: ignore[no-any-return]


async def created(hub: Hub, **fields: Any) -> str:
    """The id of a new thread that must be created."""
    payload = await create(hub, **fields)
    assert payload["errors"] == [], payload
    return payload["thread"]["id"]  # type: ignore[no-any-return]


def fields_codes(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def contract_of(hub: Hub, *, own: bool) -> str:
    company = await first_company(hub) if own else other_client_id(await client_ids(hub, "anna"))
    owner = Contract.client_id == from_global_id(company)[1]
    async with hub.db.read() as session:
        pk = (await session.execute(select(Contract.id).where(owner).limit(1))).scalar_one()
    return to_global_id("Contract", pk)


async def threads_with_key(hub: Hub, key: str) -> int:
    async with hub.db.read() as session:
        query = select(func.count()).where(MessageThread.idempotency_key == key)
        return int((await session.execute(query)).scalar_one())


async def notices(hub: Hub, template: str, subject: str) -> list[OutboxMessage]:
    async with hub.db.read() as session:
        query = select(OutboxMessage).where(
            OutboxMessage.template == template, OutboxMessage.subject.contains(subject)
        )
        return list((await session.execute(query)).scalars())


async def reply(hub: Hub, thread: str, text: str, as_: str, **kw: Any) -> dict[str, Any]:
    body = await hub.gql(REPLY, {"t": thread, "b": text, **kw}, as_=as_)
    assert "errors" not in body, body
    return body["data"]["messageReply"]  # type: ignore[no-any-return]


async def answer(hub: Hub, thread: str, text: str, as_: str = "staff") -> dict[str, Any]:
    body = await hub.gql(ANSWER, {"t": thread, "a": text}, as_=as_)
    assert "errors" not in body, body
    return body["data"]["messageThreadAnswer"]  # type: ignore[no-any-return]


# ---- the form ------------------------------------------------------------------------------


async def test_message_topics_are_the_forms_list_in_polish_or_english(desk: Hub) -> None:
    polish = (await desk.gql(TOPICS, as_="anna"))["data"]["messageTopics"]
    assert [(t["code"], t["label"], t["needsContract"]) for t in polish] == [
        ("INVOICES", "Faktury", False),
        ("PAYMENTS", "Płatności", False),
        ("CONTRACT", "Umowa", True),
        ("INSURANCE", "Ubezpieczenie", True),
        ("TYRES", "Opony", True),
        ("OTHER", "Inne", False),
    ]
    english = await desk.gql(TOPICS, as_="anna", headers={"Accept-Language": "en"})
    assert [t["label"] for t in english["data"]["messageTopics"]][:2] == ["Invoices", "Payments"]


async def test_new_message_opens_a_thread_with_its_contract_and_files(desk: Hub) -> None:
    response, picture = await upload(desk, "szkoda.png", png_file(), purpose="MESSAGE")
    assert response.status_code == 200, response.text
    contract = await contract_of(desk, own=True)
    payload = await create(
        desk,
        topic="INSURANCE",
        contractId=contract,
        subject="Szkoda parkingowa",
        attachmentIds=[to_global_id("Attachment", picture)],
    )
    assert payload["errors"] == []
    thread = payload["thread"]
    assert (thread["status"], thread["topic"], thread["category"]) == (
        "OPEN",
        "INSURANCE",
        "Ubezpieczenie",
    )
    assert thread["contract"] == {"id": contract}
    [message] = thread["messages"]
    assert message["fromStaff"] is False
    assert [a["filename"] for a in message["attachments"]] == ["szkoda.png"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("topic", None), ("subject", ""), ("body", "   "), ("idempotencyKey", "")],
)
async def test_each_field_of_the_form_is_required(desk: Hub, field: str, value: Any) -> None:
    key = new_key()
    payload = await create(desk, **{"idempotencyKey": key, field: value})
    assert fields_codes(payload) == [(field, "REQUIRED")]
    assert payload["thread"] is None
    assert await threads_with_key(desk, key) == 0


@pytest.mark.parametrize(("field", "limit"), [("subject", 200), ("body", 8000)])
async def test_subject_and_body_longer_than_their_limit_are_refused(
    desk: Hub, field: str, limit: int
) -> None:
    assert (await create(desk, **{field: "x" * limit}))["errors"] == []
    payload = await create(desk, **{field: "x" * (limit + 1)})
    assert fields_codes(payload) == [(field, "TOO_LONG")]


@pytest.mark.parametrize("topic", ["CONTRACT", "INSURANCE", "TYRES"])
async def test_topic_about_a_contract_requires_the_contract(desk: Hub, topic: str) -> None:
    payload = await create(desk, topic=topic)
    assert fields_codes(payload) == [("contractId", "CONTRACT_REQUIRED")]


async def test_another_companys_contract_is_answered_as_missing(desk: Hub) -> None:
    key = new_key()
    foreign = await create(
        desk, topic="CONTRACT", contractId=await contract_of(desk, own=False), idempotencyKey=key
    )
    missing = await create(desk, topic="CONTRACT", contractId=to_global_id("Contract", 10**8))
    assert fields_codes(foreign) == fields_codes(missing) == [("contractId", "NOT_FOUND")]
    assert foreign["errors"][0]["message"] == missing["errors"][0]["message"]
    assert await threads_with_key(desk, key) == 0


async def test_another_companys_client_is_answered_as_missing(desk: Hub) -> None:
    other = other_client_id(await client_ids(desk, "anna"))
    for client in (other, to_global_id("Client", 10**8)):
        body = await desk.gql(CREATE, {"input": await form(desk, clientId=client)}, as_="anna")
        assert error_codes(body) == ["NOT_FOUND"]


async def test_another_companys_attachment_is_answered_as_missing(desk: Hub) -> None:
    other = from_global_id(other_client_id(await client_ids(desk, "anna")))[1]
    async with desk.db.write() as session:
        foreign = Attachment(
            client_id=other,
            filename="obcy.pdf",
            content_type="application/pdf",
            size=4,
            sha256="0" * 64,
            content=b"%PDF",
            purpose=AttachmentPurpose.MESSAGE,
            status=AttachmentStatus.READY,
        )
        session.add(foreign)
        await session.flush()
        foreign_id = to_global_id("Attachment", foreign.id or 0)
    key = new_key()
    payload = await create(desk, attachmentIds=[foreign_id], idempotencyKey=key)
    assert fields_codes(payload) == [("attachmentIds", "NOT_FOUND")]
    assert await threads_with_key(desk, key) == 0  # the thread went with the refused claim


async def test_attachment_used_twice_is_refused(desk: Hub) -> None:
    response, pk = await upload(desk, "faktura.pdf", pdf_file(), purpose="MESSAGE")
    assert response.status_code == 200
    ids = [to_global_id("Attachment", pk)]
    assert (await create(desk, attachmentIds=ids))["errors"] == []
    key = new_key()
    payload = await create(desk, attachmentIds=ids, idempotencyKey=key)
    assert fields_codes(payload) == [("attachmentIds", "ATTACHMENT_USED")]
    assert await threads_with_key(desk, key) == 0
    thread = await created(desk)
    assert fields_codes(await reply(desk, thread, "Jeszcze raz", "anna", a=ids)) == [
        ("attachmentIds", "ATTACHMENT_USED")
    ]


@pytest.mark.parametrize(("scopes", "read_only"), [(["MESSAGES_READ"], False), (None, True)])
async def test_token_without_messages_write_or_read_only_is_refused(
    desk: Hub, scopes: list[str] | None, read_only: bool
) -> None:
    made = await desk.gql(
        TOKEN_CREATE, {"c": await first_company(desk), "s": scopes, "ro": read_only}, as_="anna"
    )
    secret = made["data"]["apiTokenCreate"]["token"]
    thread = await created(desk)
    key = new_key()
    refused = await desk.gql(CREATE, {"input": await form(desk, idempotencyKey=key)}, token=secret)
    assert error_codes(refused) == ["FORBIDDEN"]
    assert await threads_with_key(desk, key) == 0
    refused = await desk.gql(REPLY, {"t": thread, "b": "Komentarz"}, token=secret)
    assert error_codes(refused) == ["FORBIDDEN"]


# ---- idempotency ---------------------------------------------------------------------------


async def test_same_idempotency_key_answers_with_the_same_thread(desk: Hub) -> None:
    key = new_key()
    first = await created(desk, idempotencyKey=key)
    again = await create(desk, idempotencyKey=key, subject="Inny temat")
    assert again["errors"] == [] and again["thread"]["id"] == first
    assert again["thread"]["subject"] == "Brak faktury"
    assert await threads_with_key(desk, key) == 1


async def test_twenty_parallel_sendings_with_one_key_make_one_thread(desk: Hub) -> None:
    key = new_key()
    variables = {"input": await form(desk, idempotencyKey=key)}
    bodies = await asyncio.gather(*(desk.gql(CREATE, variables, as_="anna") for _ in range(20)))
    assert all("errors" not in body for body in bodies), bodies
    payloads = [body["data"]["messageThreadCreate"] for body in bodies]
    assert all(p["errors"] == [] for p in payloads)
    assert len({p["thread"]["id"] for p in payloads}) == 1
    assert await threads_with_key(desk, key) == 1


# ---- replies, comments, the final answer ---------------------------------------------------


async def test_staff_reply_answers_the_thread_and_emails_its_author(desk: Hub) -> None:
    subject = f"Korekta faktury {new_key()}"
    thread = await created(desk, subject=subject)
    payload = await reply(desk, thread, "Korektę wyślemy jutro.", "staff")
    assert payload["errors"] == []
    assert payload["thread"]["status"] == "ANSWERED"
    assert payload["message"]["fromStaff"] is True and payload["message"]["read"] is False
    [notice] = await notices(desk, "message_reply", subject)
    assert notice.recipient == DEMO_MAIN_EMAIL
    assert notice.subject == f"Odpowiedź na Twoją wiadomość: {subject}"
    assert "odpowiedziała na Twoją wiadomość" in notice.body
    assert "Korektę wyślemy jutro." not in notice.body  # the text stays behind the login


async def test_client_comment_opens_an_answered_thread_again(desk: Hub) -> None:
    thread = await created(desk)
    assert (await reply(desk, thread, "Sprawdzimy.", "staff"))["thread"]["status"] == "ANSWERED"
    payload = await reply(desk, thread, "Dziękuję, czekam.", "anna")
    assert payload["errors"] == []
    assert payload["thread"]["status"] == "OPEN"
    assert payload["message"]["fromStaff"] is False


async def test_final_answer_closes_the_thread_once_of_twenty_parallel(desk: Hub) -> None:
    subject = f"Wykup {new_key()}"
    thread = await created(desk, subject=subject)
    payloads = await asyncio.gather(*(answer(desk, thread, f"Odpowiedź {n}") for n in range(20)))
    winners = [p for p in payloads if p["errors"] == []]
    assert len(winners) == 1
    losers = sorted({code for p in payloads for _f, code in fields_codes(p)})
    assert losers == ["ALREADY_ANSWERED"]
    closed = winners[0]["thread"]
    assert closed["status"] == "CLOSED"
    assert closed["finalAnswer"].startswith("Odpowiedź ")
    assert closed["messages"][-1] == {"body": closed["finalAnswer"], "fromStaff": True}
    assert len(await notices(desk, "message_answer", subject)) == 1


async def test_closed_thread_takes_no_more_replies(desk: Hub) -> None:
    thread = await created(desk)
    assert (await answer(desk, thread, "Sprawa zamknięta."))["errors"] == []
    for who in ("anna", "staff"):
        payload = await reply(desk, thread, "Jeszcze jedno", who)
        assert fields_codes(payload) == [("threadId", "THREAD_CLOSED")]


async def test_another_companys_thread_is_answered_as_missing(desk: Hub) -> None:
    other = from_global_id(other_client_id(await client_ids(desk, "anna")))[1]
    async with desk.db.write() as session:
        row = MessageThread(
            client_id=other, subject="Obcy", category="Inne", status=ThreadStatus.OPEN
        )
        session.add(row)
        await session.flush()
        foreign = to_global_id("MessageThread", row.id or 0)
    missing = to_global_id("MessageThread", 10**8)
    for thread in (foreign, missing):
        body = await desk.gql(REPLY, {"t": thread, "b": "Halo"}, as_="anna")
        assert error_codes(body) == ["NOT_FOUND"]
        assert body["errors"][0]["extensions"]["field"] == "threadId"


async def test_clients_and_auditors_are_refused_staff_actions(desk: Hub) -> None:
    thread = await created(desk)
    for who in ("anna", "auditor"):
        assert error_codes(await desk.gql(ANSWER, {"t": thread, "a": "Nie"}, as_=who)) == [
            "FORBIDDEN"
        ]
        assert error_codes(await desk.gql(ASSIGN, {"t": thread}, as_=who)) == ["FORBIDDEN"]
    body = await desk.gql(REPLY, {"t": thread, "b": "Audyt"}, as_="auditor")
    assert error_codes(body) == ["FORBIDDEN"]
    anna_answer = await desk.gql(ANSWER, {"t": thread, "a": "Nie"}, as_="anna")
    assert anna_answer["data"] is None or anna_answer["data"]["messageThreadAnswer"] is None
