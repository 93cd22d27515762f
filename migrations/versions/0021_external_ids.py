"""external ids: the core leasing system's key of each row it sends (`leasehub import`)

Nullable, since rows the hub makes itself (the demo, staff invoices) have none; unique where
given: a unique index lets NULLs repeat on SQLite and on PostgreSQL alike.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "clients",
    "users",
    "contracts",
    "leased_items",
    "instalments",
    "insurance_policies",
    "invoices",
    "payments",
    "documents",
)


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("external_id", sa.String(length=64), nullable=True))
            batch.create_index(f"ix_{table}_external_id", ["external_id"], unique=True)


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_external_id")
            batch.drop_column("external_id")
