"""Checks of what people type in (numbers, dates, texts): each problem has a stable code.

GraphQL's Decimal scalar lets NaN, Infinity and 1e30 through, and Date takes any calendar day,
so without these a typo ends as "Unexpected error." (a NaN cannot even be compared) or as a
row nobody meant (an invoice due in 9999).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from models.base import MONEY_DIGITS, MONEY_PLACES
from models.i18n import _
from resolvers.errors import UserErrorData

# Numeric(14, 2) holds amounts below 10^12.
MONEY_LIMIT = Decimal(10) ** (MONEY_DIGITS - MONEY_PLACES)
EARLIEST_DATE = date(2000, 1, 1)  # nothing of LeaseHub's clients predates it
LATEST_AHEAD = timedelta(days=366)  # staff issue for the coming months, not for years ahead


def decimal_places(value: Decimal) -> int:
    """Places the value needs. A JSON number arrives as its binary float's exact expansion
    (123.45 as 123.4500000000000028…), so such a value counts as the float's shortest form."""
    as_float = float(value)
    if Decimal(as_float) == value:
        value = Decimal(repr(as_float))
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def number_error(
    value: Decimal | None,
    *,
    field: str,
    places: int = MONEY_PLACES,
    limit: Decimal = MONEY_LIMIT,
    positive: bool = False,
) -> UserErrorData | None:
    """Finite first, since a NaN raises on every comparison; then the size, places and sign."""
    if value is None:
        return None
    if not value.is_finite():
        message = _("Give a finite number.")
        return UserErrorData(field=field, code="INVALID_AMOUNT", message=message)
    if abs(value) >= limit:
        message = _("Must be less than {limit:,} in absolute value.", limit=limit)
        return UserErrorData(field=field, code="AMOUNT_TOO_LARGE", message=message)
    if decimal_places(value) > places:
        message = _("At most {places} decimal places.", places=places)
        return UserErrorData(field=field, code="TOO_MANY_DECIMALS", message=message)
    if positive and value <= 0:
        return UserErrorData(field=field, code="NOT_POSITIVE", message=_("Must be > 0."))
    return None


def date_error(value: date | None, *, field: str, today: date) -> UserErrorData | None:
    if value is None:
        return None
    latest = today + LATEST_AHEAD
    if EARLIEST_DATE <= value <= latest:
        return None
    return UserErrorData(
        field=field,
        code="DATE_OUT_OF_RANGE",
        message=_(
            "Give a date from {earliest} to {latest}.", earliest=EARLIEST_DATE, latest=latest
        ),
    )


def text_error(
    value: str, *, field: str, limit: int, required: bool = True
) -> UserErrorData | None:
    """A text typed by a person: present where required, at most `limit` characters trimmed."""
    if required and not value.strip():
        message = _("{field} is required.", field=field)
        return UserErrorData(field=field, code="REQUIRED", message=message)
    if len(value.strip()) > limit:
        message = _("At most {limit} characters.", limit=limit)
        return UserErrorData(field=field, code="TOO_LONG", message=message)
    return None


def found(*errors: UserErrorData | None) -> list[UserErrorData]:
    return [error for error in errors if error is not None]
