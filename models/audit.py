"""The audit log of every write and the access log of staff reads (issue 15, points 4 and 5).

Both tables keep plain ids, no foreign keys: a record must outlive the user, token or company it
names (a cascade would delete it, and a SET NULL would be an UPDATE, which the audit log refuses
on PostgreSQL). Who is acting in the running request or job is a context variable (`AuditFrame`),
because writes and scope checks happen deep in resolvers and `auth/`, which are handed a viewer
or a session, not the request's context.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BinaryExpression, BindParameter
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow

# The one deny-list: columns whose values never enter an audit row, as `column` (any table) or
# `table.column`. Hashes still let a secret be guessed offline; the outbox body carries the
# e-mailed codes and links; a gateway redirect is a payment link.
SECRET_COLUMNS = frozenset(
    {
        "password_hash",
        "totp_secret",
        "token_hash",
        "secret_hash",
        "code_hash",
        "state_hash",  # an OpenID Connect sign-in's state (issue 16)
        "outbox.body",
        "gateway_orders.redirect_url",
    }
)
HIDDEN = "***"  # what a secret column's before/after shows: that it changed, never the value
# Bookkeeping, not data: the logs themselves, the throttling counters of every login attempt,
# and single sign-ons started (anyone may start one: their rows must not grow an append-only log).
UNAUDITED_TABLES = frozenset(
    {
        "audit_log",
        "access_log",
        "auth_events",
        "attempt_counters",
        "sso_logins",
        "sso_logout_tokens",
    }
)
# Bookkeeping columns, as `column` (any table) or `table.column`: an update that changes only
# these is not recorded (a row's `updated_at`, an API token's last use stamped on every call).
BOOKKEEPING_COLUMNS = frozenset(
    {"updated_at", "auth_tokens.last_used_at", "linked_identities.last_used_at"}
)
SYSTEM = "system"  # the action of a write no request or named job made
# Access-log parts that are not client scopes: the client 360's people (accounts, tokens,
# sessions), which staff read with a staff permission, not a scope.
USERS_PART = "users"


def is_secret(table: str, column: str) -> bool:
    return column in SECRET_COLUMNS or f"{table}.{column}" in SECRET_COLUMNS


def only_bookkeeping(table: str, columns: Iterable[str]) -> bool:
    return all(c in BOOKKEEPING_COLUMNS or f"{table}.{c}" in BOOKKEEPING_COLUMNS for c in columns)


class AuditEvent(SQLModel, table=True):
    """One changed object (or one Core statement) of one write: who, from where, what, how.

    Rows of one transaction share action, actor and request id; `object_type` is the table and
    `object_key` the primary key (None for a statement that changed many rows: its WHERE is in
    `changes`). Append-only: no API path changes it, and on PostgreSQL a trigger refuses it."""

    __tablename__ = "audit_log"
    __table_args__ = (
        sa.Index("ix_audit_log_client_id_id", "client_id", "id"),
        sa.Index("ix_audit_log_object", "object_type", "object_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    action: str = Field(max_length=64, index=True)
    actor_id: int | None = Field(default=None, index=True)
    on_behalf_of_id: int | None = Field(default=None)
    token_id: int | None = Field(default=None)
    client_id: int | None = Field(default=None)
    ip: str | None = Field(default=None, max_length=45)
    request_id: str | None = Field(default=None, max_length=64)
    object_type: str | None = Field(default=None, max_length=64)
    object_key: str | None = Field(default=None, max_length=64)
    target_user_id: int | None = Field(default=None, index=True)
    changes: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


class AccessLogEntry(SQLModel, table=True):
    """A person at the lessor read a company's data: one row per request and company."""

    __tablename__ = "access_log"
    __table_args__ = (sa.Index("ix_access_log_client_id_id", "client_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    client_id: int
    staff_user_id: int  # who at the lessor looked
    as_user_id: int | None = Field(default=None)  # the client user the support view showed
    parts: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # the scopes read
    reason: str | None = Field(default=None, max_length=500)
    request_id: str | None = Field(default=None, max_length=64)


@dataclass(slots=True)
class AuditFrame:
    """Who acts and where, for every write made while it is current."""

    action: str = SYSTEM
    actor_id: int | None = None
    on_behalf_of_id: int | None = None
    token_id: int | None = None
    ip: str | None = None
    request_id: str | None = None
    reads: dict[int, set[str]] | None = field(default=None)
    """Company → scopes read by a person at the lessor (None: the reader is not one)."""

    def row(self, **values: Any) -> dict[str, Any]:
        return {
            "action": self.action,
            "actor_id": self.actor_id,
            "on_behalf_of_id": self.on_behalf_of_id,
            "token_id": self.token_id,
            "ip": self.ip,
            "request_id": self.request_id,
            "target_user_id": None,
            "details": {},
            **values,
        }


_FRAME: ContextVar[AuditFrame | None] = ContextVar("leasehub_audit_frame", default=None)


def current_frame() -> AuditFrame:
    return _FRAME.get() or AuditFrame()


@contextmanager
def acting(frame: AuditFrame) -> Iterator[AuditFrame]:
    """Writes (and staff reads) inside the block are recorded as `frame`'s."""
    token = _FRAME.set(frame)
    try:
        yield frame
    finally:
        _FRAME.reset(token)


def job(name: str) -> AbstractContextManager[AuditFrame]:
    """A background job's writes: the actor is the system, the action the job's name."""
    return acting(AuditFrame(action=f"job:{name}"))


def note_read(client_id: int, scope: str) -> None:
    """A scope check passed: when a person at the lessor reads, the request's access log
    gains (company, scope). A set per request, so no statement per field."""
    frame = _FRAME.get()
    if frame is not None and frame.reads is not None:
        frame.reads.setdefault(client_id, set()).add(scope)


# -- recording: the write sessions of `Database.write` -------------------------------------------

RECORDING = "leasehub_audit"  # session.info: the frame of the transaction's writes
PENDING = "leasehub_audit_rows"  # session.info: audit rows waiting for the commit


def record_writes(session: Session, frame: AuditFrame) -> None:
    """Every change this session flushes or executes is recorded as `frame`'s, in its own
    transaction: one INSERT of all the rows just before the commit."""
    session.info[RECORDING] = frame
    session.info[PENDING] = []


def record_audit(
    session: Session,
    *,
    object_type: str,
    object_key: str | None,
    client_id: int | None,
    changes: dict[str, Any],
) -> None:
    """An audit row for a write the ORM did not see (a Core statement on the connection)."""
    frame: AuditFrame | None = session.info.get(RECORDING)
    if frame is not None:
        session.info[PENDING].append(
            frame.row(
                object_type=object_type, object_key=object_key, client_id=client_id, changes=changes
            )
        )


def _shown(table: str, column: str, value: Any) -> Any:
    if value is not None and is_secret(table, column):
        return HIDDEN
    return _json(value)


def _json(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict | list):
        return value
    return str(value)  # dates, decimals, enums: as their text


def _entity_row(frame: AuditFrame, obj: Any, kind: str) -> dict[str, Any] | None:
    state = sa.inspect(obj)
    table = state.mapper.local_table.name
    if table in UNAUDITED_TABLES:
        return None
    values = state.dict  # what the session holds: never a lazy load here
    changes: dict[str, Any] = {}
    for attribute in state.mapper.column_attrs:
        key = attribute.key
        if kind == "update":
            history = state.attrs[key].history
            if not history.added and not history.deleted:
                continue
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
        elif kind == "insert":
            before, after = None, values.get(key)
        else:
            before, after = values.get(key), None
        if before is None and after is None:
            continue
        changes[key] = [_shown(table, key, before), _shown(table, key, after)]
    if kind == "update" and only_bookkeeping(table, changes):
        return None
    key_value = values.get("id")
    client_id = key_value if table == "clients" else values.get("client_id")
    return frame.row(
        object_type=table,
        object_key=None if key_value is None else str(key_value),
        client_id=client_id,
        changes={"op": kind, **changes},
    )


@event.listens_for(Session, "before_flush")
def _stamp_explicit_records(session: Session, _context: Any, _instances: Any) -> None:
    """Records a resolver adds itself (a staff action) get the request's who and where."""
    frame: AuditFrame | None = session.info.get(RECORDING)
    if frame is None:
        return
    for obj in session.new:
        if isinstance(obj, AuditEvent) and obj.request_id is None:
            obj.request_id, obj.ip, obj.token_id = frame.request_id, frame.ip, frame.token_id
            obj.on_behalf_of_id = obj.on_behalf_of_id or frame.on_behalf_of_id


@event.listens_for(Session, "after_flush")
def _collect_flushed(session: Session, _context: Any) -> None:
    """The ORM's own history of what this flush wrote: no statement of its own."""
    frame: AuditFrame | None = session.info.get(RECORDING)
    if frame is None:
        return
    pending = session.info[PENDING]
    for kind, objects in (
        ("insert", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            if (row := _entity_row(frame, obj, kind)) is not None:
                pending.append(row)


def _conditions(where: Any) -> dict[str, Any]:
    """`column = value` and `column IN (values)` of a WHERE: which rows a statement meant."""
    found: dict[str, Any] = {}
    if where is None:
        return found
    for element in visitors.iterate(where):
        if not isinstance(element, BinaryExpression):
            continue
        left, right = element.left, element.right
        if not isinstance(left, sa.Column) or not isinstance(right, BindParameter):
            continue
        if right.value is not None and not callable(right.value):
            # A conditional update names the value it replaces (the old password hash).
            found[left.name] = _shown(left.table.name, left.name, right.value)
    return found


@event.listens_for(Session, "do_orm_execute")
def _collect_statement(state: ORMExecuteState) -> None:
    """A Core INSERT, UPDATE or DELETE sent through the session: its table, what it set and
    which rows it named (a conditional update's WHERE), one row per statement."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    frame: AuditFrame | None = state.session.info.get(RECORDING)
    table = getattr(state.statement, "table", None)
    if frame is None or table is None or table.name in UNAUDITED_TABLES:
        return
    statement: Any = state.statement
    values = {
        getattr(k, "key", k): v for k, v in (getattr(statement, "_values", None) or {}).items()
    }
    parameters = state.parameters
    rows = len(parameters) if isinstance(parameters, list) else 1
    if isinstance(parameters, dict):
        values.update(parameters)
    where = _conditions(getattr(statement, "whereclause", None))
    shown = {
        str(k): _shown(table.name, str(k), getattr(v, "value", v))
        for k, v in values.items()
        if not isinstance(v, sa.ClauseElement) or isinstance(v, BindParameter)
    }
    kind = "insert" if state.is_insert else "update" if state.is_update else "delete"
    if kind == "update" and only_bookkeeping(table.name, shown):
        return
    key = where.get("id")
    state.session.info[PENDING].append(
        frame.row(
            object_type=table.name,
            object_key=None if key is None else str(key),
            client_id=where.get("client_id", shown.get("client_id")),
            changes={"op": kind, "set": shown, "where": where, "rows": rows},
        )
    )


@event.listens_for(Session, "before_commit")
def _write_records(session: Session) -> None:
    """All of the transaction's audit rows in one INSERT, inside it: a write that fails leaves
    no record, and a record that cannot be written fails the write."""
    if session.info.get(RECORDING) is None:
        return
    session.flush()
    rows = session.info[PENDING]
    if rows:
        now = utcnow()
        for row in rows:
            row.setdefault("created_at", now)
        session.connection().execute(sa.insert(AuditEvent.__table__), rows)  # type: ignore[attr-defined]
        session.info[PENDING] = []


@event.listens_for(Session, "after_soft_rollback")
def _forget_records(session: Session, _previous: Any) -> None:
    if session.info.get(RECORDING) is not None:
        session.info[PENDING] = []
