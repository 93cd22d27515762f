"""Profile (AUTH-9): the person's own contact data, their e-mail, the company's e-invoice address.

Changing the company's master data (name, NIP, address) is a request (CLIENT_DATA_CHANGE), not
an edit: the lessor checks documents first. An e-mail change never tells the caller whether the
new address belongs to someone: that person is told instead.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from auth.access import require_authenticated, require_scope, require_session
from auth.scopes import Scope
from models.client import Client
from models.i18n import DEFAULT_LANGUAGE, _, translate
from models.identity import CodePurpose, User
from resolvers import outbox
from resolvers.account import INVALID_LINK, user_by_email
from resolvers.attempts import INVALID_PASSWORD, CaptchaAnswer, check_own_password
from resolvers.context import Context
from resolvers.errors import Abort, UserErrorData, required
from resolvers.ids import pk_of
from resolvers.one_time import email_link, redeem_link

EMAIL_CHANGE_LIFETIME = timedelta(hours=24)


NOT_AN_EMAIL = _("Not an e-mail address.")


def _email_error(email: str, field: str) -> UserErrorData | None:
    local, _at, domain = email.strip().partition("@")
    if local and "." in domain and " " not in email.strip():
        return None
    return UserErrorData(field=field, code="INVALID_EMAIL", message=NOT_AN_EMAIL)


async def update_profile(
    ctx: Context, *, first_name: str | None, last_name: str | None, phone: str | None
) -> tuple[User | None, list[UserErrorData]]:
    require_authenticated(ctx.viewer)
    errors = [
        e
        for e in (
            required(first_name, "firstName") if first_name is not None else None,
            required(last_name, "lastName") if last_name is not None else None,
        )
        if e
    ]
    if phone is not None and not phone.replace(" ", "").lstrip("+").isdigit():
        errors.append(
            UserErrorData(
                field="phone",
                code="INVALID_PHONE",
                message=_("Use digits, optionally with a leading +."),
            )
        )
    if errors:
        return None, errors
    async with ctx.db.write() as session:
        user = await session.get(User, ctx.viewer.user_id)
        assert user is not None  # the viewer's own account
        if first_name is not None:
            user.first_name = first_name.strip()
        if last_name is not None:
            user.last_name = last_name.strip()
        if phone is not None:
            user.phone = phone.strip()
        user.updated_at = ctx.now
    return user, []


async def email_change_start(
    ctx: Context, *, new_email: str, password: str, captcha: CaptchaAnswer | None = None
) -> list[UserErrorData]:
    """A confirmation link goes to the new address; the old one keeps working until then.

    The answer is the same whether the address is free or taken: when it is taken, its owner
    gets a notice instead of a link, and nothing changes.
    """
    require_session(ctx.viewer)
    if error := _email_error(new_email, "newEmail"):
        return [error]
    checked = await check_own_password(
        ctx, password, captcha or CaptchaAnswer(), wrong=INVALID_PASSWORD
    )
    if isinstance(checked, UserErrorData):
        return [checked]
    async with ctx.db.write() as session:
        user = await session.get(User, ctx.viewer.user_id)
        assert user is not None
        if owner := await user_by_email(session, new_email):
            _tell_owner_of_taken_address(session, owner)
            return []
        await email_link(
            session,
            ctx,
            user,
            to=new_email.strip(),
            purpose=CodePurpose.EMAIL_CHANGE,
            page="potwierdz-email",
            expires_at=ctx.now + EMAIL_CHANGE_LIFETIME,
            language=ctx.language,
            template="email_change",
            subject=_("Confirm your new e-mail address"),
            text=_("To confirm the new address, open the link:"),
            validity=_("The link is valid for 24 hours."),
            payload={"email": new_email.strip().lower()},
        )
    return []


def _tell_owner_of_taken_address(session: AsyncSession, owner: User) -> None:
    """Polish, the portals' language: the one who typed the address is someone else."""
    outbox.email_user(
        session,
        owner,
        language=DEFAULT_LANGUAGE,
        template="email_change_address_taken",
        subject=_("Someone tried to use your e-mail address"),
        body=_(
            "Someone wanted to set this address as the login of another LeaseHub account. "
            "The address already belongs to your account, so nothing has changed. If that "
            "was you, sign in to the account that uses it."
        ),
    )


async def email_change_confirm(ctx: Context, *, token: str) -> list[UserErrorData]:
    try:
        async with ctx.db.write() as session:
            redeemed = await redeem_link(
                session, ctx, purpose=CodePurpose.EMAIL_CHANGE, token=token
            )
            if redeemed is None:
                raise Abort(INVALID_LINK)
            link, user = redeemed
            new_email = link.payload["email"]
            if await user_by_email(session, new_email):
                raise Abort(
                    UserErrorData(
                        field="token",
                        code="EMAIL_TAKEN",
                        message=_("Another account uses this address now."),
                    )
                )
            old_email, user.email = user.email, new_email
            outbox.email_user(
                session,
                user,
                to=old_email,
                language=ctx.language,
                template="email_changed",
                subject=_("Your e-mail address has been changed"),
                body=_("Your login address was changed to {email}.", email=new_email),
            )
    except Abort as abort:
        return abort.errors
    return []


async def einvoice_email_update(
    ctx: Context, *, client_global_id: str, email: str
) -> tuple[Client | None, list[UserErrorData]]:
    client_id = require_scope(
        ctx.viewer,
        pk_of(client_global_id, "Client", field="clientId"),
        Scope.PROFILE_WRITE,
        field="clientId",
    )
    if error := _email_error(email, "email"):
        return None, [error]
    async with ctx.db.write() as session:
        client = await session.get(Client, client_id)
        assert client is not None  # require_scope passed, and clients are never deleted here
        old, client.einvoice_email = client.einvoice_email, email.strip()
        client.updated_at = ctx.now
        outbox.enqueue(
            session,
            channel=outbox.Channel.EMAIL,
            recipient=old,
            template="einvoice_email_changed",
            client_id=client.id,
            subject=translate(_("E-invoice address changed"), ctx.language),
            body=translate(
                _("Invoices will be sent to {email}.", email=client.einvoice_email), ctx.language
            ),
        )
    return client, []
