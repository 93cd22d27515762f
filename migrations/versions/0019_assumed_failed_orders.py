"""gateway orders the hub itself assumed failed: a later verified COMPLETED still accepts them

Polling fails orders the gateway never created or no longer knows; should the gateway after
all report one COMPLETED (a create whose answer was lost), the payer has paid, and the order
moves to ACCEPTED instead of the notification being ignored.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("gateway_orders") as batch:
        batch.add_column(
            sa.Column("assumed_failed", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("gateway_orders") as batch:
        batch.drop_column("assumed_failed")
