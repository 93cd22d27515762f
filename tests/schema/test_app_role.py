"""PostgreSQL with two roles (issue 15, point 4): the server's role writes data and appends to
the audit log, but cannot change it, nor alter, disable or drop its append-only trigger."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hub.migrate import upgrade
from tests.pg import Cluster

_names = itertools.count(1)
REFUSED = (
    "UPDATE audit_log SET action = 'x'",
    "DELETE FROM audit_log",
    "TRUNCATE audit_log",
    "ALTER TABLE audit_log DISABLE TRIGGER ALL",
    "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
    "DROP TRIGGER audit_log_append_only ON audit_log",
    "DROP TABLE audit_log",
    "UPDATE access_log SET reason = 'x'",
)
AUDIT_ROW = (
    "INSERT INTO audit_log (created_at, action, changes, details) "
    "VALUES (now(), 'test', '{}', '{}')"
)


@pytest.fixture
async def app_engine(
    backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[AsyncEngine]:
    """A database migrated by the superuser with LEASEHUB_DB_APP_ROLE set; an engine of the
    application's role on it."""
    if backend != "postgresql":
        pytest.skip("SQLite has no roles")
    cluster: Cluster = request.getfixturevalue("pg_cluster")
    n = next(_names)
    role, name = f"lh_app_{n}", f"lh_roles_{n}"
    admin = create_async_engine(f"{cluster.url}/postgres", isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f"CREATE ROLE {role} LOGIN"))
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    monkeypatch.setenv("LEASEHUB_DB_APP_ROLE", role)
    await asyncio.to_thread(upgrade, f"{cluster.url}/{name}")
    engine = create_async_engine(f"{cluster.url.replace('postgres@', f'{role}@')}/{name}")
    yield engine
    await engine.dispose()


async def test_the_application_role_cannot_change_the_audit_log(app_engine: AsyncEngine) -> None:
    async with app_engine.begin() as connection:
        await connection.execute(text(AUDIT_ROW))  # appending is what it may do
    for statement in REFUSED:
        with pytest.raises(DBAPIError, match=r"permission denied|must be owner"):
            async with app_engine.begin() as connection:
                await connection.execute(text(statement))
    async with app_engine.connect() as connection:
        count = await connection.execute(text("SELECT count(*) FROM audit_log"))
        assert count.scalar_one() >= 1


async def test_the_application_role_writes_data_and_purges_the_access_log(
    app_engine: AsyncEngine,
) -> None:
    async with app_engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO users (email, first_name, last_name, is_active, created_at, "
                "updated_at, auth_version) VALUES ('rola@example.com', 'A', 'B', true, now(), "
                "now(), 0)"
            )
        )
        await connection.execute(text("UPDATE users SET first_name = 'C'"))
        await connection.execute(
            text(
                "INSERT INTO access_log (created_at, client_id, staff_user_id, parts) "
                "VALUES (now(), 1, 1, '[]')"
            )
        )
        await connection.execute(text("DELETE FROM access_log"))
        await connection.execute(text("DELETE FROM users"))
