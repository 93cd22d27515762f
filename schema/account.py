"""Mutations of the account flows: activation, first login, password reset and change.

Each answers with `errors { field code message }`, empty on success; codes, PINs and links
only ever travel by SMS or e-mail.
"""

from __future__ import annotations

import base64

import strawberry

from resolvers import account, second_factor
from resolvers.attempts import CaptchaAnswer
from resolvers.errors import UserErrorData
from schema.base import Info
from schema.identity import UserError, user_errors


@strawberry.type(description="The answer of a step of an account flow.")
class AccountPayload:
    errors: list[UserError]


def payload(errors: list[UserErrorData]) -> AccountPayload:
    return AccountPayload(errors=user_errors(errors))


@strawberry.type(description="A picture to copy the text from; the answer is never sent.")
class Captcha:
    captcha_id: str
    image: str = strawberry.field(description="PNG as a data: URL, for an <img src>.")


@strawberry.input
class ActivationStartInput:
    email: str = strawberry.field(description="The address given with the contract.")


@strawberry.input
class ActivationConfirmCodeInput:
    email: str
    code: str = strawberry.field(description="The code from the SMS.")


@strawberry.input
class SetPasswordWithLinkInput:
    token: str = strawberry.field(description="The token from the e-mailed link.")
    password: str


@strawberry.input
class FirstLoginStartInput:
    client_number: str
    password: str


@strawberry.input
class FirstLoginConfirmInput:
    client_number: str
    pin: str = strawberry.field(description="The PIN from the separate e-mail.")


@strawberry.input
class PasswordResetRequestInput:
    login: str = strawberry.field(description="E-mail address or client number.")
    email: str
    email_confirmation: str = strawberry.field(description="The e-mail address again.")
    captcha_id: str
    captcha_answer: str


@strawberry.input
class PasswordChangeInput:
    current_password: str
    new_password: str
    captcha_id: str | None = strawberry.field(
        default=None, description="Asked for after wrong passwords: see `captchaCreate`."
    )
    captcha_answer: str | None = None


@strawberry.type
class AccountMutation:
    @strawberry.mutation(description="A captcha challenge for password reset or a throttled login.")
    def captcha_create(self, info: Info) -> Captcha:
        challenge = info.context.captcha.create(now=info.context.now)
        image = "data:image/png;base64," + base64.b64encode(challenge.png).decode()
        return Captcha(captcha_id=challenge.id, image=image)

    @strawberry.mutation(description="Activation, step 1: an SMS code to the phone on record.")
    async def activation_start(self, info: Info, input: ActivationStartInput) -> AccountPayload:
        return payload(await account.activation_start(info.context, email=input.email))

    @strawberry.mutation(description="Activation, step 2: the SMS code; the link goes by e-mail.")
    async def activation_confirm_code(
        self, info: Info, input: ActivationConfirmCodeInput
    ) -> AccountPayload:
        errors = await account.activation_confirm_code(
            info.context, email=input.email, code=input.code
        )
        return payload(errors)

    @strawberry.mutation(description="Activation, step 3: the e-mailed link and a password.")
    async def activation_complete(
        self, info: Info, input: SetPasswordWithLinkInput
    ) -> AccountPayload:
        errors = await account.activation_complete(
            info.context, token=input.token, password=input.password
        )
        return payload(errors)

    @strawberry.mutation(description="First login: client number and password; a PIN follows.")
    async def first_login_start(self, info: Info, input: FirstLoginStartInput) -> AccountPayload:
        errors = await account.first_login_start(
            info.context, client_number=input.client_number, password=input.password
        )
        return payload(errors)

    @strawberry.mutation(description="First login: the PIN from the e-mail confirms the password.")
    async def first_login_confirm(
        self, info: Info, input: FirstLoginConfirmInput
    ) -> AccountPayload:
        errors = await account.first_login_confirm(
            info.context, client_number=input.client_number, pin=input.pin
        )
        return payload(errors)

    @strawberry.mutation(description="Password reset: a link to set a new password, by e-mail.")
    async def password_reset_request(
        self, info: Info, input: PasswordResetRequestInput
    ) -> AccountPayload:
        errors = await account.password_reset_request(
            info.context,
            login=input.login,
            email=input.email,
            email_confirmation=input.email_confirmation,
            captcha_id=input.captcha_id,
            captcha_answer=input.captcha_answer,
        )
        return payload(errors)

    @strawberry.mutation(description="Password reset: the e-mailed link and the new password.")
    async def password_reset_complete(
        self, info: Info, input: SetPasswordWithLinkInput
    ) -> AccountPayload:
        errors = await account.password_reset_complete(
            info.context, token=input.token, password=input.password
        )
        return payload(errors)

    @strawberry.mutation(description="Change the password; the other sessions end.")
    async def password_change(self, info: Info, input: PasswordChangeInput) -> AccountPayload:
        errors = await account.password_change(
            info.context,
            current=input.current_password,
            new=input.new_password,
            captcha=CaptchaAnswer(input.captcha_id, input.captcha_answer),
        )
        return payload(errors)


@strawberry.input
class TotpSetupStartInput:
    password: str
    captcha_id: str | None = strawberry.field(
        default=None, description="Asked for after wrong passwords: see `captchaCreate`."
    )
    captcha_answer: str | None = None


@strawberry.type
class TotpSetupStartPayload:
    otpauth_uri: str | None = strawberry.field(
        description="For the authenticator app (QR code); it carries the secret: shown once."
    )
    errors: list[UserError]


@strawberry.input
class TotpSetupConfirmInput:
    code: str


@strawberry.type
class TotpSetupConfirmPayload:
    recovery_codes: list[str] = strawberry.field(
        description="Single-use codes for a lost phone: shown now and never again."
    )
    errors: list[UserError]


@strawberry.input
class TotpDisableInput:
    password: str
    otp: str
    captcha_id: str | None = strawberry.field(
        default=None, description="Asked for after wrong passwords: see `captchaCreate`."
    )
    captcha_answer: str | None = None


@strawberry.type
class SecondFactorMutation:
    @strawberry.mutation(description="Start turning on the second factor (TOTP).")
    async def totp_setup_start(
        self, info: Info, input: TotpSetupStartInput
    ) -> TotpSetupStartPayload:
        uri, errors = await second_factor.setup_start(
            info.context,
            password=input.password,
            captcha=CaptchaAnswer(input.captcha_id, input.captcha_answer),
        )
        return TotpSetupStartPayload(otpauth_uri=uri, errors=user_errors(errors))

    @strawberry.mutation(description="Confirm the app with its first code; returns recovery codes.")
    async def totp_setup_confirm(
        self, info: Info, input: TotpSetupConfirmInput
    ) -> TotpSetupConfirmPayload:
        codes, errors = await second_factor.setup_confirm(info.context, code=input.code)
        return TotpSetupConfirmPayload(recovery_codes=codes, errors=user_errors(errors))

    @strawberry.mutation(description="Turn the second factor off (password and a code).")
    async def totp_disable(self, info: Info, input: TotpDisableInput) -> AccountPayload:
        errors = await second_factor.disable(
            info.context,
            password=input.password,
            otp=input.otp,
            captcha=CaptchaAnswer(input.captcha_id, input.captcha_answer),
        )
        return payload(errors)
