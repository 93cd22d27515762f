"""Login and logout, with throttling an attacker cannot turn against the account's owner.

Failed logins are counted per account (whichever login form named it, or the typed login when
it names nobody, so both look alike) and per client IP. Past the account's limit the answer asks
for a captcha instead of locking the owner out; past the IP's limit it asks to wait.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from auth import throttle
from auth.access import require_authenticated
from auth.sessions import check_credentials, create_session, end_session, find_user_by_login
from auth.throttle import Limit
from resolvers.context import Context
from resolvers.errors import UserErrorData, required
from resolvers.second_factor import INVALID_OTP, second_factor_ok

INVALID_CREDENTIALS = UserErrorData(
    field=None, code="INVALID_CREDENTIALS", message="The login or the password is wrong."
)
CAPTCHA_REQUIRED = UserErrorData(
    field="captchaAnswer",
    code="CAPTCHA_REQUIRED",
    message="Too many failed attempts for this login: solve the captcha to go on.",
)
SECOND_FACTOR_REQUIRED = UserErrorData(
    field="otp",
    code="SECOND_FACTOR_REQUIRED",
    message="Enter the code from your authenticator app (or a recovery code).",
)
TOO_MANY_ATTEMPTS = UserErrorData(
    field=None,
    code="TOO_MANY_ATTEMPTS",
    message="Too many failed attempts from your network: wait a few minutes and try again.",
)


async def captcha_solved(
    ctx: Context, session: AsyncSession, challenge: str | None, answer: str | None
) -> bool:
    """A right answer to an unused challenge; the challenge is used up either way."""
    if not challenge or not answer:
        return False
    solution = ctx.captcha.verify(challenge, answer, now=ctx.now)
    if solution is None:
        return False
    key = f"captcha:{solution.nonce}"
    window = timedelta(hours=1)
    if await throttle.count_recent(session, key=key, now=ctx.now, window=window):
        return False
    throttle.record(session, key=key, now=ctx.now)
    return True


def login_account_key(ctx: Context, *, user_id: int | None, login: str) -> str:
    """Failures count per account whichever login named it; an unknown login counts as itself."""
    account = f"user:{user_id}" if user_id is not None else login
    return throttle.throttle_key(ctx.settings.secret_key, "login-account", account)


async def login(
    ctx: Context,
    *,
    login: str,
    password: str,
    captcha_id: str | None = None,
    captcha_answer: str | None = None,
    otp: str | None = None,
) -> tuple[str | None, list[UserErrorData]]:
    """The session secret, or errors; a wrong login and a wrong password look the same."""
    errors = [e for e in (required(login, "login"), required(password, "password")) if e]
    if errors:
        return None, errors
    settings = ctx.settings
    window = timedelta(minutes=settings.login_window_minutes)
    async with ctx.db.write() as session:
        ip_key = throttle.throttle_key(settings.secret_key, "login-ip", ctx.client_ip)
        if await throttle.is_over(
            session, key=ip_key, now=ctx.now, limit=Limit(settings.login_failures_per_ip, window)
        ):
            return None, [TOO_MANY_ATTEMPTS]
        named = await find_user_by_login(session, login=login)
        account_key = login_account_key(ctx, user_id=named.id if named else None, login=login)
        limit = Limit(settings.login_failures_per_account, window)
        if await throttle.is_over(session, key=account_key, now=ctx.now, limit=limit) and not (
            await captcha_solved(ctx, session, captcha_id, captcha_answer)
        ):
            return None, [CAPTCHA_REQUIRED]
        user = await check_credentials(session, login=login, password=password)
        failure = INVALID_CREDENTIALS if user is None else None
        if user is not None and user.totp_enabled_at:
            if not otp:
                return None, [SECOND_FACTOR_REQUIRED]
            if not await second_factor_ok(session, ctx, user, otp):
                failure = INVALID_OTP
        if failure is not None or user is None:
            throttle.record(session, key=account_key, now=ctx.now)
            throttle.record(session, key=ip_key, now=ctx.now)
            return None, [failure or INVALID_CREDENTIALS]
        await throttle.forget(session, key=account_key)
        ttl = timedelta(hours=settings.session_ttl_hours)
        return create_session(session, user=user, now=ctx.now, ttl=ttl), []


async def logout(ctx: Context) -> None:
    require_authenticated(ctx.viewer)
    assert ctx.viewer.token_id is not None  # an authenticated viewer always has its token
    async with ctx.db.write() as session:
        await end_session(session, token_id=ctx.viewer.token_id, now=ctx.now)
