"""Guards: limits, masked errors and no schema hints outside development."""

from __future__ import annotations

import pytest

from loaders.invoice import SettlementByInvoiceIdLoader
from tests.conftest import Hub
from tests.schema.helpers import client_ids, error_codes


async def test_too_deep_query_is_refused(hub: Hub) -> None:
    hop = "invoices { nodes { contract { "
    deep = "{ viewer { clients { client { contracts { nodes { " + hop * 4 + "number"
    deep += " } } }" * 4 + " } } } } } }"
    body = await hub.gql(deep, as_="anna")
    assert body["data"] is None
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]


async def test_too_many_aliases_are_refused(hub: Hub) -> None:
    aliases = " ".join(
        f'a{i}: login(input: {{login: "x", password: "y"}}) {{ token }}' for i in range(25)
    )
    body = await hub.gql(f"mutation {{ {aliases} }}")
    assert body["data"] is None and "aliases" in body["errors"][0]["message"].lower()


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
    async def broken(*_args: object) -> list[object]:
        raise RuntimeError("SELECT password_hash FROM users -- boom")

    monkeypatch.setattr(SettlementByInvoiceIdLoader, "load_batch", broken)
    client_id = (await client_ids(hub, "anna"))[0]
    body = await hub.gql(
        "query($id: ID!) { client(id: $id) { invoices(first: 1) { nodes { status } } } }",
        {"id": client_id},
        as_="anna",
    )
    text = str(body)
    assert body["errors"][0]["message"] == "Unexpected error."
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
