"""application role: the server's PostgreSQL role may write data but never change the audit log

With `LEASEHUB_DB_APP_ROLE` set, the role the server connects as is granted SELECT, INSERT,
UPDATE and DELETE on every table and USAGE on every sequence, but only SELECT, INSERT on
`audit_log` and SELECT, INSERT, DELETE on `access_log` (its retention purge). The tables stay
owned by the role that migrates, so the application role can neither ALTER nor DROP the
append-only trigger of 0023, nor TRUNCATE. Tables later revisions create get the same grants
by default privileges of the migrating role. Without the setting (SQLite, or one role for
everything) nothing changes.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy.engine import Connection

from hub.settings import Settings

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DATA = "SELECT, INSERT, UPDATE, DELETE"
# The logs: written by the application, changed by nobody (the purge deletes old access rows).
NARROWER = {"audit_log": "SELECT, INSERT", "access_log": "SELECT, INSERT, DELETE"}
MIGRATIONS_ONLY = {"alembic_version": "SELECT"}


def _app_role(bind: Connection) -> str | None:
    """The quoted application role, on PostgreSQL when the setting names one."""
    if bind.dialect.name != "postgresql":
        return None
    role = Settings().db_app_role  # read now: the environment of `leasehub migrate`
    return None if role is None else bind.dialect.identifier_preparer.quote(role)


def _schema(bind: Connection) -> str:
    name = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
    return str(bind.dialect.identifier_preparer.quote(name))


def _tables(bind: Connection) -> list[str]:
    found = bind.exec_driver_sql(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
    )
    return [str(name) for (name,) in found]


def upgrade() -> None:
    bind = op.get_bind()
    role = _app_role(bind)
    if role is None:
        return
    schema = _schema(bind)
    op.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
    quote = bind.dialect.identifier_preparer.quote
    for table in _tables(bind):
        granted = NARROWER.get(table) or MIGRATIONS_ONLY.get(table) or DATA
        # Whatever an earlier deployment granted is replaced by exactly this.
        op.execute(f"REVOKE ALL ON {quote(table)} FROM {role}")
        op.execute(f"GRANT {granted} ON {quote(table)} TO {role}")
    op.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}")
    # Tables and sequences of later revisions, created by this same migrating role.
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT {DATA} ON TABLES TO {role}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE ON SEQUENCES TO {role}")


def downgrade() -> None:
    """Later tables are no longer granted by default; the grants made stay, so that a server
    running as the role keeps working on the schema of 0024."""
    bind = op.get_bind()
    role = _app_role(bind)
    if role is None:
        return
    schema = _schema(bind)
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE ALL ON TABLES FROM {role}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE ALL ON SEQUENCES FROM {role}")
