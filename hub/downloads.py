"""GET /download/{token}: the file behind a signed link, after checking the holder's rights again.

Rendering runs in a worker thread, so a big export does not stall other requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from auth.scopes import Scope
from auth.sessions import viewer_of_user
from exports.links import Grant, verify
from exports.tables import SCHEDULE_COLUMNS, frame, to_csv, to_xlsx
from hub.db import Database
from hub.settings import Settings
from models.base import utcnow
from models.contract import Contract, Instalment

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
NOT_FOUND = {"error": "Not found."}


def attachment(content: bytes, *, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


async def _schedule(db: Database, grant: Grant) -> Response | None:
    async with db.read() as session:
        contract = await session.get(Contract, grant.object_id)
        viewer = await viewer_of_user(session, user_id=grant.user_id)
        if contract is None or not viewer.has_scope(contract.client_id, Scope.SCHEDULES_READ):
            return None
        query = select(Instalment).where(Instalment.contract_id == contract.id)
        rows = [
            row.model_dump()
            for row in (await session.execute(query.order_by(Instalment.number))).scalars()
        ]  # type: ignore[arg-type]
    polish = grant.option("lang", "pl") == "pl"
    kind = grant.option("format", "xlsx")

    def render() -> bytes:
        df = frame(rows, SCHEDULE_COLUMNS, polish=polish, totals=True)
        return to_xlsx(df, SCHEDULE_COLUMNS) if kind == "xlsx" else to_csv(df, polish=polish)

    content = await asyncio.to_thread(render)
    name = contract.number.replace("/", "-")
    prefix = "harmonogram" if polish else "schedule"
    return attachment(content, media_type=MEDIA_TYPES[kind], filename=f"{prefix}-{name}.{kind}")


def download_endpoint(db: Database, settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    async def download(request: Request) -> Response:
        grant = verify(settings.secret_key, request.path_params["token"], now=utcnow())
        response = await _schedule(db, grant) if grant and grant.kind == "schedule" else None
        return response or JSONResponse(
            NOT_FOUND, status_code=404, headers={"Cache-Control": "no-store"}
        )

    return download
