"""Single sign-on (AUTH-10): `ssoStart`, `ssoComplete`, `ssoLink`, `ssoUnlink` and the
providers' back-channel logout.

A sign-in starts with a random state (kept only as a keyed hash, with the provider, the
allowed redirect URI and the deep-linked contract) and is claimed once by a conditional
UPDATE before the provider is even asked: a replayed state, or twenty parallel completes of
one, get SSO_STATE_INVALID except the first. The ID token is checked in auth/sso.py.

Clients: only an identity linked to a user (by `ssoLink` after a normal sign-in, or by the
lessor with `leasehub sso-link`) gets a session; an unlinked one gets SSO_NOT_LINKED and
creates nothing. Staff: the person is found by their link, or on a first sign-in by the
verified e-mail claim of an existing staff account (never a client's; accounts are never
created; not one who unlinked this provider themselves), and their role follows the
provider's group claim at each sign-in; no mapped group removes the role and ends their
sessions. A provider serves one audience: a clients provider never opens a staff account and
a staff provider never a client's, whichever way the link was made. Sessions made through a
provider are recorded (`sso_sessions`, with the ID token's `sub` and `sid`), so its
back-channel logout and an unlink end exactly those.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from auth import throttle
from auth.access import require_session
from auth.errors import NotFoundError
from auth.revocation import ACCESS_HANDLED, access_changed
from auth.scopes import Scope
from auth.sessions import create_session, end_sessions_of, viewer_of_user
from auth.sso import (
    LEEWAY_SECONDS,
    Audience,
    DeepLink,
    OidcClient,
    ProviderSettings,
    ProviderUnavailable,
    TokenRefused,
    claim_text,
    nonce_of,
    read_deep_link,
    state_hash,
)
from auth.throttle import Limit
from auth.tokens import hash_secret
from models.audit import job
from models.base import utcnow
from models.contract import Contract
from models.i18n import _
from models.identity import AuthToken, Membership, TokenKind, User
from models.sso import (
    LinkedIdentity,
    SsoLogin,
    SsoLogoutToken,
    SsoPurpose,
    SsoSession,
    SsoUnlink,
)
from resolvers import outbox
from resolvers.attempts import login_window
from resolvers.context import Context
from resolvers.errors import Abort, UserErrorData
from resolvers.identity import login_account_key
from resolvers.ids import from_global_id, to_global_id
from resolvers.request_body import capped_body
from resolvers.second_factor import INVALID_OTP, second_factor_ok

if TYPE_CHECKING:
    from hub.db import Database
    from hub.settings import Settings

logger = logging.getLogger("leasehub.sso")
MAX_LOGOUT_BYTES = 64 * 1024  # a logout token is a few kilobytes

PROVIDER_UNKNOWN = UserErrorData(
    field="provider", code="SSO_PROVIDER_UNKNOWN", message=_("There is no such sign-in provider.")
)
PROVIDER_UNAVAILABLE = UserErrorData(
    field=None,
    code="SSO_PROVIDER_UNAVAILABLE",
    message=_("The sign-in provider does not answer. Try again in a moment."),
)
REDIRECT_NOT_ALLOWED = UserErrorData(
    field="redirectUri",
    code="SSO_REDIRECT_NOT_ALLOWED",
    message=_("This return address is not allowed."),
)
STATE_INVALID = UserErrorData(
    field="state",
    code="SSO_STATE_INVALID",
    message=_("This sign-in has expired or was used already. Start again."),
)
TOKEN_INVALID = UserErrorData(
    field="code",
    code="SSO_TOKEN_INVALID",
    message=_("The sign-in provider's answer could not be verified. Start again."),
)
NOT_LINKED = UserErrorData(
    field=None,
    code="SSO_NOT_LINKED",
    message=_(
        "This identity is not linked to a LeaseHub account. Sign in with your password and "
        "link it in your account settings."
    ),
)
ALREADY_LINKED = UserErrorData(
    field=None,
    code="SSO_ALREADY_LINKED",
    message=_("This identity, or another of the same provider, is linked already."),
)
NO_ROLE = UserErrorData(
    field=None,
    code="SSO_NO_ROLE",
    message=_("Your groups at the sign-in provider give no staff role in LeaseHub."),
)
ACCOUNT_DISABLED = UserErrorData(
    field=None, code="ACCOUNT_DISABLED", message=_("This account is disabled.")
)
NOT_LINKED_HERE = UserErrorData(
    field="provider", code="NOT_FOUND", message=_("No identity of this provider is linked.")
)
SECOND_FACTOR_REQUIRED = UserErrorData(
    field="otp",
    code="SECOND_FACTOR_REQUIRED",
    message=_(
        "Enter the code from your authenticator app (or a recovery code) and send it "
        "with the same state."
    ),
)
CONTRACT_NOT_FOUND = UserErrorData(
    field="contractId", code="NOT_FOUND", message=_("There is no such contract.")
)
WRONG_AUDIENCE = UserErrorData(
    field="provider",
    code="SSO_WRONG_AUDIENCE",
    message=_(
        "This sign-in provider is not for this account: clients and the lessor's staff sign "
        "in through different providers."
    ),
)
DEEP_LINK_INVALID = UserErrorData(
    field="deepLink",
    code="SSO_DEEP_LINK_INVALID",
    message=_("The link from the bank is not valid or has expired. Open the contract again."),
)
TOO_MANY_STARTS = UserErrorData(
    field=None,
    code="TOO_MANY_ATTEMPTS",
    message=_("Too many sign-ins were started from your network: wait a few minutes."),
)
TOO_MANY_CODES = UserErrorData(
    field="otp",
    code="TOO_MANY_ATTEMPTS",
    message=_("Too many wrong codes for this account: wait a few minutes and try again."),
)
# Stored instead of a deep link's contract number that names no contract: at completion it
# is answered as any contract the person may not see.
UNKNOWN_CONTRACT = "unknown"


@lru_cache(maxsize=8)
def _oidc(timeout: float, refresh_seconds: float, cache_seconds: float) -> OidcClient:
    """One per process (and per settings of it): the providers' keys are cached there."""
    return OidcClient(timeout=timeout, refresh_seconds=refresh_seconds, cache_seconds=cache_seconds)


def oidc_of(ctx_settings: Any) -> OidcClient:
    return _oidc(
        ctx_settings.sso_timeout_seconds,
        ctx_settings.sso_keys_refresh_seconds,
        ctx_settings.sso_keys_cache_seconds,
    )


def _provider(ctx: Context, name: str) -> ProviderSettings | None:
    return ctx.settings.sso_providers.get(name)


# ---- ssoStart ----------------------------------------------------------------------------------


async def start(
    ctx: Context,
    *,
    provider: str,
    redirect_uri: str,
    contract_id: str | None,
    purpose: SsoPurpose,
    login_hint: str | None = None,
    deep_link: str | None = None,
) -> tuple[str | None, list[UserErrorData]]:
    """The provider's authorization URL for a new state; LINK needs a signed-in person. Each
    start stores a row, so they are counted per client IP like failed logins."""
    found = _provider(ctx, provider)
    if found is None:
        return None, [PROVIDER_UNKNOWN]
    if redirect_uri not in ctx.settings.sso_redirect_uris:
        return None, [REDIRECT_NOT_ALLOWED]
    if purpose is SsoPurpose.LINK:
        require_session(ctx.viewer)
    target = (contract_id or "").strip()[:200] or None
    if deep_link:
        linked = _deep_link(ctx, found, deep_link)
        if linked is None:
            return None, [DEEP_LINK_INVALID]
        target = await _deep_link_target(ctx, linked)
    state = secrets.token_urlsafe(32)
    secret_key = ctx.settings.secret_key
    try:
        url = await oidc_of(ctx.settings).authorization_url(
            found,
            state=state,
            secret_key=secret_key,
            redirect_uri=redirect_uri,
            login_hint=(login_hint or "").strip()[:200] or None,
        )
    except ProviderUnavailable as error:
        logger.warning("provider %s unavailable: %s", provider, error)
        return None, [PROVIDER_UNAVAILABLE]
    row = SsoLogin(
        state_hash=state_hash(secret_key, state),
        provider=provider,
        purpose=purpose,
        redirect_uri=redirect_uri,
        contract_id=target,
        user_id=ctx.viewer.user_id if purpose is SsoPurpose.LINK else None,
        created_at=ctx.now,
        expires_at=ctx.now + timedelta(minutes=ctx.settings.sso_login_minutes),
    )
    try:
        async with ctx.db.write() as session:
            await _count_start(ctx, session)
            session.add(row)
    except Abort as abort:
        return None, abort.errors
    return url, []


async def _count_start(ctx: Context, session: AsyncSession) -> None:
    key = throttle.throttle_key(ctx.settings.secret_key, "sso-start-ip", ctx.client_ip)
    limit = Limit(ctx.settings.sso_starts_per_ip, login_window(ctx))
    if not await throttle.take(session, key=key, limit=limit, now=ctx.now):
        raise Abort(TOO_MANY_STARTS)  # rolled back: a refused start stores nothing


def _deep_link(ctx: Context, provider: ProviderSettings, token: str) -> DeepLink | None:
    if not provider.deep_link_secret:
        return None
    return read_deep_link(provider.deep_link_secret, token, now=ctx.now.timestamp())


async def _deep_link_target(ctx: Context, linked: DeepLink) -> str:
    """The contract's global id; whether the person may see it is decided at completion."""
    if linked.contract_id:
        return linked.contract_id[:200]
    async with ctx.db.read() as session:
        pk = await session.scalar(
            select(col(Contract.id)).where(col(Contract.number) == linked.contract_number)
        )
    return to_global_id("Contract", pk) if pk is not None else UNKNOWN_CONTRACT


# ---- the common part of ssoComplete and ssoLink ------------------------------------------------


_logins = SsoLogin.__table__  # type: ignore[attr-defined]


async def _claim(
    ctx: Context, *, provider: str, state: str, purpose: SsoPurpose
) -> SsoLogin | None:
    """The sign-in of this state, claimed by this request alone (committed at once, so a
    failure later never frees it for a replay)."""
    if not state:
        return None
    key = state_hash(ctx.settings.secret_key, state)
    conditions = [
        _logins.c.state_hash == key,
        _logins.c.provider == provider,
        _logins.c.purpose == purpose.value,
        _logins.c.used_at.is_(None),
        _logins.c.expires_at > ctx.now,
    ]
    if purpose is SsoPurpose.LINK:
        conditions.append(_logins.c.user_id == ctx.viewer.user_id)
    try:
        async with ctx.db.write() as session:
            claimed = await session.execute(
                update(_logins).where(*conditions).values(used_at=ctx.now)
            )
            if int(claimed.rowcount or 0) != 1:  # type: ignore[attr-defined]
                # Rolled back: a made-up state leaves no trace (not even an audit row).
                raise Abort(STATE_INVALID)
            found = await session.execute(select(SsoLogin).where(col(SsoLogin.state_hash) == key))
            return found.scalars().one()
    except Abort:
        return None


@dataclass(frozen=True, slots=True)
class Verified:
    """A person the provider vouched for in a checked ID token."""

    subject: str  # the configured subject claim's: what links name
    oidc_sub: str  # the ID token's own `sub`: what a logout token names
    sid: str | None
    claims: dict[str, Any]


async def _verified(
    ctx: Context, provider: ProviderSettings, login: SsoLogin, *, code: str, state: str
) -> Verified | UserErrorData:
    secret_key, client = ctx.settings.secret_key, oidc_of(ctx.settings)
    try:
        id_token = await client.exchange(
            provider, code=code, state=state, secret_key=secret_key, redirect_uri=login.redirect_uri
        )
        claims = await client.verify(provider, id_token, nonce=nonce_of(secret_key, state))
    except ProviderUnavailable as error:
        logger.warning("provider %s unavailable: %s", provider.name, error)
        return PROVIDER_UNAVAILABLE
    except TokenRefused as refused:
        # The detail stays in the server's log: a caller learns only that it was refused.
        logger.warning("provider %s: token refused (%s)", provider.name, refused.detail)
        return TOKEN_INVALID
    subject, oidc_sub = claim_text(claims, provider.subject_claim), claim_text(claims, "sub")
    if subject is None or oidc_sub is None:
        logger.warning("provider %s: no %s claim", provider.name, provider.subject_claim)
        return TOKEN_INVALID
    return Verified(
        subject=subject, oidc_sub=oidc_sub, sid=claim_text(claims, "sid"), claims=claims
    )


async def _link_of(session: AsyncSession, provider: str, subject: str) -> LinkedIdentity | None:
    query = select(LinkedIdentity).where(
        col(LinkedIdentity.provider) == provider, col(LinkedIdentity.subject) == subject
    )
    return (await session.execute(query)).scalars().first()


# ---- ssoComplete -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Completed:
    token: str | None = None
    contract_id: str | None = None
    errors: tuple[UserErrorData, ...] = ()


async def complete(
    ctx: Context, *, provider: str, code: str, state: str, otp: str | None = None
) -> Completed:
    found = _provider(ctx, provider)
    if found is None:
        return Completed(errors=(PROVIDER_UNKNOWN,))
    login = await _claim(ctx, provider=provider, state=state, purpose=SsoPurpose.SIGN_IN)
    if login is None:
        if otp:  # the second step of a sign-in that asked for the hub's second factor
            return await _complete_second_factor(ctx, found, state=state, otp=otp)
        return Completed(errors=(STATE_INVALID,))
    verified = await _verified(ctx, found, login, code=code, state=state)
    if isinstance(verified, UserErrorData):
        return Completed(errors=(verified,))
    try:
        return await _signed_in(ctx, found, login, verified, otp)
    except IntegrityError:
        # A parallel first sign-in of the same person linked them a moment earlier (the
        # unique keys decided): this one now finds that link and goes on as its.
        return await _signed_in(ctx, found, login, verified, otp)


async def _signed_in(
    ctx: Context, found: ProviderSettings, login: SsoLogin, verified: Verified, otp: str | None
) -> Completed:
    async with ctx.db.write() as session:
        user = await _person(ctx, session, found, verified)
        if isinstance(user, UserErrorData):
            return Completed(errors=(user,))
        if _needs_second_factor(found, verified, user):
            if not otp:
                await _await_second_factor(ctx, session, login, user, verified)
                return Completed(errors=(SECOND_FACTOR_REQUIRED,))
            refused = await _second_factor_refused(ctx, session, user, otp)
            if refused is not None:
                return Completed(errors=(refused,))
        token = await _open_session(ctx, session, found, user, verified)
    return await _landed(ctx, token, user.id, login.contract_id)


async def _second_factor_refused(
    ctx: Context, session: AsyncSession, user: User, otp: str
) -> UserErrorData | None:
    """The hub's code, counted against the account's login budget before it is checked, as a
    password login's code is: new states must not buy an attacker new guesses."""
    key = login_account_key(ctx, user_id=user.id, login="")
    limit = Limit(ctx.settings.login_failures_per_account, login_window(ctx))
    if not await throttle.take(session, key=key, limit=limit, now=ctx.now):
        return TOO_MANY_CODES
    if not await second_factor_ok(session, ctx, user, otp):
        throttle.record(session, key=key, now=ctx.now)  # committed: the attempt stays counted
        return INVALID_OTP
    await throttle.forget(session, key=key)
    return None


def _needs_second_factor(provider: ProviderSettings, verified: Verified, user: User) -> bool:
    return user.totp_enabled_at is not None and not provider.asserts_mfa(verified.claims)


async def _await_second_factor(
    ctx: Context, session: AsyncSession, login: SsoLogin, user: User, verified: Verified
) -> None:
    """The verified person waits on the claimed row for their code, a short while."""
    await session.execute(
        update(_logins)
        .where(_logins.c.id == login.id)
        .values(
            pending_user_id=user.id,
            subject=verified.subject,
            oidc_sub=verified.oidc_sub,
            sid=verified.sid,
            expires_at=ctx.now + timedelta(minutes=ctx.settings.sso_login_minutes),
        )
    )


async def _complete_second_factor(
    ctx: Context, provider: ProviderSettings, *, state: str, otp: str
) -> Completed:
    """A pending sign-in goes on with the hub's code: a few tries, and one session at most."""
    key = state_hash(ctx.settings.secret_key, state)
    pending = (
        _logins.c.state_hash == key,
        _logins.c.provider == provider.name,
        _logins.c.pending_user_id.is_not(None),
        _logins.c.completed_at.is_(None),
        _logins.c.expires_at > ctx.now,
    )
    async with ctx.db.write() as session:
        tried = await session.execute(
            update(_logins)
            .where(*pending, _logins.c.otp_attempts < ctx.settings.code_max_attempts)
            .values(otp_attempts=_logins.c.otp_attempts + 1)
        )
        if int(tried.rowcount or 0) != 1:  # type: ignore[attr-defined]
            return Completed(errors=(STATE_INVALID,))
    async with ctx.db.write() as session:
        login = (await session.execute(select(SsoLogin).where(*pending))).scalars().first()
        user = await session.get(User, login.pending_user_id) if login else None
        if login is None or user is None or not user.is_active:
            return Completed(errors=(STATE_INVALID,))
        unlinked = await _still_linked_refusal(session, provider, login, user)
        if unlinked is not None:
            return Completed(errors=(unlinked,))
        refused = await _second_factor_refused(ctx, session, user, otp)
        if refused is not None:
            return Completed(errors=(refused,))
        done = await session.execute(update(_logins).where(*pending).values(completed_at=ctx.now))
        if int(done.rowcount or 0) != 1:  # type: ignore[attr-defined]
            return Completed(errors=(STATE_INVALID,))
        verified = Verified(
            subject=login.subject or "", oidc_sub=login.oidc_sub or "", sid=login.sid, claims={}
        )
        token = await _open_session(ctx, session, provider, user, verified)
        contract_id = login.contract_id
    return await _landed(ctx, token, user.id, contract_id)


async def _still_linked_refusal(
    session: AsyncSession, provider: ProviderSettings, login: SsoLogin, user: User
) -> UserErrorData | None:
    """While the person typed their code, the link may have gone (an unlink) or their staff
    role (a sign-in without the group): a pending sign-in must not outlive either."""
    link = await _link_of(session, provider.name, login.subject or "")
    if link is None or link.user_id != user.id:
        return NOT_LINKED
    if provider.audience is Audience.STAFF and user.staff_role is None:
        return NO_ROLE
    return await _audience_refusal(session, provider, user)


async def _person(
    ctx: Context, session: AsyncSession, provider: ProviderSettings, verified: Verified
) -> User | UserErrorData:
    if provider.audience is Audience.STAFF:
        return await _staff_person(ctx, session, provider, verified)
    link = await _link_of(session, provider.name, verified.subject)
    user = await session.get(User, link.user_id) if link else None
    if user is None:
        return NOT_LINKED
    if not user.is_active:
        return ACCOUNT_DISABLED
    return await _audience_refusal(session, provider, user) or user


async def _audience_refusal(
    session: AsyncSession, provider: ProviderSettings, user: User
) -> UserErrorData | None:
    """A clients provider never opens a staff account (it would skip staff's short sessions,
    role re-reading and 2FA, and the password switch), nor a staff provider a client's. A
    staff provider's linked person whose role a sign-in without the group took away is no
    client: their role may come back with the group."""
    if provider.audience is Audience.CLIENTS:
        return WRONG_AUDIENCE if user.staff_role is not None else None
    if user.staff_role is None and await _is_client_account(session, user.id):
        return WRONG_AUDIENCE
    return None


async def _is_client_account(session: AsyncSession, user_id: int | None) -> bool:
    found = await session.scalar(
        select(col(Membership.id)).where(col(Membership.user_id) == user_id).limit(1)
    )
    return found is not None


async def _staff_person(
    ctx: Context, session: AsyncSession, provider: ProviderSettings, verified: Verified
) -> User | UserErrorData:
    """The staff account, its role set from the group claim (or taken away, sessions ended)."""
    link = await _link_of(session, provider.name, verified.subject)
    role = provider.role_of(verified.claims)
    if role is None:
        if link is not None:
            await _take_role_away(ctx, session, link.user_id)
        return NO_ROLE
    if link is None:
        user = await _staff_by_email(session, provider, verified)
        if user is None:
            # A parallel first sign-in of the same person may have linked them while this one
            # waited for their row: a new statement sees that committed link.
            link = await _link_of(session, provider.name, verified.subject)
    if link is not None:
        user = await session.get(User, link.user_id, with_for_update=True)
    if user is None:
        return NOT_LINKED
    if not user.is_active:
        return ACCOUNT_DISABLED
    refused = await _audience_refusal(session, provider, user)
    if refused is not None:
        return refused
    if link is None:
        session.add(
            LinkedIdentity(
                provider=provider.name,
                subject=verified.subject,
                user_id=user.id or 0,
                created_at=ctx.now,
            )
        )
        await session.flush()  # a parallel first sign-in's link: IntegrityError, retried
        await _email_linked(session, user.id, provider.name)
    user.staff_role = role  # a change raises the access version in the flush
    return user


async def _take_role_away(ctx: Context, session: AsyncSession, user_id: int) -> None:
    """Out of every mapped group: no staff role any more, and every session of theirs ends
    (committed although the sign-in itself is refused)."""
    user = await session.get(User, user_id, with_for_update=True)
    if user is not None and user.staff_role is not None:
        user.staff_role = None
        await end_sessions_of(session, user_id=user_id, now=ctx.now)


async def _staff_by_email(
    session: AsyncSession, provider: ProviderSettings, verified: Verified
) -> User | None:
    """A first sign-in: an existing staff account of the e-mail claim, when the provider
    vouches for the address (`email_verified` true: anyone may type an unverified one), not
    yet linked here and not unlinked by the person (then only an explicit link links)."""
    email = claim_text(verified.claims, provider.email_claim)
    if email is None or not provider.matches_email:
        return None
    if verified.claims.get("email_verified") is not True:
        return None
    linked_here = select(col(LinkedIdentity.user_id)).where(
        col(LinkedIdentity.provider) == provider.name
    )
    unlinked_here = select(col(SsoUnlink.user_id)).where(col(SsoUnlink.provider) == provider.name)
    query = select(User).where(
        func.lower(col(User.email)) == email.lower(),
        col(User.staff_role).is_not(None),
        col(User.id).not_in(linked_here),
        col(User.id).not_in(unlinked_here),
    )
    return (await session.execute(query.with_for_update())).scalars().first()


async def _open_session(
    ctx: Context,
    session: AsyncSession,
    provider: ProviderSettings,
    user: User,
    verified: Verified,
) -> str:
    ttl = (
        timedelta(minutes=ctx.settings.sso_staff_session_minutes)
        if provider.audience is Audience.STAFF
        else timedelta(hours=ctx.settings.session_ttl_hours)
    )
    secret = create_session(session, user=user, now=ctx.now, ttl=ttl)
    await session.flush()
    token_id = await session.scalar(
        select(col(AuthToken.id)).where(col(AuthToken.token_hash) == hash_secret(secret))
    )
    assert token_id is not None  # flushed just above
    session.add(
        SsoSession(
            token_id=token_id,
            provider=provider.name,
            subject=verified.subject,
            oidc_sub=verified.oidc_sub,
            sid=verified.sid,
        )
    )
    await session.execute(
        update(LinkedIdentity)
        .where(
            col(LinkedIdentity.provider) == provider.name,
            col(LinkedIdentity.subject) == verified.subject,
        )
        .values(last_used_at=ctx.now)
    )
    return secret


async def _landed(
    ctx: Context, token: str, user_id: int | None, contract_id: str | None
) -> Completed:
    """The session, and the deep-linked contract when the person may see it: otherwise it is
    answered as a missing one (the sign-in itself stands)."""
    if not contract_id or user_id is None:
        return Completed(token=token)
    async with ctx.db.read() as session:
        viewer = await viewer_of_user(session, user_id=user_id, now=ctx.now)
        try:
            type_name, pk = from_global_id(contract_id, field="contractId")
        except NotFoundError:
            return Completed(token=token, errors=(CONTRACT_NOT_FOUND,))
        client_id = await session.scalar(
            select(col(Contract.client_id)).where(col(Contract.id) == pk)
        )
    if type_name != "Contract" or client_id is None:
        return Completed(token=token, errors=(CONTRACT_NOT_FOUND,))
    if not viewer.has_scope(client_id, Scope.CONTRACTS_READ):
        return Completed(token=token, errors=(CONTRACT_NOT_FOUND,))
    return Completed(token=token, contract_id=to_global_id("Contract", pk))


# ---- ssoLink and ssoUnlink ---------------------------------------------------------------------


async def link(
    ctx: Context, *, provider: str, code: str, state: str
) -> tuple[LinkedIdentity | None, list[UserErrorData]]:
    require_session(ctx.viewer)
    found = _provider(ctx, provider)
    if found is None:
        return None, [PROVIDER_UNKNOWN]
    login = await _claim(ctx, provider=provider, state=state, purpose=SsoPurpose.LINK)
    if login is None:
        return None, [STATE_INVALID]
    verified = await _verified(ctx, found, login, code=code, state=state)
    if isinstance(verified, UserErrorData):
        return None, [verified]
    try:
        async with ctx.db.write() as session:
            user = await session.get(User, ctx.viewer.user_id)
            assert user is not None  # the signed-in person's own account
            linked = await _new_link(session, found, user, subject=verified.subject, now=ctx.now)
    except IntegrityError:
        return None, [ALREADY_LINKED]
    except Abort as abort:
        return None, abort.errors
    return linked, []


async def _new_link(
    session: AsyncSession, provider: ProviderSettings, user: User, *, subject: str, now: datetime
) -> LinkedIdentity:
    """An explicit link (the person's `ssoLink`, the lessor's `sso-link`): of the provider's
    audience only, e-mailed, and it forgets an earlier unlink. Abort or IntegrityError."""
    refused = await _audience_refusal(session, provider, user)
    if refused is not None or not provider.serves(staff=user.staff_role is not None):
        raise Abort(refused or WRONG_AUDIENCE)
    linked = LinkedIdentity(
        provider=provider.name, subject=subject, user_id=user.id or 0, created_at=now
    )
    session.add(linked)
    await session.flush()  # a unique key refuses a second link either way
    await session.execute(
        delete(SsoUnlink).where(
            col(SsoUnlink.provider) == provider.name, col(SsoUnlink.user_id) == user.id
        )
    )
    await _email_linked(session, user.id, provider.name)
    return linked


async def unlink(ctx: Context, *, provider: str) -> list[UserErrorData]:
    """The link goes, and every session made through it ends (this one too, if it was)."""
    require_session(ctx.viewer)
    user_id = ctx.viewer.user_id
    async with ctx.db.write() as session:
        mine = select(LinkedIdentity).where(
            col(LinkedIdentity.provider) == provider, col(LinkedIdentity.user_id) == user_id
        )
        # Locked: a parallel unlink waits, then finds nothing (NOT_FOUND), not a second row.
        link = (await session.execute(mine.with_for_update())).scalars().first()
        if link is None:
            return [NOT_LINKED_HERE]
        await end_identity_sessions(session, provider=provider, subject=link.subject, now=ctx.now)
        await session.delete(link)
        session.add(SsoUnlink(provider=provider, user_id=user_id or 0, created_at=ctx.now))
        await _email(session, user_id, "sso_unlinked", _UNLINKED_SUBJECT, _unlinked_body(provider))
    return []


_LINKED_SUBJECT = _("A sign-in provider was linked to your account")
_UNLINKED_SUBJECT = _("A sign-in provider was unlinked from your account")


def _linked_body(provider: str) -> Any:
    return _(
        "You can now sign in to LeaseHub through {provider}. If it was not you, unlink it "
        "in your account settings and change your password.",
        provider=provider,
    )


def _unlinked_body(provider: str) -> Any:
    return _(
        "Signing in through {provider} no longer opens your LeaseHub account; its sessions "
        "have ended. If it was not you, change your password.",
        provider=provider,
    )


async def _email(
    session: AsyncSession, user_id: int | None, template: str, subject: Any, body: Any
) -> None:
    await outbox.email_acting_user(
        session, user_id=user_id, template=template, subject=subject, body=body
    )


async def _email_linked(session: AsyncSession, user_id: int | None, provider: str) -> None:
    await _email(session, user_id, "sso_linked", _LINKED_SUBJECT, _linked_body(provider))


# ---- ending sessions made through a provider ---------------------------------------------------

_sso_sessions = SsoSession.__table__  # type: ignore[attr-defined]
_tokens = AuthToken.__table__  # type: ignore[attr-defined]


async def end_identity_sessions(
    session: AsyncSession,
    *,
    provider: str,
    now: datetime,
    subject: str | None = None,
    oidc_sub: str | None = None,
    sid: str | None = None,
) -> int:
    """Ends the live sessions a provider made: of a link's `subject` (an unlink), of one
    sign-in (`sid`, with `oidc_sub` when given too) or of a person (`oidc_sub` alone, both
    as the ID token carried them); returns how many ended."""
    column = _sso_sessions.c
    made = select(column.token_id).where(column.provider == provider)
    if sid:
        made = made.where(column.sid == sid)
        made = made.where(column.oidc_sub == oidc_sub) if oidc_sub else made
    elif oidc_sub:
        made = made.where(column.oidc_sub == oidc_sub)
    elif subject:
        made = made.where(column.subject == subject)
    else:
        return 0
    live = select(_tokens.c.id, _tokens.c.user_id).where(
        _tokens.c.id.in_(made),
        _tokens.c.kind == TokenKind.SESSION.value,
        _tokens.c.revoked_at.is_(None),
    )
    rows = (await session.execute(live)).all()
    if not rows:
        return 0
    await access_changed(session, [row.user_id for row in rows])  # users first, then tokens
    await session.execute(
        update(AuthToken)
        .where(col(AuthToken.id).in_([row.id for row in rows]), col(AuthToken.revoked_at).is_(None))
        .values(revoked_at=now)
        .execution_options(**ACCESS_HANDLED)
    )
    return len(rows)


async def backchannel_logout(
    session: AsyncSession,
    client: OidcClient,
    provider: ProviderSettings,
    *,
    logout_token: str,
    now: datetime,
) -> int:
    """A verified logout token, used once, ends the sessions it names (TokenRefused
    otherwise; the caller's transaction then rolls back)."""
    claims = await client.verify(provider, logout_token, nonce=None)
    await _spend_logout_token(session, provider, claims, now=now)
    return await end_identity_sessions(
        session,
        provider=provider.name,
        oidc_sub=claim_text(claims, "sub"),
        sid=claim_text(claims, "sid"),
        now=now,
    )


async def _spend_logout_token(
    session: AsyncSession, provider: ProviderSettings, claims: dict[str, Any], *, now: datetime
) -> None:
    """The token's `jti` once: the primary key refuses a replay, across processes."""
    expires = datetime.fromtimestamp(int(claims["exp"]) + LEEWAY_SECONDS, UTC)
    jti = claim_text(claims, "jti") or ""
    session.add(SsoLogoutToken(provider=provider.name, jti=jti[:255], expires_at=max(expires, now)))
    try:
        await session.flush()
    except IntegrityError as error:
        raise TokenRefused("REPLAYED") from error


async def link_by_lessor(
    db: Database, *, provider: ProviderSettings, subject: str, email: str, now: datetime
) -> UserErrorData | None:
    """`leasehub sso-link`: the lessor links a bank customer id to an account it knows,
    audited (job "sso-link") and e-mailed as `ssoLink` is; an error when there is no such
    account, it is of the other audience, or either side is linked already."""
    by_email = select(User).where(func.lower(col(User.email)) == email.lower())
    try:
        with job("sso-link"):
            async with db.write() as session:
                user = (await session.execute(by_email)).scalars().first()
                if user is None:
                    raise Abort(NOT_LINKED)
                await _new_link(session, provider, user, subject=subject, now=now)
    except IntegrityError:
        return ALREADY_LINKED
    except Abort as abort:
        return abort.errors[0]
    return None


async def prune_sign_ins(session: AsyncSession, *, now: datetime) -> int:
    """`leasehub prune`: sign-ins past their time (used or not) and spent logout tokens."""
    logins = await session.execute(delete(SsoLogin).where(col(SsoLogin.expires_at) < now))
    logouts = await session.execute(
        delete(SsoLogoutToken).where(col(SsoLogoutToken.expires_at) < now)
    )
    return int(logins.rowcount or 0) + int(logouts.rowcount or 0)  # type: ignore[attr-defined]


async def linked_identities(session: AsyncSession, *, user_id: int) -> list[LinkedIdentity]:
    query = (
        select(LinkedIdentity)
        .where(col(LinkedIdentity.user_id) == user_id)
        .order_by(col(LinkedIdentity.provider))
    )
    return list((await session.execute(query)).scalars())


def backchannel_logout_endpoint(
    db: Database, settings: Settings
) -> Callable[[Request], Awaitable[Response]]:
    """POST /sso/{provider}/backchannel-logout (OpenID Connect Back-Channel Logout 1.0): a
    form with `logout_token`; 200 when verified (whether or not a session was live), 400 for
    a token that fails any check, 404 for an unknown provider."""

    async def endpoint(request: Request) -> Response:
        provider = settings.sso_providers.get(request.path_params["provider"])
        if provider is None:
            return _logout_answer(404, "not_found")
        body = await capped_body(request, MAX_LOGOUT_BYTES)
        if body is None:
            return _logout_answer(413, "invalid_request")
        form = parse_qs(body.decode("utf-8", "replace"))
        token = (form.get("logout_token") or [""])[-1]
        try:
            with job("sso-backchannel-logout"):
                async with db.write() as session:
                    ended = await backchannel_logout(
                        session, oidc_of(settings), provider, logout_token=token, now=utcnow()
                    )
        except TokenRefused as refused:
            logger.warning("provider %s: logout token refused (%s)", provider.name, refused.detail)
            return _logout_answer(400, "invalid_request")
        except ProviderUnavailable:
            return _logout_answer(503, "temporarily_unavailable")
        logger.info("provider %s: back-channel logout ended %d session(s)", provider.name, ended)
        return _logout_answer(200, None)

    return endpoint


def _logout_answer(status: int, error: str | None) -> Response:
    body = {"error": error} if error else {}
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})
