"""What staff do to accounts (AUTH item 10): look people up, unlock them, start a reset.

Staff never set a password: a reset sends the owner a link. Every action is audited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_, select
from sqlmodel import col

from auth import throttle
from auth.access import require_staff
from auth.errors import ForbiddenError, NotFoundError
from loaders.paging import Ordering, Page
from models.i18n import DEFAULT_LANGUAGE, _
from models.identity import AuditEvent, StaffRole, User
from models.search import contains
from resolvers.account import send_reset_link
from resolvers.context import Context
from resolvers.identity import login_account_key
from resolvers.ids import pk_of
from resolvers.paging import root_list

USER_ORDERING = Ordering(("email",), descending=False)
ACTING_ROLES = frozenset(StaffRole) - {StaffRole.AUDITOR}  # until every check declares its permission


def require_acting_staff(ctx: Context) -> None:
    require_staff(ctx.viewer)
    if ctx.viewer.staff_role not in ACTING_ROLES:
        raise ForbiddenError(_("Auditors can look, not act."))


def _user_search(search: str | None) -> Select[Any]:
    query = select(User)
    if search and search.strip():
        term = search.strip()
        query = query.where(
            or_(contains(col(User.email), term), contains(col(User.last_name), term))
        )
    return query


async def search_users(
    ctx: Context, *, search: str | None, first: int | None, after: str | None
) -> Page[User]:
    require_staff(ctx.viewer)
    return await root_list(
        ctx, _user_search(search), model=User, ordering=USER_ORDERING, first=first, after=after
    )


async def _target(ctx: Context, session: Any, global_id: str) -> User:
    user = await session.get(User, pk_of(global_id, "User", field="userId"))
    if user is None:
        raise NotFoundError(field="userId")
    return user


def _audit(session: Any, ctx: Context, action: str, user: User) -> None:
    session.add(
        AuditEvent(
            actor_id=ctx.viewer.user_id, action=action, target_user_id=user.id, created_at=ctx.now
        )
    )


async def unlock_user(ctx: Context, *, global_id: str) -> User:
    """Clears the failed logins, so the owner is no longer asked for a captcha."""
    require_acting_staff(ctx)
    async with ctx.db.write() as session:
        user = await _target(ctx, session, global_id)
        await throttle.forget(
            session, key=login_account_key(ctx, user_id=user.id, login=user.email)
        )
        user.locked_until = None
        _audit(session, ctx, "user.unlock", user)
    return user


async def start_reset(ctx: Context, *, global_id: str) -> User:
    require_acting_staff(ctx)
    async with ctx.db.write() as session:
        user = await _target(ctx, session, global_id)
        # Polish, the portals' language: the staff member's own says nothing about the owner's.
        await send_reset_link(session, ctx, user, language=DEFAULT_LANGUAGE)
        _audit(session, ctx, "user.password_reset_started", user)
    return user
