"""Sending and taking back one-time codes and links, the way every account flow does it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from auth import codes
from auth.codes import CodeCheck
from models.i18n import Language, Msg, translate
from models.identity import CodePurpose, OneTimeCode, User
from resolvers import outbox
from resolvers.context import Context


def portal_link(ctx: Context, page: str, token: str) -> str:
    return portal_url(ctx.settings.portal_url, page, token)


def portal_url(portal: str, page: str, token: str) -> str:
    """A portal page carrying a single-use token (outside a request too: the intake)."""
    return f"{portal.rstrip('/')}/{page}?token={quote(token)}"


async def new_code(
    session: AsyncSession,
    ctx: Context,
    user: User,
    *,
    purpose: CodePurpose,
    expires_at: datetime,
    payload: dict[str, Any] | None = None,
) -> str:
    """A numeric code for the user to type; the caller sends it (SMS or e-mail)."""
    code = codes.new_numeric_code()
    await codes.issue(
        session,
        secret_key=ctx.settings.secret_key,
        user_id=user.id,  # type: ignore[arg-type]
        purpose=purpose,
        secret=code,
        now=ctx.now,
        expires_at=expires_at,
        max_attempts=ctx.settings.code_max_attempts,
        payload=payload,
    )
    return code


async def check_code(
    session: AsyncSession, ctx: Context, user: User, *, purpose: CodePurpose, code: str
) -> CodeCheck:
    return await codes.check_code(
        session,
        secret_key=ctx.settings.secret_key,
        user_id=user.id,  # type: ignore[arg-type]
        purpose=purpose,
        secret=code,
        now=ctx.now,
    )


async def email_link(
    session: AsyncSession,
    ctx: Context,
    user: User,
    *,
    purpose: CodePurpose,
    page: str,
    expires_at: datetime,
    language: Language,
    template: str,
    subject: Msg,
    text: Msg,
    validity: Msg,
    to: str | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """A link to a portal page carrying a single-use token, by e-mail."""
    secret = codes.new_link_secret()
    link = await codes.issue(
        session,
        secret_key=ctx.settings.secret_key,
        user_id=user.id,  # type: ignore[arg-type]
        purpose=purpose,
        secret=secret,
        now=ctx.now,
        expires_at=expires_at,
        payload=payload,
    )
    url = portal_link(ctx, page, codes.link_token(link, secret))
    outbox.email_user(
        session,
        user,
        language=language,
        to=to,
        template=template,
        subject=subject,
        # The link stands whole on a line of its own, to be copied from a plain-text mail.
        body=f"{translate(text, language)}\n{url}\n\n{translate(validity, language)}",
    )


async def _with_user(
    session: AsyncSession, link: OneTimeCode | None
) -> tuple[OneTimeCode, User] | None:
    user = await session.get(User, link.user_id) if link else None
    if link is None or user is None or not user.is_active:
        return None
    return link, user


async def find_link(
    session: AsyncSession, ctx: Context, *, purpose: CodePurpose, token: str
) -> tuple[OneTimeCode, User] | None:
    """The link's live code and its user, left unused (to check a password before using it)."""
    link = await codes.find_link(
        session, secret_key=ctx.settings.secret_key, purpose=purpose, token=token, now=ctx.now
    )
    return await _with_user(session, link)


async def redeem_link(
    session: AsyncSession, ctx: Context, *, purpose: CodePurpose, token: str
) -> tuple[OneTimeCode, User] | None:
    """The link's code (now used up) and its user, or None for any bad, old or used link."""
    link = await codes.redeem_link(
        session, secret_key=ctx.settings.secret_key, purpose=purpose, token=token, now=ctx.now
    )
    return await _with_user(session, link)
