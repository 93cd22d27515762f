"""What staff do to accounts (AUTH item 10, USE-3): look people up, disable and enable them,
end their sessions, unlock them, start a reset, resend the activation link, change a
subaccount's scopes on the company's behalf and revoke an API token.

Staff never see or set a password or a code: links go to the owner by e-mail. Every action
needs USERS_MANAGE (declared on the mutations, schema/admin.py) and, on a staff member's own
account, STAFF_MANAGE too. Each takes a reason and is audited with it and the changed fields'
before and after (`audit_user_action`, the one place these rows are written), one row per
company the person belongs to (or the one company the action names). Whatever cuts
access raises the user's access version in the same transaction (auth/revocation.py), so the
user's cached tokens stop working at once. A change that finds nothing to change (two staff
disabling one person at once) answers the same and is audited once: by the one that changed it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth import throttle
from auth.access import require_staff_permission
from auth.errors import NotFoundError
from auth.revocation import ACCESS_HANDLED, access_changed
from auth.scopes import Scope
from auth.sessions import end_sessions_of
from auth.staff import StaffPermission, roles_with
from loaders.paging import Ordering, Page
from models.i18n import DEFAULT_LANGUAGE, _
from models.identity import AuditEvent, AuthToken, Membership, TokenKind, User
from models.search import contains
from resolvers.account import send_activation_link, send_reset_link
from resolvers.context import Context
from resolvers.errors import Abort, UserErrorData
from resolvers.identity import login_account_key
from resolvers.ids import pk_of, to_global_id
from resolvers.paging import root_list
from resolvers.validation import text_error

USER_ORDERING = Ordering(("email",), descending=False)
REASON_MIN, REASON_MAX = 3, 500

CANNOT_DISABLE_SELF = UserErrorData(
    field="userId",
    code="CANNOT_DISABLE_SELF",
    message=_("You cannot disable your own account."),
)
ALREADY_ACTIVE = UserErrorData(
    field="userId",
    code="ALREADY_ACTIVE",
    message=_("This user has set a password already: send a password reset instead."),
)
USER_DISABLED = UserErrorData(
    field="userId", code="USER_DISABLED", message=_("This account is disabled: enable it first.")
)
MAIN_ACCOUNT = UserErrorData(
    field="userId",
    code="MAIN_ACCOUNT",
    message=_("A main account holds every scope of its company; only subaccounts are changed."),
)
NOT_A_MEMBER = UserErrorData(
    field="clientId", code="NOT_FOUND", message=_("This user has no account in this company.")
)


# ---- looking people up ---------------------------------------------------------------------


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
    """CLIENTS_READ is declared on the field (schema/admin.py)."""
    return await root_list(
        ctx, _user_search(search), model=User, ordering=USER_ORDERING, first=first, after=after
    )


async def active_staff_with(
    session: AsyncSession, user_id: int, permission: StaffPermission
) -> int | None:
    """The id of an active staff member whose role grants `permission` (who may be handed work
    that needs it: an auditor only looks, so is never an assignee); None otherwise."""
    found = await session.execute(
        select(col(User.id)).where(
            col(User.id) == user_id,
            col(User.is_active),
            col(User.staff_role).in_(roles_with(permission)),
        )
    )
    return found.scalar_one_or_none()


# ---- the audit row -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Change:
    """What an action changed: field → before and after (never a secret), and what it names."""

    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    client_id: int | None = None
    objects: dict[str, Any] = field(default_factory=dict)


def before_after(before: Any, after: Any) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime) else value

    return {"before": plain(before), "after": plain(after)}


async def _companies_of(session: AsyncSession, user: User, change: Change) -> list[int | None]:
    """The companies an action concerns: the one it named, else every company the person
    belongs to (an account action touches all of them), else none (a staff account)."""
    if change.client_id is not None:
        return [change.client_id]
    query = select(col(Membership.client_id)).where(col(Membership.user_id) == user.id)
    companies = sorted(set((await session.execute(query)).scalars()))
    return [*companies] if companies else [None]


async def audit_user_action(
    session: AsyncSession, ctx: Context, *, action: str, user: User, reason: str, change: Change
) -> None:
    """The one place staff's account actions are recorded (to join the general audit log):
    a row per company concerned, so each company's `auditLog(filter: {clientId})` shows it."""
    details = {"reason": reason.strip(), **change.objects, "changes": change.fields}
    for client_id in await _companies_of(session, user, change):
        session.add(
            AuditEvent(
                actor_id=ctx.viewer.user_id,
                action=action,
                target_user_id=user.id,
                client_id=client_id,
                details=details,
                created_at=ctx.now,
            )
        )


# ---- one action: reason, target, permission, change, audit ---------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    user: User | None
    errors: list[UserErrorData]


Step = Callable[[AsyncSession, User], Awaitable[Change | None]]
Find = Callable[[AsyncSession], Awaitable[User]]


def reason_errors(reason: str) -> list[UserErrorData]:
    if error := text_error(reason, field="reason", limit=REASON_MAX):
        return [error]
    if len(reason.strip()) < REASON_MIN:
        message = _("Give a reason of at least {limit} characters.", limit=REASON_MIN)
        return [UserErrorData(field="reason", code="REQUIRED", message=message)]
    return []


def user_by_id(global_id: str) -> Find:
    async def find(session: AsyncSession) -> User:
        user = await session.get(User, pk_of(global_id, "User", field="userId"))
        if user is None:
            raise NotFoundError(field="userId")
        return user

    return find


def _may_manage(ctx: Context, user: User) -> None:
    """A staff member's account is the admins' to manage, not their colleagues'."""
    if user.staff_role is not None:
        require_staff_permission(ctx.viewer, StaffPermission.STAFF_MANAGE)


async def _act(ctx: Context, *, action: str, reason: str, find: Find, step: Step) -> Outcome:
    if errors := reason_errors(reason):
        return Outcome(None, errors)
    try:
        async with ctx.db.write() as session:
            user = await find(session)
            _may_manage(ctx, user)
            change = await step(session, user)
            if change is not None:
                await audit_user_action(
                    session, ctx, action=action, user=user, reason=reason, change=change
                )
            await session.flush()
            await session.refresh(user)  # what the conditional updates left
    except Abort as abort:
        return Outcome(None, abort.errors)
    ctx.loaders.clear()
    return Outcome(user, [])


# ---- the actions ---------------------------------------------------------------------------


async def _set_active(session: AsyncSession, ctx: Context, user: User, *, active: bool) -> bool:
    """One conditional update after the access version (the user's row locked first): of
    parallel switches of one account exactly one changes it."""
    await access_changed(session, [user.id])  # type: ignore[list-item]
    changed = await session.execute(
        update(User)
        .where(col(User.id) == user.id, col(User.is_active) == (not active))
        .values(is_active=active, updated_at=ctx.now)
        .execution_options(synchronize_session=False, **ACCESS_HANDLED)
    )
    return int(changed.rowcount or 0) == 1  # type: ignore[attr-defined]


async def disable_user(ctx: Context, *, global_id: str, reason: str) -> Outcome:
    """The account stops working at once: its sessions end, its API tokens are refused while it
    is disabled (and work again when it is enabled: a company's BI pull is not the person's)."""

    async def step(session: AsyncSession, user: User) -> Change | None:
        if user.id == ctx.viewer.user_id:
            raise Abort(CANNOT_DISABLE_SELF)
        if not await _set_active(session, ctx, user, active=False):
            return None
        await end_sessions_of(session, user_id=user.id, now=ctx.now)  # type: ignore[arg-type]
        return Change(fields={"is_active": before_after(True, False)})

    return await _act(
        ctx, action="user.disable", reason=reason, find=user_by_id(global_id), step=step
    )


async def enable_user(ctx: Context, *, global_id: str, reason: str) -> Outcome:
    async def step(session: AsyncSession, user: User) -> Change | None:
        if not await _set_active(session, ctx, user, active=True):
            return None
        return Change(fields={"is_active": before_after(False, True)})

    return await _act(
        ctx, action="user.enable", reason=reason, find=user_by_id(global_id), step=step
    )


async def _open_sessions(session: AsyncSession, ctx: Context, user_id: int) -> int:
    query = select(func.count()).where(
        col(AuthToken.user_id) == user_id,
        col(AuthToken.kind) == TokenKind.SESSION,
        col(AuthToken.revoked_at).is_(None),
        col(AuthToken.expires_at) > ctx.now,
    )
    return int((await session.execute(query)).scalar_one())


async def end_user_sessions(ctx: Context, *, global_id: str, reason: str) -> Outcome:
    """Every session of the user ends (they sign in again); API tokens are left alone."""

    async def step(session: AsyncSession, user: User) -> Change | None:
        assert user.id is not None
        await access_changed(session, [user.id])  # the user's row first, then the count
        open_sessions = await _open_sessions(session, ctx, user.id)
        if open_sessions == 0:
            return None
        await end_sessions_of(session, user_id=user.id, now=ctx.now)
        return Change(fields={"open_sessions": before_after(open_sessions, 0)})

    return await _act(
        ctx, action="user.sessions_end", reason=reason, find=user_by_id(global_id), step=step
    )


async def unlock_user(ctx: Context, *, global_id: str, reason: str) -> Outcome:
    """Clears the failed logins, so the owner is no longer asked for a captcha."""

    async def step(session: AsyncSession, user: User) -> Change:
        key = login_account_key(ctx, user_id=user.id, login=user.email)
        await throttle.forget(session, key=key)
        before, user.locked_until = user.locked_until, None
        return Change(fields={"locked_until": before_after(before, None)})

    return await _act(
        ctx, action="user.unlock", reason=reason, find=user_by_id(global_id), step=step
    )


async def start_reset(ctx: Context, *, global_id: str, reason: str) -> Outcome:
    """The owner gets a reset link by e-mail; staff never see it."""

    async def step(session: AsyncSession, user: User) -> Change:
        # Polish, the portals' language: the staff member's own says nothing about the owner's.
        await send_reset_link(session, ctx, user, language=DEFAULT_LANGUAGE)
        return Change()

    return await _act(
        ctx,
        action="user.password_reset_started",
        reason=reason,
        find=user_by_id(global_id),
        step=step,
    )


async def resend_welcome(ctx: Context, *, global_id: str, reason: str) -> Outcome:
    """A person who never set a password gets a fresh activation link (earlier ones stop
    working); whoever has one is pointed to a reset instead."""

    async def step(session: AsyncSession, user: User) -> Change:
        if user.password_hash is not None:
            raise Abort(ALREADY_ACTIVE)
        if not user.is_active:
            raise Abort(USER_DISABLED)
        await send_activation_link(
            session,
            ctx,
            user,
            language=DEFAULT_LANGUAGE,
            template="activation_link",
            subject=_("LeaseHub account activation"),
            text=_("To set your password, open the link:"),
        )
        return Change()

    return await _act(
        ctx, action="user.welcome_resent", reason=reason, find=user_by_id(global_id), step=step
    )


async def set_subaccount_scopes(
    ctx: Context, *, global_id: str, client_global_id: str, scopes: list[Scope], reason: str
) -> Outcome:
    """A subaccount's scopes, as its company's main account could set them; never a main
    account's. The membership is locked first, as the company's own changes lock it."""
    client_id = pk_of(client_global_id, "Client", field="clientId")

    async def step(session: AsyncSession, user: User) -> Change | None:
        query = (
            select(Membership)
            .where(col(Membership.user_id) == user.id, col(Membership.client_id) == client_id)
            .with_for_update()
        )
        membership = (await session.execute(query)).scalars().first()
        if membership is None:
            raise Abort(NOT_A_MEMBER)
        if membership.is_main:
            raise Abort(MAIN_ACCOUNT)
        before, after = sorted(membership.scopes), sorted({scope.value for scope in scopes})
        if before == after:
            return None
        membership.scopes, membership.updated_at = after, ctx.now  # raises the access version
        return Change(fields={"scopes": before_after(before, after)}, client_id=client_id)

    return await _act(
        ctx, action="subaccount.scopes_set", reason=reason, find=user_by_id(global_id), step=step
    )


async def revoke_api_token(ctx: Context, *, token_global_id: str, reason: str) -> Outcome:
    """An API token stops working at once; its name is audited, never its secret or hash."""
    token_id = pk_of(token_global_id, "ApiToken", field="tokenId")

    async def token_of(session: AsyncSession) -> AuthToken:
        token = await session.get(AuthToken, token_id)
        if token is None or token.kind is not TokenKind.API:
            raise NotFoundError(field="tokenId")
        return token

    async def owner(session: AsyncSession) -> User:
        user = await session.get(User, (await token_of(session)).user_id)
        assert user is not None  # a token's user is a foreign key
        return user

    async def step(session: AsyncSession, user: User) -> Change | None:
        token = await token_of(session)  # from the session's identity map
        await access_changed(session, [user.id])  # type: ignore[list-item]
        revoked = await session.execute(
            update(AuthToken)
            .where(col(AuthToken.id) == token_id, col(AuthToken.revoked_at).is_(None))
            .values(revoked_at=ctx.now)
            .execution_options(synchronize_session=False, **ACCESS_HANDLED)
        )
        if int(revoked.rowcount or 0) != 1:  # type: ignore[attr-defined]
            return None
        return Change(
            fields={"revoked_at": before_after(None, ctx.now)},
            client_id=token.client_id,
            objects={"token": {"id": to_global_id("ApiToken", token_id), "name": token.name}},
        )

    return await _act(ctx, action="api_token.revoke", reason=reason, find=owner, step=step)
