"""Errors that are safe to show a client; anything else is masked as "Unexpected error."."""

from __future__ import annotations

from typing import Any


class PublicError(Exception):
    """An expected failure with a stable `code`; graphql-core copies `extensions` to the error."""

    code = "BAD_REQUEST"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extensions: dict[str, Any] = {"code": self.code}
        if field is not None:
            self.extensions["field"] = field


class UnauthenticatedError(PublicError):
    code = "UNAUTHENTICATED"

    def __init__(self, message: str = "Sign in to see this.") -> None:
        super().__init__(message)


class ForbiddenError(PublicError):
    code = "FORBIDDEN"

    def __init__(self, message: str = "You do not have permission to see this.") -> None:
        super().__init__(message)


class NotFoundError(PublicError):
    """One answer for "missing" and "someone else's", so ids cannot be probed."""

    code = "NOT_FOUND"

    def __init__(self, *, field: str | None = "id") -> None:
        super().__init__("Not found.", field=field)


class BadInputError(PublicError):
    code = "BAD_USER_INPUT"
