"""PUT /upload/{token}: the body of a declared attachment, through its signed one-time link.

What is checked and kept is decided in `resolvers/attachments.py`; this module speaks HTTP. The
body is read as a stream (never whole), so a client that sends more than it declared is cut
off at the first byte too many.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from hub.db import Database
from hub.settings import Settings
from models.audit import acting
from models.base import utcnow
from models.i18n import negotiate, translate
from resolvers.attachments import UploadRefused, receive
from resolvers.audit import http_frame
from resolvers.ids import to_global_id

NO_STORE = {"Cache-Control": "no-store"}
UPLOAD_ACTION = "upload"  # the audit log's action of what an upload link writes


def _length(request: Request) -> int | None:
    header = request.headers.get("content-length")
    return int(header) if header is not None and header.isdigit() else None


def upload_endpoint(db: Database, settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    async def upload(request: Request) -> Response:
        language = negotiate(request.headers.get("accept-language"))
        frame = http_frame(request, settings.proxies, action=UPLOAD_ACTION)
        try:
            with acting(frame):  # the link's user is filled in once the link is verified
                stored = await receive(
                    db,
                    settings,
                    request.path_params["token"],
                    request.stream(),
                    now=utcnow(),
                    length=_length(request),
                )
        except UploadRefused as refused:
            body = {"error": translate(refused.message, language), "code": refused.code}
            return JSONResponse(body, status_code=refused.status, headers=NO_STORE)
        except ClientDisconnect:
            return Response(status_code=400, headers=NO_STORE)  # nobody left to read it
        attachment = {
            "id": to_global_id("Attachment", stored.attachment_id),
            "kind": stored.kind.value,
            "size": stored.size,
            "sha256": stored.sha256,
        }
        return JSONResponse({"attachment": attachment}, headers=NO_STORE)

    return upload
