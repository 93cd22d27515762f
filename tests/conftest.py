"""Fixtures: every database test runs on SQLite and on a throwaway PostgreSQL cluster."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import create_async_engine

from auth.captcha import ImageCaptchaVerifier
from hub.app import create_app
from hub.db import Database
from hub.demo import (
    DEMO_MAIN_EMAIL,
    DEMO_PASSWORD,
    DEMO_STAFF_EMAIL,
    DEMO_SUB_EMAIL,
    DemoSpec,
    load_demo,
)
from hub.lane import FastLane
from hub.migrate import upgrade
from hub.settings import Settings
from loaders.rows import UnreadColumnError
from schema.execution import CompiledExecutor
from tests import crosscheck
from tests.pg import Cluster

BACKENDS = ("sqlite", "postgresql")
_names = itertools.count(1)


@pytest.fixture(scope="session", autouse=True)
def _compiled_against_generic() -> Iterator[None]:
    """Every query of the suite runs on both execution paths; see tests/crosscheck.py."""
    CompiledExecutor.crosscheck = crosscheck.compare
    FastLane.crosscheck = crosscheck.compare_lane
    yield
    CompiledExecutor.crosscheck = None
    FastLane.crosscheck = None


@pytest.fixture(scope="session", autouse=True)
def _unread_columns_recorded() -> Iterator[None]:
    """A narrowed read's left-out column, used anywhere, is recorded even when the error it
    raises reaches the client only as "Unexpected error." (see `_same_answer_on_both_paths`)."""
    original = UnreadColumnError.__init__

    def record(self: UnreadColumnError, *args: Any) -> None:
        crosscheck.UNREAD_USES.append(str(args[0]) if args else "")
        original(self, *args)

    UnreadColumnError.__init__ = record  # type: ignore[method-assign]
    yield
    UnreadColumnError.__init__ = original  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _same_answer_on_both_paths() -> Iterator[None]:
    crosscheck.MISMATCHES.clear()
    crosscheck.UNREAD_USES.clear()
    yield
    assert not crosscheck.MISMATCHES, "\n\n".join(crosscheck.MISMATCHES)
    assert not crosscheck.UNREAD_USES, crosscheck.UNREAD_USES


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """How many queries the cross-check compared, and how many graphql-core could not answer."""
    terminalreporter.write_line(
        f"compiled vs generic execution: {crosscheck.CHECKED[0]} queries compared, "
        f"{len(crosscheck.UNANSWERED)} not answered by graphql-core's own path; "
        f"fast lane vs strawberry's view: {crosscheck.LANE_CHECKED[0]} answers compared"
    )


def _postgres_required() -> bool:
    return bool(os.environ.get("LEASEHUB_REQUIRE_POSTGRES") or os.environ.get("CI"))


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    cluster = Cluster()
    if not cluster.available:
        message = "PostgreSQL server binaries (initdb, pg_ctl) not found"
        if _postgres_required():
            pytest.fail(message + " and LEASEHUB_REQUIRE_POSTGRES/CI is set")
        pytest.skip(message)
    cluster.start()
    yield cluster
    cluster.stop()


@dataclass
class DatabaseFactory:
    """Fresh, migrated databases of one backend."""

    backend: str
    tmp: Path
    pg_url: str | None
    urls: list[str] = field(default_factory=list)

    async def create(self) -> str:
        name = f"lh_{next(_names)}"
        if self.backend == "sqlite":
            url = f"sqlite+aiosqlite:///{self.tmp / name}.db"
        else:
            admin = create_async_engine(f"{self.pg_url}/postgres", isolation_level="AUTOCOMMIT")
            async with admin.connect() as connection:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
            await admin.dispose()
            url = f"{self.pg_url}/{name}"
        await asyncio.to_thread(upgrade, url)
        self.urls.append(url)
        return url


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def databases(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> DatabaseFactory:
    pg_url = request.getfixturevalue("pg_cluster").url if backend == "postgresql" else None
    return DatabaseFactory(backend=backend, tmp=tmp_path_factory.mktemp(backend), pg_url=pg_url)


def settings_for(url: str, **overrides: Any) -> Settings:
    return Settings(LEASEHUB_ENV="test", DATABASE_URL=url, **overrides)


CAPTCHA_TEXT = "K7PX3"


def known_captcha(secret_key: str) -> ImageCaptchaVerifier:
    """The real image captcha with a known text: the one double at the edge of the world."""
    return ImageCaptchaVerifier(secret_key, text_source=lambda: CAPTCHA_TEXT)


@dataclass
class Hub:
    """One demo database with an app in front of it, and the demo users' tokens."""

    db: Database
    client: httpx.AsyncClient
    app: Any = None
    settings: Settings | None = None
    tokens: dict[str, str] = field(default_factory=dict)
    by_ip: dict[str, httpx.AsyncClient] = field(default_factory=dict)

    def client_from(self, ip: str | None) -> httpx.AsyncClient:
        """Requests from another client address (throttling counts per IP)."""
        if ip is None:
            return self.client
        if ip not in self.by_ip:
            transport = httpx.ASGITransport(app=self.app, client=(ip, 40000))
            self.by_ip[ip] = httpx.AsyncClient(transport=transport, base_url="http://hub.test")
        return self.by_ip[ip]

    async def close(self) -> None:
        for client in (self.client, *self.by_ip.values()):
            await client.aclose()

    async def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        as_: str | None = None,
        token: str | None = None,
        ip: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        headers = dict(headers or {})  # e.g. {"Accept-Language": "en"}
        bearer = token or (self.tokens[as_] if as_ else None)
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        response = await self.client_from(ip).post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]


LOGIN = """
mutation Login($login: String!, $password: String!) {
  login(input: {login: $login, password: $password}) { token errors { field code message } }
}
"""

DEMO_SPEC = DemoSpec(clients=8, seed=7)


async def open_hub(url: str, **settings: Any) -> tuple[Hub, Database]:
    db = Database.from_settings(settings_for(url))
    config = settings_for(url, **settings)
    app = create_app(config, db=db, captcha=known_captcha(config.secret_key))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test")
    return Hub(db=db, client=client, app=app, settings=config), db


@pytest.fixture(scope="session")
async def hub(databases: DatabaseFactory) -> AsyncIterator[Hub]:
    url = await databases.create()
    instance, db = await open_hub(url)
    await load_demo(db.engine, DEMO_SPEC)
    for who, email in (
        ("anna", DEMO_MAIN_EMAIL),
        ("jan", DEMO_SUB_EMAIL),
        ("staff", DEMO_STAFF_EMAIL),
    ):
        body = await instance.gql(LOGIN, {"login": email, "password": DEMO_PASSWORD})
        instance.tokens[who] = body["data"]["login"]["token"]
    yield instance
    await instance.close()
    await db.dispose()


@pytest.fixture(scope="session")
async def flows(databases: DatabaseFactory) -> AsyncIterator[Hub]:
    """A demo database of its own: these tests change accounts."""
    hub, db = await open_hub(await databases.create())
    await load_demo(db.engine, DemoSpec(clients=16, seed=3))
    yield hub
    await hub.close()
    await db.dispose()


@contextmanager
def count_statements(db: Database) -> Iterator[list[str]]:
    """Every SQL statement sent to the database while the block runs: through SQLAlchemy, and
    those loaders send straight to asyncpg on PostgreSQL (hub/raw_reads.py)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engines = (db.engine.sync_engine, db.read_engine.sync_engine)
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    db.statement_listeners.append(seen.append)
    try:
        yield seen
    finally:
        db.statement_listeners.remove(seen.append)
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)
