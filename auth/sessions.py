"""Sessions and API tokens: turning a bearer secret into a Viewer, logging in and out."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.passwords import verify_in_worker
from auth.scopes import Scope
from auth.tokens import SESSION_PREFIX, hash_secret, new_secret
from auth.viewer import ANONYMOUS, Viewer
from models.client import Client
from models.identity import AuthToken, Membership, TokenKind, User

# API tokens record their last use at most this often, so a BI pull is not a write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_SCOPE_VALUES = frozenset(scope.value for scope in Scope)


def bearer_secret(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, secret = authorization.partition(" ")
    return secret.strip() or None if scheme.lower() == "bearer" else None


async def authenticate(session: AsyncSession, *, secret: str | None, now: datetime) -> Viewer:
    """The viewer behind a bearer secret; anonymous for a missing, expired or revoked one."""
    if not secret:
        return ANONYMOUS
    row = (
        await session.execute(
            select(AuthToken, User)
            .join(User, col(User.id) == col(AuthToken.user_id))
            .where(
                col(AuthToken.token_hash) == hash_secret(secret),
                col(AuthToken.revoked_at).is_(None),
                or_(col(AuthToken.expires_at).is_(None), col(AuthToken.expires_at) > now),
                col(User.is_active).is_(True),
            )
        )
    ).first()
    if row is None:
        return ANONYMOUS
    token, user = row
    memberships = await _memberships(session, user.id)  # type: ignore[arg-type]
    if token.kind is TokenKind.API:
        await _touch_api_token(session, token, now)
    return _viewer_for(user, token, memberships)


async def _memberships(session: AsyncSession, user_id: int) -> list[Any]:
    query = select(
        col(Membership.client_id), col(Membership.scopes), col(Membership.is_main)
    ).where(col(Membership.user_id) == user_id, col(Membership.is_active).is_(True))
    return list((await session.execute(query)).all())


async def viewer_of_user(
    session: AsyncSession, *, user_id: int, api_token_id: int | None = None, now: datetime
) -> Viewer:
    """The user's rights as they are now: for links that outlive the request that made them.

    A link made with an API token keeps that token's narrower scopes and dies with it.
    """
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        return ANONYMOUS
    if api_token_id is None:
        token = AuthToken(user_id=user_id, kind=TokenKind.SESSION, token_hash="")
    else:
        found = await session.get(AuthToken, api_token_id)
        if found is None or found.user_id != user_id or not _usable(found, now):
            return ANONYMOUS
        token = found
    return _viewer_for(user, token, await _memberships(session, user_id))


def _usable(token: AuthToken, now: datetime) -> bool:
    return token.revoked_at is None and (token.expires_at is None or token.expires_at > now)


def _known_scopes(values: list[str]) -> frozenset[Scope]:
    """Scopes stored as strings; one withdrawn from the catalogue simply grants nothing."""
    return frozenset(Scope(value) for value in values if value in _SCOPE_VALUES)


def _viewer_for(user: User, token: AuthToken, memberships: list) -> Viewer:
    granted: dict[int, frozenset[Scope]] = {}
    for client_id, scopes, _ in memberships:
        if token.client_id is not None and client_id != token.client_id:
            continue
        allowed = _known_scopes(scopes)
        if token.scopes is not None:
            allowed &= _known_scopes(token.scopes)
        granted[client_id] = allowed
    return Viewer(
        user_id=user.id,
        staff_role=user.staff_role if token.kind is TokenKind.SESSION else None,
        memberships=granted,
        main_clients=frozenset(c for c, _, is_main in memberships if is_main and c in granted),
        token_id=token.id,
        token_kind=token.kind,
        read_only=token.kind is TokenKind.API and token.read_only,
    )


async def _touch_api_token(session: AsyncSession, token: AuthToken, now: datetime) -> None:
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        await session.execute(
            update(AuthToken).where(col(AuthToken.id) == token.id).values(last_used_at=now)
        )
        await session.commit()


async def find_user_by_login(session: AsyncSession, *, login: str) -> User | None:
    """A login is a user's e-mail (any case) or the client number of a company they lead."""
    login = login.strip()
    if "@" in login:
        query = select(User).where(func.lower(col(User.email)) == login.lower())
    else:
        query = (
            select(User)
            .join(Membership, col(Membership.user_id) == col(User.id))
            .join(Client, col(Client.id) == col(Membership.client_id))
            .where(col(Client.number) == login, col(Membership.is_main).is_(True))
            .order_by(col(Membership.id))
            .limit(1)
        )
    return (await session.execute(query)).scalars().first()


async def password_matches(user: User | None, password: str, *, workers: int) -> bool:
    """Whether this is the active user's password; for no user it takes the same time.

    Runs in the hashing pool (`workers` at most at once), never on the event loop.
    """
    password_hash = user.password_hash if user else None
    matches = await verify_in_worker(password_hash, password, workers=workers)
    return matches and user is not None and user.is_active


def create_session(session: AsyncSession, *, user: User, now: datetime, ttl: timedelta) -> str:
    """A new session for the user; returns the bearer secret, which is stored only hashed."""
    user.last_login_at = now
    secret = new_secret(SESSION_PREFIX)
    session.add(
        AuthToken(
            user_id=user.id,  # type: ignore[arg-type]
            kind=TokenKind.SESSION,
            token_hash=hash_secret(secret),
            expires_at=now + ttl,
            read_only=False,
        )
    )
    return secret


async def end_sessions_of(
    session: AsyncSession, *, user_id: int, now: datetime, keep_token_id: int | None = None
) -> None:
    """After a password change or reset: every other session of the user ends."""
    query = update(AuthToken).where(
        col(AuthToken.user_id) == user_id,
        col(AuthToken.kind) == TokenKind.SESSION,
        col(AuthToken.revoked_at).is_(None),
    )
    if keep_token_id is not None:
        query = query.where(col(AuthToken.id) != keep_token_id)
    await session.execute(query.values(revoked_at=now))


async def end_session(session: AsyncSession, *, token_id: int, now: datetime) -> None:
    await session.execute(
        update(AuthToken)
        .where(col(AuthToken.id) == token_id, col(AuthToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )
