"""The access version: how every server process learns at once that a cached viewer is stale.

A viewer is cached per token (auth/cache.py) and checked on every request against
`users.auth_version` with one primary-key statement (auth/sessions.py). The version must
therefore rise, in the same transaction, with every change to what the user's tokens may do:
the account disabled or its staff role changed, a membership granted, switched, re-scoped or
removed, a token revoked, re-scoped or cut short.

Two ways raise it, so that no write forgets:

* every ORM flush that changes one of the `ACCESS_COLUMNS` of a `User`, `Membership` or
  `AuthToken` (or adds or deletes a membership, or deletes a token) raises it for the users
  concerned, in that flush (`_raise_on_flush`, a session event registered on import);
* a bulk statement (`update(AuthToken)...`) bypasses the ORM, so whoever writes one calls
  `access_changed` in the same transaction and says so with
  `.execution_options(**ACCESS_HANDLED)`, as `auth.sessions.end_session(s_of)` do. A bulk
  UPDATE of an access column or a DELETE on these tables without it is refused
  (`_refuse_unhandled_bulk`): forgetting fails the first test that runs it, not a customer.

The version is raised *before* the change it announces (`before_flush`; `access_changed`
ahead of the bulk statement): every transaction that touches a user's tokens takes the user's
row first, as a password change does anyway, so a password change and a parallel logout or
revocation of the same user queue up instead of deadlocking on PostgreSQL (users, then
tokens, in both). Memberships are locked before their user (subaccount changes lock the
membership first) and nothing locks a user before a membership.

The per-request check also reads the token's `revoked_at` and `expires_at` and the user's
`is_active` itself, so a session revoked or an account disabled by hand in SQL ends at once
too; a membership changed by hand in SQL is noticed within the cache's time to live.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, inspect, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

from models.identity import AuthToken, Membership, User

_users = User.__table__  # type: ignore[attr-defined]
# A bulk statement's promise that its transaction calls `access_changed` for the users it touches.
ACCESS_HANDLED = {"leasehub_access_changed": True}

# What a Viewer is made of: a change to any of these must reach every cached viewer at once.
ACCESS_COLUMNS: dict[type, frozenset[str]] = {
    User: frozenset({"is_active", "staff_role"}),
    Membership: frozenset({"user_id", "client_id", "is_main", "scopes", "is_active"}),
    AuthToken: frozenset(
        {"user_id", "kind", "client_id", "scopes", "read_only", "expires_at", "revoked_at"}
    ),
}


def _raise_statement(user_ids: Iterable[int]) -> Any:
    ids = sorted(set(user_ids))  # one lock order whoever raises: no deadlock between two
    return update(_users).where(_users.c.id.in_(ids)).values(auth_version=_users.c.auth_version + 1)


async def access_changed(session: AsyncSession, user_ids: Iterable[int]) -> None:
    """Every cached viewer of these users is stale from the commit of this transaction on.

    Called before the statements that change their access (see the lock order above).
    """
    ids = [user_id for user_id in user_ids if user_id is not None]
    if ids:
        await session.execute(_raise_statement(ids))


def _owner_ids(obj: Any, columns: frozenset[str], *, whole: bool) -> set[int]:
    """The users whose access this pending change of `obj` touches (none when it touches none)."""
    key = "id" if isinstance(obj, User) else "user_id"
    state = inspect(obj)
    owners = {getattr(obj, key)}
    if not whole:
        changed = False
        for name in columns:
            history = state.attrs[name].history
            if history.has_changes():
                changed = True
                if name == "user_id":  # moved from one user to another: both change
                    owners.update(value for value in history.deleted if value is not None)
        if not changed:
            return set()
    return {owner for owner in owners if owner is not None}


def _affected_users(session: Session) -> set[int]:
    affected: set[int] = set()
    for obj in session.new:
        if isinstance(obj, Membership):  # a granted company: the viewer must learn of it
            affected |= _owner_ids(obj, ACCESS_COLUMNS[Membership], whole=True)
    for obj in session.dirty:
        columns = ACCESS_COLUMNS.get(type(obj))
        if columns is not None:
            affected |= _owner_ids(obj, columns, whole=False)
    for obj in session.deleted:
        if isinstance(obj, Membership | AuthToken):
            affected |= _owner_ids(obj, ACCESS_COLUMNS[type(obj)], whole=True)
    return affected


@event.listens_for(Session, "before_flush")
def _raise_on_flush(session: Session, _flush_context: Any, _instances: Any) -> None:
    """Raised in the flush that writes the change, so it commits (or rolls back) with it.

    A plain Core statement on the session's connection: no ORM bookkeeping mid-flush, and
    the flush itself (autoflush is off while flushing) is not entered again.
    """
    if affected := _affected_users(session):
        session.connection().execute(_raise_statement(affected))


_GUARDED = {
    model.__table__.name: columns  # type: ignore[attr-defined]
    for model, columns in ACCESS_COLUMNS.items()
}


def _set_columns(state: ORMExecuteState) -> set[str]:
    """The columns an UPDATE sets: in `.values()` (SQLAlchemy keeps them on the statement) or
    in the parameters it is executed with (an UPDATE by primary keys)."""
    statement: Any = state.statement
    keys: list[Any] = [*(getattr(statement, "_values", None) or ())]
    keys += [key for key, _ in getattr(statement, "_ordered_values", None) or ()]
    parameters: Any = state.parameters
    if isinstance(parameters, dict):
        keys += list(parameters)
    elif isinstance(parameters, list):
        keys += [key for row in parameters for key in row]
    return {key if isinstance(key, str) else getattr(key, "key", str(key)) for key in keys}


@event.listens_for(Session, "do_orm_execute")
def _refuse_unhandled_bulk(state: ORMExecuteState) -> None:
    """A bulk UPDATE of an access column, or a bulk DELETE, on users, memberships or tokens
    must come with `access_changed` in its transaction (see the module's docstring)."""
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    columns = _GUARDED.get(getattr(table, "name", ""))
    if columns is None or state.execution_options.get("leasehub_access_changed"):
        return
    if state.is_delete or _set_columns(state) & columns:
        raise RuntimeError(
            f"a bulk change of {table.name} that can cut access: call "  # type: ignore[union-attr]
            "auth.revocation.access_changed in the same transaction and mark the statement "
            "with .execution_options(**ACCESS_HANDLED)"
        )
