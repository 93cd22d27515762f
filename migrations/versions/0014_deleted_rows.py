"""deleted rows: what left a BI table, so incremental pulls can drop it too

An accepted schedule change deletes the unpaid instalments past a shortened term; a pull by
`updatedSince` never sees a row that is gone. Each deletion is recorded (table, row id, client,
when) and pulled as the `deletions` table. Nothing was recorded before: rows deleted earlier
are only seen by a full pull.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deleted_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column(
            "table_name",
            sa.Enum(
                "instalments",
                name="deletabletable",
                native_enum=False,
                length=32,
                create_constraint=False,
            ),
            nullable=False,
        ),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("deleted_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("deleted_rows") as batch:
        batch.create_index("ix_deleted_rows_client_id", ["client_id"])
        batch.create_index("ix_deleted_rows_deleted_at", ["deleted_at"])


def downgrade() -> None:
    with op.batch_alter_table("deleted_rows") as batch:
        batch.drop_index("ix_deleted_rows_deleted_at")
        batch.drop_index("ix_deleted_rows_client_id")
    op.drop_table("deleted_rows")
