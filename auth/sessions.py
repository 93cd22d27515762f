"""Sessions and API tokens: turning a bearer secret into a Viewer, logging in and out."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple

from aiodataloader import DataLoader
from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from auth.cache import CachedViewer, ViewerCache
from auth.passwords import verify_in_worker
from auth.revocation import ACCESS_HANDLED, access_changed
from auth.scopes import Scope
from auth.staff import StaffPermission, permissions_of
from auth.tokens import SESSION_PREFIX, SUPPORT_PREFIX, hash_secret, new_secret
from auth.viewer import ANONYMOUS, Viewer
from loaders.base import RowReader
from loaders.statements import KEYS, KeysIn
from models.client import Client
from models.identity import AuthToken, Membership, StaffRole, TokenKind, User

# Authentication runs plain Core statements: on a session or on a bare read connection.
Reader = AsyncSession | AsyncConnection

# API tokens record their last use at most this often, so a BI pull is not a write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_SCOPE_VALUES = frozenset(scope.value for scope in Scope)


def bearer_secret(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, secret = authorization.partition(" ")
    return secret.strip() or None if scheme.lower() == "bearer" else None


_tokens = AuthToken.__table__  # type: ignore[attr-defined]
_users = User.__table__  # type: ignore[attr-defined]
_memberships = Membership.__table__  # type: ignore[attr-defined]
_live = (
    _tokens.c.revoked_at.is_(None),
    or_(_tokens.c.expires_at.is_(None), _tokens.c.expires_at > bindparam("now")),
    _users.c.is_active.is_(True),
)
# Built once: the token and its user by the secret's hash, in plain columns. The version is
# read in the same statement as (and before) the memberships, so a cached viewer never carries
# a version newer than its data: a change committed in between shows as a stale version.
_TOKEN_BY_HASH = (
    select(
        _tokens.c.id,
        _tokens.c.kind,
        _tokens.c.client_id,
        _tokens.c.scopes,
        _tokens.c.read_only,
        _tokens.c.expires_at,
        _tokens.c.last_used_at,
        _tokens.c.on_behalf_of_id,
        _tokens.c.parent_token_id,
        _tokens.c.reason,
        _users.c.id.label("user_id"),
        _users.c.staff_role,
        _users.c.auth_version,
    )
    .select_from(_tokens.join(_users, _users.c.id == _tokens.c.user_id))
    .where(_tokens.c.token_hash == bindparam("token_hash"), *_live)
)
# The one statement of a cached token: still live, its user still active, at which version.
_STILL_LIVE = (
    select(_users.c.auth_version, _tokens.c.last_used_at)
    .select_from(_tokens.join(_users, _users.c.id == _tokens.c.user_id))
    .where(_tokens.c.id == bindparam("token_id"), *_live)
)
# A support view lives on the staff session it was started from: it ends when that session
# does (sign-out, expiry) or its staff member is disabled or changed role (which raises the
# staff member's version: a support viewer is cached at the sum of both users' versions).
_staff = _users.alias("staff")
_parent = _tokens.alias("parent")
_staff_live = (
    _parent.c.revoked_at.is_(None),
    or_(_parent.c.expires_at.is_(None), _parent.c.expires_at > bindparam("now")),
    _staff.c.is_active.is_(True),
)
_SUPPORT_STAFF = (
    select(_staff.c.staff_role, _staff.c.auth_version)
    .select_from(_parent.join(_staff, _staff.c.id == _parent.c.user_id))
    .where(_parent.c.id == bindparam("parent_id"), *_staff_live)
)
_SUPPORT_STILL_LIVE = (
    select(
        (_users.c.auth_version + _staff.c.auth_version).label("version"),
        _tokens.c.last_used_at,
        _staff.c.staff_role,
    )
    .select_from(
        _tokens.join(_users, _users.c.id == _tokens.c.user_id)
        .join(_parent, _parent.c.id == _tokens.c.parent_token_id)
        .join(_staff, _staff.c.id == _parent.c.user_id)
    )
    .where(_tokens.c.id == bindparam("token_id"), *_live, *_staff_live)
)
_MEMBERSHIPS = select(
    _memberships.c.client_id, _memberships.c.scopes, _memberships.c.is_main
).where(_memberships.c.user_id == bindparam("user_id"), _memberships.c.is_active.is_(True))


async def authenticate(
    session: Reader,
    *,
    secret: str | None,
    now: datetime,
    cache: ViewerCache | None = None,
) -> Viewer:
    """The viewer behind a bearer secret; anonymous for a missing, expired or revoked one.

    With a cache, a token seen before costs one primary-key statement (`_STILL_LIVE`): its
    viewer is served while the token is live, the user active and the user's access version
    the one it was built at; otherwise it is built again from the database (two statements).
    """
    if not secret:
        return ANONYMOUS
    key = hash_secret(secret)
    if cache is not None and (entry := cache.get(key, now)) is not None:
        rows = await session.execute(_liveness(entry), {"token_id": entry.token_id, "now": now})
        row = _live_facts(rows)
        if row is None:  # revoked, expired, or its user disabled or gone
            cache.discard(key)
            return ANONYMOUS
        version, last_used_at = row
        if version == entry.version:
            if entry.viewer.token_kind is TokenKind.API:
                entry.last_used_at = _latest(entry.last_used_at, last_used_at)
                await _stamp_if_due(session, entry, now)
            return entry.viewer
    return await _load(session, key, now, cache)


async def still_valid(
    reader: RowReader, *, key: str, entry: CachedViewer, now: datetime, cache: ViewerCache
) -> Viewer | None:
    """`authenticate`'s cached case on a loader's bare reader (straight to asyncpg on
    PostgreSQL, without a session to set up and close): the viewer when `_STILL_LIVE` shows
    it unchanged, anonymous when the token is dead; None when `authenticate` must run (the
    version moved, or an API token's last use is due to be written)."""
    row = _live_facts(
        await reader.execute(_liveness(entry), {"token_id": entry.token_id, "now": now})
    )
    return _judged(row, key=key, entry=entry, now=now, cache=cache)


# The same facts for many cached tokens at once (`LivenessChecks`): one statement for the
# requests that arrive together, whatever their tokens.
_MANY_STILL_LIVE = (
    select(_tokens.c.id, _users.c.auth_version, _tokens.c.last_used_at)
    .select_from(_tokens.join(_users, _users.c.id == _tokens.c.user_id))
    .where(KeysIn(_tokens.c.id), *_live)
)


class LivenessChecks(DataLoader):
    """Process-wide: the cached tokens of the requests that arrived in the same turn of the
    event loop are confirmed by one `_MANY_STILL_LIVE` together. Each request still waits for a
    statement sent after it arrived, so a change committed before is seen: the guarantee of
    `still_valid`, for fewer statements under load. Nothing is cached between batches."""

    def __init__(self, db: Any) -> None:
        super().__init__(cache=False)
        self.db = db

    async def batch_load_fn(
        self, keys: list[tuple[int, datetime]]
    ) -> list[tuple[int, datetime | None] | None]:
        now = max(at for _token, at in keys)  # the latest arrival: never more lenient
        ids = sorted({token for token, _at in keys})

        async def read(reader: RowReader) -> dict[int, tuple[int, datetime | None]]:
            rows = await reader.execute(_MANY_STILL_LIVE, {KEYS: ids, "now": now})
            return {row[0]: (row[1], row[2]) for row in rows}

        found = await self.db.reading_batch(read)
        return [found.get(token) for token, _at in keys]


async def still_valid_together(
    checks: LivenessChecks, *, key: str, entry: CachedViewer, now: datetime, cache: ViewerCache
) -> Viewer | None:
    """`still_valid` through `checks` (not for a support view, whose staff is checked too)."""
    row = await checks.load((entry.token_id, now))
    return _judged(row, key=key, entry=entry, now=now, cache=cache)


def _judged(
    row: tuple[int, datetime | None] | None,
    *,
    key: str,
    entry: CachedViewer,
    now: datetime,
    cache: ViewerCache,
) -> Viewer | None:
    if row is None:
        cache.discard(key)
        return ANONYMOUS
    version, last_used_at = row
    if version != entry.version:
        return None
    if entry.viewer.token_kind is TokenKind.API:
        entry.last_used_at = _latest(entry.last_used_at, last_used_at)
        if _stamp_due(entry, now):
            return None
    return entry.viewer


def _liveness(entry: CachedViewer) -> Any:
    """The one statement that confirms a cached viewer: a support view's checks its staff too."""
    return _STILL_LIVE if entry.viewer.on_behalf_of is None else _SUPPORT_STILL_LIVE


def _live_facts(rows: Any) -> tuple[int, datetime | None] | None:
    """(version, last use) of a live token; None when it is dead, or when the staff member
    behind a support view may no longer start one."""
    row = next(iter(rows), None)
    if row is None or (len(row) > 2 and not _may_support(row[2])):
        return None
    return row[0], row[1]


def _may_support(staff_role: Any) -> bool:
    role = StaffRole(staff_role) if staff_role is not None else None
    return StaffPermission.SUPPORT_VIEW in permissions_of(role)


async def _staff_version(session: Reader, parent_id: int | None, now: datetime) -> int | None:
    """The access version of the staff member behind a support view, while it may go on."""
    if parent_id is None:
        return None
    found = (await session.execute(_SUPPORT_STAFF, {"parent_id": parent_id, "now": now})).first()
    if found is None or not _may_support(found.staff_role):
        return None
    return int(found.auth_version)


async def _load(session: Reader, key: str, now: datetime, cache: ViewerCache | None) -> Viewer:
    found = (await session.execute(_TOKEN_BY_HASH, {"token_hash": key, "now": now})).first()
    staff_version: int | None = 0  # a support view's staff member's, else nothing to add
    if found is not None and found.kind is TokenKind.SUPPORT:
        staff_version = await _staff_version(session, found.parent_token_id, now)
    if found is None or staff_version is None:
        if cache is not None:
            cache.discard(key)
        return ANONYMOUS  # never cached: made-up tokens must not push real ones out
    token = _facts(found)
    memberships = await _memberships_of(session, found.user_id)
    viewer = _viewer_for(found.user_id, found.staff_role, token, memberships)
    entry = CachedViewer(
        viewer=viewer,
        token_id=found.id,
        version=found.auth_version + staff_version,
        expires_at=found.expires_at,
        stored_at=cache.clock() if cache is not None else 0.0,
        last_used_at=found.last_used_at,
    )
    if cache is not None:
        if (previous := cache.get(key, now)) is not None:  # a parallel request's stamp
            entry.last_used_at = _latest(entry.last_used_at, previous.last_used_at)
        cache.put(key, entry)
    if token.kind is TokenKind.API:
        await _stamp_if_due(session, entry, now)
    return viewer


async def _memberships_of(session: Reader, user_id: int) -> list[Any]:
    return list((await session.execute(_MEMBERSHIPS, {"user_id": user_id})).all())


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
        token = _TokenFacts(None, TokenKind.SESSION, None, None, read_only=False)
    else:
        found = await session.get(AuthToken, api_token_id)
        if found is None or found.user_id != user_id or not _usable(found, now):
            return ANONYMOUS
        if found.kind is TokenKind.SUPPORT and (
            await _staff_version(session, found.parent_token_id, now) is None
        ):
            return ANONYMOUS
        token = _facts(found)
    memberships = await _memberships_of(session, user_id)
    return _viewer_for(user_id, user.staff_role, token, memberships)


def _usable(token: AuthToken, now: datetime) -> bool:
    return token.revoked_at is None and (token.expires_at is None or token.expires_at > now)


def _known_scopes(values: list[str]) -> frozenset[Scope]:
    """Scopes stored as strings; one withdrawn from the catalogue simply grants nothing."""
    return frozenset(Scope(value) for value in values if value in _SCOPE_VALUES)


class _TokenFacts(NamedTuple):
    """What of a token shapes its viewer."""

    id: int | None
    kind: TokenKind
    client_id: int | None
    scopes: list[str] | None
    read_only: bool
    on_behalf_of: int | None = None
    reason: str | None = None


def _facts(token: Any) -> _TokenFacts:
    """Of a token row, stored or read by `_TOKEN_BY_HASH`."""
    return _TokenFacts(
        token.id,
        token.kind,
        token.client_id,
        token.scopes,
        token.read_only,
        token.on_behalf_of_id,
        token.reason,
    )


def _viewer_for(
    user_id: int, staff_role: StaffRole | None, token: _TokenFacts, memberships: list
) -> Viewer:
    granted: dict[int, frozenset[Scope]] = {}
    for client_id, scopes, _ in memberships:
        if token.client_id is not None and client_id != token.client_id:
            continue
        allowed = _known_scopes(scopes)
        if token.scopes is not None:
            allowed &= _known_scopes(token.scopes)
        granted[client_id] = allowed
    return Viewer(
        user_id=user_id,
        staff_role=staff_role if token.kind is TokenKind.SESSION else None,
        memberships=granted,
        main_clients=frozenset(c for c, _, is_main in memberships if is_main and c in granted),
        token_id=token.id,
        token_kind=token.kind,
        # Only sessions write; an API token when it was made to, a support view never.
        read_only=token.kind is TokenKind.SUPPORT
        or (token.kind is TokenKind.API and token.read_only),
        on_behalf_of=token.on_behalf_of if token.kind is TokenKind.SUPPORT else None,
        access_reason=token.reason if token.kind is TokenKind.SUPPORT else None,
    )


def _latest(first: datetime | None, second: datetime | None) -> datetime | None:
    return max(first, second) if first is not None and second is not None else first or second


def _stamp_due(entry: CachedViewer, now: datetime) -> bool:
    return entry.last_used_at is None or now - entry.last_used_at >= LAST_USED_RESOLUTION


async def _stamp_if_due(session: Reader, entry: CachedViewer, now: datetime) -> None:
    """An API token's last use, at most once per LAST_USED_RESOLUTION.

    Marked on the entry before the write, so parallel requests of this process stamp once;
    the UPDATE is conditional, so other processes' stamps within the minute change nothing.
    """
    if not _stamp_due(entry, now):
        return
    entry.last_used_at = now
    await session.execute(
        update(_tokens)
        .where(
            _tokens.c.id == entry.token_id,
            or_(
                _tokens.c.last_used_at.is_(None),
                _tokens.c.last_used_at <= now - LAST_USED_RESOLUTION,
            ),
        )
        .values(last_used_at=now)
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


def create_support_view(
    session: AsyncSession,
    *,
    user_id: int,
    staff_token_id: int,
    staff_id: int,
    reason: str,
    expires_at: datetime,
) -> str:
    """A support view of the client user for the staff member, living on their session;
    returns the bearer secret, stored only hashed."""
    secret = new_secret(SUPPORT_PREFIX)
    session.add(
        AuthToken(
            user_id=user_id,
            kind=TokenKind.SUPPORT,
            token_hash=hash_secret(secret),
            expires_at=expires_at,
            read_only=True,
            on_behalf_of_id=staff_id,
            parent_token_id=staff_token_id,
            reason=reason,
        )
    )
    return secret


async def end_sessions_of(
    session: AsyncSession, *, user_id: int, now: datetime, keep_token_id: int | None = None
) -> None:
    """After a password change or reset: every other session of the user ends."""
    await access_changed(session, [user_id])  # first: the user's row, then the tokens
    query = update(AuthToken).where(
        col(AuthToken.user_id) == user_id,
        col(AuthToken.kind) == TokenKind.SESSION,
        col(AuthToken.revoked_at).is_(None),
    )
    if keep_token_id is not None:
        query = query.where(col(AuthToken.id) != keep_token_id)
    await session.execute(query.values(revoked_at=now).execution_options(**ACCESS_HANDLED))


async def end_session(session: AsyncSession, *, token_id: int, user_id: int, now: datetime) -> None:
    await access_changed(session, [user_id])  # first: the user's row, then the token
    await session.execute(
        update(AuthToken)
        .where(col(AuthToken.id) == token_id, col(AuthToken.revoked_at).is_(None))
        .values(revoked_at=now)
        .execution_options(**ACCESS_HANDLED)
    )
