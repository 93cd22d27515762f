"""GET /download/{token}: the file behind a signed link, after checking the holder's rights again.

What to serve is decided in `resolvers/downloads.py`; this module only speaks HTTP.
"""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse

from auth.clock import warsaw_today
from exports.links import verify
from hub.db import Database
from hub.settings import Settings
from models.base import utcnow
from resolvers.downloads import File, open_download

NOT_FOUND = {"error": "Not found."}


def _headers(file: File) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="{file.filename}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
        **file.headers,
    }


def download_endpoint(db: Database, settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    async def download(request: Request) -> Response:
        if request.method != "GET":  # a link preview's HEAD must not render a whole export
            return Response(status_code=405, headers={"Allow": "GET"})
        now = utcnow()
        grant = verify(settings.secret_key, request.path_params["token"], now=now)
        file = (
            await open_download(db, settings, grant, now=now, today=warsaw_today(now))
            if grant
            else None
        )
        if file is None:
            return JSONResponse(NOT_FOUND, status_code=404, headers={"Cache-Control": "no-store"})
        if file.path is not None:
            cleanup = BackgroundTask(shutil.rmtree, file.path.parent, ignore_errors=True)
            return FileResponse(
                file.path, media_type=file.media_type, headers=_headers(file), background=cleanup
            )
        if file.chunks is not None:
            return StreamingResponse(
                file.chunks, media_type=file.media_type, headers=_headers(file)
            )
        return Response(file.content, media_type=file.media_type, headers=_headers(file))

    return download
