"""The fast lane (hub/lane.py): a query strawberry's path validated and ran is answered the next
time without the view, and every answer is the one strawberry's path would give."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from graphql import parse
from strawberry.extensions import SchemaExtension

from hub.app import LeaseHubGraphQL, create_app
from hub.lane import LANE_TEXT_MAX, Call, FastLane, Learnt, limiter_of
from resolvers.context import LaneVisit
from schema import build_schema
from schema.errors import INTERNAL
from schema.execution import CompiledExecutor
from tests import crosscheck
from tests.conftest import Hub, count_statements
from tests.schema.helpers import client_ids, error_codes, other_client_id
from tests.schema.test_guards import INTROSPECTION, production

CLIENT = "query Client($id: ID!) { client(id: $id) { id name nip } }"
GRAPHQL_RESPONSE = "application/graphql-response+json"


def view_of(app: Any) -> LeaseHubGraphQL:
    return next(route.app for route in app.routes if isinstance(route.app, LeaseHubGraphQL))


@pytest.fixture
async def fresh(hub: Hub) -> AsyncIterator[httpx.AsyncClient]:
    """An app of its own on the demo database: its lane has learnt nothing yet."""
    assert hub.settings is not None
    app = create_app(hub.settings, db=hub.db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
        http.lane = view_of(app).lane  # type: ignore[attr-defined]
        yield http


def send(http: httpx.AsyncClient, hub: Hub, who: str, body: object, **headers: str) -> Any:
    return http.post(
        "/graphql",
        content=orjson.dumps(body),
        headers={
            "content-type": "application/json",
            "authorization": f"Bearer {hub.tokens[who]}",
            "x-request-id": "lane-test",
            **headers,
        },
    )


def seen(response: httpx.Response) -> tuple[int, tuple[tuple[str, str], ...], bytes]:
    return response.status_code, tuple(response.headers.multi_items()), response.content


async def twice(
    http: httpx.AsyncClient, hub: Hub, who: str, body: object, **headers: str
) -> tuple[httpx.Response, httpx.Response, list[str], list[str]]:
    """The same request twice, with the statements each sent (the token known to the app
    before, as a server knows it after a viewer's first request)."""
    await send(http, hub, who, {"query": "{ viewer { isStaff } }"})
    with count_statements(hub.db) as first_statements:
        first = await send(http, hub, who, body, **headers)
    with count_statements(hub.db) as second_statements:
        second = await send(http, hub, who, body, **headers)
    return first, second, first_statements, second_statements


def lane_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The documents of the executions the lane starts itself."""
    runs: list[str] = []
    answer = FastLane._answer

    async def counted(self: FastLane, learnt: Learnt, call: Call, *args: Any) -> Any:
        runs.append(call.query)
        return await answer(self, learnt, call, *args)

    monkeypatch.setattr(FastLane, "_answer", counted)
    return runs


async def test_a_query_is_answered_by_the_lane_from_its_second_request_on(
    hub: Hub, fresh: httpx.AsyncClient
) -> None:
    body = {"query": CLIENT, "variables": {"id": (await client_ids(hub, "anna"))[0]}}
    answered = crosscheck.LANE_CHECKED[0]
    first, second, first_statements, second_statements = await twice(fresh, hub, "anna", body)
    assert crosscheck.LANE_CHECKED[0] == answered + 1  # the second, compared with the view's
    assert seen(first) == seen(second)
    assert first.headers["x-request-id"] == "lane-test"
    assert first.json()["data"]["client"]["name"]
    assert first.json()["extensions"]["cost"] == {"requested": 4, "budget": 50_000}
    assert second_statements == first_statements  # the same reads, nothing more


async def test_an_answer_with_errors_is_finished_by_strawberrys_steps_without_running_again(
    hub: Hub, fresh: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = lane_runs(monkeypatch)
    other = other_client_id(await client_ids(hub, "anna"))
    body = {"query": CLIENT, "variables": {"id": other}}
    for language in ("pl", "en"):
        first, second, first_statements, second_statements = await twice(
            fresh, hub, "anna", body, **{"accept-language": language}
        )
        assert seen(first) == seen(second)
        assert error_codes(first.json()) == ["NOT_FOUND"]
        assert second_statements == first_statements  # run once, by the lane
    assert (
        first.json()["errors"][0]["message"]
        != (await send(fresh, hub, "anna", body)).json()["errors"][0]["message"]
    )  # English, then Polish
    assert runs.count(CLIENT) == 4  # every request after the first


COSTLY = """query Costly($id: ID!, $n: Int) { client(id: $id) {
  contracts(first: $n) { nodes { invoices(first: $n) { nodes { number dueDate } } } } } }"""


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"n": 300}, "QUERY_TOO_COSTLY"),
        ({"n": "three"}, "BAD_USER_INPUT"),
        ({"n": 2, **{f"v{i}": i for i in range(100)}}, "BAD_REQUEST"),
        ({"n": 2, "note": "a\x00b"}, "INVALID_CHARACTERS"),
    ],
    ids=["over the budget", "a variable of the wrong type", "too many variables", "a NUL"],
)
@pytest.mark.parametrize("accept", ["application/json", GRAPHQL_RESPONSE])
async def test_a_refused_request_for_a_learnt_document_gets_strawberrys_refusal(
    hub: Hub, fresh: httpx.AsyncClient, variables: dict[str, Any], code: str, accept: str
) -> None:
    client_id = (await client_ids(hub, "anna"))[0]
    learnt = await send(fresh, hub, "anna", {"query": COSTLY, "variables": {"id": client_id}})
    assert learnt.json()["data"]["client"]["contracts"]["nodes"]
    body = {"query": COSTLY, "variables": {"id": client_id, **variables}}
    async with another_app(hub) as unlearnt:
        reference = await send(unlearnt, hub, "anna", body, accept=accept)
    answer = await send(fresh, hub, "anna", body, accept=accept)
    assert seen(answer) == seen(reference)
    assert error_codes(answer.json()) == [code]


def another_app(hub: Hub, **env: Any) -> httpx.AsyncClient:
    assert hub.settings is not None
    settings = hub.settings.model_copy(update=env) if env else hub.settings
    app = create_app(settings, db=hub.db)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test")


TWO_OPERATIONS = """
query First { viewer { isStaff } }
query Second { viewer { user { email } } }
"""


async def test_a_document_of_two_operations_naming_none_runs_its_first_in_the_lane(
    hub: Hub, fresh: httpx.AsyncClient
) -> None:
    answered = crosscheck.LANE_CHECKED[0]
    first, second, _, _ = await twice(fresh, hub, "anna", {"query": TWO_OPERATIONS})
    assert seen(first) == seen(second)
    assert first.json()["data"] == {"viewer": {"isStaff": False}}
    named = await send(fresh, hub, "anna", {"query": TWO_OPERATIONS, "operationName": "Second"})
    assert named.json()["data"]["viewer"]["user"]["email"]
    assert crosscheck.LANE_CHECKED[0] == answered + 1  # "Second" was learnt apart


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ({"query": CLIENT, "variables": {}, "extensions": {"persisted": 1}}, {}),
        ([{"query": CLIENT}], {}),
        ({"query": CLIENT, "variables": {}}, {"content-type": "application/graphql+json"}),
        ({"query": CLIENT, "variables": [1]}, {}),
        ({"query": CLIENT, "operationName": 7}, {}),
    ],
    ids=["extensions", "a batch", "another content type", "variables not an object", "a number"],
)
async def test_other_bodies_go_strawberrys_way(
    hub: Hub,
    fresh: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    body: object,
    headers: dict[str, str],
) -> None:
    client_id = (await client_ids(hub, "anna"))[0]
    await send(fresh, hub, "anna", {"query": CLIENT, "variables": {"id": client_id}})
    runs = lane_runs(monkeypatch)
    async with another_app(hub) as unlearnt:
        reference = await send(unlearnt, hub, "anna", body, **headers)
    answer = await send(fresh, hub, "anna", body, **headers)
    assert seen(answer) == seen(reference)
    assert CLIENT not in runs


async def test_mutations_and_introspection_are_never_learnt(hub: Hub) -> None:
    async with production(hub) as http:
        lane = view_of(http._transport.app).lane  # type: ignore[attr-defined]
        for _ in range(2):
            staff = await send(http, hub, "staff", {"query": INTROSPECTION[0]})
            assert staff.json()["data"] == {"__schema": {"queryType": {"name": "Query"}}}
        client = await send(http, hub, "anna", {"query": INTROSPECTION[0]})
        assert error_codes(client.json()) == ["INTROSPECTION_DISABLED"]
        captchas = [
            await send(http, hub, "anna", {"query": "mutation { captchaCreate { captchaId } }"})
            for _ in range(2)
        ]
        ids = {answer.json()["data"]["captchaCreate"]["captchaId"] for answer in captchas}
        assert len(ids) == 2  # each ran
        assert lane._learnt == {}


class Unknown(SchemaExtension):
    pass


def test_the_lane_stays_shut_with_an_extension_it_does_not_know(hub: Hub) -> None:
    assert hub.settings is not None
    schema = build_schema(hub.settings)
    assert limiter_of(schema) is not None
    schema.extensions = [*schema.extensions, Unknown]
    assert limiter_of(schema) is None


async def test_twenty_parallel_requests_in_the_lane_answer_alike(
    hub: Hub, fresh: httpx.AsyncClient
) -> None:
    body = {"query": CLIENT, "variables": {"id": (await client_ids(hub, "anna"))[0]}}
    learnt = await send(fresh, hub, "anna", body)
    answered = crosscheck.LANE_CHECKED[0]
    answers = await asyncio.gather(*(send(fresh, hub, "anna", body) for _ in range(20)))
    assert {seen(answer) for answer in answers} == {seen(learnt)}
    assert crosscheck.LANE_CHECKED[0] == answered + 20


async def test_an_exception_in_the_lanes_run_is_answered_as_strawberry_answers_it(
    hub: Hub, fresh: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = {"query": CLIENT, "variables": {"id": (await client_ids(hub, "anna"))[0]}}
    await send(fresh, hub, "anna", body)  # learnt
    runs = lane_runs(monkeypatch)

    def broken(self: CompiledExecutor, serially: bool | None = None) -> Any:
        raise RuntimeError("the executor broke")

    monkeypatch.setattr(CompiledExecutor, "execute_operation", broken)
    async with another_app(hub) as unlearnt:
        reference = await send(unlearnt, hub, "anna", body)
    answer = await send(fresh, hub, "anna", body)
    assert seen(answer) == seen(reference)
    assert error_codes(answer.json()) == [INTERNAL]
    assert "broke" not in answer.text  # masked
    assert runs == [CLIENT]


def test_a_long_text_is_not_learnt(hub: Hub) -> None:
    assert hub.settings is not None
    lane = view_of(create_app(hub.settings, db=hub.db)).lane
    visit = LaneVisit(document=parse("{ viewer { isStaff } }"))
    padded = "#" + "x" * LANE_TEXT_MAX + "\n{ viewer { isStaff } }"
    lane._learn(Call(padded, None, None), visit)
    lane._learn(Call("{ viewer { isStaff } }", None, None), visit)
    assert list(lane._learnt) == [("{ viewer { isStaff } }", None)]
