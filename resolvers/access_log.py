"""The access log (RODO): which person at the lessor read which company's data, when and why.

Scope checks note (company, scope) in the request's frame when the viewer looks as staff
(models/audit.py `note_read`); at the end of the request one INSERT writes them, a row per
company. Nothing is written for a client's reads of its own data.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote

from sqlalchemy import Insert, Table, delete, func, insert, select
from sqlmodel import col

from auth.access import require_authenticated, require_client
from auth.errors import ForbiddenError
from auth.staff import StaffPermission
from loaders.paging import Ordering, Page
from models.audit import AccessLogEntry, AuditFrame, record_audit
from models.base import utcnow
from models.i18n import _
from models.identity import AuthToken
from resolvers.context import Context
from resolvers.paging import root_list

# A staff member's plain reads say why in this header (percent-encoded UTF-8, as HTTP headers
# carry ASCII only; at most 500 characters); the support view's reads give the reason it was
# started with.
ACCESS_REASON_HEADER = "x-access-reason"
REASON_LENGTH = 500
ACCESS_ORDERING = Ordering(("id",))  # newest first


ACCESS_LOG: Table = AccessLogEntry.__table__  # type: ignore[attr-defined]


def _statement(frame: AuditFrame) -> Insert:
    """The INSERT; in a support view it reads the view's own reason in the same statement
    (no round trip)."""
    statement = insert(ACCESS_LOG)
    if frame.on_behalf_of_id is not None and frame.token_id is not None:
        reason = select(col(AuthToken.reason)).where(col(AuthToken.id) == frame.token_id)
        statement = statement.values(reason=reason.scalar_subquery())
    return statement


def _reason(frame: AuditFrame, given: str | None) -> dict[str, str | None]:
    """The reason a staff member gave, unless the statement reads the support view's."""
    if frame.on_behalf_of_id is not None and frame.token_id is not None:
        return {}
    return {"reason": unquote(given or "").strip()[:REASON_LENGTH] or None}


async def write_access_log(db: Any, frame: AuditFrame, *, reason: str | None) -> None:
    """One INSERT of a row for every company the request read, autocommitted on its own."""
    if not frame.reads or frame.actor_id is None:
        return
    staff_id = frame.on_behalf_of_id or frame.actor_id
    as_user = frame.actor_id if frame.on_behalf_of_id is not None else None
    why = _reason(frame, reason)
    now = utcnow()
    rows = [
        {
            "created_at": now,
            "client_id": client_id,
            "staff_user_id": staff_id,
            "as_user_id": as_user,
            "parts": sorted(str(part) for part in parts),
            **why,
            "request_id": frame.request_id,
        }
        for client_id, parts in sorted(frame.reads.items())
    ]
    await db.append(_statement(frame), rows)


def require_own_log(ctx: Context, client_id: int) -> None:
    """The company's main account, or staff who audit; a subaccount is refused."""
    viewer = ctx.viewer
    require_authenticated(viewer)
    if viewer.has_staff_permission(StaffPermission.AUDIT_READ):
        return
    require_client(viewer, client_id)
    if client_id not in viewer.main_clients or viewer.on_behalf_of is not None:
        raise ForbiddenError(_("Only the company's main account sees who read its data."))


async def access_log(
    ctx: Context, *, client_id: int, first: int | None, after: str | None
) -> Page[AccessLogEntry]:
    require_own_log(ctx, client_id)
    query = select(AccessLogEntry).where(col(AccessLogEntry.client_id) == client_id)
    return await root_list(
        ctx, query, model=AccessLogEntry, ordering=ACCESS_ORDERING, first=first, after=after
    )


PURGE_BATCH = 5_000  # rows per DELETE: short transactions, and progress to show


async def purge_access_log(
    db: Any,
    *,
    days: int,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Entries older than `days`, in batches (the access log's only delete path: its
    retention); each batch is on the audit log as one statement of the purge."""
    before = (now or utcnow()) - timedelta(days=days)
    old = col(AccessLogEntry.created_at) < before
    async with db.read() as session:
        total = int(
            (
                await session.execute(select(func.count()).select_from(AccessLogEntry).where(old))
            ).scalar_one()
        )
    removed = 0
    while removed < total:
        async with db.write() as session:
            batch = select(col(AccessLogEntry.id)).where(old).order_by(col(AccessLogEntry.id))
            ids = list((await session.execute(batch.limit(PURGE_BATCH))).scalars())
            if not ids:
                break
            await session.execute(delete(AccessLogEntry).where(col(AccessLogEntry.id).in_(ids)))
            record_audit(
                session.sync_session,
                object_type=AccessLogEntry.__tablename__,
                object_key=None,
                client_id=None,
                changes={"op": "delete", "older_than": before.isoformat(), "rows": len(ids)},
            )
        removed += len(ids)
        if progress is not None:
            progress(removed, total)
    return removed
