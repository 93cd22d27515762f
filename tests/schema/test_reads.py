"""The rest of the read API: documents, requests, threads, fleet, centres, catalogue."""

from __future__ import annotations

from tests.conftest import Hub
from tests.schema.helpers import client_ids, error_codes

CLIENT_READS = """
query($id: ID!) {
  client(id: $id) {
    number nip regon address { city postalCode } einvoiceEmail
    bankAccounts { iban isDefault }
    documents(first: 50) { totalCount nodes { kind number issueDate amount { amount } } }
    interestNotes: documents(first: 50, filter: {kind: [INTEREST_NOTE]}) { nodes { kind } }
    requests(first: 20) { nodes { number type stage awaitingClient details
                                  history { stage comment fromClient } } }
    messageThreads(first: 20) { nodes { subject status finalAnswer messages { body fromStaff } } }
    vehicles(first: 50) { nodes { registrationNumber vin
      tyreDeposit { tyreCount season centre { name address { city } } } } }
    dashboard { recentDocuments { number } nearestPayments { dueDate } bankAccounts { iban } }
  }
}
"""
CENTRES = """
query($after: String, $online: Boolean) {
  tyreServiceCentres(first: 10, after: $after, onlineBooking: $online) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id name capacity storedTyres load onlineBooking onlineBookingUrl isActive
            address { city } }
  }
}
"""


async def test_client_reads_cover_every_domain(hub: Hub) -> None:
    client_id = (await client_ids(hub, "anna"))[0]
    body = await hub.gql(CLIENT_READS, {"id": client_id}, as_="anna")
    assert "errors" not in body, body.get("errors")
    client = body["data"]["client"]
    assert client["number"] == "100001" and len(client["nip"]) == 10
    assert client["bankAccounts"][0]["isDefault"] and client["bankAccounts"][0]["iban"][:2] == "PL"
    documents = client["documents"]["nodes"]
    assert client["documents"]["totalCount"] >= 6
    assert [d["number"] for d in client["dashboard"]["recentDocuments"]] == [
        d["number"] for d in documents[:6]
    ]
    dates = [d["issueDate"] for d in documents]
    assert dates == sorted(dates, reverse=True)
    assert all(d["kind"] == "INTEREST_NOTE" for d in client["interestNotes"]["nodes"])
    requests = client["requests"]["nodes"]
    assert requests and all(r["history"][-1]["stage"] == r["stage"] for r in requests)
    assert all(r["awaitingClient"] == (r["stage"] == "WAITING_FOR_CLIENT") for r in requests)
    assert client["messageThreads"]["nodes"][0]["messages"]
    assert any(v["tyreDeposit"] for v in client["vehicles"]["nodes"])
    due = [p["dueDate"] for p in client["dashboard"]["nearestPayments"]]
    assert due == sorted(due)


async def test_centre_load_is_stored_tyres_over_capacity(hub: Hub) -> None:
    body = await hub.gql(CENTRES, {}, as_="jan")
    page = body["data"]["tyreServiceCentres"]
    assert page["totalCount"] > 10 and page["pageInfo"]["hasNextPage"]
    for centre in page["nodes"]:
        assert centre["isActive"]
        assert abs(centre["load"] - centre["storedTyres"] / centre["capacity"]) < 1e-3
        assert centre["onlineBooking"] == (centre["onlineBookingUrl"] is not None)
    online = await hub.gql(CENTRES, {"online": True}, as_="jan")
    assert all(c["onlineBooking"] for c in online["data"]["tyreServiceCentres"]["nodes"])


async def test_centres_need_a_signed_in_user(hub: Hub) -> None:
    assert error_codes(await hub.gql(CENTRES, {})) == ["UNAUTHENTICATED"]


async def test_request_type_catalogue_lists_every_type(hub: Hub) -> None:
    body = await hub.gql("{ requestTypes { type name description } }")
    types = {entry["type"] for entry in body["data"]["requestTypes"]}
    assert {"PAYMENT_DAY_CHANGE", "SCHEDULE_CHANGE", "POLICY_DUPLICATE"} <= types
    assert len(types) == 10
