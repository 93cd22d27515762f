"""Guards: limits, masked errors and no schema hints outside development."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from graphql import build_schema as build_graphql_schema
from graphql import parse

from hub.app import create_app
from hub.settings import Settings
from schema.cost import PriceCache, query_cost
from tests.conftest import Hub
from tests.schema.helpers import break_settlements, client_ids, error_codes


async def test_too_deep_query_is_refused(hub: Hub) -> None:
    hop = "invoices { nodes { contract { "
    deep = "{ viewer { clients { client { contracts { nodes { " + hop * 4 + "number"
    deep += " } } }" * 4 + " } } } } } }"
    body = await hub.gql(deep, as_="anna")
    assert body["data"] is None and error_codes(body) == ["QUERY_TOO_DEEP"]
    assert "przekracza dopuszczalną głębokość zapytania: 12" in body["errors"][0]["message"]


async def test_too_many_aliases_are_refused(hub: Hub) -> None:
    aliases = " ".join(
        f'a{i}: login(input: {{login: "x", password: "y"}}) {{ token }}' for i in range(25)
    )
    body = await hub.gql(f"mutation {{ {aliases} }}")
    assert body["data"] is None and error_codes(body) == ["TOO_MANY_ALIASES"]
    assert body["errors"][0]["message"] == "Liczba aliasów w zapytaniu: 25. Dozwolona: 20"


async def test_too_many_tokens_are_refused(hub: Hub) -> None:
    fields = " ".join("__typename" for _ in range(3000))
    body = await hub.gql(f"{{ {fields} }}")
    assert body["data"] is None and "token" in body["errors"][0]["message"].lower()


async def test_no_field_suggestions_outside_development(hub: Hub) -> None:
    body = await hub.gql("{ viewr { isStaff } }", as_="anna")
    message = body["errors"][0]["message"]
    assert "viewr" in message and "Did you mean" not in message


async def test_unexpected_error_is_masked_without_sql(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    break_settlements(monkeypatch, "SELECT password_hash FROM users -- boom")
    client_id = (await client_ids(hub, "anna"))[0]
    query = "query($id: ID!) { client(id: $id) { invoices(first: 1) { nodes { status } } } }"
    body = await hub.gql(query, {"id": client_id}, as_="anna")
    english = await hub.gql(query, {"id": client_id}, as_="anna", headers={"Accept-Language": "en"})
    text = str([body, english])
    assert body["errors"][0]["message"] == "Wystąpił nieoczekiwany błąd."
    assert english["errors"][0]["message"] == "Unexpected error."
    assert error_codes(body) == error_codes(english) == ["INTERNAL_SERVER_ERROR"]
    assert "SELECT" not in text and "Traceback" not in text and "boom" not in text


async def test_unknown_node_type_and_bad_arguments_are_clear(hub: Hub) -> None:
    body = await hub.gql('{ node(id: "RmFrZToxMjM") { id } }', as_="anna")  # "Fake:123"
    assert error_codes(body) == ["NOT_FOUND"]
    body = await hub.gql("{ client(id: 5) { id } }", as_="anna")
    assert error_codes(body) == ["NOT_FOUND"]


async def test_get_requests_cannot_run_queries(hub: Hub) -> None:
    response = await hub.client.get("/graphql", params={"query": "{ __typename }"})
    assert response.status_code in {400, 404, 405}


async def test_health_answers(hub: Hub) -> None:
    response = await hub.client.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


COSTLY = """
query($id: ID!) { client(id: $id) { contracts(first: 100) { nodes { invoices(first: 100) {
  nodes { number status kind issueDate dueDate saleDate currency vatRate splitPayment } } } } } }
"""


async def test_query_over_the_cost_budget_is_refused_before_execution(hub: Hub) -> None:
    client_id = (await client_ids(hub, "anna"))[0]
    body = await hub.gql(COSTLY, {"id": client_id}, as_="anna")
    assert body["data"] is None
    assert error_codes(body) == ["QUERY_TOO_COSTLY"]
    assert body["errors"][0]["extensions"]["cost"] > body["errors"][0]["extensions"]["budget"]


async def test_cost_follows_first_and_is_reported(hub: Hub) -> None:
    client_id = (await client_ids(hub, "anna"))[0]
    query = (
        "query($id: ID!, $n: Int) { client(id: $id) { invoices(first: $n) { nodes { number } } } }"
    )
    small = await hub.gql(query, {"id": client_id, "n": 2}, as_="anna")
    large = await hub.gql(query, {"id": client_id, "n": 50}, as_="anna")
    assert small["extensions"]["cost"]["requested"] == 1 + 1 + 2 * 2
    assert large["extensions"]["cost"]["requested"] == 1 + 1 + 50 * 2


def fragment_explosion(levels: int) -> str:
    """2^levels paths through fragments that each spread the next one twice, in a few kB."""
    spreads = [f"fragment E{i} on Query {{ ...E{i + 1} ...E{i + 1} }}" for i in range(levels)]
    leaf = f"fragment E{levels} on Query {{ requestTypes {{ name }} }}"
    return " ".join(["query { ...E0 }", *spreads, leaf])


async def test_fragment_explosion_is_refused_without_freezing(hub: Hub) -> None:
    body = await hub.gql(fragment_explosion(60))
    assert body["data"] is None and error_codes(body) == ["QUERY_TOO_COSTLY"]


DEFAULTED_PAGES = """
query($id: ID!, $f: Int = 100) { client(id: $id) { contracts(first: $f) { nodes {
  invoices(first: $f) { nodes { number status issueDate dueDate } } } } } }
"""


async def test_variable_default_is_priced_as_if_sent(hub: Hub) -> None:
    client_id = (await client_ids(hub, "anna"))[0]
    omitted = await hub.gql(DEFAULTED_PAGES, {"id": client_id}, as_="anna")
    sent = await hub.gql(DEFAULTED_PAGES, {"id": client_id, "f": 100}, as_="anna")
    assert error_codes(omitted) == error_codes(sent) == ["QUERY_TOO_COSTLY"]
    assert omitted["errors"][0]["extensions"]["cost"] == sent["errors"][0]["extensions"]["cost"]


def test_absent_first_without_default_costs_the_page_maximum() -> None:
    sdl = """
    type Query { items(first: Int): [Item!] paged(first: Int = 7): [Item!] }
    type Item { a: Int }
    """
    schema = build_graphql_schema(sdl)

    def cost(query: str) -> int:
        return query_cost(schema, parse(query), None, {}, page_max=100)

    assert cost("{ items { a } }") == 1 + 100 * 1
    assert cost("{ items(first: null) { a } }") == 1 + 100 * 1
    assert cost("{ paged { a } }") == 1 + 7 * 1
    assert cost("{ items(first: 3) { a } }") == 1 + 3 * 1


def test_cached_prices_follow_the_operation_and_page_variables() -> None:
    schema = build_graphql_schema("type Query { items(first: Int): [Item!] } type Item { a: Int }")
    document = parse(
        "query A($n: Int) { items(first: $n) { a } } query B { items(first: 2) { a a } }"
    )
    prices = PriceCache(maxsize=1)

    def cost(operation: str, variables: dict[str, object]) -> int:
        return query_cost(schema, document, operation, variables, page_max=100, prices=prices)

    for _round in range(2):  # the second round answers from the cache
        assert cost("A", {"n": 3}) == 1 + 3 * 1
        assert cost("A", {"n": 40}) == 1 + 40 * 1
        assert cost("A", {}) == 1 + 100 * 1
        assert cost("B", {}) == 1 + 2 * 2
    other = parse("query A($n: Int) { items(first: $n) { a a a } }")  # a full cache empties
    assert query_cost(schema, other, "A", {"n": 3}, page_max=100, prices=prices) == 1 + 3 * 3
    assert cost("A", {"n": 3}) == 1 + 3 * 1


REFUSALS = {
    "{": "GRAPHQL_PARSE_FAILED",
    "{ viewr { isStaff } }": "GRAPHQL_VALIDATION_FAILED",
    "{ " + " ".join("__typename" for _ in range(3000)) + " }": "TOO_MANY_TOKENS",
    "{ " + " ".join(f"a{i}: __typename" for i in range(25)) + " }": "TOO_MANY_ALIASES",
    "{ viewer { clients { client { contracts { nodes { "
    + "invoices { nodes { contract { " * 4
    + "number"
    + " } } }" * 4
    + " } } } } } }": "QUERY_TOO_DEEP",
    "query($id: ID!) { node(id: $id) { id } }": "BAD_USER_INPUT",
}


@pytest.mark.parametrize(("document", "code"), REFUSALS.items(), ids=REFUSALS.values())
async def test_refusals_carry_their_codes(hub: Hub, document: str, code: str) -> None:
    body = await hub.gql(document, as_="anna")
    assert body["data"] is None and error_codes(body) == [code]


def production(hub: Hub, **env: object) -> httpx.AsyncClient:
    """Another app on the same demo database, in production mode."""
    assert hub.settings is not None
    settings = Settings(
        **{
            "LEASEHUB_ENV": "production",
            "LEASEHUB_SECRET_KEY": "p" * 40,
            "DATABASE_URL": hub.settings.database_url,
            **env,
        }
    )
    transport = httpx.ASGITransport(app=create_app(settings, db=hub.db))
    return httpx.AsyncClient(transport=transport, base_url="http://hub.test")


async def ask(http: httpx.AsyncClient, hub: Hub, query: str, who: str | None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {hub.tokens[who]}"} if who else {}
    response = await http.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


INTROSPECTION = ["{ __schema { queryType { name } } }", '{ __type(name: "Client") { name } }']


async def test_production_refuses_introspection_to_anonymous_and_client_callers(hub: Hub) -> None:
    async with production(hub) as http:
        for who in (None, "anna", "jan"):
            for query in INTROSPECTION:
                body = await ask(http, hub, query, who)
                assert body["data"] is None and error_codes(body) == ["INTROSPECTION_DISABLED"]
        assert (await ask(http, hub, "{ __typename }", None))["data"] == {"__typename": "Query"}


async def test_production_introspection_is_for_staff_while_the_setting_allows(hub: Hub) -> None:
    async with production(hub) as http:
        body = await ask(http, hub, INTROSPECTION[0], "staff")
        assert body["data"] == {"__schema": {"queryType": {"name": "Query"}}}, body
    async with production(hub, LEASEHUB_STAFF_INTROSPECTION=False) as http:
        body = await ask(http, hub, INTROSPECTION[0], "staff")
        assert error_codes(body) == ["INTROSPECTION_DISABLED"]


SUGGESTIVE = {
    "type": "{ ...F } fragment F on Clien { id }",
    "field": "{ viewr { isStaff } }",
    "argument": '{ client(idd: "x") { id } }',
    "enum value": '{ client(id: "x") { invoices(filter: {status: [PAYD]}) { totalCount } } }',
    "input field": '{ client(id: "x") { invoices(filter: {statuss: [PAID]}) { totalCount } } }',
    "variable": 'query($s: [InvoiceStatus!]) { client(id: "x") { invoices(filter: {status: $s}) '
    "{ totalCount } } }",
}


async def test_production_suggests_nothing(hub: Hub) -> None:
    async with production(hub) as http:
        for kind, query in SUGGESTIVE.items():
            headers = {"Authorization": f"Bearer {hub.tokens['anna']}"}
            variables = {"s": ["PAYD"]} if kind == "variable" else {}
            response = await http.post(
                "/graphql", json={"query": query, "variables": variables}, headers=headers
            )
            body = response.json()
            assert body["errors"], kind
            assert "Did you mean" not in response.text, kind
            assert all(e["extensions"]["code"] for e in body["errors"]), kind
