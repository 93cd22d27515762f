"""The support view (issue 15, point 7): a staff member reads the API as a client user sees it.

The staff member gets a short-lived bearer token of the client user (TokenKind.SUPPORT) that
reads with that user's memberships and scopes and nothing of the staff role; it is read-only,
every read of company data goes to the company's access log with the reason given (the viewer
carries `on_behalf_of` and `access_reason`), and it ends with the staff session it was started
from, with the staff member's role or account, or after `support_view_minutes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from auth.access import require_session, require_staff_permission
from auth.sessions import create_support_view
from auth.staff import StaffPermission
from models.i18n import _
from models.identity import AuditEvent, User
from resolvers.context import Context
from resolvers.errors import UserErrorData, required
from resolvers.ids import pk_of

REASON_LIMIT = 500  # the column's length
AUDIT_ACTION = "support_view.start"


@dataclass(frozen=True, slots=True)
class SupportView:
    token: str
    expires_at: datetime


async def start_support_view(
    ctx: Context, *, user_global_id: str, reason: str
) -> tuple[SupportView | None, list[UserErrorData]]:
    viewer = ctx.viewer
    require_staff_permission(viewer, StaffPermission.SUPPORT_VIEW)
    require_session(viewer)  # the view lives on the staff member's own session
    reason = reason.strip()
    if (error := _reason_error(reason)) is not None:
        return None, [error]
    user_id = pk_of(user_global_id, "User", field="userId")
    expires_at = ctx.now + timedelta(minutes=ctx.settings.support_view_minutes)
    async with ctx.db.write() as session:
        user = await session.get(User, user_id)
        if user is None or not user.is_active or user.staff_role is not None:
            # Staff accounts are never looked through: the same answer as a missing user.
            message = _("No such client user.")
            return None, [UserErrorData(field="userId", code="NOT_FOUND", message=message)]
        secret = create_support_view(
            session,
            user_id=user_id,
            staff_token_id=viewer.token_id,  # type: ignore[arg-type]
            staff_id=viewer.user_id,  # type: ignore[arg-type]
            reason=reason,
            expires_at=expires_at,
        )
        audit_support_view_start(session, ctx, user_id=user_id, reason=reason, until=expires_at)
    return SupportView(token=secret, expires_at=expires_at), []


def _reason_error(reason: str) -> UserErrorData | None:
    if (error := required(reason, "reason")) is not None:
        return error
    if len(reason) > REASON_LIMIT:
        message = _("At most {limit} characters.", limit=REASON_LIMIT)
        return UserErrorData(field="reason", code="TOO_LONG", message=message)
    return None


def audit_support_view_start(
    session: Any, ctx: Context, *, user_id: int, reason: str, until: datetime
) -> None:
    """The one place a support view is put on record (to move to the general audit log)."""
    session.add(
        AuditEvent(
            actor_id=ctx.viewer.user_id,
            action=AUDIT_ACTION,
            target_user_id=user_id,
            details={"reason": reason, "expires_at": until.isoformat(), "ip": ctx.client_ip},
            created_at=ctx.now,
        )
    )
