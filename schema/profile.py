"""Profile mutations (AUTH-9)."""

from __future__ import annotations

import strawberry

from resolvers import profile
from resolvers.attempts import CaptchaAnswer
from schema.account import AccountPayload, payload
from schema.base import Info
from schema.identity import User, UserError, user_errors
from schema.refs import ClientRef


@strawberry.input
class ProfileUpdateInput:
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None


@strawberry.type
class ProfileUpdatePayload:
    user: User | None
    errors: list[UserError]


@strawberry.input
class EmailChangeStartInput:
    new_email: str
    password: str = strawberry.field(description="Your current password, to confirm it is you.")
    captcha_id: str | None = strawberry.field(
        default=None, description="Asked for after wrong passwords: see `captchaCreate`."
    )
    captcha_answer: str | None = None


@strawberry.input
class EmailChangeConfirmInput:
    token: str = strawberry.field(description="The token from the link sent to the new address.")


@strawberry.input
class EinvoiceEmailUpdateInput:
    client_id: strawberry.ID
    email: str


@strawberry.type
class EinvoiceEmailUpdatePayload:
    client: ClientRef | None
    errors: list[UserError]


@strawberry.type
class ProfileMutation:
    @strawberry.mutation(description="Your own name and phone.")
    async def profile_update(self, info: Info, input: ProfileUpdateInput) -> ProfileUpdatePayload:
        user, errors = await profile.update_profile(
            info.context,
            first_name=input.first_name,
            last_name=input.last_name,
            phone=input.phone,
        )
        return ProfileUpdatePayload(user=user, errors=user_errors(errors))  # type: ignore[arg-type]

    @strawberry.mutation(description="Change your e-mail: a link goes to the new address.")
    async def email_change_start(self, info: Info, input: EmailChangeStartInput) -> AccountPayload:
        errors = await profile.email_change_start(
            info.context,
            new_email=input.new_email,
            password=input.password,
            captcha=CaptchaAnswer(input.captcha_id, input.captcha_answer),
        )
        return payload(errors)

    @strawberry.mutation(description="Confirm the new e-mail address with the link's token.")
    async def email_change_confirm(
        self, info: Info, input: EmailChangeConfirmInput
    ) -> AccountPayload:
        return payload(await profile.email_change_confirm(info.context, token=input.token))

    @strawberry.mutation(description="The company's e-invoice address (needs profile:write).")
    async def einvoice_email_update(
        self, info: Info, input: EinvoiceEmailUpdateInput
    ) -> EinvoiceEmailUpdatePayload:
        client, errors = await profile.einvoice_email_update(
            info.context, client_global_id=input.client_id, email=input.email
        )
        return EinvoiceEmailUpdatePayload(client=client, errors=user_errors(errors))  # type: ignore[arg-type]
