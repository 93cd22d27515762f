"""`leasehub prune`: old attempt counters, spent captchas and failed logins go; recent stay."""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta

from sqlalchemy import select

from hub.cli import cmd_prune
from hub.db import Database
from models.base import utcnow
from models.identity import AttemptCounter, AuthEvent
from tests.conftest import DatabaseFactory, settings_for


async def test_prune_forgets_what_is_older_than_the_days_given(databases: DatabaseFactory) -> None:
    url = await databases.create()
    db = Database.from_url(url)
    now = utcnow()
    try:
        async with db.write() as session:
            session.add_all(
                [
                    AuthEvent(key="login-account:old", created_at=now - timedelta(days=3)),
                    AuthEvent(key="login-account:new", created_at=now - timedelta(minutes=5)),
                    AttemptCounter(
                        key="captcha:old", count=1, window_ends_at=now - timedelta(days=2)
                    ),
                    AttemptCounter(
                        key="login-ip:new", count=2, window_ends_at=now + timedelta(minutes=9)
                    ),
                ]
            )
        # The command runs an event loop of its own: off this one, in a thread.
        arguments = argparse.Namespace(days=1.0)
        assert await asyncio.to_thread(cmd_prune, settings_for(url), arguments) == 0
        async with db.read() as session:
            events = (await session.execute(select(AuthEvent.key))).scalars().all()
            counters = (await session.execute(select(AttemptCounter.key))).scalars().all()
        assert events == ["login-account:new"] and counters == ["login-ip:new"]
    finally:
        await db.dispose()
