"""`requestReply` and `requestMarkRead`: the client's answer and staff's message in a request's
history, unread counts on both sides, and the statement count of a request list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select, update

from models.outbox import Channel
from models.request import Request, RequestStage, RequestType
from resolvers.ids import from_global_id, to_global_id
from tests.auth.helpers import last_message
from tests.conftest import DatabaseFactory, count_statements
from tests.schema.helpers import error_codes
from tests.schema.test_request_file import Env, file, filing, open_env, uploaded

REPLY = """mutation($id: ID!, $comment: String!, $files: [ID!]) {
  requestReply(input: {requestId: $id, comment: $comment, attachmentIds: $files}) {
    request { id stage unreadCount history { stage comment fromClient read author
      attachments { id } } }
    errors { field code message } } }"""
MARK_READ = """mutation($id: ID!) { requestMarkRead(input: {requestId: $id}) {
  request { id unreadCount } errors { code } } }"""
UNREAD = """query($c: ID!) { client(id: $c) { unreadRequestCount } }"""
REQUEST = """query($id: ID!) { node(id: $id) { ... on Request { stage unreadCount overdue dueOn
  decision answer decidedAt history { fromClient read } } } }"""
LIST = """query($c: ID!, $first: Int!) { client(id: $c) { unreadRequestCount
  requests(first: $first) { edges { node { id number unreadCount overdue dueOn decision answer
    decidedAt contract { id number }
    simulation { paymentDay instalments { number net { amount } } }
    history { stage read author attachments { id } } } } } } }"""


@pytest.fixture(scope="module")
async def env(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Env]:
    made, db = await open_env(databases, str(tmp_path_factory.mktemp("files") / "store"))
    yield made
    await made.hub.close()
    await db.dispose()


async def filed(env: Env, kind: RequestType = RequestType.POLICY_DUPLICATE) -> str:
    payload = await file(env, await filing(env, kind))
    assert payload["errors"] == []
    return payload["request"]["id"]  # type: ignore[no-any-return]


async def set_stage(env: Env, request_id: str, stage: RequestStage) -> None:
    """Where staff's processing (another mutation) would have brought the request."""
    async with env.hub.db.write() as session:
        await session.execute(
            update(Request).where(Request.id == from_global_id(request_id)[1]).values(stage=stage)
        )


async def reply(
    env: Env,
    request_id: str,
    comment: str = "Przesyłamy odpis z KRS.",
    *,
    as_: str = "anna",
    files: list[str] | None = None,
) -> dict[str, Any]:
    body = await env.hub.gql(
        REPLY, {"id": request_id, "comment": comment, "files": files or []}, as_=as_
    )
    assert "errors" not in body, body["errors"]
    return body["data"]["requestReply"]  # type: ignore[no-any-return]


async def read_request(env: Env, request_id: str, as_: str = "anna") -> dict[str, Any]:
    body = await env.hub.gql(REQUEST, {"id": request_id}, as_=as_)
    assert "errors" not in body, body["errors"]
    return body["data"]["node"]  # type: ignore[no-any-return]


async def test_client_reply_to_a_request_waiting_for_the_client_moves_it_back_to_review(
    env: Env,
) -> None:
    request_id = await filed(env)
    await set_stage(env, request_id, RequestStage.WAITING_FOR_CLIENT)
    document = await uploaded(env)
    payload = await reply(env, request_id, files=[document])
    assert payload["errors"] == []
    request = payload["request"]
    assert request["stage"] == "IN_REVIEW"
    last = request["history"][-1]
    assert (last["stage"], last["fromClient"], last["comment"]) == (
        "IN_REVIEW",
        True,
        "Przesyłamy odpis z KRS.",
    )
    assert [a["id"] for a in last["attachments"]] == [document]


async def test_client_reply_to_an_open_request_keeps_its_stage(env: Env) -> None:
    request_id = await filed(env)
    payload = await reply(env, request_id)
    assert payload["errors"] == [] and payload["request"]["stage"] == "SUBMITTED"


@pytest.mark.parametrize(
    "stage", [RequestStage.COMPLETED, RequestStage.REJECTED, RequestStage.CLOSED]
)
async def test_decided_or_closed_request_takes_no_reply(env: Env, stage: RequestStage) -> None:
    request_id = await filed(env)
    await set_stage(env, request_id, stage)
    for who in ("anna", "staff"):
        payload = await reply(env, request_id, as_=who)
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [
            ("requestId", "REQUEST_CLOSED")
        ]
    assert len((await read_request(env, request_id))["history"]) == 1


@pytest.mark.parametrize(("comment", "code"), [("   ", "REQUIRED"), ("x" * 4001, "TOO_LONG")])
async def test_reply_needs_a_comment_of_at_most_4000_characters(
    env: Env, comment: str, code: str
) -> None:
    payload = await reply(env, await filed(env), comment)
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("comment", code)]


async def test_reply_with_a_used_attachment_writes_nothing(env: Env) -> None:
    request_id = await filed(env)
    document = await uploaded(env)
    assert (await reply(env, request_id, files=[document]))["errors"] == []
    payload = await reply(env, request_id, files=[document])
    assert [e["code"] for e in payload["errors"]] == ["ATTACHMENT_USED"]
    assert len((await read_request(env, request_id))["history"]) == 2


async def test_staff_reply_keeps_the_stage_and_emails_the_client_in_polish(env: Env) -> None:
    request_id = await filed(env)
    await set_stage(env, request_id, RequestStage.IN_REVIEW)
    payload = await reply(env, request_id, "Prosimy o skan polisy.", as_="staff")
    assert payload["errors"] == []
    assert payload["request"]["stage"] == "IN_REVIEW"
    last = payload["request"]["history"][-1]
    assert (last["fromClient"], last["author"]) == (False, "Ewa Zielińska")
    mail = await last_message(env.hub, "anna@x.pl", Channel.EMAIL)
    assert mail.subject.startswith("Nowa wiadomość w sprawie wniosku")
    number = mail.subject.rsplit(" ", 1)[-1]
    assert number.startswith("WN/") and number in mail.body and "Obsługa klienta" in mail.body
    assert "Prosimy o skan polisy." not in mail.body  # the text stays behind the login


async def test_another_companys_request_is_answered_as_missing(env: Env) -> None:
    async with env.hub.db.read() as session:
        other = (
            await session.execute(
                select(Request.id).where(Request.client_id == from_global_id(env.other_client)[1])
            )
        ).scalar()
    if other is None:
        pytest.skip("the other company has no request in this demo")
    foreign = to_global_id("Request", other)
    for document in (REPLY, MARK_READ):
        body = await env.hub.gql(document, {"id": foreign, "comment": "x"}, as_="anna")
        assert error_codes(body) == ["NOT_FOUND"]


async def test_subaccount_without_requests_write_cannot_reply(env: Env) -> None:
    request_id = await filed(env)
    body = await env.hub.gql(REPLY, {"id": request_id, "comment": "x"}, as_="jan")
    assert error_codes(body) in (["FORBIDDEN"], ["NOT_FOUND"])
    assert len((await read_request(env, request_id))["history"]) == 1


async def test_unread_counts_follow_replies_and_mark_read_on_both_sides(env: Env) -> None:
    request_id = await filed(env)
    # Staff have not read the client's filing; the client has nothing unread.
    assert (await read_request(env, request_id, "staff"))["unreadCount"] == 1
    assert (await read_request(env, request_id))["unreadCount"] == 0
    before = (await env.hub.gql(UNREAD, {"c": env.client}, as_="anna"))["data"]["client"]
    await reply(env, request_id, "Prosimy o uzupełnienie.", as_="staff")
    await reply(env, request_id, "I jeszcze jedno.", as_="staff")
    assert (await read_request(env, request_id))["unreadCount"] == 2
    after = (await env.hub.gql(UNREAD, {"c": env.client}, as_="anna"))["data"]["client"]
    assert after["unreadRequestCount"] == before["unreadRequestCount"] + 1
    for _ in range(2):  # marking again changes nothing
        body = await env.hub.gql(MARK_READ, {"id": request_id}, as_="anna")
        assert body["data"]["requestMarkRead"]["request"]["unreadCount"] == 0
    history = (await read_request(env, request_id))["history"]
    assert [entry["read"] for entry in history if not entry["fromClient"]] == [True, True]
    assert (await read_request(env, request_id, "staff"))["unreadCount"] == 1  # theirs stays
    body = await env.hub.gql(MARK_READ, {"id": request_id}, as_="staff")
    assert body["data"]["requestMarkRead"]["request"]["unreadCount"] == 0
    final = (await env.hub.gql(UNREAD, {"c": env.client}, as_="anna"))["data"]["client"]
    assert final["unreadRequestCount"] == before["unreadRequestCount"]


async def test_request_shows_its_deadline_and_is_not_overdue_when_filed(env: Env) -> None:
    request = await read_request(env, await filed(env))
    assert request["dueOn"] is not None and request["overdue"] is False
    assert (request["decision"], request["answer"], request["decidedAt"]) == (None, None, None)


async def test_statement_count_of_a_request_list_does_not_grow_with_its_length(
    env: Env,
) -> None:
    for kind in (RequestType.PAYMENT_DAY_CHANGE, RequestType.SCHEDULE_CHANGE):
        await file(env, await filing(env, kind))
    for _ in range(3):
        await reply(env, await filed(env), "Pytanie", as_="staff")
    counts = []
    for first in (1, 30):
        with count_statements(env.hub.db) as seen:
            body = await env.hub.gql(LIST, {"c": env.client, "first": first}, as_="anna")
        assert "errors" not in body, body["errors"]
        edges = body["data"]["client"]["requests"]["edges"]
        counts.append(len(seen))
    assert len(edges) >= 8
    assert any(edge["node"]["simulation"] for edge in edges)
    assert counts[0] == counts[1], counts


DEMO = """query($c: ID!) { client(id: $c) {
  requests(first: 100, stage: [WAITING_FOR_CLIENT, COMPLETED, REJECTED]) { edges { node {
    stage unreadCount decision answer decidedAt dueOn
    history { fromClient comment read } } } } } }"""


async def test_demo_requests_show_unread_questions_and_their_decisions(env: Env) -> None:
    body = await env.hub.gql(DEMO, {"c": env.client}, as_="anna")
    nodes = [edge["node"] for edge in body["data"]["client"]["requests"]["edges"]]
    # Demo rows only: a test of this module may have moved a request there without a question.
    asked = [
        n
        for n in nodes
        if n["stage"] == "WAITING_FOR_CLIENT" and not n["history"][-1]["fromClient"]
    ]
    decided = [
        n
        for n in nodes
        if n["stage"] in ("COMPLETED", "REJECTED") and not n["history"][-1]["fromClient"]
    ]
    assert asked and decided and all(n["dueOn"] for n in nodes)
    for node in asked:
        assert node["unreadCount"] == 1 and node["history"][-1]["read"] is False
    for node in decided:
        expected = "ACCEPTED" if node["stage"] == "COMPLETED" else "REJECTED"
        assert (node["decision"], node["answer"]) == (expected, node["history"][-1]["comment"])
        assert all(entry["read"] for entry in node["history"])
