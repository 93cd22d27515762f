"""Subaccounts, API tokens and the scope catalogue."""

from __future__ import annotations

from datetime import datetime
from functools import cache

import strawberry

from auth.scopes import CATALOGUE, Scope
from auth.scopes import ScopeInfo as CatalogueEntry
from loaders.client import ClientByIdLoader
from loaders.identity import AuthTokenByIdLoader, MembershipByIdLoader, UserByIdLoader
from loaders.invitation import InvitationByMembershipIdLoader
from models.i18n import Language, translate
from models.identity import AuthToken as TokenRow
from models.identity import Invitation as InvitationRow
from models.identity import Membership as MembershipRow
from models.search import fold
from resolvers import api_token, subaccount
from resolvers.ids import to_global_id
from resolvers.node import managed_subaccount, own_api_token
from schema.base import Info, Node, node_id, node_type
from schema.identity import User, UserError, user_errors
from schema.refs import ClientRef


@strawberry.type(description="A permission a subaccount or token can be given.")
class ScopeInfo:
    scope: Scope
    group: str
    description: str


def scope_catalogue(language: Language, search: str | None = None) -> list[ScopeInfo]:
    """The catalogue in `language`, optionally filtered by a piece of its texts."""
    term = fold((search or "").strip())
    return [
        ScopeInfo(
            scope=entry.scope,
            group=translate(entry.group, language),
            description=translate(entry.description, language),
        )
        for entry in CATALOGUE
        if not term or term in _searchable(entry)
    ]


@cache
def _searchable(entry: CatalogueEntry) -> str:
    """The scope's names and its texts in every language, folded: "platnosci" finds
    "płatności", and an English word finds a scope whatever language the answer is in."""
    texts = [entry.scope.value, entry.scope.name]
    texts += [
        translate(text, each) for each in Language for text in (entry.group, entry.description)
    ]
    return fold(" ".join(texts))


@strawberry.type(description="A person with chosen rights in a company, added by its main account.")
@node_type(MembershipRow, loader=MembershipByIdLoader, access=managed_subaccount)
class Subaccount(Node):
    id: strawberry.ID = node_id("Subaccount")
    created_at: datetime

    @strawberry.field
    def scopes(self, root: MembershipRow) -> list[Scope]:
        return sorted(Scope(value) for value in root.scopes)

    @strawberry.field(description="false: switched off by the company (`subaccountUpdate`).")
    async def is_active(self, root: MembershipRow, info: Info) -> bool:
        invitation = await _invitation(root, info)
        if subaccount.awaits_consent(invitation):
            return invitation.enabled  # type: ignore[union-attr]
        return root.is_active

    @strawberry.field(
        description="Invited and not joined yet (an existing user has not accepted, a new one "
        "has not set a password): no access until then."
    )
    async def invitation_pending(self, root: MembershipRow, info: Info) -> bool:
        return await _pending(root, info) is not None

    @strawberry.field(description="While the invitation is pending: what the inviter typed.")
    async def user(self, root: MembershipRow, info: Info) -> User:
        invitation = await _pending(root, info)
        if invitation is not None:  # never what an existing account stores
            return User(
                email=invitation.email,
                first_name=invitation.first_name,
                last_name=invitation.last_name,
                phone=invitation.phone,
            )
        return await info.context.loaders[UserByIdLoader].load(root.user_id)


async def _invitation(root: MembershipRow, info: Info) -> InvitationRow | None:
    return await info.context.loaders[InvitationByMembershipIdLoader].load(root.id)


async def _pending(root: MembershipRow, info: Info) -> InvitationRow | None:
    """The invitation while the person has not joined: by accepting, or by activating."""
    invitation = await _invitation(root, info)
    if invitation is None or invitation.accepted_at is not None:
        return None
    if invitation.needs_consent:
        return invitation
    user = await info.context.loaders[UserByIdLoader].load(root.user_id)
    return invitation if user is not None and user.password_hash is None else None


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
        return await info.context.loaders[ClientByIdLoader].load(root.client_id)


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
class SubaccountInvitationAcceptInput:
    token: str = strawberry.field(description="From the link in the invitation e-mail.")


@strawberry.type
class SubaccountInvitationAcceptPayload:
    client_id: strawberry.ID | None = strawberry.field(
        description="The company joined: open it with `client(id)` from the next request on."
    )
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
    @strawberry.mutation(
        description="Invite a person to a company with some of your scopes; the answer is the "
        "same whether the address has an account or not (pending until the person joins)."
    )
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
        errors = await subaccount.remove_subaccount(info.context, global_id=input.id)
        return SubaccountPayload(subaccount=None, errors=user_errors(errors))

    @strawberry.mutation(
        description="Join the company that invited you (an existing user): the link's token."
    )
    async def subaccount_invitation_accept(
        self, info: Info, input: SubaccountInvitationAcceptInput
    ) -> SubaccountInvitationAcceptPayload:
        client_id, errors = await subaccount.accept_invitation(info.context, token=input.token)
        joined = None if client_id is None else strawberry.ID(to_global_id("Client", client_id))
        return SubaccountInvitationAcceptPayload(client_id=joined, errors=user_errors(errors))

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
