"""Connections: keyset cursors, the `first` cap and clear errors for bad arguments."""

from __future__ import annotations

from tests.conftest import Hub
from tests.schema.helpers import client_ids, error_codes

PAGE = """
query($id: ID!, $first: Int, $after: String) {
  client(id: $id) {
    invoices(first: $first, after: $after) {
      totalCount
      edges { cursor node { id } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
  }
}
"""


async def test_walking_pages_visits_every_invoice_once(hub: Hub) -> None:
    client_id = (await client_ids(hub, "anna"))[0]
    seen: list[str] = []
    after, total = None, None
    for _ in range(200):
        body = await hub.gql(PAGE, {"id": client_id, "first": 7, "after": after}, as_="anna")
        page = body["data"]["client"]["invoices"]
        total = page["totalCount"]
        seen.extend(edge["node"]["id"] for edge in page["edges"])
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == total
    assert total > 7


async def test_first_above_the_cap_is_refused_with_the_field(hub: Hub) -> None:
    client_id = (await client_ids(hub, "anna"))[0]
    body = await hub.gql(PAGE, {"id": client_id, "first": 101}, as_="anna")
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "first"


async def test_negative_first_is_refused(hub: Hub) -> None:
    client_id = (await client_ids(hub, "anna"))[0]
    body = await hub.gql(PAGE, {"id": client_id, "first": -1}, as_="anna")
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_tampered_cursor_is_refused_with_the_field(hub: Hub) -> None:
    client_id = (await client_ids(hub, "anna"))[0]
    for cursor in ("garbage", "WyJ4Il0", "WzEsMiwzXQ"):
        body = await hub.gql(PAGE, {"id": client_id, "after": cursor}, as_="anna")
        assert error_codes(body) == ["BAD_USER_INPUT"], cursor
        assert body["errors"][0]["extensions"]["field"] == "after"


async def test_request_pages_walk_by_timestamp_and_refuse_naive_cursors(hub: Hub) -> None:
    import base64
    import json

    client_id = (await client_ids(hub, "anna"))[0]
    query = """query($id: ID!, $after: String) { client(id: $id) {
      requests(first: 1, after: $after) { edges { cursor node { number } } } } }"""
    first = await hub.gql(query, {"id": client_id}, as_="anna")
    edge = first["data"]["client"]["requests"]["edges"][0]
    second = await hub.gql(query, {"id": client_id, "after": edge["cursor"]}, as_="anna")
    assert second["data"]["client"]["requests"]["edges"][0]["node"] != edge["node"]
    named = ["requests:created_at", "2026-01-01T00:00:00", 1]
    naive = base64.urlsafe_b64encode(json.dumps(named).encode()).decode()
    body = await hub.gql(query, {"id": client_id, "after": naive}, as_="anna")
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_cursor_of_another_list_is_refused(hub: Hub) -> None:
    client_id = (await client_ids(hub, "anna"))[0]
    query = """query($id: ID!, $after: String) { client(id: $id) {
      payments(first: 1) { pageInfo { endCursor } }
      contracts(first: 1) { pageInfo { endCursor } }
      invoices(first: 1, after: $after) { nodes { id } } } }"""
    first = (await hub.gql(query, {"id": client_id}, as_="anna"))["data"]["client"]
    for foreign in (first["payments"], first["contracts"]):
        cursor = foreign["pageInfo"]["endCursor"]
        body = await hub.gql(query, {"id": client_id, "after": cursor}, as_="anna")
        assert error_codes(body) == ["BAD_USER_INPUT"], cursor
        assert body["errors"][0]["extensions"]["field"] == "after"
