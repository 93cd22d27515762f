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
