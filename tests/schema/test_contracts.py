"""Contracts: schedule arithmetic, settlement per instalment, items and policies."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tests.conftest import Hub
from tests.schema.helpers import client_ids

CONTRACTS = """
query($id: ID!) {
  client(id: $id) {
    contracts(first: 50) {
      totalCount
      nodes {
        number status residualValue { amount } netValue { amount } initialFee { amount }
        remainingCapital { amount }
        items { name serialNumber vin }
        policies { isActive endDate }
        activePolicy { policyNumber }
        schedule {
          number dueDate remainingCapital { amount } capital { amount } net { amount }
          interest { amount } vat { amount } gross { amount } settlementState
          invoice { status }
        }
      }
    }
  }
}
"""


async def _contracts(hub: Hub) -> list[dict]:
    client_id = (await client_ids(hub, "anna"))[0]
    body = await hub.gql(CONTRACTS, {"id": client_id}, as_="anna")
    assert "errors" not in body, body["errors"]
    return body["data"]["client"]["contracts"]["nodes"]  # type: ignore[no-any-return]


async def test_schedule_ends_exactly_at_residual_value(hub: Hub) -> None:
    for contract in await _contracts(hub):
        schedule = contract["schedule"]
        assert schedule[-1]["remainingCapital"] == contract["residualValue"]
        capital = sum(Decimal(row["capital"]["amount"]) for row in schedule)
        financed = Decimal(contract["netValue"]["amount"]) - Decimal(
            contract["initialFee"]["amount"]
        )
        assert capital == financed - Decimal(contract["residualValue"]["amount"])
        for row in schedule:
            net, vat = Decimal(row["net"]["amount"]), Decimal(row["vat"]["amount"])
            assert net == Decimal(row["capital"]["amount"]) + Decimal(row["interest"]["amount"])
            assert Decimal(row["gross"]["amount"]) == net + vat


async def test_remaining_capital_is_that_after_the_last_due_instalment(hub: Hub) -> None:
    today = date.today().isoformat()
    for contract in await _contracts(hub):
        due = [row for row in contract["schedule"] if row["dueDate"] <= today]
        if due:
            assert contract["remainingCapital"] == due[-1]["remainingCapital"]


async def test_settlement_state_follows_the_invoice(hub: Hub) -> None:
    states = set()
    for contract in await _contracts(hub):
        for row in contract["schedule"]:
            states.add(row["settlementState"])
            if row["invoice"] is None:
                assert row["settlementState"] == "NOT_INVOICED"
            else:
                assert row["settlementState"] == row["invoice"]["status"]
    assert {"NOT_INVOICED", "PAID"} <= states


async def test_contracts_have_items_and_an_active_policy_is_in_force(hub: Hub) -> None:
    contracts = await _contracts(hub)
    assert len(contracts) >= 3
    for contract in contracts:
        assert contract["items"]
        active = [p for p in contract["policies"] if p["isActive"]]
        assert (contract["activePolicy"] is not None) == bool(active)
