"""Expected failures of mutations: returned in the payload's `errors`, never raised."""

from __future__ import annotations

from dataclasses import dataclass

from models.i18n import Msg, _


@dataclass(frozen=True, slots=True)
class UserErrorData:
    field: str | None
    code: str
    message: str | Msg  # translated when the answer is written: see schema/identity.py


class Abort(Exception):
    """Raised inside a write to roll it back and answer with these errors."""

    def __init__(self, *errors: UserErrorData) -> None:
        super().__init__(errors)
        self.errors = list(errors)


def required(value: str, field: str) -> UserErrorData | None:
    if value.strip():
        return None
    message = _("{field} is required.", field=field)
    return UserErrorData(field=field, code="REQUIRED", message=message)
