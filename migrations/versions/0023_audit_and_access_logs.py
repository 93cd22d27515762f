"""audit and access logs: every write recorded in `audit_log`, staff reads in `access_log`

`audit_events` becomes `audit_log`: plain ids instead of foreign keys (a deleted company or
user keeps its records; a cascade would delete them and a SET NULL would update them), plus
who (token, on behalf of), where (IP, request id) and what (object, changes). On PostgreSQL a
trigger refuses UPDATE and DELETE of audit rows, whoever sends them.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REFUSE = (
    """CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
    END $$""",
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
    """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()""",
)


def _audit_log() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("on_behalf_of_id", sa.Integer(), nullable=True),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("object_type", sa.String(length=64), nullable=True),
        sa.Column("object_key", sa.String(length=64), nullable=True),
        sa.Column("target_user_id", sa.Integer(), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_log_created_at", "audit_log", ["created_at"])
    op.create_index("ix_audit_log_action", "audit_log", ["action"])
    op.create_index("ix_audit_log_actor_id", "audit_log", ["actor_id"])
    op.create_index("ix_audit_log_target_user_id", "audit_log", ["target_user_id"])
    op.create_index("ix_audit_log_client_id_id", "audit_log", ["client_id", "id"])
    op.create_index("ix_audit_log_object", "audit_log", ["object_type", "object_key"])


def _access_log() -> None:
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("as_user_id", sa.Integer(), nullable=True),
        sa.Column("parts", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
    )
    op.create_index("ix_access_log_created_at", "access_log", ["created_at"])
    op.create_index("ix_access_log_client_id_id", "access_log", ["client_id", "id"])


def upgrade() -> None:
    _audit_log()
    op.execute(
        "INSERT INTO audit_log (id, created_at, action, actor_id, client_id, target_user_id, "
        "changes, details) SELECT id, created_at, action, actor_id, client_id, target_user_id, "
        "'{}', details FROM audit_events"
    )
    op.drop_table("audit_events")
    _access_log()
    if op.get_bind().dialect.name == "postgresql":
        # The copied ids are taken: new rows continue after them.
        op.execute(
            "SELECT setval(pg_get_serial_sequence('audit_log', 'id'), "
            "COALESCE((SELECT max(id) FROM audit_log), 0) + 1, false)"
        )
        for statement in _REFUSE:  # one by one: asyncpg sends one statement at a time
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_table("access_log")
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("client_id", sa.Integer(), sa.ForeignKey("clients.id", ondelete="CASCADE")),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_audit_events_action", "audit_events", ["action"])
    op.create_index("ix_audit_events_target_user_id", "audit_events", ["target_user_id"])
    op.create_index("ix_audit_events_created_at", "audit_events", ["created_at"])
    op.execute(
        "INSERT INTO audit_events (id, actor_id, action, target_user_id, client_id, details, "
        "created_at) SELECT id, actor_id, action, target_user_id, client_id, details, "
        "created_at FROM audit_log"
    )
    op.drop_table("audit_log")
