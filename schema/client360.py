"""The client 360's staff-only types (issue 15, point 2): a company's people as staff see them.

Reached through `Client.users` (declared clients:read); what `Client` already offers (contracts,
requests by stage, message threads, payments, overpayment) is not repeated here.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from auth.scopes import Scope
from loaders.identity import UserByIdLoader
from models.identity import AuthToken as TokenRow
from models.identity import Membership as MembershipRow
from resolvers.client360 import api_tokens_in_client, open_sessions
from schema.base import Info
from schema.refs import ApiTokenRef

if TYPE_CHECKING:
    from schema.admin import AdminUser

# schema/admin.py reaches clients (schema/client.py), which reach this module: lazily.
AdminUserRef = Annotated["AdminUser", strawberry.lazy("schema.admin")]


@strawberry.type(description="A session or a support view of a user, not signed out nor expired.")
class UserSession:
    created_at: datetime
    expires_at: datetime | None

    @strawberry.field(description="The staff member reading as the user: a support view.")
    async def support_view_by(self, root: TokenRow, info: Info) -> AdminUserRef | None:
        if root.on_behalf_of_id is None:
            return None
        return await info.context.loaders[UserByIdLoader].load(root.on_behalf_of_id)

    @strawberry.field(description="Why the support view was started.")
    def support_view_reason(self, root: TokenRow) -> str | None:
        return root.reason


@strawberry.type(description="A person's account in this company, as staff see it.")
class ClientUser:
    is_main: bool = strawberry.field(description="The main account; else a subaccount.")
    is_active: bool = strawberry.field(description="Their access to this company is on.")

    @strawberry.field(description="What they may do in this company.")
    def scopes(self, root: MembershipRow) -> list[Scope]:
        return sorted(Scope(value) for value in root.scopes if value in Scope._value2member_map_)

    @strawberry.field(description="The account: name, e-mail, disabled, last login, failures.")
    async def user(self, root: MembershipRow, info: Info) -> AdminUserRef:
        return await info.context.loaders[UserByIdLoader].load(root.user_id)

    @strawberry.field(description="Logging in needs a code from an authenticator app.")
    async def second_factor_enabled(self, root: MembershipRow, info: Info) -> bool:
        user = await info.context.loaders[UserByIdLoader].load(root.user_id)
        return user is not None and user.totp_enabled_at is not None

    @strawberry.field(description="API tokens not revoked that read this company (no secrets).")
    async def api_tokens(self, root: MembershipRow, info: Info) -> list[ApiTokenRef]:
        return await api_tokens_in_client(info.context, root)

    @strawberry.field(description="Sessions open now, support views included.")
    async def sessions(self, root: MembershipRow, info: Info) -> list[UserSession]:
        return await open_sessions(info.context, root.user_id)
