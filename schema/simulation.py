"""GraphQL types of `contract.scheduleSimulation`, the what-if schedule: resolvers/simulation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from loaders.contract import InstalmentsByContractIdLoader
from models.contract import Contract as ContractRow
from models.contract import Currency
from models.finance import ScheduleRow
from models.i18n import _
from models.vat import VatCategory
from resolvers.request_catalogue import InstalmentOption
from resolvers.simulation import (
    ScheduleChange,
    Simulation,
    Totals,
    simulate_payment_day,
    simulate_schedule_change,
)
from schema.base import Info, Money
from schema.identity import UserError, user_errors

ONE_CHANGE = _("Give either a payment day or a schedule change.")
INSTALMENT_OPTION = (
    "KEEP: every future instalment stays at the contract's level instalment and the last one "
    "settles the capital down to the new residual value. AUTO: the annuity is recomputed on "
    "the capital left over the new number of future instalments. CUSTOM: the instalments named "
    "in `amounts` take those net amounts, the others stay at the level instalment, the last one "
    "settles (if named, its amount must settle exactly)."
)


@strawberry.input(description="A new net amount for one unpaid future instalment (CUSTOM).")
class InstalmentAmountInput:
    number: int = strawberry.field(description="The instalment's number in the schedule.")
    net: Decimal


@strawberry.input(description="A schedule change to simulate: residual %, period, instalments.")
class ScheduleChangeSimulationInput:
    residual_percent: Decimal | None = strawberry.field(
        default=None, description="New residual value, % of the net purchase value (2 places)."
    )
    months: int | None = strawberry.field(
        default=None, description="New whole period in months, counted from the start."
    )
    instalments: InstalmentOption = strawberry.field(
        default=InstalmentOption.AUTO, description=INSTALMENT_OPTION
    )
    amounts: list[InstalmentAmountInput] = strawberry.field(
        default_factory=list, description="CUSTOM only: unpaid future instalments' new nets."
    )

    def change(self) -> ScheduleChange:
        return ScheduleChange(
            residual_percent=self.residual_percent,
            months=self.months,
            option=self.instalments,
            amounts={amount.number: amount.net for amount in self.amounts},
        )


@strawberry.type(description="One future instalment of a simulated schedule.")
class SimulatedInstalment:
    row: strawberry.Private[ScheduleRow]
    currency: strawberry.Private[Currency]
    vat_category: VatCategory

    def _money(self, amount: Decimal) -> Money:
        return Money(amount=amount, currency=self.currency)

    @strawberry.field
    def number(self) -> int:
        return self.row.number

    @strawberry.field
    def due_date(self) -> date:
        return self.row.due_date

    @strawberry.field(description="Capital part.")
    def capital(self) -> Money:
        return self._money(self.row.capital)

    @strawberry.field(description="Interest part.")
    def interest(self) -> Money:
        return self._money(self.row.interest)

    @strawberry.field(description="Net instalment (capital + interest).")
    def net(self) -> Money:
        return self._money(self.row.net)

    @strawberry.field(description="VAT on the instalment, as the contract's instalments are taxed.")
    def vat(self) -> Money:
        return self._money(self.row.vat)

    @strawberry.field(description="Gross instalment.")
    def gross(self) -> Money:
        return self._money(self.row.gross)

    @strawberry.field(description="Capital left after this instalment.")
    def remaining_capital(self) -> Money:
        return self._money(self.row.remaining_capital)


@strawberry.type(description="Sums over the unpaid future instalments.")
class ScheduleTotals:
    instalment: Money = strawberry.field(description="The first future instalment's net.")
    total_interest: Money = strawberry.field(description="Interest of the future instalments.")
    total_to_pay: Money = strawberry.field(
        description="Gross of the future instalments plus the residual value (the buy-out, "
        "invoiced on its own)."
    )

    @classmethod
    def of(cls, totals: Totals, currency: Currency) -> ScheduleTotals:
        return cls(
            instalment=Money(amount=totals.instalment, currency=currency),
            total_interest=Money(amount=totals.total_interest, currency=currency),
            total_to_pay=Money(amount=totals.total_to_pay, currency=currency),
        )


@strawberry.type(description="The schedule a change would give; nothing is written.")
class ScheduleSimulation:
    payment_day: int
    term_months: int
    residual_value: Money
    instalments: list[SimulatedInstalment] = strawberry.field(
        description="Every unpaid future instalment after the change (not yet invoiced and not "
        "yet due); the instalments before them stay as they are."
    )
    before: ScheduleTotals = strawberry.field(description="Today's future instalments.")
    after: ScheduleTotals = strawberry.field(description="The future instalments after it.")
    difference: ScheduleTotals = strawberry.field(description="after − before.")

    @classmethod
    def of(cls, simulation: Simulation, currency: Currency) -> ScheduleSimulation:
        rows = [
            SimulatedInstalment(row=row, currency=currency, vat_category=simulation.vat_category)
            for row in simulation.instalments
        ]
        return cls(
            payment_day=simulation.payment_day,
            term_months=simulation.term_months,
            residual_value=Money(amount=simulation.residual_value, currency=currency),
            instalments=rows,
            before=ScheduleTotals.of(simulation.before, currency),
            after=ScheduleTotals.of(simulation.after, currency),
            difference=ScheduleTotals.of(simulation.difference, currency),
        )


@strawberry.type(description="A simulated schedule, or why the change cannot be simulated.")
class ScheduleSimulationResult:
    simulation: ScheduleSimulation | None
    errors: list[UserError] = strawberry.field(
        description="Argument errors, by the form's field names (codes: DAY_NOT_ALLOWED, "
        "DAY_UNCHANGED, RESIDUAL_OUT_OF_LIMITS, RESIDUAL_ABOVE_CAPITAL, PERIOD_OUT_OF_LIMITS, "
        "PERIOD_TOO_SHORT, AMOUNTS_REQUIRED, AMOUNTS_NOT_ALLOWED, INSTALMENT_NOT_FUTURE, "
        "INVALID_AMOUNT, DOES_NOT_PAY_OFF, NOTHING_TO_CHANGE, CONTRACT_NOT_ACTIVE, "
        "NO_FUTURE_INSTALMENTS, ONE_CHANGE_REQUIRED)."
    )


async def schedule_simulation(
    root: ContractRow,
    info: Info,
    payment_day: int | None,
    schedule_change: ScheduleChangeSimulationInput | None,
) -> ScheduleSimulationResult:
    if (payment_day is None) == (schedule_change is None):
        error = UserError(field=None, code="ONE_CHANGE_REQUIRED", text=ONE_CHANGE)
        return ScheduleSimulationResult(simulation=None, errors=[error])
    instalments = await info.context.loaders[InstalmentsByContractIdLoader].load(root.id)
    today = info.context.today
    if payment_day is not None:
        result = simulate_payment_day(root, instalments, today=today, day=payment_day)
    else:
        assert schedule_change is not None
        change = schedule_change.change()
        result = simulate_schedule_change(root, instalments, today=today, change=change)
    if isinstance(result, list):
        return ScheduleSimulationResult(simulation=None, errors=user_errors(result))
    return ScheduleSimulationResult(
        simulation=ScheduleSimulation.of(result, root.currency), errors=[]
    )
