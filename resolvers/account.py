"""Account flows: activation (AUTH-3), first login (AUTH-4), password reset (AUTH-2), change.

Every step checks that the step before it happened (a live code of the right purpose for the
same user), codes and links work once, wrong codes count and kill the code at the cap, and a
failed password leaves the link or code unused. Nothing secret is ever returned: it goes out
through the outbox.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth import throttle
from auth.access import require_session
from auth.clock import warsaw_midnight_after
from auth.passwords import hash_password, verify_password
from auth.policy import PersonalData, check_password
from auth.sessions import end_sessions_of, find_user_by_login
from auth.throttle import Limit
from models.client import Client
from models.identity import CodePurpose, Membership, User
from resolvers import outbox
from resolvers.context import Context
from resolvers.errors import Abort, UserErrorData, required
from resolvers.identity import captcha_solved
from resolvers.one_time import check_code, email_link, new_code, redeem_link

PIN_LIFETIME = timedelta(hours=1)
RESET_LINK_LIFETIME = timedelta(hours=2)
THROTTLE_WINDOW = timedelta(hours=1)

INVALID_LINK = UserErrorData(
    field="token",
    code="INVALID_LINK",
    message="This link is not valid any more: it was used, it expired or it was replaced.",
)
THROTTLED = UserErrorData(
    field=None, code="THROTTLED", message="Too many requests: try again in an hour."
)
ACCOUNT_NOT_FOUND = UserErrorData(
    field="email",
    code="ACCOUNT_NOT_FOUND",
    message=(
        "Nie możemy znaleźć konta z podanym adresem email w systemie. Sprawdź, czy wpisany "
        "adres email jest poprawny. Jeżeli komunikat się powtarza, skontaktuj się z Opiekunem "
        "Floty w swojej firmie lub z Działem Obsługi Klienta."
    ),
)
_CODE_MESSAGES = {
    "INVALID_CODE": "The code is wrong.",
    "CODE_EXPIRED": "There is no valid code: it expired, was used or was never sent. Ask again.",
    "TOO_MANY_ATTEMPTS": "Too many wrong codes: this code no longer works. Ask for a new one.",
}


def code_error(reason: str, field: str = "code") -> UserErrorData:
    return UserErrorData(field=field, code=reason, message=_CODE_MESSAGES[reason])


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    query = select(User).where(func.lower(User.email) == email.strip().lower())
    return (await session.execute(query)).scalars().first()


async def personal_data(
    session: AsyncSession, user: User, login: str | None = None
) -> PersonalData:
    companies = await session.execute(
        select(Client.name)
        .join(Membership, Membership.client_id == Client.id)
        .where(Membership.user_id == user.id)
    )
    return PersonalData(
        login=login or user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        company_names=tuple(companies.scalars()),
    )


def password_errors(
    ctx: Context, password: str, person: PersonalData, field: str = "password"
) -> list[UserErrorData]:
    return [
        UserErrorData(field=field, code=v.code, message=v.message)
        for v in check_password(password, ctx.settings.password_policy, person)
    ]


def set_password(user: User, password: str, ctx: Context) -> None:
    user.password_hash = hash_password(password)
    user.password_changed_at = ctx.now


async def over_limit(
    session: AsyncSession, ctx: Context, kind: str, value: str, attempts: int
) -> bool:
    """Count this request under `kind`; True when the key already had `attempts` in the hour."""
    key = throttle.throttle_key(ctx.settings.secret_key, kind, value)
    if await throttle.is_over(
        session, key=key, now=ctx.now, limit=Limit(attempts, THROTTLE_WINDOW)
    ):
        return True
    throttle.record(session, key=key, now=ctx.now)
    return False


async def request_throttled(session: AsyncSession, ctx: Context, flow: str, subject: str) -> bool:
    """Per subject (an address, a client number) and per client IP, so neither can sweep."""
    settings = ctx.settings
    by_subject = await over_limit(
        session, ctx, f"{flow}-subject", subject, settings.resets_per_address
    )
    by_ip = await over_limit(session, ctx, f"{flow}-ip", ctx.client_ip, settings.resets_per_ip)
    return by_subject or by_ip


async def notify_password_changed(session: AsyncSession, user: User) -> None:
    outbox.email_user(
        session,
        user,
        template="password_changed",
        subject="Hasło zostało zmienione",
        body="Hasło do Twojego konta zostało zmienione, a inne sesje zakończone. Jeśli to nie "
        "Ty, natychmiast skontaktuj się z Działem Obsługi Klienta.",
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
            template="activation_code",
            body=f"LeaseHub: Twój kod aktywacyjny to {code}. Ważny do północy.",
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
            template="activation_link",
            subject="Aktywacja konta LeaseHub",
            text="Aby nadać hasło, otwórz link:",
        )
    return []


async def send_activation_link(
    session: AsyncSession, ctx: Context, user: User, *, template: str, subject: str, text: str
) -> None:
    """Valid until midnight of the next day (Warsaw), like the portals' activation links."""
    await email_link(
        session,
        ctx,
        user,
        purpose=CodePurpose.ACTIVATION_LINK,
        page="aktywacja",
        expires_at=warsaw_midnight_after(ctx.now, days=1),
        template=template,
        subject=subject,
        text=text,
        validity="Link jest ważny do północy jutrzejszego dnia.",
    )


async def password_from_link(
    ctx: Context,
    *,
    purpose: CodePurpose,
    token: str,
    password: str,
    then: Callable[[AsyncSession, User], Awaitable[None]],
) -> list[UserErrorData]:
    """Set the password of the link's user; a refused password leaves the link unused."""
    try:
        async with ctx.db.write() as session:
            redeemed = await redeem_link(session, ctx, purpose=purpose, token=token)
            if redeemed is None:
                raise Abort(INVALID_LINK)
            user = redeemed[1]
            if errors := password_errors(ctx, password, await personal_data(session, user)):
                raise Abort(*errors)
            set_password(user, password, ctx)
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
            template="activation_done",
            subject="Konto aktywne",
            body="Twoje konto w portalu klienta jest aktywne.",
        )

    return await password_from_link(
        ctx, purpose=CodePurpose.ACTIVATION_LINK, token=token, password=password, then=welcome
    )


# --- First login (AUTH-4) ------------------------------------------------------------------


async def main_account(session: AsyncSession, client_number: str) -> tuple[User, Client] | None:
    user = await find_user_by_login(session, login=client_number.strip())
    client = (
        (await session.execute(select(Client).where(Client.number == client_number.strip())))
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
    async with ctx.db.write() as session:
        if await request_throttled(session, ctx, "first-login", client_number):
            return [THROTTLED]
        found = await main_account(session, client_number)
        person = (
            await personal_data(session, found[0], login=client_number)
            if found
            else PersonalData(login=client_number)
        )
        if errors := password_errors(ctx, password, person):
            return errors
        if found is None or found[0].password_hash or not found[0].is_active:
            return []  # the same answer: client numbers cannot be probed here
        user, client = found
        pin = await new_code(
            session,
            ctx,
            user,
            purpose=CodePurpose.FIRST_LOGIN_PIN,
            expires_at=ctx.now + PIN_LIFETIME,
            payload={"password_hash": hash_password(password)},
        )
        outbox.email_user(
            session,
            user,
            to=client.einvoice_email,
            client_id=client.id,
            template="first_login_pin",
            subject="PIN do potwierdzenia hasła",
            body=f"PIN potwierdzający ustalenie hasła: {pin}\nPIN jest ważny przez godzinę.",
        )
    return []


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
            template="activation_done",
            subject="Konto aktywne",
            body="Hasło zostało ustalone. Możesz zalogować się numerem klienta.",
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
                message="Both e-mail addresses must be the same.",
            )
        )
    async with ctx.db.write() as session:
        if not await captcha_solved(ctx, session, captcha_id, captcha_answer):
            errors.append(
                UserErrorData(
                    field="captchaAnswer",
                    code="CAPTCHA_INVALID",
                    message="The text from the picture does not match.",
                )
            )
        if errors:
            return errors
        if await request_throttled(session, ctx, "reset", email):
            return [THROTTLED]
        user = await find_user_by_login(session, login=login)
        if user is None or not user.is_active or user.email.lower() != email.strip().lower():
            return [ACCOUNT_NOT_FOUND]
        await send_reset_link(session, ctx, user)
    return []


async def send_reset_link(session: AsyncSession, ctx: Context, user: User) -> None:
    await email_link(
        session,
        ctx,
        user,
        purpose=CodePurpose.PASSWORD_RESET,
        page="nowe-haslo",
        expires_at=ctx.now + RESET_LINK_LIFETIME,
        template="password_reset",
        subject="Ustaw nowe hasło",
        text="Aby ustawić nowe hasło, otwórz link:",
        validity="Link jest ważny przez 2 godziny. Jeśli to nie Ty prosiłeś o "
        "zmianę, zignoruj tę wiadomość.",
    )


async def password_reset_complete(
    ctx: Context, *, token: str, password: str
) -> list[UserErrorData]:
    async def end_other_sessions(session: AsyncSession, user: User) -> None:
        await end_sessions_of(session, user_id=user.id, now=ctx.now)  # type: ignore[arg-type]
        await notify_password_changed(session, user)

    return await password_from_link(
        ctx,
        purpose=CodePurpose.PASSWORD_RESET,
        token=token,
        password=password,
        then=end_other_sessions,
    )


async def password_change(ctx: Context, *, current: str, new: str) -> list[UserErrorData]:
    require_session(ctx.viewer)
    try:
        async with ctx.db.write() as session:
            user = await session.get(User, ctx.viewer.user_id)
            assert user is not None  # the viewer's own account
            if not verify_password(user.password_hash, current):
                raise Abort(
                    UserErrorData(
                        field="currentPassword",
                        code="INVALID_PASSWORD",
                        message="The current password is wrong.",
                    )
                )
            person = await personal_data(session, user)
            if errors := password_errors(ctx, new, person, field="newPassword"):
                raise Abort(*errors)
            set_password(user, new, ctx)
            await end_sessions_of(
                session,
                user_id=user.id,
                now=ctx.now,  # type: ignore[arg-type]
                keep_token_id=ctx.viewer.token_id,
            )
            await notify_password_changed(session, user)
    except Abort as abort:
        return abort.errors
    return []
