"""Tenancy and scopes: another client's object answers exactly like a missing one."""

from __future__ import annotations

from resolvers.ids import to_global_id
from tests.conftest import Hub
from tests.schema.helpers import client_ids, error_codes, other_client_id

CLIENT = "query($id: ID!) { client(id: $id) { id name } }"
NODE = "query($id: ID!) { node(id: $id) { id ... on Invoice { number } } }"
FIRST_INVOICE = """
query($id: ID!) { client(id: $id) { invoices(first: 1) { nodes { id number } } } }
"""
SUB_READS = """
query($id: ID!) {
  client(id: $id) {
    contracts(first: 2) { nodes { number } }
    payments(first: 2) { nodes { id } }
    dashboard { latestInvoices { number } settlements { overpayment { amount } } }
  }
}
"""


async def test_main_account_sees_both_companies(hub: Hub) -> None:
    body = await hub.gql("{ viewer { clients { isMainAccount scopes } } }", as_="anna")
    accesses = body["data"]["viewer"]["clients"]
    assert len(accesses) == 2
    assert all(a["isMainAccount"] and "SUBACCOUNTS_MANAGE" in a["scopes"] for a in accesses)


async def test_read_client_of_other_company_is_not_found_like_a_missing_one(hub: Hub) -> None:
    own = await client_ids(hub, "anna")
    foreign = await hub.gql(CLIENT, {"id": other_client_id(own)}, as_="anna")
    missing = await hub.gql(CLIENT, {"id": to_global_id("Client", 999_999)}, as_="anna")
    assert foreign["data"] == missing["data"] == {"client": None}
    assert foreign["errors"][0]["message"] == missing["errors"][0]["message"] == "Nie znaleziono."
    assert error_codes(foreign) == error_codes(missing) == ["NOT_FOUND"]


async def test_node_of_other_tenant_is_not_found_like_a_missing_one(hub: Hub) -> None:
    staff_view = await hub.gql(
        FIRST_INVOICE, {"id": other_client_id(await client_ids(hub, "anna"))}, as_="staff"
    )
    foreign_invoice = staff_view["data"]["client"]["invoices"]["nodes"][0]["id"]
    foreign = await hub.gql(NODE, {"id": foreign_invoice}, as_="anna")
    missing = await hub.gql(NODE, {"id": to_global_id("Invoice", 10**9)}, as_="anna")
    garbage = await hub.gql(NODE, {"id": "not-an-id"}, as_="anna")
    assert error_codes(foreign) == error_codes(missing) == error_codes(garbage) == ["NOT_FOUND"]
    assert foreign["errors"][0]["message"] == missing["errors"][0]["message"]


async def test_node_of_own_invoice_is_found(hub: Hub) -> None:
    own = (await client_ids(hub, "anna"))[0]
    listed = await hub.gql(FIRST_INVOICE, {"id": own}, as_="anna")
    invoice = listed["data"]["client"]["invoices"]["nodes"][0]
    body = await hub.gql(NODE, {"id": invoice["id"]}, as_="anna")
    assert body["data"]["node"] == invoice


async def test_subaccount_without_scope_is_forbidden_on_lists_node_and_dashboard(hub: Hub) -> None:
    client_id = (await client_ids(hub, "jan"))[0]
    body = await hub.gql(SUB_READS, {"id": client_id}, as_="jan")
    client = body["data"]["client"]
    assert client["contracts"]["nodes"]  # contracts:read is granted
    assert client["dashboard"]["latestInvoices"]  # invoices:read is granted
    assert client["payments"] is None  # payments:read is not
    assert client["dashboard"]["settlements"] is None
    forbidden = {tuple(e["path"]) for e in body["errors"] if e["extensions"]["code"] == "FORBIDDEN"}
    assert forbidden == {("client", "payments"), ("client", "dashboard", "settlements")}
    anna_view = await hub.gql(
        "query($id: ID!) { client(id: $id) { payments(first: 1) { nodes { id } } } }",
        {"id": client_id},
        as_="anna",
    )
    payment_id = anna_view["data"]["client"]["payments"]["nodes"][0]["id"]
    node = await hub.gql("query($id: ID!) { node(id: $id) { id } }", {"id": payment_id}, as_="jan")
    assert node["data"] == {"node": None} and error_codes(node) == ["FORBIDDEN"]


async def test_subaccount_switching_to_company_without_rights_is_not_found(hub: Hub) -> None:
    jan = await client_ids(hub, "jan")
    anna = await client_ids(hub, "anna")
    second_company = next(gid for gid in anna if gid not in jan)
    body = await hub.gql(CLIENT, {"id": second_company}, as_="jan")
    assert error_codes(body) == ["NOT_FOUND"]


async def test_staff_reads_any_client_and_client_user_cannot_open_admin(hub: Hub) -> None:
    other = other_client_id(await client_ids(hub, "anna"))
    assert (await hub.gql(CLIENT, {"id": other}, as_="staff"))["data"]["client"]["id"] == other
    denied = await hub.gql("{ admin { clients(first: 1) { nodes { id } } } }", as_="anna")
    assert denied["data"] == {"admin": None} and error_codes(denied) == ["FORBIDDEN"]


async def test_staff_searches_clients_by_number(hub: Hub) -> None:
    body = await hub.gql(
        '{ admin { clients(search: "100001", first: 5) { totalCount nodes { number } } } }',
        as_="staff",
    )
    clients = body["data"]["admin"]["clients"]
    assert clients["totalCount"] == 1 and clients["nodes"] == [{"number": "100001"}]


async def test_anonymous_request_is_unauthenticated(hub: Hub) -> None:
    own = (await client_ids(hub, "anna"))[0]
    body = await hub.gql(CLIENT, {"id": own})
    assert body["data"] == {"client": None} and error_codes(body) == ["UNAUTHENTICATED"]
    assert (await hub.gql("{ viewer { isStaff } }"))["data"] == {"viewer": None}
