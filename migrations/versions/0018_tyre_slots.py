"""tyre slots held by the hub: centre hours, closed days, appointments

A centre's opening hours per weekday (slot length, cars per slot), its closed days, and the
appointments booked in its slots. Partial unique keys of booked appointments: one per seat of
a slot (centre, start, seat), so the last place goes to one booking; one per car.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BOOKED = sa.text("status = 'BOOKED'")
STATUSES = ("BOOKED", "CANCELLED", "DONE")


def _stamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "tyre_centre_hours",
        *_stamps(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("opens", sa.Time(), nullable=False),
        sa.Column("closes", sa.Time(), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("cars_per_slot", sa.Integer(), nullable=False),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="ck_tyre_centre_hours_weekday"),
        sa.CheckConstraint("opens < closes", name="ck_tyre_centre_hours_order"),
        sa.CheckConstraint(
            "slot_minutes > 0 AND cars_per_slot > 0", name="ck_tyre_centre_hours_slots"
        ),
        sa.ForeignKeyConstraint(["centre_id"], ["tyre_service_centres.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("tyre_centre_hours") as batch:
        batch.create_index("uq_tyre_centre_hours_weekday", ["centre_id", "weekday"], unique=True)
        batch.create_index("ix_tyre_centre_hours_updated_at", ["updated_at"])
    op.create_table(
        "tyre_centre_closed_days",
        *_stamps(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["centre_id"], ["tyre_service_centres.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("tyre_centre_closed_days") as batch:
        batch.create_index("uq_tyre_centre_closed_days_day", ["centre_id", "day"], unique=True)
        batch.create_index("ix_tyre_centre_closed_days_updated_at", ["updated_at"])
    _create_appointments()


def _create_appointments() -> None:
    op.create_table(
        "tyre_appointments",
        *_stamps(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("relocation_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("seat", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(*STATUSES, name="appointmentstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("reminded_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["vehicle_id"], ["vehicles.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["centre_id"], ["tyre_service_centres.id"]),
        sa.ForeignKeyConstraint(["relocation_id"], ["tyre_relocations.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("tyre_appointments") as batch:
        batch.create_index("ix_tyre_appointments_client_id", ["client_id"])
        batch.create_index("ix_tyre_appointments_vehicle_id", ["vehicle_id"])
        batch.create_index("ix_tyre_appointments_centre_id", ["centre_id"])
        batch.create_index("ix_tyre_appointments_starts_at", ["starts_at"])
        batch.create_index("ix_tyre_appointments_updated_at", ["updated_at"])
        batch.create_index(
            "uq_tyre_appointments_seat",
            ["centre_id", "starts_at", "seat"],
            unique=True,
            postgresql_where=BOOKED,
            sqlite_where=BOOKED,
        )
        batch.create_index(
            "uq_tyre_appointments_vehicle",
            ["vehicle_id"],
            unique=True,
            postgresql_where=BOOKED,
            sqlite_where=BOOKED,
        )


def downgrade() -> None:
    op.drop_table("tyre_appointments")
    op.drop_table("tyre_centre_closed_days")
    op.drop_table("tyre_centre_hours")
