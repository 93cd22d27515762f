"""The support view's mutation types: a staff member reads as a client user (issue 15, point 7)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from resolvers.support_view import start_support_view
from schema.base import Info
from schema.identity import UserError, user_errors


@strawberry.input
class AdminSupportViewStartInput:
    user_id: strawberry.ID = strawberry.field(description="A client user (never a staff account).")
    reason: str = strawberry.field(
        description="Why: stored with the audit record and shown in the company's access log."
    )


@strawberry.type
class AdminSupportViewStartPayload:
    token: str | None = strawberry.field(
        description="A read-only bearer token that reads the API as the user sees it; ends "
        "at `expiresAt`, with the staff session that started it, or when the staff member "
        "loses the support:view permission."
    )
    expires_at: datetime | None
    errors: list[UserError]


async def support_view_start(
    info: Info, input: AdminSupportViewStartInput
) -> AdminSupportViewStartPayload:
    view, errors = await start_support_view(
        info.context, user_global_id=input.user_id, reason=input.reason
    )
    return AdminSupportViewStartPayload(
        token=view.token if view else None,
        expires_at=view.expires_at if view else None,
        errors=user_errors(errors),
    )
