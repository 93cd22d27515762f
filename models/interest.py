"""Statutory interest for delay in commercial transactions, half-year by half-year.

The rate ("odsetki ustawowe za opóźnienie w transakcjach handlowych") is fixed per half-year by
the Act of 8 March 2013 on counteracting excessive delays in commercial transactions: art. 4
pkt 3 lit. a makes it the NBP reference rate in force on the first day of the half-year plus 10
percentage points (8 points until 31 December 2019), art. 11b holds it for the whole half-year
(1 January–30 June, 1 July–31 December), and art. 11c has the minister announce it in Monitor
Polski. (The lower rate for public healthcare debtors, lit. b, does not apply to a lessor's
clients.) The shipped table, `data/statutory_interest_rates.csv`, carries each row's source;
migration 0009 seeds the database's table from it, and `leasehub interest-rate add` adds the next
half-year once it is announced. A half-year the table lacks has no rate: nothing guesses it.

Interest is simple interest on a 365-day year, leap years included (the Act states the rate "w
stosunku rocznym" and sets no day count; 365 is what the hub's notes always counted and what
published calculators use), counted for each day of delay from the first day of delay to the
day paid, both included. A period that crosses 1 January or 1 July is split there, each part at
its own half-year's rate; the parts' exact interest is added up and rounded once, to grosze.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from sqlmodel import Field

from models.base import Timestamped
from models.finance import round_money

SHIPPED_RATES = Path(__file__).with_name("data") / "statutory_interest_rates.csv"
YEAR_DAYS = 365
RATE_PLACES = 4  # annual rates are Numeric(6, 4): 0.1525 for 15.25 %
SOURCE_LIMIT = 300
# The Act's rate exists from 1 January 2016 (Act of 9 October 2015, Dz.U. 2015 poz. 1830);
# before that the late-payment act charged the tax-arrears rate instead.
FIRST_HALF_YEAR = date(2016, 1, 1)
# The formula cannot give less than the reference rate (never below 0) plus 8 points; more than
# 40 % would be a reference rate of 30 %, last seen in 1998: a typo, not an announcement.
LOWEST_RATE = Decimal("0.08")
HIGHEST_RATE = Decimal("0.40")
_DAY = timedelta(days=1)


class StatutoryInterestRate(Timestamped, table=True):
    """One half-year of the statutory rate, with where it was announced or derived from."""

    __tablename__ = "statutory_interest_rates"

    id: int | None = Field(default=None, primary_key=True)
    valid_from: date = Field(unique=True)  # 1 January or 1 July
    annual_rate: Decimal = Field(max_digits=6, decimal_places=RATE_PLACES)
    source: str = Field(max_length=SOURCE_LIMIT)


@dataclass(frozen=True, slots=True)
class StatutoryRate:
    valid_from: date
    annual_rate: Decimal
    source: str


@dataclass(frozen=True, slots=True)
class InterestSegment:
    """Part of a period of delay at one rate. `interest` is this part's share of the total,
    in grosze: the shares of a note's segments add up to its total exactly."""

    first_day: date
    last_day: date
    annual_rate: Decimal
    interest: Decimal

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


@dataclass(frozen=True, slots=True)
class LateInterest:
    segments: tuple[InterestSegment, ...]
    total: Decimal


class RateNotPublished(LookupError):
    """The table has no rate for the half-year that starts on `half_year`."""

    def __init__(self, half_year: date) -> None:
        super().__init__(f"no statutory rate for the half-year from {half_year}")
        self.half_year = half_year


def half_year_start(day: date) -> date:
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def half_year_end(day: date) -> date:
    return date(day.year, 6, 30) if day.month <= 6 else date(day.year, 12, 31)


def is_half_year_start(day: date) -> bool:
    return day.day == 1 and day.month in (1, 7)


def half_years(first_day: date, last_day: date) -> Iterator[tuple[date, date]]:
    """The period split where a half-year ends: (first, last) days of each part."""
    while first_day <= last_day:
        end = min(half_year_end(first_day), last_day)
        yield first_day, end
        first_day = end + _DAY


class RateTable:
    """The statutory rates by half-year; a half-year without a row has none."""

    def __init__(self, rates: Iterable[StatutoryRate]) -> None:
        self._rates = {rate.valid_from: rate for rate in rates}

    def __iter__(self) -> Iterator[StatutoryRate]:
        return iter(sorted(self._rates.values(), key=lambda rate: rate.valid_from))

    def rate_on(self, day: date) -> StatutoryRate | None:
        return self._rates.get(half_year_start(day))

    def parts(self, first_day: date, last_day: date) -> list[tuple[date, date, Decimal]]:
        """The period by half-year with each one's rate; `RateNotPublished` for a gap."""
        parts = []
        for first, last in half_years(first_day, last_day):
            rate = self.rate_on(first)
            if rate is None:
                raise RateNotPublished(half_year_start(first))
            parts.append((first, last, rate.annual_rate))
        return parts

    def covers(self, first_day: date, last_day: date) -> bool:
        return all(self.rate_on(first) for first, _ in half_years(first_day, last_day))


def interest_by_parts(amount: Decimal, parts: Sequence[tuple[date, date, Decimal]]) -> LateInterest:
    """Simple interest on `amount` for each (first day, last day, annual rate), both days
    counted, on a 365-day year. The total is the exact sum rounded once; a segment's share is
    its running total rounded less the running total before it, so the printed shares add up."""
    segments, running, shown = [], Decimal(0), Decimal("0.00")
    for first, last, rate in parts:
        running += amount * rate * ((last - first).days + 1) / YEAR_DAYS
        share = round_money(running) - shown
        shown += share
        segments.append(InterestSegment(first, last, rate, share))
    return LateInterest(tuple(segments), round_money(running))


def statutory_interest(
    amount: Decimal, *, first_day: date, last_day: date, table: RateTable
) -> LateInterest:
    """Interest at the table's rates, split at each 1 January and 1 July (art. 11b)."""
    return interest_by_parts(amount, table.parts(first_day, last_day))


def entry_problems(valid_from: date, annual_rate: Decimal, *, today: date) -> list[str]:
    """Why a new row of the table would be wrong (empty when it is fine)."""
    problems = []
    if not is_half_year_start(valid_from):
        problems.append("a half-year starts on 1 January or 1 July (art. 11b)")
    if valid_from < FIRST_HALF_YEAR:
        problems.append(f"the statutory rate applies from {FIRST_HALF_YEAR}")
    if valid_from > today:
        problems.append("a half-year's rate is the reference rate on its first day: not known yet")
    if not annual_rate.is_finite() or not LOWEST_RATE <= annual_rate <= HIGHEST_RATE:
        problems.append(f"give the rate as a fraction from {LOWEST_RATE} to {HIGHEST_RATE}")
    elif annual_rate != round(annual_rate, RATE_PLACES):
        problems.append(f"at most {RATE_PLACES} decimal places (0.1375 for 13.75 %)")
    return problems


def read_rates(path: Path) -> tuple[StatutoryRate, ...]:
    """The rows of a rate file: `valid_from,annual_rate,source`, lines starting with # skipped."""
    with path.open(encoding="utf-8", newline="") as file:
        lines = [line for line in file if not line.startswith("#")]
    return tuple(
        StatutoryRate(
            valid_from=date.fromisoformat(row["valid_from"]),
            annual_rate=Decimal(row["annual_rate"]),
            source=row["source"],
        )
        for row in csv.DictReader(lines)
    )


@lru_cache(maxsize=1)
def shipped_table() -> RateTable:
    """The rates shipped with the hub (the demo uses these; the API reads the database's)."""
    return RateTable(read_rates(SHIPPED_RATES))
