"""Invoice lists: derived status, filters, settlement details and their errors."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.conftest import Hub
from tests.schema.helpers import client_ids, error_codes

ALL_INVOICES = """
query($id: ID!, $filter: InvoiceFilterInput, $after: String) {
  client(id: $id) {
    invoices(first: 100, filter: $filter, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes {
        id number kind status issueDate isArchived
        gross { amount } amountDue { amount } amountPaid { amount }
        corrections { gross { amount } }
        allocations { amount { amount } }
      }
    }
  }
}
"""
STATUSES = ("UNPAID", "PARTIALLY_PAID", "PAID", "OVERDUE")


async def all_invoices(hub: Hub, client_id: str, filter: dict | None = None) -> list[dict]:
    found: list[dict] = []
    after = None
    for _ in range(100):  # bounded walk
        body = await hub.gql(
            ALL_INVOICES, {"id": client_id, "filter": filter, "after": after}, as_="anna"
        )
        page = body["data"]["client"]["invoices"]
        found.extend(page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("pagination did not end")


@pytest.fixture
async def anna_client(hub: Hub) -> str:
    return (await client_ids(hub, "anna"))[0]


async def test_amount_due_is_gross_plus_corrections_minus_allocations(
    hub: Hub, anna_client: str
) -> None:
    invoices = await all_invoices(hub, anna_client)
    assert invoices
    for invoice in invoices:
        if invoice["kind"] == "CORRECTION":
            assert invoice["status"] == "PAID" and Decimal(invoice["amountDue"]["amount"]) == 0
            continue
        paid = sum(Decimal(a["amount"]["amount"]) for a in invoice["allocations"])
        corrected = sum(Decimal(c["gross"]["amount"]) for c in invoice["corrections"])
        expected = max(Decimal(invoice["gross"]["amount"]) + corrected - paid, Decimal(0))
        assert Decimal(invoice["amountDue"]["amount"]) == expected
        assert Decimal(invoice["amountPaid"]["amount"]) == paid


async def test_demo_client_has_paid_partial_and_overdue_invoices(
    hub: Hub, anna_client: str
) -> None:
    statuses = {invoice["status"] for invoice in await all_invoices(hub, anna_client)}
    assert {"PAID", "OVERDUE"} <= statuses
    assert statuses & {"PARTIALLY_PAID", "OVERDUE"}


async def test_status_filter_in_sql_matches_the_derived_status(hub: Hub, anna_client: str) -> None:
    everything = await all_invoices(hub, anna_client)
    for status in STATUSES:
        filtered = await all_invoices(hub, anna_client, {"status": [status]})
        assert {i["id"] for i in filtered} == {i["id"] for i in everything if i["status"] == status}


async def test_archive_filter_splits_invoices_at_one_year(hub: Hub, anna_client: str) -> None:
    everything = await all_invoices(hub, anna_client)
    archived = await all_invoices(hub, anna_client, {"archived": True})
    recent = await all_invoices(hub, anna_client, {"archived": False})
    assert len(archived) + len(recent) == len(everything)
    assert archived and all(i["isArchived"] for i in archived)
    cutoff = date.today() - timedelta(days=365)
    assert all(date.fromisoformat(i["issueDate"]) < cutoff for i in archived)


async def test_date_range_and_kind_filters(hub: Hub, anna_client: str) -> None:
    everything = await all_invoices(hub, anna_client)
    start, end = str(date.today() - timedelta(days=200)), str(date.today())
    in_range = await all_invoices(
        hub, anna_client, {"issuedFrom": start, "issuedTo": end, "kind": ["INSTALMENT"]}
    )
    expected = {
        i["id"] for i in everything if start <= i["issueDate"] <= end and i["kind"] == "INSTALMENT"
    }
    assert {i["id"] for i in in_range} == expected and expected


async def test_reversed_date_range_is_a_clear_error(hub: Hub, anna_client: str) -> None:
    body = await hub.gql(
        ALL_INVOICES,
        {"id": anna_client, "filter": {"issuedFrom": "2026-02-01", "issuedTo": "2026-01-01"}},
        as_="anna",
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "filter.issuedFrom"


async def test_contract_filter_with_other_clients_contract_is_not_found(hub: Hub) -> None:
    first, second = await client_ids(hub, "anna")
    contracts = await hub.gql(
        "query($id: ID!) { client(id: $id) { contracts(first: 1) { nodes { id } } } }",
        {"id": second},
        as_="anna",
    )
    foreign_contract = contracts["data"]["client"]["contracts"]["nodes"][0]["id"]
    body = await hub.gql(
        ALL_INVOICES, {"id": first, "filter": {"contractId": foreign_contract}}, as_="anna"
    )
    assert error_codes(body) == ["NOT_FOUND"]
    assert body["errors"][0]["extensions"]["field"] == "filter.contractId"


async def test_bad_enum_value_in_filter_is_rejected_before_execution(
    hub: Hub, anna_client: str
) -> None:
    body = await hub.gql(
        ALL_INVOICES, {"id": anna_client, "filter": {"status": ["LOST"]}}, as_="anna"
    )
    assert body["data"] is None and "LOST" in body["errors"][0]["message"]


async def test_overpayment_equals_unallocated_payments(hub: Hub, anna_client: str) -> None:
    body = await hub.gql(
        """query($id: ID!) { client(id: $id) {
             overpayment { amount }
             payments(first: 100, filter: {unsettledOnly: true}) {
               nodes { unallocated { amount } } }
             dashboard { settlements { overpayment { amount } } } } }""",
        {"id": anna_client},
        as_="anna",
    )
    client = body["data"]["client"]
    unsettled = sum(Decimal(p["unallocated"]["amount"]) for p in client["payments"]["nodes"])
    assert Decimal(client["overpayment"]["amount"]) == unsettled > 0
    assert client["dashboard"]["settlements"]["overpayment"] == client["overpayment"]
