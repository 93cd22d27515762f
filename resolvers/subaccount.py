"""Subaccounts (AUTH-6): a main account gives people of its company a subset of its own scopes.

Every id that comes in is checked against the companies where the viewer manages subaccounts;
a membership elsewhere and a missing one are the same "not found".
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.access import require_scope
from auth.errors import NotFoundError
from auth.scopes import Scope
from models.identity import AuthToken, Membership, User
from resolvers import outbox
from resolvers.account import send_activation_link, user_by_email
from resolvers.context import Context
from resolvers.errors import Abort, UserErrorData, required
from resolvers.ids import pk_of


def grantable(ctx: Context, client_id: int, scopes: list[Scope]) -> UserErrorData | None:
    """Nobody can give what they do not hold themselves."""
    extra = set(scopes) - ctx.viewer.scopes_for(client_id)
    if not extra:
        return None
    names = ", ".join(sorted(scope.value for scope in extra))
    return UserErrorData(
        field="scopes",
        code="SCOPE_NOT_GRANTABLE",
        message=f"You cannot grant what you do not have: {names}.",
    )


async def managed_membership(ctx: Context, session: AsyncSession, global_id: str) -> Membership:
    membership = await session.get(Membership, pk_of(global_id, "Subaccount"))
    if membership is None or membership.is_main:
        raise NotFoundError
    require_scope(ctx.viewer, membership.client_id, Scope.SUBACCOUNTS_MANAGE)
    return membership


async def create_subaccount(
    ctx: Context,
    *,
    client_global_id: str,
    email: str,
    first_name: str,
    last_name: str,
    phone: str | None,
    scopes: list[Scope],
) -> tuple[Membership | None, list[UserErrorData]]:
    client_id = require_scope(
        ctx.viewer,
        pk_of(client_global_id, "Client", field="clientId"),
        Scope.SUBACCOUNTS_MANAGE,
        field="clientId",
    )
    errors = [
        e
        for e in (
            required(email, "email"),
            required(first_name, "firstName"),
            required(last_name, "lastName"),
            grantable(ctx, client_id, scopes),
        )
        if e
    ]
    if "@" not in email:
        errors.append(
            UserErrorData(field="email", code="INVALID", message="Not an e-mail address.")
        )
    if errors:
        return None, errors
    try:
        async with ctx.db.write() as session:
            user = await user_by_email(session, email)
            if user is None:
                user = User(
                    email=email.strip().lower(),
                    first_name=first_name.strip(),
                    last_name=last_name.strip(),
                    phone=phone,
                )
                session.add(user)
                await session.flush()
                await _invite(ctx, session, user)
            elif await _member_of(session, user.id, client_id):  # type: ignore[arg-type]
                raise Abort(
                    UserErrorData(
                        field="email",
                        code="ALREADY_A_MEMBER",
                        message="This person already has access to the company.",
                    )
                )
            else:  # an existing account: tell its owner about the new company
                outbox.email_user(
                    session,
                    user,
                    template="subaccount_added",
                    client_id=client_id,
                    subject="Nowy dostęp w portalu klienta",
                    body="Otrzymałeś dostęp do kolejnej firmy w portalu klienta. Przełącz "
                    "kontekst klienta po zalogowaniu.",
                )
            membership = Membership(
                user_id=user.id,
                client_id=client_id,
                is_main=False,  # type: ignore[arg-type]
                scopes=sorted(s.value for s in scopes),
                created_by_id=ctx.viewer.user_id,
            )
            session.add(membership)
    except Abort as abort:
        return None, abort.errors
    return membership, []


async def _member_of(session: AsyncSession, user_id: int, client_id: int) -> bool:
    query = select(Membership.id).where(
        Membership.user_id == user_id, Membership.client_id == client_id
    )
    return (await session.execute(query)).first() is not None


async def _invite(ctx: Context, session: AsyncSession, user: User) -> None:
    """A new person sets a password through the activation link, like any new account."""
    await send_activation_link(
        session,
        ctx,
        user,
        template="subaccount_invitation",
        subject="Zaproszenie do portalu klienta",
        text="Otrzymałeś dostęp do portalu klienta. Aby nadać hasło, otwórz link:",
    )


async def update_subaccount(
    ctx: Context, *, global_id: str, scopes: list[Scope] | None, is_active: bool | None
) -> tuple[Membership | None, list[UserErrorData]]:
    async with ctx.db.write() as session:
        membership = await managed_membership(ctx, session, global_id)
        if scopes is not None:
            if error := grantable(ctx, membership.client_id, scopes):
                return None, [error]
            membership.scopes = sorted(s.value for s in scopes)
        if is_active is not None:
            membership.is_active = is_active
        membership.updated_at = ctx.now
    return membership, []


async def remove_subaccount(ctx: Context, *, global_id: str) -> None:
    async with ctx.db.write() as session:
        membership = await managed_membership(ctx, session, global_id)
        tokens = select(AuthToken).where(
            AuthToken.user_id == membership.user_id, AuthToken.client_id == membership.client_id
        )
        for token in (await session.execute(tokens)).scalars():
            token.revoked_at = ctx.now
        await session.delete(membership)
