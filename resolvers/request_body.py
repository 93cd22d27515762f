"""Bodies of the hub's plain HTTP endpoints (a gateway's notification, a back-channel logout)."""

from __future__ import annotations

from starlette.requests import Request


async def capped_body(request: Request, limit: int) -> bytes | None:
    """The body, or None once it passes `limit` bytes (never read whole past it)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)
