"""Statutory interest for delay in commercial transactions: the half-year table against the
published figures, and interest worked out by hand, half-year by half-year."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from models.calendar import late_from
from models.interest import (
    RateNotPublished,
    RateTable,
    StatutoryRate,
    entry_problems,
    half_years,
    read_rates,
    shipped_table,
    statutory_interest,
)

D = Decimal

# Written from the announcements in Monitor Polski and from the NBP reference rate on each
# half-year's first day (+8 pp until 2019, +10 pp since 2020; Act of 8 March 2013, art. 4 pkt 3
# lit. a): 2016 H1 M.P. 2016 poz. 43, 2016 H2 poz. 601, 2017 H1 M.P. 2017 poz. 10, 2017 H2
# poz. 686, 2018 H1 M.P. 2018 poz. 139, 2019 H1 M.P. 2019 poz. 42, 2019 H2 poz. 671: 9.50 %;
# reference rate 1.50 % until 17.03.2020, 0.10 % from 29.05.2020 to 6.10.2021 (2021 H1: M.P.
# 2020 poz. 1212, 10.1 %), 1.75 % from 9.12.2021, 6.00 % until 7.07.2022, 6.75 % from 8.09.2022
# to 6.09.2023, 5.75 % from 5.10.2023 to 7.05.2025, 5.25 % from 8.05.2025 to 2.07.2025, 4.00 %
# from 4.12.2025.
PUBLISHED = {
    date(2016, 1, 1): D("0.0950"),
    date(2016, 7, 1): D("0.0950"),
    date(2017, 1, 1): D("0.0950"),
    date(2017, 7, 1): D("0.0950"),
    date(2018, 1, 1): D("0.0950"),
    date(2018, 7, 1): D("0.0950"),
    date(2019, 1, 1): D("0.0950"),
    date(2019, 7, 1): D("0.0950"),
    date(2020, 1, 1): D("0.1150"),
    date(2020, 7, 1): D("0.1010"),
    date(2021, 1, 1): D("0.1010"),
    date(2021, 7, 1): D("0.1010"),
    date(2022, 1, 1): D("0.1175"),
    date(2022, 7, 1): D("0.1600"),
    date(2023, 1, 1): D("0.1675"),
    date(2023, 7, 1): D("0.1675"),
    date(2024, 1, 1): D("0.1575"),
    date(2024, 7, 1): D("0.1575"),
    date(2025, 1, 1): D("0.1575"),
    date(2025, 7, 1): D("0.1525"),
    date(2026, 1, 1): D("0.1400"),
}
TABLE = shipped_table()


def test_the_shipped_table_holds_the_published_rates_half_year_by_half_year() -> None:
    assert {rate.valid_from: rate.annual_rate for rate in TABLE} == PUBLISHED


def test_every_shipped_rate_names_its_source() -> None:
    for rate in TABLE:
        assert "M.P." in rate.source or "NBP reference rate" in rate.source, rate


def test_the_rate_of_a_day_is_the_rate_of_its_half_year() -> None:
    assert TABLE.rate_on(date(2022, 6, 30)).annual_rate == D("0.1175")  # type: ignore[union-attr]
    assert TABLE.rate_on(date(2022, 7, 1)).annual_rate == D("0.1600")  # type: ignore[union-attr]
    # 1 July 2025: the reference rate was still 5.25 % (5.00 % only from 3 July).
    assert TABLE.rate_on(date(2025, 12, 31)).annual_rate == D("0.1525")  # type: ignore[union-attr]
    assert TABLE.rate_on(date(2015, 12, 31)) is None
    assert TABLE.rate_on(date(2026, 7, 1)) is None  # not announced in the sources at hand


def test_a_period_is_split_where_a_half_year_ends() -> None:
    assert list(half_years(date(2025, 6, 14), date(2026, 1, 2))) == [
        (date(2025, 6, 14), date(2025, 6, 30)),
        (date(2025, 7, 1), date(2025, 12, 31)),
        (date(2026, 1, 1), date(2026, 1, 2)),
    ]


def test_interest_within_one_half_year() -> None:
    # 10,000.00 × 15.75 % × 29 days (3–31 March 2025) / 365 = 125.1369… → 125.14
    interest = statutory_interest(
        D("10000.00"), first_day=date(2025, 3, 3), last_day=date(2025, 3, 31), table=TABLE
    )
    assert interest.total == D("125.14")
    assert [(s.days, s.annual_rate, s.interest) for s in interest.segments] == [
        (29, D("0.1575"), D("125.14"))
    ]


def test_interest_over_a_half_year_change_takes_each_half_years_rate() -> None:
    # 12,300.00 from 14 June to 15 July 2025:
    #   14–30 June, 17 days at 15.75 %: 12,300 × 0.1575 × 17 / 365 = 90.2280…
    #   1–15 July, 15 days at 15.25 %:  12,300 × 0.1525 × 15 / 365 = 77.0856…
    #   together 167.3136… → 167.31 (rounded once); printed shares 90.23 + 77.08
    interest = statutory_interest(
        D("12300.00"), first_day=date(2025, 6, 14), last_day=date(2025, 7, 15), table=TABLE
    )
    assert interest.total == D("167.31")
    assert [
        (s.first_day, s.last_day, s.days, s.annual_rate, s.interest) for s in interest.segments
    ] == [
        (date(2025, 6, 14), date(2025, 6, 30), 17, D("0.1575"), D("90.23")),
        (date(2025, 7, 1), date(2025, 7, 15), 15, D("0.1525"), D("77.08")),
    ]


def test_the_total_is_rounded_once_and_the_printed_shares_add_up_to_it() -> None:
    # 1,000.00 from 28 June to 3 July 2025:
    #   28–30 June, 3 days at 15.75 %: 1,000 × 0.1575 × 3 / 365 = 1.2945…
    #   1–3 July, 3 days at 15.25 %:   1,000 × 0.1525 × 3 / 365 = 1.2534…
    #   together 2.5479… → 2.55; the parts rounded first would give 1.29 + 1.25 = 2.54.
    #   Printed shares: 1.29, then 2.55 − 1.29 = 1.26.
    interest = statutory_interest(
        D("1000.00"), first_day=date(2025, 6, 28), last_day=date(2025, 7, 3), table=TABLE
    )
    assert interest.total == D("2.55")
    assert [s.interest for s in interest.segments] == [D("1.29"), D("1.26")]


def test_interest_after_a_christmas_deadline_counts_from_the_first_working_day_after() -> None:
    # Due Thursday 25.12.2025: 25–26 December are holidays, 27–28 a weekend, so the deadline is
    # Monday 29.12 (Civil Code art. 115) and the delay starts on 30.12.2025. Paid 14.01.2026,
    # 24,600.00:
    #   30–31 December 2025, 2 days at 15.25 %: 24,600 × 0.1525 × 2 / 365 = 20.5561…
    #   1–14 January 2026, 14 days at 14.00 %:  24,600 × 0.14 × 14 / 365  = 132.0986…
    #   together 152.6547… → 152.65
    first_day = late_from(date(2025, 12, 25))
    assert first_day == date(2025, 12, 30)
    interest = statutory_interest(
        D("24600.00"), first_day=first_day, last_day=date(2026, 1, 14), table=TABLE
    )
    assert interest.total == D("152.65")
    assert [s.interest for s in interest.segments] == [D("20.56"), D("132.09")]


def test_a_leap_year_counts_365_days_too() -> None:
    # 28 February – 1 March 2024 is 3 days (29 February included): 1,000 × 0.1575 × 3 / 365
    # = 1.2945… → 1.29
    interest = statutory_interest(
        D("1000.00"), first_day=date(2024, 2, 28), last_day=date(2024, 3, 1), table=TABLE
    )
    assert interest.total == D("1.29")


def test_a_half_year_the_table_lacks_has_no_rate() -> None:
    with pytest.raises(RateNotPublished) as raised:
        statutory_interest(
            D("1000.00"), first_day=date(2026, 6, 20), last_day=date(2026, 7, 10), table=TABLE
        )
    assert raised.value.half_year == date(2026, 7, 1)
    assert not TABLE.covers(date(2026, 6, 20), date(2026, 7, 10))
    with_next = RateTable([*TABLE, StatutoryRate(date(2026, 7, 1), D("0.1375"), "test")])
    assert with_next.covers(date(2026, 6, 20), date(2026, 7, 10))


@pytest.mark.parametrize(
    ("valid_from", "rate", "refused"),
    [
        (date(2026, 7, 1), D("0.1375"), False),
        (date(2026, 7, 2), D("0.1375"), True),  # not the first day of a half-year
        (date(2026, 4, 1), D("0.1375"), True),
        (date(2015, 7, 1), D("0.1375"), True),  # before the statutory rate existed
        (date(2027, 1, 1), D("0.1375"), True),  # after today: not known yet
        (date(2026, 7, 1), D("13.75"), True),  # a percentage, not a fraction
        (date(2026, 7, 1), D("0.05"), True),  # below reference rate 0 + 8 pp
        (date(2026, 7, 1), D("0.99"), True),
        (date(2026, 7, 1), D("0.13755"), True),  # more places than the column keeps
        (date(2026, 7, 1), D("NaN"), True),
    ],
)
def test_a_new_row_must_be_a_half_year_with_a_sensible_rate(
    valid_from: date, rate: Decimal, refused: bool
) -> None:
    assert bool(entry_problems(valid_from, rate, today=date(2026, 11, 30))) is refused


def test_comment_lines_of_a_rate_file_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "rates.csv"
    path.write_text("# a comment\nvalid_from,annual_rate,source\n2026-07-01,0.1375,M.P. 2026\n")
    assert read_rates(path) == (StatutoryRate(date(2026, 7, 1), D("0.1375"), "M.P. 2026"),)
