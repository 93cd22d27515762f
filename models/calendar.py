"""The Polish working-day calendar: every rule that counts days counts them here.

Working days are Monday to Friday that are not public holidays in Poland. Public holidays
come from the `holidays` package (which follows the Act of 18 January 1951 on days free from
work, including Christmas Eve from 2025, added by the Act of 6 December 2024), not from a
list kept by hand.

A deadline that falls on a Saturday or on a day free from work by statute (Sundays and public
holidays) ends on the next day that is neither: art. 115 of the Civil Code ("Jeżeli koniec
terminu do wykonania czynności przypada na dzień uznany ustawowo za wolny od pracy lub na
sobotę, termin upływa następnego dnia, który nie jest dniem wolnym od pracy ani sobotą").
A payment is therefore late only from the day after that legal deadline, and late interest
counts from then.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays

_DAY = timedelta(days=1)

# A tyre relocation between centres takes at least this many working days (TYR-3): the earliest
# date one can be planned for is this many working days after today in Warsaw.
RELOCATION_WORKING_DAYS = 4
_SATURDAY = 5


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("PL", years=year))


def public_holidays(year: int) -> frozenset[date]:
    """Polish public holidays of `year` (Sundays that are holidays included; other Sundays not)."""
    return _public_holidays(year)


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a public holiday."""
    return day.weekday() < _SATURDAY and day not in _public_holidays(day.year)


def next_working_day(day: date) -> date:
    """`day` itself when it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += _DAY
    return day


def previous_working_day(day: date) -> date:
    """The last working day strictly before `day`."""
    day -= _DAY
    while not is_working_day(day):
        day -= _DAY
    return day


def legal_deadline(due: date) -> date:
    """The day a payment due on `due` may still be made on time (art. 115 of the Civil Code)."""
    return next_working_day(due)


def late_from(due: date) -> date:
    """The first day of delay of a payment due on `due`: the day after its legal deadline."""
    return legal_deadline(due) + _DAY


def overdue_before(today: date) -> date:
    """Invoices printed as due before this day are overdue on `today`.

    `legal_deadline` never decreases as `due` grows, so "the legal deadline of `due` has passed
    by `today`" is "`due` is on or before the last working day before `today`": one date to
    compare with in Python and in SQL filters alike, with no calendar in the database.
    """
    return previous_working_day(today) + _DAY


def is_overdue(due: date, today: date) -> bool:
    """Whether a payment due on `due` and not made is late on `today`."""
    return legal_deadline(due) < today


def add_working_days(day: date, count: int) -> date:
    """The `count`-th working day after `day` (`day` itself is not counted)."""
    if count < 0:
        raise ValueError("count must not be negative")
    for _ in range(count):
        day = next_working_day(day + _DAY)
    return day


def working_days_between(first: date, last: date) -> int:
    """Working days after `first` up to and including `last` (0 when `last` <= `first`)."""
    count, day = 0, first
    while day < last:
        day += _DAY
        count += is_working_day(day)
    return count
