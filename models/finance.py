"""Lease arithmetic: the annuity instalment and the repayment schedule it produces."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from models.base import CENT

VAT_RATES = (23, 8, 5, 0)
# Gross amount from which an invoice carries the split-payment ("MPP") note.
SPLIT_PAYMENT_FROM = Decimal("15000.00")


def round_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def annuity_payment(
    capital: Decimal, annual_rate: Decimal, months: int, residual: Decimal
) -> Decimal:
    """P = (C·r·(1+r)^N − F·r) / ((1+r)^N − 1), r = annual rate / 12; zero rate splits evenly."""
    if months < 1:
        raise ValueError("months must be at least 1")
    r = annual_rate / 12
    if r == 0:
        return round_money((capital - residual) / months)
    growth = (1 + r) ** months
    return round_money((capital * r * growth - residual * r) / (growth - 1))


@dataclass(frozen=True, slots=True)
class ScheduleRow:
    number: int
    due_date: date
    capital: Decimal
    interest: Decimal
    net: Decimal
    vat: Decimal
    gross: Decimal
    remaining_capital: Decimal


def delay_days(first_day: date, last_day: date) -> int:
    """Days of delay, both ends counted: from the day after the due date to the day paid."""
    return (last_day - first_day).days + 1


def late_interest(
    amount: Decimal, *, annual_rate: Decimal, first_day: date, last_day: date
) -> Decimal:
    """Simple interest on a late amount for the days of delay, on a 365-day year."""
    return round_money(amount * annual_rate * delay_days(first_day, last_day) / 365)


def add_months(start: date, months: int, day: int) -> date:
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day, 28))


def repayment_schedule(
    *,
    capital: Decimal,
    annual_rate: Decimal,
    months: int,
    residual: Decimal,
    first_due: date,
    payment_day: int,
    vat_rate: int = 23,
) -> Iterator[ScheduleRow]:
    """Equal net instalments; the last one absorbs rounding so the capital ends at the residual."""
    payment = annuity_payment(capital, annual_rate, months, residual)
    r = annual_rate / 12
    remaining = capital
    for number in range(1, months + 1):
        interest = round_money(remaining * r)
        principal = payment - interest if number < months else remaining - residual
        net = principal + interest
        remaining -= principal
        vat = round_money(net * vat_rate / 100)
        yield ScheduleRow(
            number=number,
            due_date=add_months(first_due, number - 1, payment_day),
            capital=principal,
            interest=interest,
            net=net,
            vat=vat,
            gross=net + vat,
            remaining_capital=remaining,
        )
