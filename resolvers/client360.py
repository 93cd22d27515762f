"""The client 360 (issue 15, point 2): a company's people, their tokens and sessions, for staff.

Everything is read through loaders batched across the company's people, so the statements do
not grow with them; the permission (clients:read) is declared on the schema's fields. Reading a
company's people is on its access log as the part `users`.
"""

from __future__ import annotations

from typing import Any

from loaders.identity import (
    ApiTokensByUserIdLoader,
    MembershipsByClientIdLoader,
    OpenSessionsByUserIdLoader,
)
from models.audit import USERS_PART, note_read
from models.base import stored_id
from resolvers.context import Context


async def client_users(ctx: Context, client: Any) -> list[Any]:
    """The company's memberships, the main account first, then by when they were made."""
    client_id = stored_id(client)
    note_read(client_id, USERS_PART)  # only staff read this field: on the access log
    rows = await ctx.loaders[MembershipsByClientIdLoader].load(client_id)
    return sorted(rows, key=lambda row: not row.is_main)


async def api_tokens_in_client(ctx: Context, membership: Any) -> list[Any]:
    """The user's API tokens not revoked that read this company (a token names one)."""
    tokens = await ctx.loaders[ApiTokensByUserIdLoader].load(membership.user_id)
    return [
        token
        for token in tokens
        if token.revoked_at is None and token.client_id in (None, membership.client_id)
    ]


async def open_sessions(ctx: Context, user_id: int) -> list[Any]:
    """Sessions and support views of the user still live now."""
    sessions = await ctx.loaders[OpenSessionsByUserIdLoader].load(user_id)
    return [row for row in sessions if row.expires_at is None or row.expires_at > ctx.now]
