"""Errors that are safe to show a client; anything else is masked as "Unexpected error."."""

from __future__ import annotations

from typing import Any

from models.i18n import Msg, _

SIGN_IN = _("Sign in to see this.")
NO_PERMISSION = _("You do not have permission to see this.")
BUSY = _("The service is busy; try again in a moment.")
NOT_FOUND = _("Not found.")


class PublicError(Exception):
    """An expected failure with a stable `code`; graphql-core copies `extensions` to the error.

    `text` is the message in no language yet: the schema translates it into the request's
    language when the answer is written. `message` is its English text, for the few places
    that answer outside GraphQL, before any language is known.
    """

    code = "BAD_REQUEST"

    def __init__(self, message: str | Msg, *, field: str | None = None) -> None:
        super().__init__(str(message))
        self.text = message
        self.message = str(message)
        self.field = field
        self.extensions: dict[str, Any] = {"code": self.code}
        if field is not None:
            self.extensions["field"] = field


class UnauthenticatedError(PublicError):
    code = "UNAUTHENTICATED"

    def __init__(self, message: str | Msg = SIGN_IN) -> None:
        super().__init__(message)


class ForbiddenError(PublicError):
    code = "FORBIDDEN"

    def __init__(self, message: str | Msg = NO_PERMISSION) -> None:
        super().__init__(message)


class NotFoundError(PublicError):
    """One answer for "missing" and "someone else's", so ids cannot be probed."""

    code = "NOT_FOUND"

    def __init__(self, *, field: str | None = "id") -> None:
        super().__init__(NOT_FOUND, field=field)


class BadInputError(PublicError):
    code = "BAD_USER_INPUT"


class ServiceUnavailableError(PublicError):
    """The database cannot take the request now (pool exhausted, connection lost): retry soon."""

    code = "SERVICE_UNAVAILABLE"

    def __init__(self, message: str | Msg = BUSY) -> None:
        super().__init__(message)
