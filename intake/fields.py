"""Parsers of one cell each: text in, a typed value out, or a coded problem (the API's codes).

Cells arrive as text (CSV), as typed values (XLSX numbers and dates, JSON numbers): `as_text`
brings them to one form first, so a value means the same whatever file carried it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from auth.scopes import Scope
from models.i18n import Msg, _
from models.identifiers import (
    is_valid_iban,
    is_valid_ksef_number,
    is_valid_nip,
    is_valid_regon,
)
from resolvers.profile import NOT_AN_EMAIL
from resolvers.validation import date_error, number_error

Parser = Callable[[str], Any]


class Problem(Exception):
    """A cell that cannot be taken: its code and message (the row and field are added later)."""

    def __init__(self, code: str, message: str | Msg) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


def as_text(value: Any) -> str | None:
    """One text form for every file type; empty cells are None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value) or None
    if isinstance(value, float):
        # A spreadsheet stores 1234567890 and 12.3 as floats: their shortest form is meant.
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).strip()
    return text or None


def text(limit: int) -> Parser:
    def parse(value: str) -> str:
        if len(value) > limit:
            raise Problem("TOO_LONG", _("At most {limit} characters.", limit=limit))
        return value

    return parse


def money(value: str) -> Decimal:
    """To the grosz, never rounded: "12.345" is refused, like the API's amounts."""
    try:
        amount = Decimal(value.replace(" ", ""))
    except InvalidOperation:
        raise Problem("INVALID_AMOUNT", _("Give an amount such as 1234.50.")) from None
    if error := number_error(amount, field=""):
        raise Problem(error.code, error.message)
    return amount


def whole(value: str) -> int:
    if not (value.isascii() and value.lstrip("-").isdigit()) or len(value) > 9:
        raise Problem("INVALID_NUMBER", _("Give a whole number."))
    return int(value)


def rate(value: str) -> Decimal:
    """A fraction such as 0.0899 for 8.99 %."""
    try:
        fraction = Decimal(value)
    except InvalidOperation:
        raise Problem("INVALID_NUMBER", _("Give a fraction such as 0.0899.")) from None
    if error := number_error(fraction, field="", places=4, limit=Decimal(1000)):
        raise Problem(error.code, error.message)
    return fraction


def iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Problem("INVALID_DATE", _("Give a date as YYYY-MM-DD.")) from None


def dated(today: date) -> Parser:
    """A date an invoice or payment carries: within the range the API accepts."""

    def parse(value: str) -> date:
        day = iso_date(value)
        if error := date_error(day, field="", today=today):
            raise Problem(error.code, error.message)
        return day

    return parse


def flag(value: str) -> bool:
    lowered = value.lower()
    if lowered in ("true", "1", "yes", "tak"):
        return True
    if lowered in ("false", "0", "no", "nie"):
        return False
    raise Problem("INVALID_BOOLEAN", _("Give true or false."))


def choice(enum_cls: type[enum.Enum]) -> Parser:
    def parse(value: str) -> Any:
        try:
            return enum_cls(value)
        except ValueError:
            allowed = ", ".join(str(member.value) for member in enum_cls)
            raise Problem("INVALID_CHOICE", _("One of: {allowed}.", allowed=allowed)) from None

    return parse


@dataclass(frozen=True, slots=True)
class _Checked:
    code: str
    message: Msg
    valid: Callable[[str], bool]
    clean: Callable[[str], str]

    def __call__(self, value: str) -> str:
        cleaned = self.clean(value)
        if not self.valid(cleaned):
            raise Problem(self.code, self.message)
        return cleaned


def _digits(value: str) -> str:
    """NIP and REGON as people write them: dashes, spaces, a PL prefix."""
    value = value.upper().removeprefix("PL")
    return "".join(ch for ch in value if ch not in " -")


nip = _Checked("INVALID_NIP", _("Not a valid NIP."), is_valid_nip, _digits)
regon = _Checked("INVALID_REGON", _("Not a valid REGON."), is_valid_regon, _digits)
iban = _Checked(
    "INVALID_IBAN", _("Not a valid IBAN."), is_valid_iban, lambda v: v.replace(" ", "").upper()
)
ksef = _Checked("INVALID_KSEF", _("Not a valid KSeF number."), is_valid_ksef_number, str.upper)
email = _Checked(
    "INVALID_EMAIL",
    NOT_AN_EMAIL,
    lambda v: v.count("@") == 1 and "." in v.partition("@")[2] and " " not in v,
    str.lower,
)


def scopes(value: str) -> list[str]:
    """Scope values (auth/scopes.py) separated by spaces or commas, sorted, each once."""
    given = value.replace(",", " ").split()
    unknown = [name for name in given if name not in Scope._value2member_map_]
    if unknown:
        message = _("Unknown scopes: {scopes}.", scopes=", ".join(unknown))
        raise Problem("INVALID_SCOPE", message)
    return sorted(set(given))
