"""What-if schedules: the schedule a payment-day change or a schedule change would give a contract,
computed with the contract's own schedule arithmetic (models/finance.py), writing nothing.

Which instalments can change: the unpaid future ones. An instalment is fixed once it is
invoiced (the demo, like the lessor, invoices each instalment 14 days before it falls due) or
once its due date has passed; every instalment after the last fixed one is "future" and may
change. The capital the new schedule repays is the remaining capital after the last fixed one.

The guide's three instalment options (seeds/001, "Zmiana harmonogramu"):
- KEEP ("wysokość raty pozostaje bez zmiany"): every future instalment stays at the contract's
  level instalment (its annuity); the last one settles the capital down to the new residual
  value, so a longer period or a lower residual shows there.
- AUTO ("wysokość raty przeliczy się automatycznie"): the annuity is recomputed on the capital
  left, over the new number of future instalments, down to the new residual value.
- CUSTOM ("wybrana rata zwiększa się lub zmniejsza do wskazanej wysokości"): the named future
  instalments take the given net amounts, the others stay at the level instalment, and the last
  one settles (if it is named, its amount must settle exactly).

Errors name the catalogue's form fields (`day`, `residualPercent`, `months`, `instalments`,
`amounts`), so that filing reports the same codes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from models.contract import Contract, ContractStatus, Instalment
from models.finance import (
    ScheduleRow,
    add_months,
    annuity_payment,
    repayment_schedule,
    round_money,
    vat_amount,
    vat_for,
)
from models.i18n import Msg, _
from models.invoice import InvoiceKind
from models.vat import VatCategory
from resolvers.errors import UserErrorData
from resolvers.request_catalogue import (
    PAYMENT_DAYS,
    PRODUCT_LIMITS,
    InstalmentOption,
    residual_percent,
)
from resolvers.validation import MONEY_LIMIT

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class ScheduleChange:
    residual_percent: Decimal | None = None
    months: int | None = None  # the whole period from the start, as the contract's term
    option: InstalmentOption = InstalmentOption.AUTO
    amounts: dict[int, Decimal] = field(default_factory=dict)  # instalment number → new net


@dataclass(frozen=True, slots=True)
class Totals:
    instalment: Decimal  # the first future instalment's net
    total_interest: Decimal  # of the future instalments
    total_to_pay: Decimal  # the future instalments' gross plus the residual value

    def minus(self, other: Totals) -> Totals:
        return Totals(
            self.instalment - other.instalment,
            self.total_interest - other.total_interest,
            self.total_to_pay - other.total_to_pay,
        )


@dataclass(frozen=True, slots=True)
class Simulation:
    payment_day: int
    term_months: int
    residual_value: Decimal
    instalments: list[ScheduleRow]  # the future instalments after the change
    before: Totals
    after: Totals
    vat_category: VatCategory

    @property
    def difference(self) -> Totals:
        return self.after.minus(self.before)


@dataclass(frozen=True, slots=True)
class Split:
    """The contract's schedule cut at the last fixed instalment."""

    fixed: list[Instalment]
    future: list[Instalment]
    capital: Decimal  # capital left after the fixed instalments


def split_schedule(contract: Contract, instalments: Sequence[Instalment], today: date) -> Split:
    ordered = sorted(instalments, key=lambda row: row.number)
    fixed_upto = max(
        (row.number for row in ordered if row.invoice_id is not None or row.due_date < today),
        default=0,
    )
    fixed = [row for row in ordered if row.number <= fixed_upto]
    future = [row for row in ordered if row.number > fixed_upto]
    start = contract.net_value - contract.initial_fee
    return Split(fixed, future, fixed[-1].remaining_capital if fixed else start)


def _error(field_name: str | None, code: str, message: Msg) -> UserErrorData:
    return UserErrorData(field=field_name, code=code, message=message)


def _changeable(contract: Contract, split: Split) -> list[UserErrorData]:
    if contract.status is not ContractStatus.ACTIVE:
        return [_error("contractId", "CONTRACT_NOT_ACTIVE", _("The contract is not active."))]
    if not split.future:
        message = _("The contract has no unpaid future instalments to change.")
        return [_error("contractId", "NO_FUTURE_INSTALMENTS", message)]
    return []


def _totals(rows: Iterable[ScheduleRow | Instalment], residual: Decimal) -> Totals:
    listed = list(rows)
    return Totals(
        instalment=listed[0].net if listed else ZERO,
        total_interest=sum((row.interest for row in listed), ZERO),
        total_to_pay=sum((row.gross for row in listed), ZERO) + residual,
    )


def _as_row(row: Instalment, due_date: date) -> ScheduleRow:
    return ScheduleRow(
        number=row.number,
        due_date=due_date,
        capital=row.capital,
        interest=row.interest,
        net=row.net,
        vat=row.vat,
        gross=row.gross,
        remaining_capital=row.remaining_capital,
    )


def _instalment_category(contract: Contract, split: Split) -> VatCategory:
    """As the schedule's future instalments are taxed: a schedule stored before VAT followed
    the contract's kind keeps its rate, and a new schedule must compare with it."""
    if split.future:
        return split.future[0].vat_category
    return vat_for(contract_kind=contract.kind, invoice_kind=InvoiceKind.INSTALMENT).category


def payment_day_errors(contract: Contract, day: int) -> list[UserErrorData]:
    if day not in PAYMENT_DAYS:
        message = _("The payment day can be the 15th, 20th or 25th.")
        return [_error("day", "DAY_NOT_ALLOWED", message)]
    if day == contract.payment_day:
        message = _("The instalments already fall due on this day.")
        return [_error("day", "DAY_UNCHANGED", message)]
    return []


def _moved_due(due: date, day: int, today: date) -> date:
    moved = add_months(due, 0, day)
    return moved if moved >= today else due


def simulate_payment_day(
    contract: Contract, instalments: Sequence[Instalment], *, today: date, day: int
) -> Simulation | list[UserErrorData]:
    """The future instalments move to `day` of the month they fall due in; their amounts stay
    (the lessor's monthly annuity does not count days, so the interest does not change). One
    whose new day of its month has passed already keeps its date: a change never makes an
    instalment overdue."""
    split = split_schedule(contract, instalments, today)
    errors = _changeable(contract, split) or payment_day_errors(contract, day)
    if errors:
        return errors
    rows = [_as_row(row, _moved_due(row.due_date, day, today)) for row in split.future]
    before = _totals(split.future, contract.residual_value)
    return Simulation(
        payment_day=day,
        term_months=contract.term_months,
        residual_value=contract.residual_value,
        instalments=rows,
        before=before,
        after=before,
        vat_category=_instalment_category(contract, split),
    )


def _residual_errors(
    contract: Contract, change: ScheduleChange, split: Split
) -> list[UserErrorData]:
    percent = change.residual_percent
    if percent is None:
        return []
    low, high = PRODUCT_LIMITS[contract.kind].residual_percent
    # The range first: a huge value (1e9999) cannot be rounded to the grosz.
    if not percent.is_finite() or not low <= percent <= high or percent != round_money(percent):
        message = _("The residual value must be {low}–{high} %.", low=low, high=high)
        return [_error("residualPercent", "RESIDUAL_OUT_OF_LIMITS", message)]
    if _residual(contract, change) >= split.capital:
        message = _("The residual value must be below the capital left to repay.")
        return [_error("residualPercent", "RESIDUAL_ABOVE_CAPITAL", message)]
    return []


def _months_errors(contract: Contract, change: ScheduleChange, split: Split) -> list[UserErrorData]:
    months = change.months
    if months is None:
        return []
    low, high = PRODUCT_LIMITS[contract.kind].months
    if not low <= months <= high:
        message = _("The period must be {low}–{high} months.", low=low, high=high)
        return [_error("months", "PERIOD_OUT_OF_LIMITS", message)]
    if months <= len(split.fixed):
        message = _(
            "The period must be longer than the {count} instalments already invoiced or due.",
            count=len(split.fixed),
        )
        return [_error("months", "PERIOD_TOO_SHORT", message)]
    return []


def _amount_errors(change: ScheduleChange, numbers: range) -> list[UserErrorData]:
    custom = change.option is InstalmentOption.CUSTOM
    if not custom and change.amounts:
        message = _("New instalment amounts are given only with the option to change them.")
        return [_error("amounts", "AMOUNTS_NOT_ALLOWED", message)]
    if custom and not change.amounts:
        return [_error("amounts", "AMOUNTS_REQUIRED", _("Give the new instalment amounts."))]
    errors = []
    for number, net in change.amounts.items():
        if number not in numbers:
            message = _("Instalment {number} is not an unpaid future one.", number=number)
            errors.append(_error("amounts", "INSTALMENT_NOT_FUTURE", message))
        elif not net.is_finite() or not 0 < net < MONEY_LIMIT or net != round_money(net):
            message = _("Instalment {number}: give an amount above 0 in grosze.", number=number)
            errors.append(_error("amounts", "INVALID_AMOUNT", message))
    return errors


def schedule_change_errors(
    contract: Contract, change: ScheduleChange, split: Split
) -> list[UserErrorData]:
    """Every argument error of a schedule change (before any arithmetic)."""
    errors = [
        *_residual_errors(contract, change, split),
        *_months_errors(contract, change, split),
    ]
    if errors:
        return errors
    term = change.months or contract.term_months
    errors = _amount_errors(change, range(len(split.fixed) + 1, term + 1))
    unchanged = _residual(contract, change) == contract.residual_value
    if not errors and unchanged and term == contract.term_months and not change.amounts:
        message = _("Set a new residual value, period or instalment amounts.")
        errors.append(_error(None, "NOTHING_TO_CHANGE", message))
    return errors


def _residual(contract: Contract, change: ScheduleChange) -> Decimal:
    """The new residual value; the current one when its percentage is not changed (the current
    percentage is rounded, so sending it back would move the value by a grosz)."""
    percent = change.residual_percent
    if percent is None or percent == residual_percent(contract):
        return contract.residual_value
    return round_money(contract.net_value * percent / 100)


def _settled_rows(
    *,
    capital: Decimal,
    annual_rate: Decimal,
    payments: Sequence[Decimal | None],
    residual: Decimal,
    dates: Sequence[date],
    first_number: int,
    vat: VatCategory,
) -> list[ScheduleRow]:
    """`repayment_schedule`'s rows for given net instalments: the interest of each month on the
    capital left, rounded the same way; the last (payment None) settles down to `residual`."""
    r = annual_rate / 12
    remaining, rows = capital, []
    for offset, (payment, due) in enumerate(zip(payments, dates, strict=True)):
        interest = round_money(remaining * r)
        principal = remaining - residual if payment is None else payment - interest
        net = principal + interest
        remaining -= principal
        vat_due = vat_amount(net, vat)
        rows.append(
            ScheduleRow(
                number=first_number + offset,
                due_date=due,
                capital=principal,
                interest=interest,
                net=net,
                vat=vat_due,
                gross=net + vat_due,
                remaining_capital=remaining,
            )
        )
    return rows


def _pays_off(rows: Sequence[ScheduleRow], residual: Decimal, named_last: Decimal | None) -> bool:
    """No instalment is zero or below, the capital never falls below the residual before the
    end, and a last instalment given by the client settles exactly."""
    if any(row.net <= 0 for row in rows):
        return False
    if any(row.remaining_capital < residual for row in rows[:-1]):
        return False
    return named_last is None or rows[-1].net == named_last


def _new_rows(
    contract: Contract, change: ScheduleChange, split: Split, residual: Decimal, term: int
) -> list[ScheduleRow]:
    count, first_number = term - len(split.fixed), len(split.fixed) + 1
    first_due = split.future[0].due_date
    category = _instalment_category(contract, split)
    if change.option is InstalmentOption.AUTO:
        rows = repayment_schedule(
            capital=split.capital,
            annual_rate=contract.annual_rate,
            months=count,
            residual=residual,
            first_due=first_due,
            payment_day=contract.payment_day,
            vat=category,
        )
        return [replace(row, number=row.number + first_number - 1) for row in rows]
    level = annuity_payment(
        contract.net_value - contract.initial_fee,
        contract.annual_rate,
        contract.term_months,
        contract.residual_value,
    )
    payments: list[Decimal | None] = [
        change.amounts.get(first_number + offset, level) for offset in range(count - 1)
    ]
    payments.append(None)
    dates = [add_months(first_due, offset, contract.payment_day) for offset in range(count)]
    return _settled_rows(
        capital=split.capital,
        annual_rate=contract.annual_rate,
        payments=payments,
        residual=residual,
        dates=dates,
        first_number=first_number,
        vat=category,
    )


def simulate_schedule_change(
    contract: Contract, instalments: Sequence[Instalment], *, today: date, change: ScheduleChange
) -> Simulation | list[UserErrorData]:
    split = split_schedule(contract, instalments, today)
    errors = _changeable(contract, split) or schedule_change_errors(contract, change, split)
    if errors:
        return errors
    residual, term = _residual(contract, change), change.months or contract.term_months
    rows = _new_rows(contract, change, split, residual, term)
    if not _pays_off(rows, residual, change.amounts.get(term)):
        field_name = "amounts" if change.option is InstalmentOption.CUSTOM else "instalments"
        message = _("These instalments do not repay the capital down to the residual value.")
        return [_error(field_name, "DOES_NOT_PAY_OFF", message)]
    return Simulation(
        payment_day=contract.payment_day,
        term_months=term,
        residual_value=residual,
        instalments=rows,
        before=_totals(split.future, contract.residual_value),
        after=_totals(rows, residual),
        vat_category=_instalment_category(contract, split),
    )


# ---- stored with a filed request ---------------------------------------------------------

_ROW_MONEY = ("capital", "interest", "net", "vat", "gross", "remaining_capital")
_TOTALS = ("instalment", "total_interest", "total_to_pay")


def simulation_to_json(simulation: Simulation) -> dict[str, Any]:
    """The simulation as a filed request stores it (`requests.simulation`): amounts as decimal
    strings, so that accepting the request applies it to the grosz."""
    return {
        "paymentDay": simulation.payment_day,
        "termMonths": simulation.term_months,
        "residualValue": str(simulation.residual_value),
        "vatCategory": simulation.vat_category.value,
        "instalments": [
            {
                "number": row.number,
                "dueDate": row.due_date.isoformat(),
                **{name: str(getattr(row, name)) for name in _ROW_MONEY},
            }
            for row in simulation.instalments
        ],
        "before": {name: str(getattr(simulation.before, name)) for name in _TOTALS},
        "after": {name: str(getattr(simulation.after, name)) for name in _TOTALS},
    }


def simulation_from_json(data: dict[str, Any]) -> Simulation:
    """What `simulation_to_json` stored."""
    rows = [
        ScheduleRow(
            number=int(item["number"]),
            due_date=date.fromisoformat(item["dueDate"]),
            **{name: Decimal(item[name]) for name in _ROW_MONEY},
        )
        for item in data["instalments"]
    ]
    return Simulation(
        payment_day=int(data["paymentDay"]),
        term_months=int(data["termMonths"]),
        residual_value=Decimal(data["residualValue"]),
        instalments=rows,
        before=Totals(**{name: Decimal(data["before"][name]) for name in _TOTALS}),
        after=Totals(**{name: Decimal(data["after"][name]) for name in _TOTALS}),
        vat_category=VatCategory(data["vatCategory"]),
    )
