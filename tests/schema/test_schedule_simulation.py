"""`contract.scheduleSimulation`: the what-if schedule of a payment-day or schedule change.

The contract under test is small and written by tests/schema/contracts.py: 10,000.00 PLN
financed under an operating lease (instalments taxed at 23 %), 12 % a year (1 % a month),
24 months, residual 1,000.00. Its instalments 1–21 are past due, 22–24 are the unpaid future
ones. The expected figures were worked by hand (annuity P = (C·r·(1+r)^N − F·r) / ((1+r)^N − 1)
= 433.66; interest of each month = 1 % of the capital left, rounded to the grosz; the last
instalment settles the capital down to the residual value); the capital left after instalment
21 is 2,245.98.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update

from hub.demo import DEMO_MAIN_EMAIL, DEMO_PASSWORD, DemoSpec, load_demo
from models.contract import Contract, ContractKind, ContractStatus, Currency, Instalment
from resolvers.ids import from_global_id, to_global_id
from resolvers.simulation import simulate_payment_day
from tests.conftest import LOGIN, DatabaseFactory, Hub, count_statements, open_hub
from tests.schema.contracts import add_contract, first_future_due, months_later

SIMULATION = """
query($id: ID!, $day: Int, $change: ScheduleChangeSimulationInput) {
  node(id: $id) {
    ... on Contract {
      paymentDay
      scheduleSimulation(paymentDay: $day, scheduleChange: $change) {
        errors { field code message }
        simulation {
          paymentDay termMonths residualValue { amount }
          instalments {
            number dueDate capital { amount } interest { amount } net { amount }
            vatCategory vat { amount } gross { amount } remainingCapital { amount }
          }
          before { instalment { amount } totalInterest { amount } totalToPay { amount } }
          after { instalment { amount } totalInterest { amount } totalToPay { amount } }
          difference { instalment { amount } totalInterest { amount } totalToPay { amount } }
        }
      }
    }
  }
}
"""


@dataclass
class Setup:
    hub: Hub
    token: str
    contract_id: str
    first_future_due: date  # instalment 22


@pytest.fixture(scope="module")
async def setup(databases: DatabaseFactory) -> AsyncIterator[Setup]:
    hub, db = await open_hub(await databases.create())
    await load_demo(db.engine, DemoSpec(clients=2, seed=11))
    body = await hub.gql(LOGIN, {"login": DEMO_MAIN_EMAIL, "password": DEMO_PASSWORD})
    token = body["data"]["login"]["token"]
    viewer = await hub.gql("{ viewer { clients { client { id } } } }", token=token)
    client_pk = from_global_id(viewer["data"]["viewer"]["clients"][0]["client"]["id"])[1]
    contract_id = to_global_id("Contract", await add_contract(db, client_pk))
    yield Setup(hub, token, contract_id, first_future_due())
    await hub.close()
    await db.dispose()


async def _simulate(setup: Setup, **variables: Any) -> dict[str, Any]:
    body = await setup.hub.gql(
        SIMULATION, {"id": setup.contract_id, **variables}, token=setup.token
    )
    assert "errors" not in body, body["errors"]
    return body["data"]["node"]["scheduleSimulation"]  # type: ignore[no-any-return]


def _rows(simulation: dict[str, Any]) -> list[tuple[int, str, str, str, str, str, str]]:
    return [
        (
            row["number"],
            row["capital"]["amount"],
            row["interest"]["amount"],
            row["net"]["amount"],
            row["vat"]["amount"],
            row["gross"]["amount"],
            row["remainingCapital"]["amount"],
        )
        for row in simulation["instalments"]
    ]


def _totals(simulation: dict[str, Any], which: str) -> tuple[str, str, str]:
    totals = simulation[which]
    return (
        totals["instalment"]["amount"],
        totals["totalInterest"]["amount"],
        totals["totalToPay"]["amount"],
    )


def _codes(result: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(error["field"], error["code"]) for error in result["errors"]]


# Today's future instalments 22–24: net 433.66 each, VAT 99.74, interest 22.46 + 18.35 + 14.19.
BEFORE = ("433.66", "55.00", "2600.20")


async def test_payment_day_change_moves_future_instalments_and_keeps_amounts(
    setup: Setup,
) -> None:
    result = await _simulate(setup, day=20)
    assert result["errors"] == []
    simulation = result["simulation"]
    assert simulation["paymentDay"] == 20
    assert [row["dueDate"] for row in simulation["instalments"]] == [
        months_later(setup.first_future_due, months, 20).isoformat() for months in range(3)
    ]
    assert _rows(simulation) == [
        (22, "411.20", "22.46", "433.66", "99.74", "533.40", "1834.78"),
        (23, "415.31", "18.35", "433.66", "99.74", "533.40", "1419.47"),
        (24, "419.47", "14.19", "433.66", "99.74", "533.40", "1000.00"),
    ]
    assert _totals(simulation, "before") == _totals(simulation, "after") == BEFORE
    assert _totals(simulation, "difference") == ("0.00", "0.00", "0.00")


@pytest.mark.parametrize(
    ("day", "code"), [(17, "DAY_NOT_ALLOWED"), (31, "DAY_NOT_ALLOWED"), (None, "DAY_UNCHANGED")]
)
async def test_payment_day_outside_the_list_or_unchanged_is_refused(
    setup: Setup, day: int | None, code: str
) -> None:
    current = await setup.hub.gql(SIMULATION, {"id": setup.contract_id}, token=setup.token)
    payment_day = current["data"]["node"]["paymentDay"]
    result = await _simulate(setup, day=payment_day if day is None else day)
    assert result["simulation"] is None
    assert _codes(result) == [("day", code)]


async def test_auto_schedule_change_recomputes_the_annuity_over_the_new_period(
    setup: Setup,
) -> None:
    result = await _simulate(setup, change={"months": 25, "instalments": "AUTO"})
    assert result["errors"] == []
    simulation = result["simulation"]
    assert simulation["termMonths"] == 25
    # The annuity of 2,245.98 over 4 months at 1 % down to 1,000.00 is 329.32.
    assert _rows(simulation) == [
        (22, "306.86", "22.46", "329.32", "75.74", "405.06", "1939.12"),
        (23, "309.93", "19.39", "329.32", "75.74", "405.06", "1629.19"),
        (24, "313.03", "16.29", "329.32", "75.74", "405.06", "1316.16"),
        (25, "316.16", "13.16", "329.32", "75.74", "405.06", "1000.00"),
    ]
    assert simulation["instalments"][3]["dueDate"] == (
        months_later(setup.first_future_due, 3, simulation["paymentDay"]).isoformat()
    )
    assert _totals(simulation, "before") == BEFORE
    assert _totals(simulation, "after") == ("329.32", "71.30", "2620.24")
    assert _totals(simulation, "difference") == ("-104.34", "16.30", "20.04")


async def test_keep_schedule_change_keeps_the_instalment_and_the_last_one_settles(
    setup: Setup,
) -> None:
    result = await _simulate(setup, change={"residualPercent": "5", "instalments": "KEEP"})
    assert result["errors"] == []
    simulation = result["simulation"]
    assert simulation["residualValue"]["amount"] == "500.00"
    assert _rows(simulation) == [
        (22, "411.20", "22.46", "433.66", "99.74", "533.40", "1834.78"),
        (23, "415.31", "18.35", "433.66", "99.74", "533.40", "1419.47"),
        (24, "919.47", "14.19", "933.66", "214.74", "1148.40", "500.00"),
    ]
    assert _totals(simulation, "difference") == ("0.00", "0.00", "115.00")


async def test_keep_that_cannot_reach_the_new_residual_is_refused(setup: Setup) -> None:
    # 20 %: 2,000.00 is more than the 1,419.47 left before the last instalment.
    result = await _simulate(setup, change={"residualPercent": "20", "instalments": "KEEP"})
    assert result["simulation"] is None
    assert _codes(result) == [("instalments", "DOES_NOT_PAY_OFF")]


async def test_custom_schedule_change_sets_the_named_instalment(setup: Setup) -> None:
    change = {"instalments": "CUSTOM", "amounts": [{"number": 22, "net": "600.00"}]}
    result = await _simulate(setup, change=change)
    assert result["errors"] == []
    assert _rows(result["simulation"]) == [
        (22, "577.54", "22.46", "600.00", "138.00", "738.00", "1668.44"),
        (23, "416.98", "16.68", "433.66", "99.74", "533.40", "1251.46"),
        (24, "251.46", "12.51", "263.97", "60.71", "324.68", "1000.00"),
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"residualPercent": "31"}, [("residualPercent", "RESIDUAL_OUT_OF_LIMITS")]),
        ({"residualPercent": "0.5"}, [("residualPercent", "RESIDUAL_OUT_OF_LIMITS")]),
        ({"residualPercent": "10.001"}, [("residualPercent", "RESIDUAL_OUT_OF_LIMITS")]),
        ({"residualPercent": "NaN"}, [("residualPercent", "RESIDUAL_OUT_OF_LIMITS")]),
        ({"residualPercent": "1e9999"}, [("residualPercent", "RESIDUAL_OUT_OF_LIMITS")]),
        ({"months": 23}, [("months", "PERIOD_OUT_OF_LIMITS")]),
        ({"months": 85}, [("months", "PERIOD_OUT_OF_LIMITS")]),
        ({"instalments": "KEEP"}, [(None, "NOTHING_TO_CHANGE")]),
        ({"instalments": "CUSTOM"}, [("amounts", "AMOUNTS_REQUIRED")]),
        (
            {"months": 25, "amounts": [{"number": 23, "net": "100.00"}]},
            [("amounts", "AMOUNTS_NOT_ALLOWED")],
        ),
        (
            {"instalments": "CUSTOM", "amounts": [{"number": 21, "net": "100.00"}]},
            [("amounts", "INSTALMENT_NOT_FUTURE")],
        ),
        (
            {"instalments": "CUSTOM", "amounts": [{"number": 23, "net": "0.00"}]},
            [("amounts", "INVALID_AMOUNT")],
        ),
        (
            {"instalments": "CUSTOM", "amounts": [{"number": 23, "net": "Infinity"}]},
            [("amounts", "INVALID_AMOUNT")],
        ),
        (
            {"instalments": "CUSTOM", "amounts": [{"number": 23, "net": "1e9999"}]},
            [("amounts", "INVALID_AMOUNT")],
        ),
        (
            {"instalments": "CUSTOM", "amounts": [{"number": 24, "net": "500.00"}]},
            [("amounts", "DOES_NOT_PAY_OFF")],
        ),
    ],
)
async def test_schedule_change_arguments_out_of_limits_are_refused(
    setup: Setup, change: dict[str, Any], expected: list[tuple[str | None, str]]
) -> None:
    result = await _simulate(setup, change=change)
    assert result["simulation"] is None
    assert _codes(result) == expected


async def test_simulation_needs_exactly_one_change(setup: Setup) -> None:
    both = await _simulate(setup, day=20, change={"months": 25})
    neither = await _simulate(setup)
    assert _codes(both) == _codes(neither) == [(None, "ONE_CHANGE_REQUIRED")]


async def test_error_messages_are_polish_by_default(setup: Setup) -> None:
    result = await _simulate(setup, day=17)
    assert result["errors"][0]["message"] == "Dzień płatności może przypaść na 15., 20. lub 25."


async def test_simulation_writes_nothing(setup: Setup) -> None:
    with count_statements(setup.hub.db) as statements:
        await _simulate(setup, change={"months": 25, "instalments": "AUTO"})
        await _simulate(setup, day=20)
    assert statements
    assert all(s.lstrip().upper().startswith("SELECT") for s in statements), statements
    again = await _simulate(setup, day=20)
    assert again["simulation"]["instalments"][0]["dueDate"] == (
        months_later(setup.first_future_due, 0, 20).isoformat()
    )


async def test_a_schedule_stored_at_23_percent_is_simulated_at_its_own_rate(
    setup: Setup,
) -> None:
    """A financial lease whose instalments were stored with VAT before VAT followed the kind
    (migration 0010 kept their rate): the what-if compares like with like, no VAT vanishes."""
    contract_pk = from_global_id(setup.contract_id)[1]
    db = setup.hub.db

    async def kind(value: ContractKind) -> None:
        async with db.write() as session:
            await session.execute(
                update(Contract).where(Contract.id == contract_pk).values(kind=value)  # type: ignore[arg-type]
            )

    await kind(ContractKind.FINANCIAL_LEASE)
    try:
        # As test_auto_schedule_change_recomputes_the_annuity_over_the_new_period: 23 % VAT.
        result = await _simulate(setup, change={"months": 25, "instalments": "AUTO"})
        assert [row[4] for row in _rows(result["simulation"])] == ["75.74"] * 4
        assert _totals(result["simulation"], "difference") == ("-104.34", "16.30", "20.04")
    finally:
        await kind(ContractKind.OPERATING_LEASE)


def test_an_instalment_whose_new_day_has_passed_keeps_its_date() -> None:
    """Today the 20th, the instalment due on the 25th is not invoiced yet: moving the day to
    the 15th must not make it overdue; the later ones move."""
    today = date(2026, 11, 20)
    contract = Contract(
        id=1,
        client_id=1,
        number="UL/TEST/DAY/1",
        kind=ContractKind.OPERATING_LEASE,
        status=ContractStatus.ACTIVE,
        currency=Currency.PLN,
        start_date=date(2026, 9, 25),
        end_date=date(2027, 1, 25),
        net_value=Decimal("4000.00"),
        initial_fee=Decimal("0.00"),
        residual_value=Decimal("0.00"),
        annual_rate=Decimal("0.1200"),
        term_months=4,
        payment_day=25,
    )
    dues = [date(2026, 10, 25), date(2026, 11, 25), date(2026, 12, 25), date(2027, 1, 25)]
    instalments = [
        Instalment(
            client_id=1,
            contract_id=1,
            number=number,
            due_date=due,
            capital=Decimal("1000.00"),
            interest=Decimal("0.00"),
            net=Decimal("1000.00"),
            vat=Decimal("230.00"),
            gross=Decimal("1230.00"),
            remaining_capital=Decimal(4000 - 1000 * number),
            invoice_id=1 if number == 1 else None,
        )
        for number, due in enumerate(dues, start=1)
    ]
    result = simulate_payment_day(contract, instalments, today=today, day=15)
    assert not isinstance(result, list), result
    assert [(row.number, row.due_date) for row in result.instalments] == [
        (2, date(2026, 11, 25)),
        (3, date(2026, 12, 15)),
        (4, date(2027, 1, 15)),
    ]
