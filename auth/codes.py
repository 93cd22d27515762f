"""One-time codes and link secrets: random, keyed-hashed at rest, single use, attempt-capped.

A six-digit code has little entropy, so its hash is an HMAC under the server's secret key: a
leaked table cannot be brute-forced offline. Every attempt is counted by a conditional UPDATE
guarded by the cap *before* the comparison (so parallel guesses cannot outrun the cap), the
comparison is constant-time, and using up or killing a code is a conditional UPDATE too.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyotp
import sqlalchemy as sa
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.base import parse_id
from models.identity import CodePurpose, OneTimeCode

CODE_DIGITS = 6
# Core statements on the table: conditional updates whose match count decides, never ORM flushes.
_codes: sa.Table = OneTimeCode.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """The result of a check: the live code row, or why there is none."""

    code: OneTimeCode | None
    reason: str | None = None  # INVALID_CODE, CODE_EXPIRED, TOO_MANY_ATTEMPTS


def keyed_hash(secret_key: str, value: str) -> str:
    return hmac.new(secret_key.encode(), value.encode(), hashlib.sha256).hexdigest()


def secret_hash(secret_key: str, purpose: CodePurpose, user_id: int, secret: str) -> str:
    """What is stored of a code or link secret: keyed by purpose and user, so neither moves."""
    return keyed_hash(secret_key, f"{purpose.value}:{user_id}:{secret}")


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
            col(OneTimeCode.user_id) == user_id,
            col(OneTimeCode.purpose) == purpose,
            col(OneTimeCode.used_at).is_(None),
            col(OneTimeCode.revoked_at).is_(None),
        )
        .values(revoked_at=now)
    )
    code = OneTimeCode(
        user_id=user_id,
        purpose=purpose,
        secret_hash=secret_hash(secret_key, purpose, user_id, secret),
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
            col(OneTimeCode.user_id) == user_id,
            col(OneTimeCode.purpose) == purpose,
            col(OneTimeCode.used_at).is_(None),
            col(OneTimeCode.revoked_at).is_(None),
        )
        .order_by(col(OneTimeCode.id).desc())
        .limit(1)
    )
    code = (await session.execute(query)).scalars().first()
    return code if code is not None and code.expires_at > now else None


def _still_live(code_id: int) -> list[Any]:
    return [
        _codes.c.id == code_id,
        _codes.c.used_at.is_(None),
        _codes.c.revoked_at.is_(None),
    ]


async def _count_attempt(session: AsyncSession, code_id: int) -> tuple[int, int] | None:
    """Count one attempt before comparing; None when the cap (or a use) got there first.

    One conditional UPDATE guarded by the cap: however many requests race, at most
    `max_attempts` of them are ever compared.
    """
    result = await session.execute(
        update(_codes)
        .where(*_still_live(code_id), _codes.c.attempts < _codes.c.max_attempts)
        .values(attempts=_codes.c.attempts + 1)
        .returning(_codes.c.attempts, _codes.c.max_attempts)
    )
    row = result.first()
    return (int(row[0]), int(row[1])) if row is not None else None


async def _end(session: AsyncSession, code_id: int, **values: datetime) -> bool:
    """Use up or revoke a live code; True only for the one request whose update matched."""
    result = await session.execute(update(_codes).where(*_still_live(code_id)).values(**values))
    return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]


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
    if code is None or code.id is None:
        return CodeCheck(None, "CODE_EXPIRED")
    counted = await _count_attempt(session, code.id)
    if counted is None:
        return CodeCheck(None, "CODE_EXPIRED")  # killed or used by a parallel request
    expected = secret_hash(secret_key, purpose, user_id, secret.strip())
    if hmac.compare_digest(expected, code.secret_hash):
        used = await _end(session, code.id, used_at=now)  # a parallel right guess may win
        return CodeCheck(code) if used else CodeCheck(None, "CODE_EXPIRED")
    attempts, max_attempts = counted
    if attempts >= max_attempts:
        await _end(session, code.id, revoked_at=now)
        return CodeCheck(None, "TOO_MANY_ATTEMPTS")
    return CodeCheck(None, "INVALID_CODE")


async def find_link(
    session: AsyncSession, *, secret_key: str, purpose: CodePurpose, token: str, now: datetime
) -> OneTimeCode | None:
    """The live code a link carries (`<code id>.<secret>`), without using it up.

    Wrong secrets are not counted: a link's secret has 256 bits, and counting would let anyone
    kill other people's links by guessing their (sequential) ids.
    """
    parsed = parse_link_token(token)
    if parsed is None:
        return None
    code_id, secret = parsed
    code = await session.get(OneTimeCode, code_id)
    if code is None or code.purpose is not purpose or code.used_at or code.revoked_at:
        return None
    if code.expires_at <= now:
        return None
    expected = secret_hash(secret_key, purpose, code.user_id, secret)
    return code if hmac.compare_digest(expected, code.secret_hash) else None


async def redeem_link(
    session: AsyncSession, *, secret_key: str, purpose: CodePurpose, token: str, now: datetime
) -> OneTimeCode | None:
    """Find the link's code and use it up; of parallel redemptions exactly one gets it."""
    code = await find_link(session, secret_key=secret_key, purpose=purpose, token=token, now=now)
    if code is None or code.id is None or not await _end(session, code.id, used_at=now):
        return None
    return code


def link_token(code: OneTimeCode, secret: str) -> str:
    return token_of(code.id, secret)  # type: ignore[arg-type]


def token_of(code_id: int, secret: str) -> str:
    return f"{code_id}.{secret}"


def parse_link_token(token: str) -> tuple[int, str] | None:
    """`<row id>.<secret>` as `link_token` writes it (codes and invitations); None otherwise."""
    raw_id, _, secret = token.strip().partition(".")
    row_id = parse_id(raw_id)
    return (row_id, secret) if row_id is not None and secret else None
