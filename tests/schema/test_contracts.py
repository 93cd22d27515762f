"""Contracts: schedule arithmetic, settlement per instalment, items and policies."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from hub.demo import DEMO_MAIN_EMAIL
from models.contract import Contract, InsurancePolicy, PolicyKind
from resolvers.ids import from_global_id, to_global_id
from tests.auth.helpers import first_company, token_of
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
        policies { isActive endDate policyNumber }
        activePolicy { policyNumber }
        activePolicies { policyNumber }
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
        active = [p["policyNumber"] for p in contract["policies"] if p["isActive"]]
        assert (contract["activePolicy"] is not None) == bool(active)
        assert [p["policyNumber"] for p in contract["activePolicies"]] == active


async def test_a_contract_with_two_policies_in_force_lists_both(flows: Hub) -> None:
    anna = await token_of(flows, DEMO_MAIN_EMAIL)
    company = await first_company(flows)
    async with flows.db.write() as session:
        contract = (
            await session.execute(
                select(Contract).where(Contract.client_id == from_global_id(company)[1]).limit(1)
            )
        ).scalar_one()
        for kind, number in ((PolicyKind.OC_AC, "OC/TEST/1"), (PolicyKind.GAP, "GAP/TEST/1")):
            session.add(
                InsurancePolicy(
                    client_id=contract.client_id,
                    contract_id=contract.id,
                    kind=kind,
                    insurer="Test TU",
                    policy_number=number,
                    start_date=date.today() - timedelta(days=30),
                    end_date=date.today() + timedelta(days=300),
                    sum_insured=Decimal("100000.00"),
                    premium=Decimal("1200.00"),
                )
            )
    query = """query($id: ID!) { node(id: $id) { ... on Contract {
      activePolicies { policyNumber } activePolicy { policyNumber } } } }"""
    contract_id = to_global_id("Contract", contract.id)  # type: ignore[arg-type]
    body = await flows.gql(query, {"id": contract_id}, token=anna)
    numbers = [p["policyNumber"] for p in body["data"]["node"]["activePolicies"]]
    assert {"OC/TEST/1", "GAP/TEST/1"} <= set(numbers)
