"""statement lines: imported bank statement credits, each booked once

Every credit line of an imported MT940 statement, unique by account (field 25), statement
(28C with its opening balance date) and position, pointing at the payment it booked.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "statement_lines",
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=34), nullable=False),
        sa.Column("statement", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("bank_reference", sa.String(length=40), nullable=True),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("title", sa.String(length=400), nullable=False),
        sa.Column("payer_iban", sa.String(length=34), nullable=True),
        sa.Column("payer_name", sa.String(length=200), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account", "statement", "position", name="uq_statement_lines_line"),
    )
    with op.batch_alter_table("statement_lines") as batch:
        batch.create_index("ix_statement_lines_client_id", ["client_id"])
        batch.create_index("ix_statement_lines_payment_id", ["payment_id"])
        batch.create_index("ix_statement_lines_updated_at", ["updated_at"])


def downgrade() -> None:
    with op.batch_alter_table("statement_lines") as batch:
        batch.drop_index("ix_statement_lines_updated_at")
        batch.drop_index("ix_statement_lines_payment_id")
        batch.drop_index("ix_statement_lines_client_id")
    op.drop_table("statement_lines")
