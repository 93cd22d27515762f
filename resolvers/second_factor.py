"""Enrolling in, using and leaving the TOTP second factor.

Setting it up and removing it ask for the password under the per-user cap of
resolvers/attempts.py (removal counts the code too). A TOTP step and a recovery code are each
used up by a conditional UPDATE, so two parallel logins cannot both spend one.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from auth import totp
from auth.access import require_session
from auth.codes import keyed_hash
from models.i18n import _
from models.identity import RecoveryCode, User
from resolvers import outbox
from resolvers.attempts import (
    INVALID_PASSWORD,
    CaptchaAnswer,
    check_own_password,
    password_check_passed,
)
from resolvers.context import Context
from resolvers.errors import UserErrorData

_users: sa.Table = User.__table__  # type: ignore[attr-defined]
_recovery_codes: sa.Table = RecoveryCode.__table__  # type: ignore[attr-defined]

INVALID_OTP = UserErrorData(
    field="otp",
    code="INVALID_SECOND_FACTOR",
    message=_("The code from the authenticator app is wrong."),
)
ALREADY_ENABLED = UserErrorData(
    field=None, code="ALREADY_ENABLED", message=_("The second factor is on already.")
)
NO_PENDING_SETUP = UserErrorData(
    field=None, code="NO_PENDING_SETUP", message=_("Start the setup first.")
)


async def _own_user(ctx: Context, session: AsyncSession) -> User:
    """The viewer's row, locked for the unit of work: a setup, its confirmation and a removal
    of the same account run one after the other (two confirmations must not both turn the
    factor on, each with its own recovery codes)."""
    require_session(ctx.viewer)
    user = await session.get(User, ctx.viewer.user_id, with_for_update=True, populate_existing=True)
    assert user is not None  # the viewer's own account
    return user


async def setup_start(
    ctx: Context, *, password: str, captcha: CaptchaAnswer | None = None
) -> tuple[str | None, list[UserErrorData]]:
    """A new secret, pending until a first code confirms it; returns the otpauth:// URI."""
    checked = await check_own_password(
        ctx, password, captcha or CaptchaAnswer(), wrong=INVALID_PASSWORD
    )
    if isinstance(checked, UserErrorData):
        return None, [checked]
    async with ctx.db.write() as session:
        user = await _own_user(ctx, session)
        if user.totp_enabled_at:
            return None, [ALREADY_ENABLED]
        secret = totp.new_secret()
        user.totp_secret = totp.encrypt(ctx.settings.secret_key, secret)
        user.totp_last_step = None
    return totp.provisioning_uri(secret, user.email), []


async def setup_confirm(ctx: Context, *, code: str) -> tuple[list[str], list[UserErrorData]]:
    """The first code turns the factor on and yields recovery codes, shown this once."""
    async with ctx.db.write() as session:
        user = await _own_user(ctx, session)
        secret = totp.decrypt(ctx.settings.secret_key, user.totp_secret or "")
        if secret is None or user.totp_enabled_at:
            return [], [NO_PENDING_SETUP]
        step = totp.matching_step(secret, code, ctx.now, user.totp_last_step)
        if step is None:
            return [], [INVALID_OTP]
        user.totp_last_step, user.totp_enabled_at = step, ctx.now
        recovery = totp.new_recovery_codes()
        await session.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
        session.add_all(
            RecoveryCode(user_id=user.id, code_hash=keyed_hash(ctx.settings.secret_key, c))  # type: ignore[arg-type]
            for c in recovery
        )
        outbox.email_user(
            session,
            user,
            language=ctx.language,
            template="totp_enabled",
            subject=_("Second factor turned on"),
            body=_("Signing in now needs a code from your authenticator app."),
        )
    return recovery, []


async def disable(
    ctx: Context, *, password: str, otp: str, captcha: CaptchaAnswer | None = None
) -> list[UserErrorData]:
    checked = await check_own_password(
        ctx, password, captcha or CaptchaAnswer(), wrong=INVALID_PASSWORD, settle=False
    )
    if isinstance(checked, UserErrorData):
        return [checked]
    async with ctx.db.write() as session:
        user = await _own_user(ctx, session)
        if not await second_factor_ok(session, ctx, user, otp):
            return [INVALID_OTP]  # the attempt stays counted: codes are capped with the password
        await password_check_passed(session, ctx)
        user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
        await session.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
        outbox.email_user(
            session,
            user,
            language=ctx.language,
            template="totp_disabled",
            subject=_("Second factor turned off"),
            body=_(
                "Signing in no longer needs a code from the app. If this was not you, "
                "contact Customer Service."
            ),
        )
    return []


async def second_factor_ok(session: AsyncSession, ctx: Context, user: User, otp: str) -> bool:
    """A fresh TOTP code, or an unused recovery code (which is then used up)."""
    secret = totp.decrypt(ctx.settings.secret_key, user.totp_secret or "")
    if secret is not None:
        step = totp.matching_step(secret, otp, ctx.now, user.totp_last_step)
        if step is not None and await _spend_step(session, user, step):
            return True
    typed = keyed_hash(ctx.settings.secret_key, otp.strip().lower())
    query = select(RecoveryCode).where(
        col(RecoveryCode.user_id) == user.id, col(RecoveryCode.used_at).is_(None)
    )
    for recovery in (await session.execute(query)).scalars():
        if hmac.compare_digest(recovery.code_hash, typed):
            return await _spend_recovery_code(session, recovery, ctx.now)
    return False


async def _spend_step(session: AsyncSession, user: User, step: int) -> bool:
    """Move the replay guard to `step`, unless a parallel login got there first."""
    column = _users.c
    result = await session.execute(
        update(_users)
        .where(
            column.id == user.id,
            or_(column.totp_last_step.is_(None), column.totp_last_step < step),
        )
        .values(totp_last_step=step)
    )
    if int(result.rowcount or 0) != 1:  # type: ignore[attr-defined]
        return False
    set_committed_value(user, "totp_last_step", step)  # what the row holds now; nothing to flush
    return True


async def _spend_recovery_code(session: AsyncSession, code: RecoveryCode, now: datetime) -> bool:
    column = _recovery_codes.c
    result = await session.execute(
        update(_recovery_codes)
        .where(column.id == code.id, column.used_at.is_(None))
        .values(used_at=now)
    )
    return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]
