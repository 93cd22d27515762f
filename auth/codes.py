"""One-time codes and link secrets: random, keyed-hashed at rest, single use, attempt-capped.

A six-digit code has little entropy, so its hash is an HMAC under the server's secret key: a
leaked table cannot be brute-forced offline. Verification compares in constant time, counts
every wrong attempt, and kills the code at the cap.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyotp
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.identity import CodePurpose, OneTimeCode

CODE_DIGITS = 6


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """The result of a check: the live code row, or why there is none."""

    code: OneTimeCode | None
    reason: str | None = None  # INVALID_CODE, CODE_EXPIRED, TOO_MANY_ATTEMPTS


def keyed_hash(secret_key: str, value: str) -> str:
    return hmac.new(secret_key.encode(), value.encode(), hashlib.sha256).hexdigest()


def new_numeric_code(digits: int = CODE_DIGITS) -> str:
    """A random numeric code; pyotp's HOTP over a fresh random secret gives uniform digits."""
    return pyotp.HOTP(pyotp.random_base32(), digits=digits).at(secrets.randbelow(2**31))


def new_link_secret() -> str:
    return secrets.token_urlsafe(32)


async def issue(
    session: AsyncSession,
    *,
    secret_key: str,
    user_id: int,
    purpose: CodePurpose,
    secret: str,
    expires_at: datetime,
    now: datetime,
    max_attempts: int = 5,
    payload: dict[str, Any] | None = None,
) -> OneTimeCode:
    """Store a new code; any earlier live code of the same purpose for the user dies."""
    await session.execute(
        update(OneTimeCode)
        .where(
            OneTimeCode.user_id == user_id,
            OneTimeCode.purpose == purpose,
            OneTimeCode.used_at.is_(None),  # type: ignore[union-attr]
            OneTimeCode.revoked_at.is_(None),  # type: ignore[union-attr]
        )
        .values(revoked_at=now)
    )
    code = OneTimeCode(
        user_id=user_id,
        purpose=purpose,
        secret_hash=keyed_hash(secret_key, f"{purpose.value}:{user_id}:{secret}"),
        expires_at=expires_at,
        max_attempts=max_attempts,
        payload=payload or {},
    )
    session.add(code)
    await session.flush()
    return code


async def live_code(
    session: AsyncSession, *, user_id: int, purpose: CodePurpose, now: datetime
) -> OneTimeCode | None:
    query = (
        select(OneTimeCode)
        .where(
            OneTimeCode.user_id == user_id,
            OneTimeCode.purpose == purpose,
            OneTimeCode.used_at.is_(None),  # type: ignore[union-attr]
            OneTimeCode.revoked_at.is_(None),  # type: ignore[union-attr]
        )
        .order_by(OneTimeCode.id.desc())  # type: ignore[union-attr]
        .limit(1)
        .with_for_update()
    )
    code = (await session.execute(query)).scalars().first()
    return code if code is not None and code.expires_at > now else None


async def check_code(
    session: AsyncSession,
    *,
    secret_key: str,
    user_id: int,
    purpose: CodePurpose,
    secret: str,
    now: datetime,
) -> CodeCheck:
    """Check a typed code of one user; a wrong one counts, and the last allowed one kills it."""
    code = await live_code(session, user_id=user_id, purpose=purpose, now=now)
    if code is None:
        return CodeCheck(None, "CODE_EXPIRED")
    expected = keyed_hash(secret_key, f"{purpose.value}:{user_id}:{secret.strip()}")
    if hmac.compare_digest(expected, code.secret_hash):
        code.used_at = now
        return CodeCheck(code)
    code.attempts += 1
    if code.attempts >= code.max_attempts:
        code.revoked_at = now
        return CodeCheck(None, "TOO_MANY_ATTEMPTS")
    return CodeCheck(None, "INVALID_CODE")


async def redeem_link(
    session: AsyncSession, *, secret_key: str, purpose: CodePurpose, token: str, now: datetime
) -> OneTimeCode | None:
    """A link carries `<code id>.<secret>`: find that code, check and use it up."""
    code_id, _, secret = token.partition(".")
    if not code_id.isdigit() or not secret:
        return None
    code = await session.get(OneTimeCode, int(code_id), with_for_update=True)
    if code is None or code.purpose is not purpose or code.used_at or code.revoked_at:
        return None
    if code.expires_at <= now:
        return None
    expected = keyed_hash(secret_key, f"{purpose.value}:{code.user_id}:{secret}")
    if not hmac.compare_digest(expected, code.secret_hash):
        return None
    code.used_at = now
    return code


def link_token(code: OneTimeCode, secret: str) -> str:
    return f"{code.id}.{secret}"
