"""The number of SQL statements of a request must not grow with the size of its lists."""

from __future__ import annotations

import re
from collections import Counter

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


def shapes(statements: list[str]) -> Counter[str]:
    """Statements by shape: the parameter lists of `IN (...)` collapsed."""
    return Counter(
        re.sub(r"IN \((?:[?$][\w:]*,\s*)*[?$][\w:]*\)", "IN (...)", s) for s in statements
    )


async def _statements_for(databases: DatabaseFactory, contracts: int) -> tuple[Counter[str], int]:
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
        return shapes(statements), instalments
    finally:
        await hub.client.aclose()
        await db.dispose()


async def test_deep_dashboard_costs_the_same_statements_at_ten_times_the_data(
    databases: DatabaseFactory,
) -> None:
    small, small_rows = await _statements_for(databases, contracts=3)
    large, large_rows = await _statements_for(databases, contracts=30)
    assert large_rows >= 8 * small_rows  # the lists really are about ten times longer
    assert set(small) == set(large)  # the same statements, whatever the size
    # A loader fed from several paths (an invoice's status is reached from the dashboard, the
    # contract's invoices and the schedule) runs as one batch per event-loop wave in which its
    # keys arrive: one to three, by timing, never by size. A statement per row would show here
    # as 30 or more of one shape.
    assert max(small.values()) <= 3 and max(large.values()) <= 3
    assert sum(large.values()) <= sum(small.values()) + 2 <= 32
