"""The working-day calculator (issue 14, point 6): the 4-working-day relocation boundary in
Europe/Warsaw, over weekends and Polish public holidays, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from tests.conftest import Hub
from tests.schema.helpers import error_codes

BOUNDARY = """query($today: Date!) { calendar {
  earliestRelocationDate
  threeAhead: addWorkingDays(date: $today, days: 3)
  fourAhead: addWorkingDays(date: $today, days: 4) } }"""
ADD = "query($d: Date!, $n: Int!) { calendar { addWorkingDays(date: $d, days: $n) } }"
IS_WORKING = "query($d: Date!) { calendar { isWorkingDay(date: $d) } }"

# Noon in Warsaw on `today` (UTC+1 or +2: either way the same Warsaw day), 3 and 4 working days on.
BOUNDARIES = {
    "ordinary week": (date(2026, 5, 11), date(2026, 5, 14), date(2026, 5, 15)),
    "over a weekend": (date(2026, 5, 14), date(2026, 5, 19), date(2026, 5, 20)),
    "over 1 November": (date(2027, 10, 29), date(2027, 11, 4), date(2027, 11, 5)),
    "over 11 November": (date(2027, 11, 9), date(2027, 11, 15), date(2027, 11, 16)),
    "over Easter Monday": (date(2026, 4, 2), date(2026, 4, 8), date(2026, 4, 9)),
    "over 24-26 December": (date(2026, 12, 22), date(2026, 12, 29), date(2026, 12, 30)),
}


async def _boundary_at(hub: Hub, moment: datetime, today: date) -> dict[str, str]:
    with time_machine.travel(moment, tick=True):
        body = await hub.gql(BOUNDARY, {"today": today.isoformat()})
    assert "errors" not in body, body["errors"]
    return body["data"]["calendar"]


@pytest.mark.parametrize("case", BOUNDARIES.values(), ids=BOUNDARIES.keys())
async def test_earliest_relocation_is_four_working_days_after_today(
    hub: Hub, case: tuple[date, date, date]
) -> None:
    today, three, four = case
    noon_in_warsaw = datetime(today.year, today.month, today.day, 10, 30, tzinfo=UTC)
    found = await _boundary_at(hub, noon_in_warsaw, today)
    assert found == {
        "earliestRelocationDate": four.isoformat(),
        "threeAhead": three.isoformat(),
        "fourAhead": four.isoformat(),
    }


# Late on a Thursday in Warsaw, and half an hour after that Friday began there (still Thursday
# in UTC), on the weeks clocks change: the Warsaw day decides, and the span crosses the change.
LATE_EVENINGS = {
    "spring forward, Thursday 23:50 CET": (
        datetime(2026, 3, 26, 22, 50, tzinfo=UTC),
        date(2026, 4, 1),
    ),
    "spring forward, Friday 00:30 CET": (
        datetime(2026, 3, 26, 23, 30, tzinfo=UTC),
        date(2026, 4, 2),
    ),
    "fall back, Thursday 23:50 CEST": (
        datetime(2026, 10, 22, 21, 50, tzinfo=UTC),
        date(2026, 10, 28),
    ),
    "fall back, Friday 00:30 CEST": (
        datetime(2026, 10, 22, 22, 30, tzinfo=UTC),
        date(2026, 10, 29),
    ),
}


@pytest.mark.parametrize("case", LATE_EVENINGS.values(), ids=LATE_EVENINGS.keys())
async def test_today_is_the_warsaw_day_late_in_the_evening_across_a_clock_change(
    hub: Hub, case: tuple[datetime, date]
) -> None:
    moment, earliest = case
    with time_machine.travel(moment, tick=True):
        body = await hub.gql("{ calendar { earliestRelocationDate } }")
    assert body["data"]["calendar"]["earliestRelocationDate"] == earliest.isoformat()


async def test_working_days_skip_holidays_and_count_back_when_negative(hub: Hub) -> None:
    async def working(day: str) -> bool:
        body = await hub.gql(IS_WORKING, {"d": day})
        return bool(body["data"]["calendar"]["isWorkingDay"])

    async def add(day: str, days: int) -> str:
        body = await hub.gql(ADD, {"d": day, "n": days})
        return str(body["data"]["calendar"]["addWorkingDays"])

    assert [await working(d) for d in ("2026-12-23", "2026-12-24", "2026-04-06", "2026-05-16")] == [
        True,
        False,
        False,
        False,
    ]
    assert await add("2026-12-28", -1) == "2026-12-23"
    assert await add("2026-12-24", 0) == "2026-12-24"
    assert await add("2026-12-23", 1) == "2026-12-28"


async def test_days_out_of_range_and_dates_past_the_calendar_are_coded_errors(hub: Hub) -> None:
    too_many = await hub.gql(ADD, {"d": "2026-05-11", "n": 367}, headers={"Accept-Language": "en"})
    assert error_codes(too_many) == ["BAD_USER_INPUT"]
    assert too_many["errors"][0]["extensions"]["field"] == "days"
    assert too_many["errors"][0]["message"] == "days must be between -366 and 366."
    past_the_end = await hub.gql(ADD, {"d": "9999-12-30", "n": 5})
    assert error_codes(past_the_end) == ["BAD_USER_INPUT"]
    assert past_the_end["errors"][0]["extensions"]["field"] == "date"


async def test_calendar_needs_no_sign_in(hub: Hub) -> None:
    anonymous = await hub.gql('{ calendar { isWorkingDay(date: "2026-11-11") } }')
    assert "errors" not in anonymous
    assert anonymous["data"] == {"calendar": {"isWorkingDay": False}}
