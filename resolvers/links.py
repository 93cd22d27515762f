"""Signed 5-minute download links for the viewer (served by `resolvers/downloads.py`)."""

from __future__ import annotations

from exports.links import sign
from models.identity import TokenKind
from resolvers.context import Context


def link(ctx: Context, *, kind: str, object_id: int, **options: str) -> str:
    """A 5-minute link for the viewer. One made with an API token keeps that token's scopes."""
    viewer = ctx.viewer
    if viewer.token_kind is TokenKind.API and viewer.token_id is not None:
        options["via"] = str(viewer.token_id)
    token = sign(
        ctx.settings.secret_key,
        kind=kind,
        object_id=object_id,
        user_id=viewer.user_id,  # type: ignore[arg-type]
        now=ctx.now,
        options=options,
    )
    return str(ctx.request.url_for("download", token=token))
