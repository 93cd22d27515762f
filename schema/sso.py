"""Single sign-on through OpenID Connect providers (AUTH-10): see resolvers/sso.py."""

from __future__ import annotations

import strawberry

from models.sso import SsoPurpose
from resolvers import sso as sso_resolvers
from schema.base import Info
from schema.identity import LinkedIdentity, UserError, user_errors

strawberry.enum(
    SsoPurpose,
    description="SIGN_IN: a session at the end (`ssoComplete`); LINK: a signed-in person "
    "links the identity to their account (`ssoLink`).",
)


@strawberry.input
class SsoStartInput:
    provider: str = strawberry.field(description="A configured provider's name, e.g. `bank`.")
    redirect_uri: str = strawberry.field(
        description="The portal page the provider sends the browser back to (one allowed "
        "in the settings); it then calls `ssoComplete` with the `code` and `state` it got."
    )
    contract_id: strawberry.ID | None = strawberry.field(
        default=None, description="A contract to land on after the sign-in (a deep link)."
    )
    purpose: SsoPurpose = SsoPurpose.SIGN_IN
    login_hint: str | None = strawberry.field(
        default=None,
        description="Passed to the provider as `login_hint` (e.g. the bank's customer id).",
    )
    deep_link: str | None = strawberry.field(
        default=None,
        description="A contract link signed by the bank (`payload.mac`: HMAC-SHA256 under "
        "the provider's `deep_link_secret` over base64url JSON `{contractNumber or "
        "contractId, exp}`); verified now (SSO_DEEP_LINK_INVALID), the contract checked "
        "against the person's rights at completion. Takes the place of `contractId`.",
    )


@strawberry.type
class SsoStartPayload:
    authorization_url: str | None = strawberry.field(
        description="Send the browser here (the provider's sign-in page)."
    )
    errors: list[UserError]


@strawberry.input
class SsoCompleteInput:
    provider: str
    code: str = strawberry.field(description="As the provider gave it in the redirect.")
    state: str = strawberry.field(description="As the provider gave it back in the redirect.")
    otp: str | None = strawberry.field(
        default=None,
        description="After SECOND_FACTOR_REQUIRED: the authenticator's code (or a recovery "
        "code), sent with the same state (the code is not needed again).",
    )


@strawberry.type
class SsoCompletePayload:
    token: str | None = strawberry.field(
        description="Bearer token of the new session, as `login` gives it."
    )
    contract_id: strawberry.ID | None = strawberry.field(
        description="The deep-linked contract when the person may see it."
    )
    errors: list[UserError]


@strawberry.input
class SsoLinkInput:
    provider: str
    code: str
    state: str = strawberry.field(description="Of an `ssoStart` with purpose LINK.")


@strawberry.type
class SsoLinkPayload:
    linked_identity: LinkedIdentity | None
    errors: list[UserError]


@strawberry.input
class SsoUnlinkInput:
    provider: str


@strawberry.type
class SsoUnlinkPayload:
    errors: list[UserError]


def _linked(row: sso_resolvers.LinkedIdentity | None) -> LinkedIdentity | None:
    if row is None:
        return None
    return LinkedIdentity(
        provider=row.provider,
        subject=row.subject,
        linked_at=row.created_at,
        last_used_at=row.last_used_at,
    )


@strawberry.type
class SsoMutation:
    @strawberry.mutation(description="Start a sign-in (or a link) at a provider.")
    async def sso_start(self, info: Info, input: SsoStartInput) -> SsoStartPayload:
        url, errors = await sso_resolvers.start(
            info.context,
            provider=input.provider,
            redirect_uri=input.redirect_uri,
            contract_id=input.contract_id,
            purpose=input.purpose,
            login_hint=input.login_hint,
            deep_link=input.deep_link,
        )
        return SsoStartPayload(authorization_url=url, errors=user_errors(errors))

    @strawberry.mutation(
        description="Finish a sign-in: a session for a linked identity; SSO_NOT_LINKED for "
        "one that is not (nothing is created)."
    )
    async def sso_complete(self, info: Info, input: SsoCompleteInput) -> SsoCompletePayload:
        done = await sso_resolvers.complete(
            info.context, provider=input.provider, code=input.code, state=input.state, otp=input.otp
        )
        return SsoCompletePayload(
            token=done.token,
            contract_id=strawberry.ID(done.contract_id) if done.contract_id else None,
            errors=user_errors(list(done.errors)),
        )

    @strawberry.mutation(description="Link the provider's identity to the signed-in account.")
    async def sso_link(self, info: Info, input: SsoLinkInput) -> SsoLinkPayload:
        row, errors = await sso_resolvers.link(
            info.context, provider=input.provider, code=input.code, state=input.state
        )
        return SsoLinkPayload(linked_identity=_linked(row), errors=user_errors(errors))

    @strawberry.mutation(
        description="Unlink the provider from the signed-in account; its sessions end."
    )
    async def sso_unlink(self, info: Info, input: SsoUnlinkInput) -> SsoUnlinkPayload:
        errors = await sso_resolvers.unlink(info.context, provider=input.provider)
        return SsoUnlinkPayload(errors=user_errors(errors))
