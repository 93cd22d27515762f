"""Named API tokens for BI tools: a subset of the owner's scopes, read-only unless asked."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from auth.access import require_client, require_session
from auth.errors import NotFoundError
from auth.scopes import Scope
from auth.tokens import API_TOKEN_PREFIX, hash_secret, new_secret
from models.i18n import _
from models.identity import AuthToken, TokenKind
from resolvers.context import Context
from resolvers.errors import UserErrorData, required
from resolvers.ids import pk_of
from resolvers.subaccount import grantable

# A token carries scopes in one company through a membership there; staff read every company
# through their role and are members of none, so a staff token would be NOT_FOUND everywhere.
STAFF_TOKENS_NOT_SUPPORTED = UserErrorData(
    field=None,
    code="STAFF_TOKENS_NOT_SUPPORTED",
    message=_(
        "Staff accounts cannot create API tokens: a token works in a company where its "
        "owner is a member."
    ),
)


async def create_api_token(
    ctx: Context,
    *,
    name: str,
    client_global_id: str,
    scopes: list[Scope] | None,
    read_only: bool,
) -> tuple[AuthToken | None, str | None, list[UserErrorData]]:
    require_session(ctx.viewer)
    if ctx.viewer.is_staff:
        return None, None, [STAFF_TOKENS_NOT_SUPPORTED]
    client_id = require_client(
        ctx.viewer, pk_of(client_global_id, "Client", field="clientId"), field="clientId"
    )
    chosen = list(ctx.viewer.scopes_for(client_id)) if scopes is None else scopes
    errors = [e for e in (required(name, "name"), grantable(ctx, client_id, chosen)) if e]
    if errors:
        return None, None, errors
    secret = new_secret(API_TOKEN_PREFIX)
    token = AuthToken(
        user_id=ctx.viewer.user_id,  # type: ignore[arg-type]
        kind=TokenKind.API,
        token_hash=hash_secret(secret),
        name=name.strip()[:100],
        client_id=client_id,
        scopes=sorted(s.value for s in chosen),
        read_only=read_only,
    )
    async with ctx.db.write() as session:
        session.add(token)
    return token, secret, []


async def own_token(ctx: Context, session: AsyncSession, global_id: str) -> AuthToken:
    token = await session.get(AuthToken, pk_of(global_id, "ApiToken"))
    if token is None or token.user_id != ctx.viewer.user_id or token.kind is not TokenKind.API:
        raise NotFoundError
    return token


async def revoke_api_token(ctx: Context, *, global_id: str) -> AuthToken:
    require_session(ctx.viewer)
    async with ctx.db.write() as session:
        token = await own_token(ctx, session, global_id)
        token.revoked_at = token.revoked_at or ctx.now
    return token
