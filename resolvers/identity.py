"""Login and logout (the rest of identity arrives with issue #3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from auth.access import require_authenticated
from auth.sessions import end_session, start_session
from resolvers.context import Context


@dataclass(frozen=True, slots=True)
class UserErrorData:
    field: str | None
    code: str
    message: str


INVALID_CREDENTIALS = UserErrorData(
    field=None, code="INVALID_CREDENTIALS", message="The login or the password is wrong."
)


def _required(value: str, field: str) -> UserErrorData | None:
    if value.strip():
        return None
    return UserErrorData(field=field, code="REQUIRED", message=f"{field} is required.")


async def login(
    ctx: Context, *, login: str, password: str
) -> tuple[str | None, list[UserErrorData]]:
    """The session secret, or errors; a wrong login and a wrong password look the same."""
    errors = [e for e in (_required(login, "login"), _required(password, "password")) if e]
    if errors:
        return None, errors
    async with ctx.db.write() as session:
        secret = await start_session(
            session,
            login=login,
            password=password,
            now=ctx.now,
            ttl=timedelta(hours=ctx.settings.session_ttl_hours),
        )
    return (secret, []) if secret else (None, [INVALID_CREDENTIALS])


async def logout(ctx: Context) -> None:
    require_authenticated(ctx.viewer)
    assert ctx.viewer.token_id is not None  # an authenticated viewer always has its token
    async with ctx.db.write() as session:
        await end_session(session, token_id=ctx.viewer.token_id, now=ctx.now)
