"""The number of SQL statements of a request must not grow with the size of its lists."""

from __future__ import annotations

from hub.demo import DEMO_MAIN_EMAIL, DEMO_PASSWORD, DemoSpec, load_demo
from tests.conftest import LOGIN, DatabaseFactory, count_statements, open_hub

DEEP_DASHBOARD = """
query($id: ID!) {
  client(id: $id) {
    name
    dashboard {
      latestInvoices { number status amountDue { amount } }
      overdueInvoices { number }
      nearestPayments { dueDate gross { amount } }
      recentDocuments { number }
      unsettledPayments { unallocated { amount } }
      bankAccounts { iban }
      settlements { amountDue { amount } overdue { amount } overpayment { amount } }
    }
    contracts(first: 40) {
      totalCount
      nodes {
        number
        remainingCapital { amount }
        items { name }
        activePolicy { policyNumber }
        schedule { number settlementState amountDue { amount } }
        invoices(first: 20) {
          totalCount
          nodes {
            number status amountDue { amount }
            corrections { number }
            allocations { amount { amount } payment { bookedOn } }
          }
        }
      }
    }
  }
}
"""


async def _statements_for(databases: DatabaseFactory, contracts: int) -> tuple[int, int]:
    url = await databases.create()
    hub, db = await open_hub(url)
    try:
        await load_demo(
            db.engine, DemoSpec(clients=2, seed=11, contracts_per_client=(contracts, contracts))
        )
        token = (await hub.gql(LOGIN, {"login": DEMO_MAIN_EMAIL, "password": DEMO_PASSWORD}))[
            "data"
        ]["login"]["token"]
        viewer = await hub.gql("{ viewer { clients { client { id } } } }", token=token)
        client_id = viewer["data"]["viewer"]["clients"][0]["client"]["id"]
        with count_statements(db) as statements:
            body = await hub.gql(DEEP_DASHBOARD, {"id": client_id}, token=token)
        assert "errors" not in body, body["errors"]
        instalments = sum(len(c["schedule"]) for c in body["data"]["client"]["contracts"]["nodes"])
        return len(statements), instalments
    finally:
        await hub.client.aclose()
        await db.dispose()


async def test_deep_dashboard_costs_the_same_statements_at_ten_times_the_data(
    databases: DatabaseFactory,
) -> None:
    small, small_rows = await _statements_for(databases, contracts=3)
    large, large_rows = await _statements_for(databases, contracts=30)
    assert large_rows >= 8 * small_rows  # the lists really are about ten times longer
    assert small == large
    assert small <= 30  # one statement per relation level, not per row
