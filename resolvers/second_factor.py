"""Enrolling in, using and leaving the TOTP second factor."""

from __future__ import annotations

import hmac

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth import totp
from auth.access import require_session
from auth.codes import keyed_hash
from auth.passwords import verify_password
from models.identity import RecoveryCode, User
from resolvers import outbox
from resolvers.context import Context
from resolvers.errors import UserErrorData

INVALID_PASSWORD = UserErrorData(
    field="password", code="INVALID_PASSWORD", message="The password is wrong."
)
INVALID_OTP = UserErrorData(
    field="otp",
    code="INVALID_SECOND_FACTOR",
    message="The code from the authenticator app is wrong.",
)


async def _own_user(ctx: Context, session: AsyncSession) -> User:
    require_session(ctx.viewer)
    user = await session.get(User, ctx.viewer.user_id)
    assert user is not None  # the viewer's own account
    return user


async def setup_start(ctx: Context, *, password: str) -> tuple[str | None, list[UserErrorData]]:
    """A new secret, pending until a first code confirms it; returns the otpauth:// URI."""
    async with ctx.db.write() as session:
        user = await _own_user(ctx, session)
        if not verify_password(user.password_hash, password):
            return None, [INVALID_PASSWORD]
        if user.totp_enabled_at:
            return None, [
                UserErrorData(
                    field=None, code="ALREADY_ENABLED", message="The second factor is on already."
                )
            ]
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
            return [], [
                UserErrorData(field=None, code="NO_PENDING_SETUP", message="Start the setup first.")
            ]
        step = totp.matching_step(secret, code, ctx.now, user.totp_last_step)
        if step is None:
            return [], [INVALID_OTP]
        user.totp_last_step, user.totp_enabled_at = step, ctx.now
        recovery = totp.new_recovery_codes()
        await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        session.add_all(
            RecoveryCode(user_id=user.id, code_hash=keyed_hash(ctx.settings.secret_key, c))  # type: ignore[arg-type]
            for c in recovery
        )
        outbox.email_user(
            session,
            user,
            template="totp_enabled",
            subject="Włączono drugi składnik",
            body="Logowanie wymaga teraz kodu z aplikacji uwierzytelniającej.",
        )
    return recovery, []


async def disable(ctx: Context, *, password: str, otp: str) -> list[UserErrorData]:
    async with ctx.db.write() as session:
        user = await _own_user(ctx, session)
        if not verify_password(user.password_hash, password):
            return [INVALID_PASSWORD]
        if not await second_factor_ok(session, ctx, user, otp):
            return [INVALID_OTP]
        user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
        await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        outbox.email_user(
            session,
            user,
            template="totp_disabled",
            subject="Wyłączono drugi składnik",
            body="Logowanie nie wymaga już kodu z aplikacji. Jeśli to nie Ty, "
            "skontaktuj się z Działem Obsługi Klienta.",
        )
    return []


async def second_factor_ok(session: AsyncSession, ctx: Context, user: User, otp: str) -> bool:
    """A fresh TOTP code, or an unused recovery code (which is then used up)."""
    secret = totp.decrypt(ctx.settings.secret_key, user.totp_secret or "")
    if secret is not None:
        step = totp.matching_step(secret, otp, ctx.now, user.totp_last_step)
        if step is not None:
            user.totp_last_step = step
            return True
    typed = keyed_hash(ctx.settings.secret_key, otp.strip().lower())
    query = select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
    )  # type: ignore[union-attr]
    for recovery in (await session.execute(query)).scalars():
        if hmac.compare_digest(recovery.code_hash, typed):
            recovery.used_at = ctx.now
            return True
    return False
