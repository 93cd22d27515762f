"""tyre relocation orders: one open relocation per car, the set's tyre count, a change history

A partial unique index keeps one open (ORDERED or CONFIRMED) relocation per vehicle; a
relocation records how many tyres move (its target centre's load gains them); every order,
edit and cancellation is a row of tyre_relocation_events with who and the centre and date.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status IN ('ORDERED', 'CONFIRMED')")
CHANGES = ("ORDERED", "UPDATED", "CANCELLED")


def upgrade() -> None:
    with op.batch_alter_table("tyre_relocations") as batch:
        batch.add_column(sa.Column("tyre_count", sa.Integer(), server_default="4", nullable=False))
        batch.create_index(
            "uq_tyre_relocations_open",
            ["vehicle_id"],
            unique=True,
            postgresql_where=OPEN,
            sqlite_where=OPEN,
        )
    op.create_table(
        "tyre_relocation_events",
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("relocation_id", sa.Integer(), nullable=False),
        sa.Column(
            "change",
            sa.Enum(*CHANGES, name="relocationchange", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("to_centre_id", sa.Integer(), nullable=False),
        sa.Column("planned_date", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["relocation_id"], ["tyre_relocations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["to_centre_id"], ["tyre_service_centres.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("tyre_relocation_events") as batch:
        batch.create_index("ix_tyre_relocation_events_client_id", ["client_id"])
        batch.create_index("ix_tyre_relocation_events_relocation_id", ["relocation_id"])
        batch.create_index("ix_tyre_relocation_events_updated_at", ["updated_at"])


def downgrade() -> None:
    op.drop_table("tyre_relocation_events")
    with op.batch_alter_table("tyre_relocations") as batch:
        batch.drop_index("uq_tyre_relocations_open")
        batch.drop_column("tyre_count")
