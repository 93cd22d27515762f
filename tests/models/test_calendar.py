"""The working-day calendar against reference tables written by hand from the law.

Public holidays: art. 1 of the Act of 18 January 1951 on days free from work (Dz.U. 2020 poz.
1920 as amended), with 24 December added from 2025 by the Act of 6 December 2024. Movable feasts
worked out by hand from Easter Sunday (Gregorian computus): Easter Monday = Easter + 1 day,
Pentecost Sunday ("pierwszy dzień Zielonych Świątek") = Easter + 49 days, Corpus Christi = Easter
+ 60 days (a Thursday); checked against published Polish calendars.

Deadlines: art. 115 of the Civil Code — a deadline that falls on a Saturday or a day free from
work ends on the next day that is neither; the debtor is late from the day after.
"""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import pytest

from models.calendar import (
    add_working_days,
    is_overdue,
    is_working_day,
    late_from,
    legal_deadline,
    overdue_before,
    public_holidays,
    working_days_between,
)

# Days free from work other than Sundays, as the Act lists them (weekday in the comment).
POLISH_PUBLIC_HOLIDAYS: dict[int, tuple[date, ...]] = {
    2025: (
        date(2025, 1, 1),  # Wed, Nowy Rok
        date(2025, 1, 6),  # Mon, Trzech Króli
        date(2025, 4, 20),  # Sun, Wielkanoc
        date(2025, 4, 21),  # Mon, Poniedziałek Wielkanocny
        date(2025, 5, 1),  # Thu, Święto Państwowe
        date(2025, 5, 3),  # Sat, Święto Narodowe Trzeciego Maja
        date(2025, 6, 8),  # Sun, Zielone Świątki
        date(2025, 6, 19),  # Thu, Boże Ciało
        date(2025, 8, 15),  # Fri, Wniebowzięcie NMP
        date(2025, 11, 1),  # Sat, Wszystkich Świętych
        date(2025, 11, 11),  # Tue, Narodowe Święto Niepodległości
        date(2025, 12, 24),  # Wed, Wigilia (from 2025)
        date(2025, 12, 25),  # Thu, Boże Narodzenie
        date(2025, 12, 26),  # Fri, drugi dzień Bożego Narodzenia
    ),
    2026: (
        date(2026, 1, 1),  # Thu
        date(2026, 1, 6),  # Tue
        date(2026, 4, 5),  # Sun, Wielkanoc
        date(2026, 4, 6),  # Mon, Poniedziałek Wielkanocny
        date(2026, 5, 1),  # Fri
        date(2026, 5, 3),  # Sun
        date(2026, 5, 24),  # Sun, Zielone Świątki
        date(2026, 6, 4),  # Thu, Boże Ciało
        date(2026, 8, 15),  # Sat
        date(2026, 11, 1),  # Sun
        date(2026, 11, 11),  # Wed
        date(2026, 12, 24),  # Thu, Wigilia
        date(2026, 12, 25),  # Fri
        date(2026, 12, 26),  # Sat
    ),
    2027: (
        date(2027, 1, 1),  # Fri
        date(2027, 1, 6),  # Wed
        date(2027, 3, 28),  # Sun, Wielkanoc
        date(2027, 3, 29),  # Mon, Poniedziałek Wielkanocny
        date(2027, 5, 1),  # Sat
        date(2027, 5, 3),  # Mon
        date(2027, 5, 16),  # Sun, Zielone Świątki
        date(2027, 5, 27),  # Thu, Boże Ciało
        date(2027, 8, 15),  # Sun
        date(2027, 11, 1),  # Mon
        date(2027, 11, 11),  # Thu
        date(2027, 12, 24),  # Fri, Wigilia
        date(2027, 12, 25),  # Sat
        date(2027, 12, 26),  # Sun
    ),
}
YEARS = tuple(POLISH_PUBLIC_HOLIDAYS)

# (printed due date, last day to pay on time, first day of delay), weekday in the comment.
DEADLINES = (
    # Weekends
    (date(2026, 11, 27), date(2026, 11, 27), date(2026, 11, 28)),  # Fri: late from Saturday
    (date(2026, 11, 28), date(2026, 11, 30), date(2026, 12, 1)),  # Sat -> Mon (issue example)
    (date(2026, 11, 29), date(2026, 11, 30), date(2026, 12, 1)),  # Sun -> Mon
    (date(2026, 11, 30), date(2026, 11, 30), date(2026, 12, 1)),  # Mon: a working day
    # 1 and 11 November
    (date(2025, 11, 1), date(2025, 11, 3), date(2025, 11, 4)),  # Sat holiday, Sun -> Mon
    (date(2026, 10, 31), date(2026, 11, 2), date(2026, 11, 3)),  # Sat, Sun 1.11 -> Mon
    (date(2027, 10, 31), date(2027, 11, 2), date(2027, 11, 3)),  # Sun, Mon 1.11 -> Tue
    (date(2025, 11, 10), date(2025, 11, 10), date(2025, 11, 11)),  # Mon: late on a holiday
    (date(2025, 11, 11), date(2025, 11, 12), date(2025, 11, 13)),  # Tue holiday -> Wed
    (date(2026, 11, 11), date(2026, 11, 12), date(2026, 11, 13)),  # Wed holiday -> Thu
    (date(2027, 11, 11), date(2027, 11, 12), date(2027, 11, 13)),  # Thu holiday -> Fri
    # Easter Monday
    (date(2025, 4, 19), date(2025, 4, 22), date(2025, 4, 23)),  # Sat, Easter Sun, Mon -> Tue
    (date(2026, 4, 6), date(2026, 4, 7), date(2026, 4, 8)),  # Easter Monday -> Tue
    (date(2027, 3, 27), date(2027, 3, 30), date(2027, 3, 31)),  # Sat before Easter -> Tue
    # Corpus Christi (a Thursday)
    (date(2025, 6, 19), date(2025, 6, 20), date(2025, 6, 21)),  # -> Fri, late from Sat
    (date(2026, 6, 4), date(2026, 6, 5), date(2026, 6, 6)),
    (date(2027, 5, 27), date(2027, 5, 28), date(2027, 5, 29)),
    # 24-26 December
    (date(2025, 12, 23), date(2025, 12, 23), date(2025, 12, 24)),  # Tue: a working day
    (date(2025, 12, 24), date(2025, 12, 29), date(2025, 12, 30)),  # Wed Wigilia -> Mon
    (date(2025, 12, 25), date(2025, 12, 29), date(2025, 12, 30)),  # NO/2026/000010's invoice
    (date(2025, 12, 26), date(2025, 12, 29), date(2025, 12, 30)),  # Fri -> Mon
    (date(2026, 12, 24), date(2026, 12, 28), date(2026, 12, 29)),  # Thu -> Mon
    (date(2026, 12, 26), date(2026, 12, 28), date(2026, 12, 29)),  # Sat -> Mon
    (date(2027, 12, 24), date(2027, 12, 27), date(2027, 12, 28)),  # Fri -> Mon
    (date(2027, 12, 25), date(2027, 12, 27), date(2027, 12, 28)),  # Sat -> Mon
    # New Year, Epiphany, May and August holidays
    (date(2026, 12, 31), date(2026, 12, 31), date(2027, 1, 1)),  # Thu: a working day
    (date(2027, 1, 1), date(2027, 1, 4), date(2027, 1, 5)),  # Fri -> Mon
    (date(2026, 1, 6), date(2026, 1, 7), date(2026, 1, 8)),  # Tue -> Wed
    (date(2027, 5, 1), date(2027, 5, 4), date(2027, 5, 5)),  # Sat, Sun, Mon 3.5 -> Tue
    (date(2026, 8, 15), date(2026, 8, 17), date(2026, 8, 18)),  # Sat -> Mon
)


@pytest.mark.parametrize("year", YEARS)
def test_public_holidays_are_those_of_the_act(year: int) -> None:
    expected = set(POLISH_PUBLIC_HOLIDAYS[year])
    assert set(public_holidays(year)) == expected
    assert set(holidays.country_holidays("PL", years=year)) == expected


def test_christmas_eve_is_a_working_day_before_2025() -> None:
    """The Act of 6 December 2024 made 24 December free only from 2025."""
    assert is_working_day(date(2024, 12, 24))  # a Tuesday
    assert not is_working_day(date(2025, 12, 24))


@pytest.mark.parametrize("year", YEARS)
def test_working_days_are_weekdays_that_are_not_holidays(year: int) -> None:
    day, mistaken = date(year, 1, 1), []
    while day.year == year:
        expected = day.weekday() < 5 and day not in POLISH_PUBLIC_HOLIDAYS[year]
        if is_working_day(day) != expected:
            mistaken.append(day)
        day += timedelta(days=1)
    assert mistaken == []


def test_working_days_per_year() -> None:
    """261 weekdays in each of these years (52 weeks and a weekday), less the holidays falling
    on weekdays: 10 in 2025, 8 in 2026 and 2027. (Labour-law counts also take off a day for a
    holiday on a Saturday; art. 115 does not.)"""
    counts = {
        year: working_days_between(date(year - 1, 12, 31), date(year, 12, 31)) for year in YEARS
    }
    assert counts == {2025: 251, 2026: 253, 2027: 253}


@pytest.mark.parametrize(("due", "deadline", "late"), DEADLINES, ids=str)
def test_deadline_moves_past_saturdays_and_holidays(due: date, deadline: date, late: date) -> None:
    assert legal_deadline(due) == deadline
    assert late_from(due) == late


@pytest.mark.parametrize(("due", "deadline", "late"), DEADLINES, ids=str)
def test_overdue_only_from_the_day_after_the_deadline(
    due: date, deadline: date, late: date
) -> None:
    assert not is_overdue(due, deadline)
    assert is_overdue(due, late)
    # The SQL filters' cutoff says the same on both days.
    assert not due < overdue_before(deadline)
    assert due < overdue_before(late)


def test_overdue_cutoffs_of_known_days() -> None:
    assert overdue_before(date(2026, 11, 30)) == date(2026, 11, 28)  # Mon: Sat and Sun not late
    assert overdue_before(date(2026, 12, 1)) == date(2026, 12, 1)
    assert overdue_before(date(2025, 12, 29)) == date(2025, 12, 24)  # after 24-28 December
    assert overdue_before(date(2025, 12, 30)) == date(2025, 12, 30)


def test_sql_cutoff_and_python_rule_agree_on_every_day() -> None:
    """`due < overdue_before(today)` (SQL) and `is_overdue` (Python) for 2025-2027."""
    today, disagreements = date(2025, 1, 1), []
    while today.year < 2028:
        cutoff = overdue_before(today)
        for back in range(-5, 20):
            due = today - timedelta(days=back)
            if is_overdue(due, today) != (due < cutoff):
                disagreements.append((due, today))
        today += timedelta(days=1)
    assert disagreements == []


def test_working_days_are_counted_past_holidays() -> None:
    # Tue 23.12.2025: 29, 30, 31 December and Fri 2 January are the next four working days.
    assert add_working_days(date(2025, 12, 23), 4) == date(2026, 1, 2)
    assert working_days_between(date(2025, 12, 23), date(2026, 1, 2)) == 4
    # Wed 3.6.2026: Thu 4.6 is Corpus Christi, so Fri 5.6 and Mon 8.6.
    assert add_working_days(date(2026, 6, 3), 2) == date(2026, 6, 8)
    assert add_working_days(date(2026, 6, 3), 0) == date(2026, 6, 3)
