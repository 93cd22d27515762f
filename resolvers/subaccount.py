"""Subaccounts (AUTH-6): a main account gives people of its company a subset of its own scopes.

Every id that comes in is checked against the companies where the viewer manages subaccounts;
a membership elsewhere and a missing one are the same "not found".

Inviting an address answers the same whether or not it belongs to an account: the caller sees
what they typed and a pending subaccount either way. A new person gets an activation link; an
existing user gets a link to accept, and has no access to the company until they do.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth import codes
from auth.access import require_scope, require_session
from auth.clock import warsaw_midnight_after
from auth.codes import parse_link_token
from auth.errors import NotFoundError
from auth.scopes import Scope
from models.client import Client
from models.i18n import DEFAULT_LANGUAGE, Language, _, translate
from models.identity import AuthToken, CodePurpose, Invitation, Membership, OneTimeCode, User
from models.outbox import Channel, OutboxMessage
from resolvers import outbox
from resolvers.account import ACTIVATION_PAGE, ACTIVATION_VALIDITY, user_by_email
from resolvers.context import Context
from resolvers.errors import Abort, UserErrorData, required
from resolvers.ids import pk_of
from resolvers.node import managed_subaccount
from resolvers.one_time import portal_link, portal_url

if TYPE_CHECKING:
    from hub.settings import Settings

INVITATION_LIFETIME = timedelta(days=7)

ALREADY_A_MEMBER = UserErrorData(
    field="email",
    code="ALREADY_A_MEMBER",
    message=_("This person already has access to the company or an open invitation to it."),
)
INVALID_INVITATION = UserErrorData(
    field="token",
    code="INVALID_LINK",
    message=_(
        "This invitation link is not valid: it was accepted, it expired, it was withdrawn "
        "or it is meant for another account."
    ),
)


@dataclass(frozen=True, slots=True)
class Invitee:
    """What the caller typed, normalised the same way whoever the address belongs to."""

    email: str
    first_name: str
    last_name: str
    phone: str | None


def _not_held(ctx: Context, client_id: int, scopes: Iterable[Scope]) -> str | None:
    """The scopes among `scopes` the viewer does not hold in the client, named; or None."""
    extra = set(scopes) - ctx.viewer.scopes_for(client_id)
    return ", ".join(sorted(scope.name for scope in extra)) if extra else None


def grantable(ctx: Context, client_id: int, scopes: list[Scope]) -> UserErrorData | None:
    """Nobody can give what they do not hold themselves."""
    if names := _not_held(ctx, client_id, scopes):
        message = _("You cannot grant what you do not have: {scopes}.", scopes=names)
        return UserErrorData(field="scopes", code="SCOPE_NOT_GRANTABLE", message=message)
    return None


def changeable(
    ctx: Context, client_id: int, before: Iterable[str], after: Iterable[Scope]
) -> UserErrorData | None:
    """Taking a scope away is as much a decision about it as granting it: both need holding it."""
    changed = {Scope(value) for value in before} ^ set(after)
    if names := _not_held(ctx, client_id, changed):
        message = _("You can only grant or remove what you have yourself: {scopes}.", scopes=names)
        return UserErrorData(field="scopes", code="SCOPE_NOT_GRANTABLE", message=message)
    return None


def _whole(ctx: Context, membership: Membership, *, field: str) -> UserErrorData | None:
    """Switching a subaccount on or off, or removing it, touches every scope it holds."""
    held = (Scope(value) for value in membership.scopes)
    if names := _not_held(ctx, membership.client_id, held):
        message = _("This subaccount holds scopes you do not have: {scopes}.", scopes=names)
        return UserErrorData(field=field, code="SCOPE_NOT_GRANTABLE", message=message)
    return None


async def managed_membership(ctx: Context, session: AsyncSession, global_id: str) -> Membership:
    """Locked for the unit of work: two managers' parallel changes apply one after the other,
    each checked against the scopes the other left (and in accept_invitation's lock order)."""
    membership = await session.get(
        Membership, pk_of(global_id, "Subaccount"), with_for_update=True, populate_existing=True
    )
    if membership is None:
        raise NotFoundError
    managed_subaccount(ctx.viewer, membership)
    return membership


def _input_errors(
    ctx: Context, client_id: int, invitee: Invitee, scopes: list[Scope]
) -> list[UserErrorData]:
    errors = [
        e
        for e in (
            required(invitee.email, "email"),
            required(invitee.first_name, "firstName"),
            required(invitee.last_name, "lastName"),
            grantable(ctx, client_id, scopes),
        )
        if e
    ]
    if invitee.email and "@" not in invitee.email:
        errors.append(
            UserErrorData(field="email", code="INVALID", message=_("Not an e-mail address."))
        )
    for field, value, limit in (
        ("email", invitee.email, 254),
        ("firstName", invitee.first_name, 100),
        ("lastName", invitee.last_name, 100),
        ("phone", invitee.phone or "", 20),
    ):
        if len(value) > limit:
            message = _("At most {limit} characters.", limit=limit)
            errors.append(UserErrorData(field=field, code="TOO_LONG", message=message))
    return errors


async def create_subaccount(
    ctx: Context,
    *,
    client_global_id: str,
    email: str,
    first_name: str,
    last_name: str,
    phone: str | None,
    scopes: list[Scope],
) -> tuple[Membership | None, list[UserErrorData]]:
    client_id = require_scope(
        ctx.viewer,
        pk_of(client_global_id, "Client", field="clientId"),
        Scope.SUBACCOUNTS_MANAGE,
        field="clientId",
    )
    invitee = Invitee(
        email=email.strip().lower(),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        phone=(phone or "").strip() or None,
    )
    if errors := _input_errors(ctx, client_id, invitee, scopes):
        return None, errors
    try:
        async with ctx.db.write() as session:
            membership = await _invite(session, ctx, invitee, client_id=client_id, scopes=scopes)
    except Abort as abort:
        return None, abort.errors
    return membership, []


async def _invite(
    session: AsyncSession, ctx: Context, invitee: Invitee, *, client_id: int, scopes: list[Scope]
) -> Membership:
    existing = await user_by_email(session, invitee.email)
    if existing is not None and await _member_of(session, existing.id, client_id):  # type: ignore[arg-type]
        raise Abort(ALREADY_A_MEMBER)
    user = existing or await _new_user(session, invitee)
    membership = Membership(
        user_id=user.id,  # type: ignore[arg-type]
        client_id=client_id,
        is_main=False,
        # Until they accept, an existing user's membership gives nothing: sessions only
        # read active memberships.
        is_active=existing is None,
        scopes=sorted(s.value for s in scopes),
        created_by_id=ctx.viewer.user_id,
    )
    session.add(membership)
    await session.flush()
    invitation = Invitation(
        membership_id=membership.id,  # type: ignore[arg-type]
        email=invitee.email,
        first_name=invitee.first_name,
        last_name=invitee.last_name,
        phone=invitee.phone,
        needs_consent=existing is not None,
    )
    session.add(invitation)
    if existing is None:
        await _send_activation(session, ctx, user, client_id)
    else:
        await _ask_consent(session, ctx, existing, membership, invitation)
    return membership


async def _new_user(session: AsyncSession, invitee: Invitee) -> User:
    user = User(
        email=invitee.email,
        first_name=invitee.first_name,
        last_name=invitee.last_name,
        phone=invitee.phone,
    )
    session.add(user)
    await session.flush()
    return user


async def _member_of(session: AsyncSession, user_id: int, client_id: int) -> bool:
    query = select(col(Membership.id)).where(
        col(Membership.user_id) == user_id, col(Membership.client_id) == client_id
    )
    return (await session.execute(query)).first() is not None


async def _send_activation(session: AsyncSession, ctx: Context, user: User, client_id: int) -> None:
    """A new person sets a password through the activation link, like any new account."""
    await send_invitations(
        session,
        settings=ctx.settings,
        now=ctx.now,
        language=DEFAULT_LANGUAGE,  # the invitee's language is not the inviter's to choose
        people=[NewPerson(user.id, user.email, user.first_name, client_id)],  # type: ignore[arg-type]
    )


@dataclass(frozen=True, slots=True)
class NewPerson:
    """Someone just given an account without a password, to be invited to set one."""

    user_id: int
    email: str
    first_name: str
    client_id: int | None


_CODES = OneTimeCode.__table__  # type: ignore[attr-defined]
_OUTBOX = OutboxMessage.__table__  # type: ignore[attr-defined]
INVITATION_SUBJECT = _("Invitation to the client portal")
INVITATION_TEXT = _(
    "You have been given access to the client portal. To set your password, open the link:"
)


async def send_invitations(
    session: AsyncSession,
    *,
    settings: Settings,
    now: datetime,
    language: Language,
    people: Sequence[NewPerson],
) -> None:
    """The activation link of `send_activation_link` for each person, outside a request (the
    intake) as inside one: one INSERT of the links and one of the e-mails, whatever the number
    of people. They were created in this transaction, so no earlier link of theirs is live."""
    if not people:
        return
    purpose = CodePurpose.ACTIVATION_LINK
    expires_at = warsaw_midnight_after(now, days=1)
    secrets = {person.user_id: codes.new_link_secret() for person in people}
    rows = [
        {
            "user_id": user_id,
            "purpose": purpose,
            "secret_hash": codes.secret_hash(settings.secret_key, purpose, user_id, secret),
            "expires_at": expires_at,
            "created_at": now,
            "updated_at": now,
        }
        for user_id, secret in secrets.items()
    ]
    # RETURNING by user, not in parameter order: SQLite would then send one INSERT a row.
    inserted = await session.execute(
        sa.insert(_CODES).returning(_CODES.c.id, _CODES.c.user_id), rows
    )
    code_ids = {user_id: code_id for code_id, user_id in inserted}
    subject = translate(INVITATION_SUBJECT, language)
    text, validity = translate(INVITATION_TEXT, language), translate(ACTIVATION_VALIDITY, language)
    messages = []
    for person in people:
        token = codes.token_of(code_ids[person.user_id], secrets[person.user_id])
        url = portal_url(settings.portal_url, ACTIVATION_PAGE, token)
        greeting = _("Hello {first_name},", first_name=person.first_name)
        messages.append(
            {
                "channel": Channel.EMAIL,
                "recipient": person.email,
                "template": "subaccount_invitation",
                "subject": subject,
                "body": outbox.letter(language, greeting, f"{text}\n{url}\n\n{validity}"),
                "user_id": person.user_id,
                "client_id": person.client_id,
                "created_at": now,
                "updated_at": now,
            }
        )
    await session.execute(sa.insert(_OUTBOX), messages)


def _secret_hash(ctx: Context, membership_id: int, secret: str) -> str:
    return codes.keyed_hash(ctx.settings.secret_key, f"INVITATION:{membership_id}:{secret}")


async def _ask_consent(
    session: AsyncSession,
    ctx: Context,
    user: User,
    membership: Membership,
    invitation: Invitation,
) -> None:
    """The link carries `<membership id>.<secret>`; only its keyed hash is stored.

    The invitation keeps a secret of its own rather than a one-time code, because issuing a
    code revokes the user's earlier ones: two companies inviting one person would cancel out.
    """
    secret = codes.new_link_secret()
    invitation.secret_hash = _secret_hash(ctx, membership.id, secret)  # type: ignore[arg-type]
    invitation.expires_at = ctx.now + INVITATION_LIFETIME
    client = await session.get(Client, membership.client_id)
    assert client is not None  # the caller manages it
    link = portal_link(ctx, "zaproszenie", f"{membership.id}.{secret}")
    outbox.email_user(
        session,
        user,
        language=DEFAULT_LANGUAGE,  # the invitee's language is not the inviter's to choose
        template="subaccount_join",
        client_id=client.id,
        subject=_("Invitation to another company in the client portal"),
        body=_(
            "{company} invites you to its company in the client portal. To accept the "
            "invitation, sign in and open the link:\n{link}\n\nThe link is valid for 7 days. "
            "Until you accept, you have no access to this company. If you did not expect the "
            "invitation, ignore this message.",
            company=client.name,
            link=link,
        ),
    )


async def accept_invitation(ctx: Context, *, token: str) -> tuple[int | None, list[UserErrorData]]:
    """The invited user, signed in, joins the company; the id of the company is returned."""
    require_session(ctx.viewer)
    async with ctx.db.write() as session:
        found = await _own_open_invitation(session, ctx, token)
        if found is None:
            return None, [INVALID_INVITATION]
        invitation, membership = found
        invitation.accepted_at = ctx.now
        membership.is_active = invitation.enabled
        membership.updated_at = ctx.now
    return membership.client_id, []


async def _own_open_invitation(
    session: AsyncSession, ctx: Context, token: str
) -> tuple[Invitation, Membership] | None:
    """The viewer's live invitation behind a link; another person's is as bad as a wrong one,
    and is left usable for its owner."""
    parsed = parse_link_token(token)
    if parsed is None:
        return None
    membership_id, secret = parsed
    membership = await session.get(Membership, membership_id, with_for_update=True)
    invitation = await _invitation_of(session, membership_id)
    if membership is None or invitation is None or membership.user_id != ctx.viewer.user_id:
        return None
    if not invitation.needs_consent or invitation.accepted_at or not invitation.secret_hash:
        return None
    if invitation.expires_at is None or invitation.expires_at <= ctx.now:
        return None
    expected = _secret_hash(ctx, membership.id, secret)  # type: ignore[arg-type]
    if not hmac.compare_digest(expected, invitation.secret_hash):
        return None
    return invitation, membership


async def _invitation_of(session: AsyncSession, membership_id: int) -> Invitation | None:
    query = (
        select(Invitation).where(col(Invitation.membership_id) == membership_id).with_for_update()
    )
    return (await session.execute(query)).scalars().first()


def awaits_consent(invitation: Invitation | None) -> bool:
    """An existing user's invitation not accepted yet: the inviter's on/off lives on it."""
    return bool(invitation and invitation.needs_consent and invitation.accepted_at is None)


async def update_subaccount(
    ctx: Context, *, global_id: str, scopes: list[Scope] | None, is_active: bool | None
) -> tuple[Membership | None, list[UserErrorData]]:
    try:
        async with ctx.db.write() as session:
            membership = await managed_membership(ctx, session, global_id)
            invitation = await _invitation_of(session, membership.id)  # type: ignore[arg-type]
            if scopes is not None:
                if error := changeable(ctx, membership.client_id, membership.scopes, scopes):
                    raise Abort(error)
                membership.scopes = sorted(s.value for s in scopes)
            if is_active is not None:
                _switch(ctx, membership, invitation, is_active)
            membership.updated_at = ctx.now
    except Abort as abort:
        return None, abort.errors
    return membership, []


def _switch(
    ctx: Context, membership: Membership, invitation: Invitation | None, is_active: bool
) -> None:
    """On or off; while an existing user has not accepted, only the intent is kept."""
    pending = awaits_consent(invitation)
    current = invitation.enabled if pending else membership.is_active  # type: ignore[union-attr]
    if is_active == current:
        return
    if error := _whole(ctx, membership, field="isActive"):
        raise Abort(error)
    if pending:
        invitation.enabled = is_active  # type: ignore[union-attr]
    else:
        membership.is_active = is_active


async def remove_subaccount(ctx: Context, *, global_id: str) -> list[UserErrorData]:
    async with ctx.db.write() as session:
        membership = await managed_membership(ctx, session, global_id)
        if error := _whole(ctx, membership, field="id"):
            return [error]
        tokens = select(AuthToken).where(
            col(AuthToken.user_id) == membership.user_id,
            col(AuthToken.client_id) == membership.client_id,
        )
        for token in (await session.execute(tokens)).scalars():
            token.revoked_at = ctx.now
        await session.delete(membership)
    return []
