"""The viewer, login and logout."""

from __future__ import annotations

from datetime import datetime

import strawberry

from auth.scopes import Scope
from auth.staff import StaffPermission, permissions_of
from loaders.client import ClientByIdLoader
from loaders.identity import ApiTokensByUserIdLoader, UserByIdLoader
from models.i18n import Msg, translate
from models.identity import StaffRole
from models.identity import User as UserRow
from resolvers import identity as identity_resolvers
from resolvers import sso as sso_resolvers
from resolvers.errors import UserErrorData
from schema.base import Info
from schema.refs import ApiTokenRef, ClientRef


@strawberry.type(description="A problem with the input of a mutation; `code` is stable.")
class UserError:
    field: str | None = strawberry.field(description="The input field at fault, if one is.")
    code: str
    text: strawberry.Private[str | Msg]

    @strawberry.field(description="For people, in the request's language (Accept-Language).")
    def message(self, info: Info) -> str:
        return translate(self.text, info.context.language)


@strawberry.type
class User:
    email: str
    first_name: str
    last_name: str
    phone: str | None


@strawberry.type(description="A company the viewer may act for, with their scopes in it.")
class ClientAccess:
    client_id: strawberry.Private[int]
    is_main_account: bool
    scopes: list[Scope]

    @strawberry.field
    async def client(self, info: Info) -> ClientRef:
        return await info.context.loaders[ClientByIdLoader].load(self.client_id)


strawberry.enum(
    StaffPermission, description="What a staff role allows in the console (USE-3); see StaffRole."
)


@strawberry.type(description="An identity at a sign-in provider that opens this account.")
class LinkedIdentity:
    provider: str
    subject: str = strawberry.field(description="The person's id at the provider.")
    linked_at: datetime
    last_used_at: datetime | None = strawberry.field(description="The last sign-in through it.")


@strawberry.type(description="Who is asking.")
class Viewer:
    user_id: strawberry.Private[int]
    staff_role: StaffRole | None
    read_only: bool = strawberry.field(description="Signed in with a read-only API token.")

    @strawberry.field
    async def user(self, info: Info) -> User:
        row: UserRow = await info.context.loaders[UserByIdLoader].load(self.user_id)
        return row  # type: ignore[return-value]

    @strawberry.field(description="Logging in needs a code from an authenticator app.")
    async def second_factor_enabled(self, info: Info) -> bool:
        row: UserRow = await info.context.loaders[UserByIdLoader].load(self.user_id)
        return row.totp_enabled_at is not None

    @strawberry.field
    def is_staff(self) -> bool:
        return self.staff_role is not None

    @strawberry.field(
        description="What the staff role allows, for the console to offer; empty for clients."
    )
    def staff_permissions(self) -> list[StaffPermission]:
        return sorted(permissions_of(self.staff_role))

    @strawberry.field(description="Your API tokens (the secrets are never shown again).")
    async def api_tokens(self, info: Info) -> list[ApiTokenRef]:
        return await info.context.loaders[ApiTokensByUserIdLoader].load(self.user_id)

    @strawberry.field(description="Sign-in providers (single sign-on) linked to this account.")
    async def linked_identities(self, info: Info) -> list[LinkedIdentity]:
        async with info.context.db.read() as session:
            rows = await sso_resolvers.linked_identities(session, user_id=self.user_id)
        return [
            LinkedIdentity(
                provider=row.provider,
                subject=row.subject,
                linked_at=row.created_at,
                last_used_at=row.last_used_at,
            )
            for row in rows
        ]

    @strawberry.field(description="Client companies to switch between; staff have none here.")
    def clients(self, info: Info) -> list[ClientAccess]:
        viewer = info.context.viewer
        return [
            ClientAccess(
                client_id=client_id,
                is_main_account=client_id in viewer.main_clients,
                scopes=sorted(scopes),
            )
            for client_id, scopes in sorted(viewer.memberships.items())
        ]


def resolve_viewer(info: Info) -> Viewer | None:
    viewer = info.context.viewer
    if viewer.user_id is None:
        return None
    return Viewer(user_id=viewer.user_id, staff_role=viewer.staff_role, read_only=viewer.read_only)


@strawberry.input
class LoginInput:
    login: str = strawberry.field(description="E-mail address or client number.")
    password: str
    captcha_id: str | None = strawberry.field(
        default=None, description="Asked for after failed attempts: see `captchaCreate`."
    )
    captcha_answer: str | None = None
    otp: str | None = strawberry.field(
        default=None, description="With the second factor on: the app's code or a recovery code."
    )


@strawberry.type
class LoginPayload:
    token: str | None = strawberry.field(
        description="Bearer token of the new session: send it as `Authorization: Bearer …`."
    )
    errors: list[UserError]


@strawberry.type
class LogoutPayload:
    errors: list[UserError]


def user_errors(errors: list[UserErrorData]) -> list[UserError]:
    return [UserError(field=e.field, code=e.code, text=e.message) for e in errors]


@strawberry.type
class IdentityMutation:
    @strawberry.mutation(description="Start a session with an e-mail or client number.")
    async def login(self, info: Info, input: LoginInput) -> LoginPayload:
        token, errors = await identity_resolvers.login(
            info.context,
            login=input.login,
            password=input.password,
            captcha_id=input.captcha_id,
            captcha_answer=input.captcha_answer,
            otp=input.otp,
        )
        return LoginPayload(token=token, errors=user_errors(errors))

    @strawberry.mutation(description="End the session of the token this request carries.")
    async def logout(self, info: Info) -> LogoutPayload:
        await identity_resolvers.logout(info.context)
        return LogoutPayload(errors=[])
