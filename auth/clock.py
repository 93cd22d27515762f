"""Deadlines in the Polish business calendar: "until midnight" means Europe/Warsaw."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WARSAW = ZoneInfo("Europe/Warsaw")


def warsaw_today(now: datetime) -> date:
    return now.astimezone(WARSAW).date()


def warsaw_day_start(day: date) -> datetime:
    """The midnight that begins `day` in Warsaw, as a UTC instant."""
    return datetime.combine(day, time.min, tzinfo=WARSAW).astimezone(UTC)


def warsaw_midnight_after(now: datetime, *, days: int = 0) -> datetime:
    """The midnight that ends the Warsaw day `days` after today's, as a UTC instant.

    days=0: the end of today (an SMS code "valid until midnight"); days=1: the end of tomorrow
    (an activation link "valid until midnight of the next day"). DST is handled by the zone.
    """
    return warsaw_day_start(warsaw_today(now) + timedelta(days=days + 1))
