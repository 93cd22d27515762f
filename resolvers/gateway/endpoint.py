"""POST /gateway/payu/notify: the gateway's notifications, verified before anything is read.

Answers (JSON): 200 when applied or already known (PayU resends until it gets a 200, so a
replay is answered 200 and changes nothing); 401 unsigned or a wrong signature; 400 a
malformed document or one whose amount or ids are not the order's; 404 an unknown order
or no gateway configured; 413 a body far larger than any notification.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from models.audit import acting
from models.base import utcnow
from resolvers.audit import http_frame
from resolvers.gateway import InvalidNotification, NotificationRefusal, provider_of
from resolvers.payments import OrderMismatch, UnknownOrder, apply_notification
from resolvers.request_body import capped_body

if TYPE_CHECKING:
    from hub.db import Database
    from hub.settings import Settings

logger = logging.getLogger("leasehub.gateway")
MAX_NOTIFICATION_BYTES = 64 * 1024
NOTIFY_ACTION = "gatewayNotify"  # the audit log's action of what a notification changes
STATUS = {
    NotificationRefusal.UNSIGNED: 401,
    NotificationRefusal.INVALID_SIGNATURE: 401,
    NotificationRefusal.MALFORMED: 400,
}


def _answer(status: int, code: str) -> Response:
    return JSONResponse({"status": code}, status_code=status)


def payu_notify_endpoint(
    db: Database, settings: Settings
) -> Callable[[Request], Awaitable[Response]]:
    async def notify(request: Request) -> Response:
        provider = provider_of(settings)
        if provider is None:
            return _answer(404, "NOT_FOUND")
        body = await capped_body(request, MAX_NOTIFICATION_BYTES)
        if body is None:
            return _answer(413, "TOO_LARGE")
        try:
            state = provider.verify_notification(body, request.headers)
        except InvalidNotification as refused:
            logger.warning("gateway notification refused: %s", refused.reason.value)
            return _answer(STATUS[refused.reason], refused.reason.value)
        try:
            with acting(http_frame(request, settings.proxies, action=NOTIFY_ACTION)):
                changed = await apply_notification(db, state, now=utcnow())
        except UnknownOrder:
            return _answer(404, "NOT_FOUND")
        except OrderMismatch:
            logger.warning("gateway notification does not match order %s", state.ext_order_id)
            return _answer(400, "ORDER_MISMATCH")
        return _answer(200, "APPLIED" if changed else "UNCHANGED")

    return notify
