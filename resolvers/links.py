"""Signed 5-minute download links for the viewer (served by `resolvers/downloads.py`)."""

from __future__ import annotations

from exports.links import DOWNLOAD, sign
from models.identity import TokenKind
from resolvers.context import Context

VIA_TOKEN = frozenset({TokenKind.API, TokenKind.SUPPORT})


def link(
    ctx: Context,
    *,
    kind: str,
    object_id: int,
    purpose: str = DOWNLOAD,
    route: str = "download",
    **options: str,
) -> str:
    """A 5-minute link for the viewer. One made with an API token keeps that token's scopes,
    one made in a support view stays the support view's (read-only, on the access log).
    `purpose` and `route`: an upload link is signed for uploads only (exports/links.py)."""
    viewer = ctx.viewer
    if viewer.token_kind in VIA_TOKEN and viewer.token_id is not None:
        options["via"] = str(viewer.token_id)
    token = sign(
        ctx.settings.secret_key,
        kind=kind,
        object_id=object_id,
        user_id=viewer.user_id,  # type: ignore[arg-type]
        now=ctx.now,
        options=options,
        purpose=purpose,
    )
    return str(ctx.request.url_for(route, token=token))
