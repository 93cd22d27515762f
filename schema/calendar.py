"""The working-day calculator (issue 14, point 6): the calendar the tyre rules count by.

It reads nothing from the database and tells nothing about anyone, like `requestTypes` and
`messageTopics`, so it answers without sign-in: a portal can show the earliest relocation date
before the user has signed in, and it is the very calendar the relocation rules use.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from auth.errors import BadInputError
from models.calendar import (
    RELOCATION_WORKING_DAYS,
    add_working_days,
    is_working_day,
    previous_working_day,
)
from models.i18n import _
from schema.base import Info

# A year either way covers every planning question and keeps a request's work small.
MAX_WORKING_DAYS = 366

DateArgument = Annotated[date, strawberry.argument(name="date")]


def shift_working_days(*, day: date, days: int) -> date:
    """The `days`-th working day after `day` (before it when negative); `day` itself when 0."""
    if days >= 0:
        return add_working_days(day, days)
    for _step in range(-days):
        day = previous_working_day(day)
    return day


def _checked_days(days: int) -> int:
    if not -MAX_WORKING_DAYS <= days <= MAX_WORKING_DAYS:
        message = _(
            "days must be between {low} and {high}.", low=-MAX_WORKING_DAYS, high=MAX_WORKING_DAYS
        )
        raise BadInputError(message, field="days")
    return days


def _shifted(day: date, days: int) -> date:
    try:
        return shift_working_days(day=day, days=_checked_days(days))
    except OverflowError as error:  # past year 9999 or before year 1
        raise BadInputError(_("The resulting date is out of range."), field="date") from error


@strawberry.type(
    description="The Polish working-day calendar: Monday to Friday except public holidays "
    "(the `holidays` package, 24 December included from 2025). Needs no sign-in."
)
class WorkingDayCalendar:
    @strawberry.field(
        description="The days-th working day after date (date itself is not counted); before "
        f"it when days is negative; date itself when 0. |days| ≤ {MAX_WORKING_DAYS}."
    )
    def add_working_days(self, day: DateArgument, days: int) -> date:
        return _shifted(day, days)

    @strawberry.field(description="Monday to Friday and not a Polish public holiday.")
    def is_working_day(self, day: DateArgument) -> bool:
        return is_working_day(day)

    @strawberry.field(
        description=f"The earliest date a tyre relocation may be planned for: "
        f"{RELOCATION_WORKING_DAYS} working days after today in Europe/Warsaw."
    )
    def earliest_relocation_date(self, info: Info) -> date:
        return earliest_relocation_date(today=info.context.today)


def earliest_relocation_date(*, today: date) -> date:
    """A relocation takes at least RELOCATION_WORKING_DAYS working days (TYR-3)."""
    return add_working_days(today, RELOCATION_WORKING_DAYS)
