"""The audit log: the request's frame (who writes, from where) and `admin.auditLog`.

Recording itself happens in the write sessions (models/audit.py): whatever a mutation flushes
or executes is recorded there, so no resolver has to remember to.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select
from sqlmodel import col

from auth.addresses import TrustedProxies
from auth.errors import BadInputError
from auth.viewer import Viewer
from exports.catalogue import AUDIT_COLUMNS
from exports.streams import CsvFile, XlsxStream
from exports.tables import TableFormat
from loaders.paging import Ordering, Page
from models.audit import AuditEvent, AuditFrame
from models.i18n import _
from models.identity import User
from resolvers.context import Context
from resolvers.ids import from_global_id, to_global_id
from resolvers.node import NODE_KINDS
from resolvers.paging import root_list

AUDIT_ORDERING = Ordering(("id",))  # newest first; ids grow with time
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def request_id_of(given: str | None) -> str:
    """The caller's `X-Request-Id` when it is a sane token (a proxy's id joins its logs to
    ours), else a new one: never free text from outside in the audit log."""
    if given is not None and _REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


def http_frame(request: Any, proxies: TrustedProxies, *, action: str) -> AuditFrame:
    """The frame of a write outside GraphQL (an upload, a gateway's notification): where it
    came from; who, when the route learns it (an upload link's user)."""
    host = request.client.host if request.client else None
    return AuditFrame(
        action=action,
        ip=proxies.client_ip(host, request.headers.get("x-forwarded-for")),
        request_id=request_id_of(request.headers.get("x-request-id")),
    )


def request_frame(frame: AuditFrame, viewer: Viewer, *, ip: str, request_id: str) -> AuditFrame:
    """Fills the request's frame with its viewer; a person at the lessor's reads are noted."""
    frame.actor_id = viewer.user_id
    frame.on_behalf_of_id = viewer.on_behalf_of
    frame.token_id = viewer.token_id
    frame.ip = ip
    frame.request_id = request_id
    frame.reads = {} if viewer.looks_as_staff else None
    return frame


# -- object ids: global ids where the table is a Node type's -------------------------------------


_NODE_NAMES: dict[str, str] = {}


def _node_names() -> dict[str, str]:
    """Table → the type name inside global ids, for every Node type (resolvers/node.py);
    built again only when a type registered since (the schema is built once)."""
    if len(_NODE_NAMES) < len(NODE_KINDS):
        for id_name, kind in NODE_KINDS.items():
            _NODE_NAMES.setdefault(str(kind.loader.model.__tablename__), id_name)
    return _NODE_NAMES


def object_id(object_type: str | None, object_key: str | None) -> str | None:
    """The API's global id of an audited object, or `table:key` for rows no Node shows."""
    if object_type is None or object_key is None:
        return None
    name = _node_names().get(object_type)
    if name is not None and object_key.isdigit():
        return to_global_id(name, int(object_key))
    return f"{object_type}:{object_key}"


def _object_filter(given: str) -> tuple[str, str]:
    """(table, key) of a global id or of a `table:key`."""
    if ":" in given:
        table, _sep, key = given.partition(":")
        return table, key
    id_name, pk = from_global_id(given, field="filter.objectId")
    kind = NODE_KINDS.get(id_name)
    if kind is None:
        raise BadInputError(_("Not a known object id."), field="filter.objectId")
    return str(kind.loader.model.__tablename__), str(pk)


# -- reading: admin.auditLog -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditFilter:
    client_id: int | None = None
    user_id: int | None = None
    action: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def audit_query(filters: AuditFilter) -> Select[Any]:
    query = select(AuditEvent)
    if filters.client_id is not None:
        query = query.where(col(AuditEvent.client_id) == filters.client_id)
    if filters.user_id is not None:  # as the actor, as the staff behind them, or as the target
        query = query.where(
            (col(AuditEvent.actor_id) == filters.user_id)
            | (col(AuditEvent.on_behalf_of_id) == filters.user_id)
            | (col(AuditEvent.target_user_id) == filters.user_id)
        )
    if filters.action is not None:
        query = query.where(col(AuditEvent.action) == filters.action)
    if filters.object_id is not None:
        table, key = _object_filter(filters.object_id)
        query = query.where(col(AuditEvent.object_type) == table, col(AuditEvent.object_key) == key)
    if filters.since is not None:
        query = query.where(col(AuditEvent.created_at) >= filters.since)
    if filters.until is not None:
        query = query.where(col(AuditEvent.created_at) < filters.until)
    return query


async def audit_log(
    ctx: Context, *, filters: AuditFilter, first: int | None, after: str | None
) -> Page[AuditEvent]:
    """AUDIT_READ is declared on the field (schema/admin.py)."""
    return await root_list(
        ctx,
        audit_query(filters),
        model=AuditEvent,
        ordering=AUDIT_ORDERING,
        first=first,
        after=after,
    )


# -- the export for auditors -----------------------------------------------------------------------

EXPORT_PAGE = 2000  # rows per read: flat memory however long the log is


async def export_audit_log(
    db: Any,
    path: Path,
    *,
    filters: AuditFilter,
    table_format: TableFormat,
    polish: bool,
    progress: Callable[[int], None] | None = None,
) -> int:
    """The filtered audit log, oldest first, into a CSV or XLSX file (exports/streams.py) in
    keyset pages; the number of rows written."""
    columns = AUDIT_COLUMNS
    out = (
        CsvFile(path, columns, polish=polish)
        if table_format is TableFormat.CSV
        else XlsxStream(path, columns, polish=polish, sheet="Audyt" if polish else "Audit")
    )
    written, last = 0, 0
    try:
        while True:
            page = await _export_page(db, filters, after=last)
            if not page:
                break
            out.append(_export_row(row, email) for row, email in page)
            written, last = written + len(page), page[-1][0].id or 0
            if progress is not None:
                progress(written)
    except BaseException:
        out.close(complete=False)
        raise
    out.close()
    return written


async def _export_page(
    db: Any, filters: AuditFilter, *, after: int
) -> list[tuple[AuditEvent, str | None]]:
    query = (
        audit_query(filters)
        .add_columns(col(User.email))
        .outerjoin(User, col(User.id) == col(AuditEvent.actor_id))
        .where(col(AuditEvent.id) > after)
        .order_by(col(AuditEvent.id))
        .limit(EXPORT_PAGE)
    )
    async with db.read() as session:
        return [(row, email) for row, email in (await session.execute(query)).all()]


def _export_row(row: AuditEvent, email: str | None) -> dict[str, Any]:
    return {
        "id": to_global_id("AuditEntry", row.id or 0),
        "at": row.created_at,
        "action": row.action,
        "actor_id": None if row.actor_id is None else to_global_id("User", row.actor_id),
        "actor_email": email,
        "on_behalf_of_id": None
        if row.on_behalf_of_id is None
        else to_global_id("User", row.on_behalf_of_id),
        "token_id": row.token_id,
        "client_id": None if row.client_id is None else to_global_id("Client", row.client_id),
        "ip": row.ip,
        "request_id": row.request_id,
        "object_type": row.object_type,
        "object_id": object_id(row.object_type, row.object_key),
        "changes": json.dumps(row.changes, ensure_ascii=False, sort_keys=True),
    }
