"""Change signals between writers and subscriptions (hub/events.py), on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from hub.db import Database
from hub.events import PAYLOAD_BYTES, ChangeFeed, announce, payloads
from tests.conftest import DatabaseFactory

WAIT = 5.0  # seconds a signal may take: a bound, not a measurement


@pytest.fixture
async def db(databases: DatabaseFactory) -> AsyncIterator[Database]:
    database = Database.from_url(await databases.create())
    yield database
    await database.dispose()


async def signalled(event: asyncio.Event, seconds: float = WAIT) -> bool:
    try:
        await asyncio.wait_for(event.wait(), seconds)
    except TimeoutError:
        return False
    return True


class Refused(Exception):
    pass


async def test_a_change_is_signalled_when_its_write_commits_and_never_when_it_fails(
    db: Database,
) -> None:
    async with db.changes.watching(["order:7"]) as changed:
        changed.clear()  # set once when the listening connection opened: read what you missed
        with pytest.raises(Refused):
            async with db.write() as session:
                await announce(session, ["order:7"])
                raise Refused
        assert not await signalled(changed, 0.5)  # rolled back: nothing happened
        async with db.write() as session:
            await announce(session, ["invoice:7", "order:8"])  # not watched
        assert not await signalled(changed, 0.5)
        async with db.write() as session:
            await announce(session, ["order:7"])
        assert await signalled(changed)


def test_many_topics_go_in_payloads_under_postgresqls_limit() -> None:
    topics = [f"invoice:{n}" for n in range(5_000)]
    chunks = payloads([*topics, *topics])  # twice: sent once
    assert all(len(chunk.encode()) < PAYLOAD_BYTES for chunk in chunks) and len(chunks) > 1
    assert sorted(" ".join(chunks).split()) == sorted(topics)


async def test_a_listener_that_stops_answering_is_replaced_and_signals_go_on(
    db: Database, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend != "postgresql":
        pytest.skip(
            "one listening connection per process is PostgreSQL's; SQLite signals in-process"
        )
    feed = db.changes
    async with feed.watching(["order:9"]) as changed:
        first = feed._listener
        assert first is not None

        async def silent(*_args: object) -> None:
            raise TimeoutError  # a firewall dropped the idle connection without a word

        changed.clear()
        with monkeypatch.context() as patched:
            patched.setattr(type(first), "fetchval", silent)
            patched.setattr("hub.events.PING_SECONDS", 0.0)
            await feed.listen()  # the check finds it dead: dropped, watchers woken
        assert feed._listener is None and changed.is_set()
        changed.clear()
        await feed.listen()  # the next watcher's turn opens a new one
        assert feed._listener is not None and feed._listener is not first
        async with db.write() as session:
            await announce(session, ["order:9"])
        assert await signalled(changed)


async def test_a_closed_feed_does_not_listen_again(db: Database, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip(
            "one listening connection per process is PostgreSQL's; SQLite signals in-process"
        )
    feed = ChangeFeed(db.engine)
    async with feed.watching(["order:1"]) as changed:
        assert feed._listener is not None
        await feed.close()
        assert changed.is_set()  # watchers read once more
        await feed.listen()
        assert feed._listener is None
