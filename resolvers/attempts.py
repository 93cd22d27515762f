"""Caps on attempts as every flow applies them: count first, then check.

An attempt takes a slot of its key's counter (auth/throttle.py) in a short transaction of its
own before the password is checked: past the cap nothing is even checked, and no lock is held
while argon2 runs in the hashing pool. A right password gives the slot back. Past the cap a
solved captcha, usable once, lets a single attempt through, so an owner is never locked out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from auth import throttle
from auth.access import require_session
from auth.captcha import LIFETIME as CAPTCHA_LIFETIME
from auth.sessions import password_matches
from auth.throttle import Limit
from models.i18n import _
from models.identity import User
from resolvers.context import Context
from resolvers.errors import UserErrorData

PASSWORD_CAPTCHA_REQUIRED = UserErrorData(
    field="captchaAnswer",
    code="CAPTCHA_REQUIRED",
    message=_("Too many wrong passwords: solve the captcha to go on."),
)


@dataclass(frozen=True, slots=True)
class CaptchaAnswer:
    """What the caller typed for a captcha, when the flow asked for one."""

    challenge: str | None = None
    answer: str | None = None


@dataclass(frozen=True, slots=True)
class CheckedPassword:
    user: User
    password_hash: str  # the hash that matched: a later write can be conditional on it


async def captcha_solved(ctx: Context, session: AsyncSession, captcha: CaptchaAnswer) -> bool:
    """A right answer to a challenge never used before; this call uses it up.

    Used up means a row with the challenge's nonce under a unique key: of parallel requests
    with one solved captcha, exactly one inserts it.
    """
    if not captcha.challenge or not captcha.answer:
        return False
    solution = ctx.captcha.verify(captcha.challenge, captcha.answer, now=ctx.now)
    if solution is None:
        return False
    until = ctx.now + CAPTCHA_LIFETIME
    return await throttle.claim(session, key=f"captcha:{solution.nonce}", until=until)


def login_window(ctx: Context) -> timedelta:
    return timedelta(minutes=ctx.settings.login_window_minutes)


def password_check_key(ctx: Context) -> str:
    """One budget per signed-in user for every flow that asks for the password again."""
    user = f"user:{ctx.viewer.user_id}"
    return throttle.throttle_key(ctx.settings.secret_key, "password-check", user)


INVALID_PASSWORD = UserErrorData(
    field="password", code="INVALID_PASSWORD", message=_("The password is wrong.")
)


async def check_own_password(
    ctx: Context,
    password: str,
    captcha: CaptchaAnswer,
    *,
    wrong: UserErrorData,
    settle: bool = True,
) -> CheckedPassword | UserErrorData:
    """The signed-in user's password, checked under the per-user cap.

    `settle=False` leaves the slot taken for a caller that checks more (a second-factor code)
    and calls `password_check_passed` in its own transaction once everything is right.
    """
    require_session(ctx.viewer)
    limit = Limit(ctx.settings.password_checks_per_user, login_window(ctx))
    async with ctx.db.write() as session:
        user = await session.get(User, ctx.viewer.user_id)
        assert user is not None  # the viewer's own account
        admitted = await throttle.take(
            session, key=password_check_key(ctx), limit=limit, now=ctx.now
        ) or await captcha_solved(ctx, session, captcha)
    if not admitted:
        return PASSWORD_CAPTCHA_REQUIRED
    workers = ctx.settings.password_hash_workers
    if user.password_hash is None or not await password_matches(user, password, workers=workers):
        return wrong
    if settle:
        async with ctx.db.write() as session:
            await password_check_passed(session, ctx)
    return CheckedPassword(user, user.password_hash)


async def password_check_passed(session: AsyncSession, ctx: Context) -> None:
    await throttle.forget(session, key=password_check_key(ctx))
