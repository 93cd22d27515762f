"""Login and logout, with throttling an attacker cannot turn against the account's owner.

Failed logins are counted per account (whichever login form named it, or the typed login when
it names nobody, so both look alike) and per client IP, before the password is checked (see
resolvers/attempts.py): past either limit the password is not even looked at. Past the
account's limit the answer asks for a captcha instead of locking the owner out; past the IP's
limit it asks to wait or to solve a captcha, so one noisy neighbour behind an office's shared
address cannot keep everyone else out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from auth import throttle
from auth.access import require_authenticated
from auth.passwords import hash_in_worker, needs_rehash
from auth.sessions import create_session, end_session, find_user_by_login, password_matches
from auth.throttle import Limit
from models.i18n import _
from models.identity import User
from resolvers.attempts import CaptchaAnswer, captcha_solved, login_window
from resolvers.context import Context
from resolvers.errors import Abort, UserErrorData, required
from resolvers.second_factor import INVALID_OTP, second_factor_ok

INVALID_CREDENTIALS = UserErrorData(
    field=None, code="INVALID_CREDENTIALS", message=_("The login or the password is wrong.")
)
CAPTCHA_REQUIRED = UserErrorData(
    field="captchaAnswer",
    code="CAPTCHA_REQUIRED",
    message=_("Too many failed attempts for this login: solve the captcha to go on."),
)
SECOND_FACTOR_REQUIRED = UserErrorData(
    field="otp",
    code="SECOND_FACTOR_REQUIRED",
    message=_("Enter the code from your authenticator app (or a recovery code)."),
)
STAFF_PASSWORD_LOGIN_OFF = UserErrorData(
    field=None,
    code="STAFF_PASSWORD_LOGIN_OFF",
    message=_("Staff sign in through the company's sign-in provider, not with a password."),
)
TOO_MANY_ATTEMPTS = UserErrorData(
    field=None,
    code="TOO_MANY_ATTEMPTS",
    message=_(
        "Too many failed attempts from your network: wait a few minutes or solve the "
        "captcha to go on."
    ),
)


def login_account_key(ctx: Context, *, user_id: int | None, login: str) -> str:
    """Failures count per account whichever login named it; an unknown login counts as itself."""
    account = f"user:{user_id}" if user_id is not None else login
    return throttle.throttle_key(ctx.settings.secret_key, "login-account", account)


@dataclass(frozen=True, slots=True)
class Admission:
    """A login attempt let through to the password check, and the slots it took."""

    user: User | None
    account_key: str
    ip_key: str
    took_account: bool
    took_ip: bool


async def _admit(ctx: Context, login: str, captcha: CaptchaAnswer) -> Admission | UserErrorData:
    """Take a slot under the IP's and the account's cap, or spend a solved captcha past them."""
    settings, window = ctx.settings, login_window(ctx)
    ip_key = throttle.throttle_key(settings.secret_key, "login-ip", ctx.client_ip)
    try:
        async with ctx.db.write() as session:
            named = await find_user_by_login(session, login=login)
            account_key = login_account_key(ctx, user_id=named.id if named else None, login=login)
            ip_limit = Limit(settings.login_failures_per_ip, window)
            took_ip = await throttle.take(session, key=ip_key, limit=ip_limit, now=ctx.now)
            account_limit = Limit(settings.login_failures_per_account, window)
            took_account = await throttle.take(
                session, key=account_key, limit=account_limit, now=ctx.now
            )
            if not (took_ip and took_account) and not await captcha_solved(ctx, session, captcha):
                # Rolled back: a refused attempt counts under neither key.
                raise Abort(CAPTCHA_REQUIRED if took_ip else TOO_MANY_ATTEMPTS)
    except Abort as abort:
        return abort.errors[0]
    return Admission(named, account_key, ip_key, took_account, took_ip)


async def _give_back(session: AsyncSession, admission: Admission) -> None:
    """A right password was no failure: its slots go back.

    Counter rows are always locked IP first, then account, as `_admit` takes them: the other
    order deadlocks against a parallel login from the same address on PostgreSQL.
    """
    if admission.took_ip:
        await throttle.give_back(session, key=admission.ip_key)
    if admission.took_account:
        await throttle.give_back(session, key=admission.account_key)


def _failed(
    session: AsyncSession, ctx: Context, admission: Admission, error: UserErrorData
) -> tuple[None, list[UserErrorData]]:
    """The slots stay taken; the failure also goes into the history staff see."""
    throttle.record(session, key=admission.account_key, now=ctx.now)
    return None, [error]


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
    admission = await _admit(ctx, login, CaptchaAnswer(captcha_id, captcha_answer))
    if isinstance(admission, UserErrorData):
        return None, [admission]
    workers = ctx.settings.password_hash_workers
    matches = await password_matches(admission.user, password, workers=workers)
    rehashed = await _rehashed(admission.user, password, workers) if matches else None
    async with ctx.db.write() as session:
        user = await _still_checked(session, admission) if matches else None
        if user is None:
            return _failed(session, ctx, admission, INVALID_CREDENTIALS)
        if user.staff_role is not None and not ctx.settings.staff_password_login:
            # Only after the password: a guessed login must not learn that it is staff's.
            await _give_back(session, admission)
            return None, [STAFF_PASSWORD_LOGIN_OFF]
        if user.totp_enabled_at and not otp:
            await _give_back(session, admission)
            return None, [SECOND_FACTOR_REQUIRED]
        if user.totp_enabled_at and not await second_factor_ok(session, ctx, user, otp or ""):
            return _failed(session, ctx, admission, INVALID_OTP)
        if admission.took_ip:  # IP first, as everywhere (see _give_back)
            await throttle.give_back(session, key=admission.ip_key)
        await throttle.forget(session, key=admission.account_key)
        if rehashed is not None:
            user.password_hash = rehashed
        return create_session(session, user=user, now=ctx.now, ttl=_session_ttl(ctx)), []


async def _still_checked(session: AsyncSession, admission: Admission) -> User | None:
    """The user, locked, if the password checked outside the transaction is still theirs: a
    password changed or reset meanwhile ended every session, and this one must not follow."""
    if admission.user is None:
        return None
    user = await session.get(User, admission.user.id, with_for_update=True, populate_existing=True)
    if user is None or user.password_hash != admission.user.password_hash:
        return None
    return user


async def _rehashed(user: User | None, password: str, workers: int) -> str | None:
    """A new hash when the stored one uses older argon2 parameters than today's."""
    if user is None or user.password_hash is None or not needs_rehash(user.password_hash):
        return None
    return await hash_in_worker(password, workers=workers)


def _session_ttl(ctx: Context) -> timedelta:
    return timedelta(hours=ctx.settings.session_ttl_hours)


async def logout(ctx: Context) -> None:
    require_authenticated(ctx.viewer)
    viewer = ctx.viewer
    assert viewer.token_id is not None and viewer.user_id is not None  # authenticated: both
    async with ctx.db.write() as session:
        await end_session(session, token_id=viewer.token_id, user_id=viewer.user_id, now=ctx.now)
