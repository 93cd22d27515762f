"""Subaccounts, API tokens and the scope catalogue."""

from __future__ import annotations

from datetime import datetime

import strawberry

from auth.scopes import CATALOGUE, Scope
from loaders.client import ClientByIdLoader
from loaders.identity import AuthTokenByIdLoader, MembershipByIdLoader, UserByIdLoader
from models.identity import AuthToken as TokenRow
from models.identity import Membership as MembershipRow
from resolvers import api_token, subaccount
from resolvers.node import managed_subaccount, own_api_token
from schema.base import Info, Node, node_id, node_type
from schema.identity import User, UserError, user_errors
from schema.refs import ClientRef


@strawberry.type(description="A permission a subaccount or token can be given.")
class ScopeInfo:
    scope: Scope
    group: str
    description: str


def scope_catalogue(search: str | None = None) -> list[ScopeInfo]:
    """The catalogue, optionally filtered by a word of its group or description."""
    term = (search or "").strip().lower()
    return [
        ScopeInfo(scope=entry.scope, group=entry.group, description=entry.description)
        for entry in CATALOGUE
        if not term or term in f"{entry.scope.value} {entry.group} {entry.description}".lower()
    ]


@strawberry.type(description="A person with chosen rights in a company, added by its main account.")
@node_type(MembershipRow, loader=MembershipByIdLoader, access=managed_subaccount)
class Subaccount(Node):
    id: strawberry.ID = node_id("Subaccount")
    is_active: bool
    created_at: datetime

    @strawberry.field
    def scopes(self, root: MembershipRow) -> list[Scope]:
        return sorted(Scope(value) for value in root.scopes)

    @strawberry.field
    async def user(self, root: MembershipRow, info: Info) -> User:
        return await info.context.loaders[UserByIdLoader].load(root.user_id)  # type: ignore[no-any-return]


@strawberry.type(description="A named token for a BI tool; the secret is shown only once.")
@node_type(TokenRow, loader=AuthTokenByIdLoader, access=own_api_token)
class ApiToken(Node):
    id: strawberry.ID = node_id("ApiToken")
    name: str | None
    read_only: bool
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @strawberry.field
    def scopes(self, root: TokenRow) -> list[Scope]:
        return sorted(Scope(value) for value in root.scopes or [])

    @strawberry.field
    async def client(self, root: TokenRow, info: Info) -> ClientRef | None:
        if root.client_id is None:
            return None
        return await info.context.loaders[ClientByIdLoader].load(root.client_id)  # type: ignore[no-any-return]


@strawberry.input
class SubaccountCreateInput:
    client_id: strawberry.ID
    email: str
    first_name: str
    last_name: str
    phone: str | None = None
    scopes: list[Scope]


@strawberry.input
class SubaccountUpdateInput:
    id: strawberry.ID
    scopes: list[Scope] | None = None
    is_active: bool | None = strawberry.field(
        default=None, description="false disables it from the next request on."
    )


@strawberry.input
class SubaccountRemoveInput:
    id: strawberry.ID


@strawberry.type
class SubaccountPayload:
    subaccount: Subaccount | None
    errors: list[UserError]


@strawberry.input
class ApiTokenCreateInput:
    name: str
    client_id: strawberry.ID
    scopes: list[Scope] | None = strawberry.field(
        default=None, description="Default: all of yours in that company."
    )
    read_only: bool = True


@strawberry.input
class ApiTokenRevokeInput:
    id: strawberry.ID


@strawberry.type
class ApiTokenCreatePayload:
    token: str | None = strawberry.field(description="The secret: shown now and never again.")
    api_token: ApiToken | None
    errors: list[UserError]


@strawberry.type
class ApiTokenRevokePayload:
    api_token: ApiToken | None
    errors: list[UserError]


@strawberry.type
class SubaccountMutation:
    @strawberry.mutation(description="Add a person to a company with some of your scopes.")
    async def subaccount_create(
        self, info: Info, input: SubaccountCreateInput
    ) -> SubaccountPayload:
        membership, errors = await subaccount.create_subaccount(
            info.context,
            client_global_id=input.client_id,
            email=input.email,
            first_name=input.first_name,
            last_name=input.last_name,
            phone=input.phone,
            scopes=input.scopes,
        )
        return SubaccountPayload(subaccount=membership, errors=user_errors(errors))  # type: ignore[arg-type]

    @strawberry.mutation(description="Change a subaccount's scopes or disable / enable it.")
    async def subaccount_update(
        self, info: Info, input: SubaccountUpdateInput
    ) -> SubaccountPayload:
        membership, errors = await subaccount.update_subaccount(
            info.context, global_id=input.id, scopes=input.scopes, is_active=input.is_active
        )
        return SubaccountPayload(subaccount=membership, errors=user_errors(errors))  # type: ignore[arg-type]

    @strawberry.mutation(description="Remove a subaccount; its API tokens for the company end.")
    async def subaccount_remove(
        self, info: Info, input: SubaccountRemoveInput
    ) -> SubaccountPayload:
        await subaccount.remove_subaccount(info.context, global_id=input.id)
        return SubaccountPayload(subaccount=None, errors=[])

    @strawberry.mutation(description="A named API token for BI tools.")
    async def api_token_create(
        self, info: Info, input: ApiTokenCreateInput
    ) -> ApiTokenCreatePayload:
        token, secret, errors = await api_token.create_api_token(
            info.context,
            name=input.name,
            client_global_id=input.client_id,
            scopes=input.scopes,
            read_only=input.read_only,
        )
        return ApiTokenCreatePayload(token=secret, api_token=token, errors=user_errors(errors))  # type: ignore[arg-type]

    @strawberry.mutation(description="Revoke one of your API tokens.")
    async def api_token_revoke(
        self, info: Info, input: ApiTokenRevokeInput
    ) -> ApiTokenRevokePayload:
        token = await api_token.revoke_api_token(info.context, global_id=input.id)
        return ApiTokenRevokePayload(api_token=token, errors=[])  # type: ignore[arg-type]
