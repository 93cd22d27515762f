"""Account flows: activation (AUTH-3), first login (AUTH-4), password reset (AUTH-2), change.

Every step checks that the step before it happened (a live code of the right purpose for the
same user), codes and links work once, wrong codes count and kill the code at the cap, and a
failed password leaves the link or code unused. Nothing secret is ever returned: it goes out
through the outbox. Passwords are hashed in the hashing pool, outside any transaction, so no
write lock waits on argon2.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth import throttle
from auth.clock import warsaw_midnight_after
from auth.passwords import hash_in_worker
from auth.policy import PersonalData, check_password
from auth.sessions import end_sessions_of, find_user_by_login
from auth.throttle import Limit
from models.client import Client
from models.i18n import Language, Msg, _
from models.identity import CodePurpose, Membership, User
from resolvers import outbox
from resolvers.attempts import CaptchaAnswer, captcha_solved, check_own_password
from resolvers.context import Context
from resolvers.errors import Abort, UserErrorData, required
from resolvers.one_time import check_code, email_link, find_link, new_code, redeem_link

PIN_LIFETIME = timedelta(hours=1)
RESET_LINK_LIFETIME = timedelta(hours=2)
THROTTLE_WINDOW = timedelta(hours=1)

INVALID_LINK = UserErrorData(
    field="token",
    code="INVALID_LINK",
    message=_("This link is not valid any more: it was used, it expired or it was replaced."),
)
THROTTLED = UserErrorData(
    field=None, code="THROTTLED", message=_("Too many requests: try again in an hour.")
)
ACCOUNT_NOT_FOUND = UserErrorData(
    field="email",
    code="ACCOUNT_NOT_FOUND",
    message=_(
        "We cannot find an account with this e-mail address. Check that the address is "
        "typed correctly. If this message keeps appearing, contact your company's Fleet "
        "Manager or Customer Service."
    ),
)
_CODE_MESSAGES = {
    "INVALID_CODE": _("The code is wrong."),
    "CODE_EXPIRED": _("There is no valid code: it expired, was used or was never sent. Ask again."),
    "TOO_MANY_ATTEMPTS": _("Too many wrong codes: this code no longer works. Ask for a new one."),
}


def code_error(reason: str, field: str = "code") -> UserErrorData:
    return UserErrorData(field=field, code=reason, message=_CODE_MESSAGES[reason])


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    query = select(User).where(func.lower(col(User.email)) == email.strip().lower())
    return (await session.execute(query)).scalars().first()


async def personal_data(
    session: AsyncSession, user: User, login: str | None = None
) -> PersonalData:
    """Everything a password must not contain, the login in each of its forms among it: the
    e-mail and the client number of every company the user is the main account of."""
    companies = (
        await session.execute(
            select(col(Client.name), col(Client.number), col(Membership.is_main))
            .join(Membership, col(Membership.client_id) == col(Client.id))
            .where(col(Membership.user_id) == user.id)
        )
    ).all()
    numbers = tuple(number for _name, number, is_main in companies if is_main)
    return PersonalData(
        login=login or user.email,
        other_logins=(user.email, *numbers),
        first_name=user.first_name,
        last_name=user.last_name,
        company_names=tuple(name for name, _number, _main in companies),
    )


def password_errors(
    ctx: Context, password: str, person: PersonalData, field: str = "password"
) -> list[UserErrorData]:
    return [
        UserErrorData(field=field, code=v.code, message=v.message)
        for v in check_password(password, ctx.settings.password_policy, person)
    ]


async def hashed(ctx: Context, password: str) -> str:
    return await hash_in_worker(password, workers=ctx.settings.password_hash_workers)


async def over_limit(
    session: AsyncSession, ctx: Context, kind: str, value: str, attempts: int
) -> bool:
    """Count this request under `kind`; True (and not counted) when the hour's cap is full."""
    key = throttle.throttle_key(ctx.settings.secret_key, kind, value)
    limit = Limit(attempts, THROTTLE_WINDOW)
    return not await throttle.take(session, key=key, limit=limit, now=ctx.now)


async def request_throttled(session: AsyncSession, ctx: Context, flow: str, subject: str) -> bool:
    """Per subject (an address, a client number) and per client IP, so neither can sweep."""
    settings = ctx.settings
    by_subject = await over_limit(
        session, ctx, f"{flow}-subject", subject, settings.resets_per_address
    )
    by_ip = await over_limit(session, ctx, f"{flow}-ip", ctx.client_ip, settings.resets_per_ip)
    return by_subject or by_ip


async def notify_password_changed(session: AsyncSession, ctx: Context, user: User) -> None:
    outbox.email_user(
        session,
        user,
        language=ctx.language,
        template="password_changed",
        subject=_("Your password has been changed"),
        body=_(
            "The password of your account has been changed and your other sessions have "
            "ended. If this was not you, contact Customer Service at once."
        ),
    )


# --- Activation (AUTH-3) -------------------------------------------------------------------


async def activation_start(ctx: Context, *, email: str) -> list[UserErrorData]:
    """Step 1: an SMS code to the phone on record, valid until midnight (Warsaw)."""
    if error := required(email, "email"):
        return [error]
    async with ctx.db.write() as session:
        if await request_throttled(session, ctx, "activation", email):
            return [THROTTLED]
        user = await user_by_email(session, email)
        if user is None or not user.is_active or user.password_hash or not user.phone:
            return []  # the same answer as a sent code: addresses cannot be probed here
        code = await new_code(
            session,
            ctx,
            user,
            purpose=CodePurpose.ACTIVATION_SMS,
            expires_at=warsaw_midnight_after(ctx.now),
        )
        outbox.sms_user(
            session,
            user,
            language=ctx.language,
            template="activation_code",
            body=_("LeaseHub: your activation code is {code}. Valid until midnight.", code=code),
        )
    return []


async def activation_confirm_code(ctx: Context, *, email: str, code: str) -> list[UserErrorData]:
    """Step 2: the SMS code; a right one sends the activation link by e-mail."""
    async with ctx.db.write() as session:
        user = await user_by_email(session, email)
        if user is None or user.password_hash:
            return [code_error("CODE_EXPIRED")]
        check = await check_code(session, ctx, user, purpose=CodePurpose.ACTIVATION_SMS, code=code)
        if check.code is None:
            return [code_error(check.reason or "INVALID_CODE")]
        await send_activation_link(
            session,
            ctx,
            user,
            language=ctx.language,
            template="activation_link",
            subject=_("LeaseHub account activation"),
            text=_("To set your password, open the link:"),
        )
    return []


ACTIVATION_PAGE = "aktywacja"
ACTIVATION_VALIDITY = _("The link is valid until midnight tomorrow.")


async def send_activation_link(
    session: AsyncSession,
    ctx: Context,
    user: User,
    *,
    language: Language,
    template: str,
    subject: Msg,
    text: Msg,
) -> None:
    """Valid until midnight of the next day (Warsaw), like the portals' activation links."""
    await email_link(
        session,
        ctx,
        user,
        purpose=CodePurpose.ACTIVATION_LINK,
        page=ACTIVATION_PAGE,
        expires_at=warsaw_midnight_after(ctx.now, days=1),
        language=language,
        template=template,
        subject=subject,
        text=text,
        validity=ACTIVATION_VALIDITY,
    )


async def password_from_link(
    ctx: Context,
    *,
    purpose: CodePurpose,
    token: str,
    password: str,
    then: Callable[[AsyncSession, User], Awaitable[None]],
) -> list[UserErrorData]:
    """Set the password of the link's user; a refused password leaves the link unused.

    The link is looked at, the password checked and hashed, and only then used up: of
    parallel requests with one link, exactly one gets to set its password.
    """
    async with ctx.db.read() as session:
        found = await find_link(session, ctx, purpose=purpose, token=token)
        if found is None:
            return [INVALID_LINK]
        if errors := password_errors(ctx, password, await personal_data(session, found[1])):
            return errors
    password_hash = await hashed(ctx, password)
    try:
        async with ctx.db.write() as session:
            redeemed = await redeem_link(session, ctx, purpose=purpose, token=token)
            if redeemed is None:
                raise Abort(INVALID_LINK)
            user = redeemed[1]
            user.password_hash, user.password_changed_at = password_hash, ctx.now
            await then(session, user)
    except Abort as abort:
        return abort.errors
    return []


async def activation_complete(ctx: Context, *, token: str, password: str) -> list[UserErrorData]:
    """Step 3: the link from the e-mail and the user's own password."""

    async def welcome(session: AsyncSession, user: User) -> None:
        outbox.email_user(
            session,
            user,
            language=ctx.language,
            template="activation_done",
            subject=_("Your account is active"),
            body=_("Your account in the client portal is active."),
        )

    return await password_from_link(
        ctx, purpose=CodePurpose.ACTIVATION_LINK, token=token, password=password, then=welcome
    )


# --- First login (AUTH-4) ------------------------------------------------------------------


async def main_account(session: AsyncSession, client_number: str) -> tuple[User, Client] | None:
    user = await find_user_by_login(session, login=client_number.strip())
    client = (
        (await session.execute(select(Client).where(col(Client.number) == client_number.strip())))
        .scalars()
        .first()
    )
    return (user, client) if user and client else None


async def first_login_start(
    ctx: Context, *, client_number: str, password: str
) -> list[UserErrorData]:
    """Client number and a new password; a PIN goes to the e-invoice address to confirm it."""
    errors = [
        e for e in (required(client_number, "clientNumber"), required(password, "password")) if e
    ]
    if errors:
        return errors
    # Only what the caller typed is checked in the answer: a rule about the account's names
    # would tell a stranger that the number exists and what its company is called.
    if errors := password_errors(ctx, password, PersonalData(login=client_number)):
        return errors
    async with ctx.db.write() as session:
        if await request_throttled(session, ctx, "first-login", client_number):
            return [THROTTLED]
        found = await main_account(session, client_number)
        person = await personal_data(session, found[0], login=client_number) if found else None
    # Hashed for any number, so a known one does not answer slower than an unknown one.
    password_hash = await hashed(ctx, password)
    if found is None or person is None or found[0].password_hash or not found[0].is_active:
        return []  # the same answer: client numbers cannot be probed here
    user, client = found
    if refused := password_errors(ctx, password, person):
        await _first_login_refused(ctx, user, client, refused[0])
        return []  # the owner reads why in the mailbox, a stranger learns nothing
    async with ctx.db.write() as session:
        pin = await new_code(
            session,
            ctx,
            user,
            purpose=CodePurpose.FIRST_LOGIN_PIN,
            expires_at=ctx.now + PIN_LIFETIME,
            payload={"password_hash": password_hash},
        )
        outbox.email_user(
            session,
            user,
            to=client.einvoice_email,
            client_id=client.id,
            language=ctx.language,
            template="first_login_pin",
            subject=_("PIN to confirm your password"),
            body=_(
                "PIN to confirm the password you set: {pin}\nThe PIN is valid for one hour.",
                pin=pin,
            ),
        )
    return []


async def _first_login_refused(
    ctx: Context, user: User, client: Client, error: UserErrorData
) -> None:
    """No PIN: the e-invoice address is told why the password was not taken."""
    async with ctx.db.write() as session:
        outbox.email_user(
            session,
            user,
            to=client.einvoice_email,
            client_id=client.id,
            language=ctx.language,
            template="first_login_refused",
            subject=_("Your password was not accepted"),
            body=_(
                "The password you chose for the first sign-in was not accepted: {reason} "
                "Start the first sign-in again with another password.",
                reason=error.message,
            ),
        )


async def first_login_confirm(ctx: Context, *, client_number: str, pin: str) -> list[UserErrorData]:
    async with ctx.db.write() as session:
        found = await main_account(session, client_number)
        if found is None or found[0].password_hash:
            return [code_error("CODE_EXPIRED", "pin")]
        user = found[0]
        check = await check_code(session, ctx, user, purpose=CodePurpose.FIRST_LOGIN_PIN, code=pin)
        if check.code is None:
            return [code_error(check.reason or "INVALID_CODE", "pin")]
        user.password_hash = check.code.payload["password_hash"]
        user.password_changed_at = ctx.now
        outbox.email_user(
            session,
            user,
            language=ctx.language,
            template="activation_done",
            subject=_("Your account is active"),
            body=_("Your password is set. You can sign in with your client number."),
        )
    return []


# --- Password reset (AUTH-2) and change (AUTH-5) -------------------------------------------


async def password_reset_request(
    ctx: Context,
    *,
    login: str,
    email: str,
    email_confirmation: str,
    captcha_id: str,
    captcha_answer: str,
) -> list[UserErrorData]:
    errors: list[UserErrorData] = [
        e for e in (required(login, "login"), required(email, "email")) if e
    ]
    if email.strip().lower() != email_confirmation.strip().lower():
        errors.append(
            UserErrorData(
                field="emailConfirmation",
                code="EMAIL_MISMATCH",
                message=_("Both e-mail addresses must be the same."),
            )
        )
    async with ctx.db.write() as session:
        if not await captcha_solved(ctx, session, CaptchaAnswer(captcha_id, captcha_answer)):
            errors.append(
                UserErrorData(
                    field="captchaAnswer",
                    code="CAPTCHA_INVALID",
                    message=_("The text from the picture does not match."),
                )
            )
        if errors:
            return errors
        if await request_throttled(session, ctx, "reset", email):
            return [THROTTLED]
        user = await find_user_by_login(session, login=login)
        if user is None or not user.is_active or user.email.lower() != email.strip().lower():
            return [ACCOUNT_NOT_FOUND]
        await send_reset_link(session, ctx, user, language=ctx.language)
    return []


async def send_reset_link(
    session: AsyncSession, ctx: Context, user: User, *, language: Language
) -> None:
    await email_link(
        session,
        ctx,
        user,
        purpose=CodePurpose.PASSWORD_RESET,
        page="nowe-haslo",
        expires_at=ctx.now + RESET_LINK_LIFETIME,
        language=language,
        template="password_reset",
        subject=_("Set a new password"),
        text=_("To set a new password, open the link:"),
        validity=_(
            "The link is valid for 2 hours. If you did not ask for the change, ignore this message."
        ),
    )


async def password_reset_complete(
    ctx: Context, *, token: str, password: str
) -> list[UserErrorData]:
    async def end_other_sessions(session: AsyncSession, user: User) -> None:
        await end_sessions_of(session, user_id=user.id, now=ctx.now)  # type: ignore[arg-type]
        await notify_password_changed(session, ctx, user)

    return await password_from_link(
        ctx,
        purpose=CodePurpose.PASSWORD_RESET,
        token=token,
        password=password,
        then=end_other_sessions,
    )


async def password_change(
    ctx: Context, *, current: str, new: str, captcha: CaptchaAnswer | None = None
) -> list[UserErrorData]:
    """The current password is checked under the per-user cap; the other sessions end."""
    wrong = UserErrorData(
        field="currentPassword",
        code="INVALID_PASSWORD",
        message=_("The current password is wrong."),
    )
    checked = await check_own_password(ctx, current, captcha or CaptchaAnswer(), wrong=wrong)
    if isinstance(checked, UserErrorData):
        return [checked]
    async with ctx.db.read() as session:
        person = await personal_data(session, checked.user)
    if errors := password_errors(ctx, new, person, field="newPassword"):
        return errors
    password_hash = await hashed(ctx, new)
    async with ctx.db.write() as session:
        # Only over the password just checked: a change that raced this one wins alone.
        changed = await session.execute(
            update(User)
            .where(
                col(User.id) == checked.user.id, col(User.password_hash) == checked.password_hash
            )
            .values(password_hash=password_hash, password_changed_at=ctx.now)
            .execution_options(synchronize_session=False)
        )
        if int(changed.rowcount or 0) != 1:  # type: ignore[attr-defined]
            return [wrong]
        user_id = checked.user.id
        assert user_id is not None
        await end_sessions_of(
            session, user_id=user_id, now=ctx.now, keep_token_id=ctx.viewer.token_id
        )
        await notify_password_changed(session, ctx, checked.user)
    return []
