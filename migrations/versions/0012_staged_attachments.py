"""staged attachments: files declared, uploaded once through a signed link, kept in file storage

Uploaded bytes go to the file storage under a generated key; rows stored before keep theirs in
`content`, which becomes optional. A file records what it is (by content), what it is for, where
its upload stands and when a filing, reply or message claimed it. Rows stored before are ready
and, when they hang on a stage or a message, claimed.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.base

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=32, create_constraint=False)


def upgrade() -> None:
    with op.batch_alter_table("attachments") as batch:
        batch.alter_column("content", existing_type=sa.LargeBinary(), nullable=True)
        batch.add_column(
            sa.Column("storage_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch.add_column(
            sa.Column(
                "kind",
                _enum("attachmentkind", "PDF", "DOC", "DOCX", "ZIP", "JPEG", "PNG"),
                nullable=True,
            )
        )
        batch.add_column(
            sa.Column(
                "purpose",
                _enum("attachmentpurpose", "REQUEST", "MESSAGE"),
                nullable=False,
                server_default="REQUEST",
            )
        )
        batch.add_column(
            sa.Column(
                "status",
                _enum("attachmentstatus", "PENDING", "UPLOADING", "READY"),
                nullable=False,
                server_default="READY",
            )
        )
        batch.add_column(
            sa.Column("upload_expires_at", models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("claimed_at", models.base.UTCDateTime(timezone=True), nullable=True)
        )
    attachments = sa.table(
        "attachments",
        sa.column("message_id", sa.Integer()),
        sa.column("request_stage_id", sa.Integer()),
        sa.column("purpose", sa.String()),
        sa.column("claimed_at", sa.DateTime()),
        sa.column("created_at", sa.DateTime()),
    )
    op.execute(
        attachments.update().where(attachments.c.message_id.is_not(None)).values(purpose="MESSAGE")
    )
    op.execute(
        attachments.update()
        .where(
            sa.or_(
                attachments.c.message_id.is_not(None),
                attachments.c.request_stage_id.is_not(None),
            )
        )
        .values(claimed_at=attachments.c.created_at)
    )


def downgrade() -> None:
    # Files uploaded to storage have no bytes in the table: they cannot go back into it.
    op.execute(sa.text("DELETE FROM attachments WHERE content IS NULL"))
    with op.batch_alter_table("attachments") as batch:
        for column in (
            "claimed_at",
            "upload_expires_at",
            "status",
            "purpose",
            "kind",
            "storage_key",
        ):
            batch.drop_column(column)
        batch.alter_column("content", existing_type=sa.LargeBinary(), nullable=False)
