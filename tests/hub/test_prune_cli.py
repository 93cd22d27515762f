"""`leasehub prune`: the daily clean-up, attachment uploads never finished included."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from hub.cli import build_parser
from hub.db import Database
from models.attachment import Attachment, AttachmentPurpose, AttachmentStatus
from models.base import utcnow
from tests.auth.test_welcome import new_client
from tests.conftest import DatabaseFactory, settings_for


async def test_prune_forgets_an_upload_declared_and_never_sent(
    databases: DatabaseFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    url = await databases.create()
    db = Database.from_url(url)
    try:
        client = await new_client(SimpleNamespace(db=db))  # type: ignore[arg-type]
        async with db.write() as session:
            session.add(
                Attachment(
                    client_id=client.id,  # type: ignore[arg-type]
                    filename="umowa.pdf",
                    content_type="application/pdf",
                    size=10,
                    sha256="",
                    purpose=AttachmentPurpose.REQUEST,
                    status=AttachmentStatus.PENDING,
                    upload_expires_at=utcnow() - timedelta(minutes=1),
                )
            )
        args = build_parser().parse_args(["prune"])
        assert await asyncio.to_thread(args.handler, settings_for(url), args) == 0
        assert "1 unfinished uploads" in capsys.readouterr().err
        async with db.read() as session:
            assert (await session.execute(select(func.count(Attachment.id)))).scalar_one() == 0
    finally:
        await db.dispose()
