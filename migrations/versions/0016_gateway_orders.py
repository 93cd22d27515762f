"""gateway orders: online payments of invoices, one live payment per invoice

A gateway order (PayU's order: our extOrderId, the gateway's orderId, the amount, the status,
the idempotency key of its start) and, per invoice it pays, a gateway transaction pointing at
it. A partial unique index lets an invoice have one IN_PROGRESS transaction at a time.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("NOT_STARTED", "IN_PROGRESS", "ACCEPTED", "FAILED", "UNAVAILABLE")
LIVE = sa.text("status = 'IN_PROGRESS'")


def upgrade() -> None:
    op.create_table(
        "gateway_orders",
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("ext_order_id", sa.String(length=64), nullable=False),
        sa.Column("provider_order_id", sa.String(length=64), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column(
            "currency",
            sa.Enum("PLN", "EUR", "CHF", name="currency", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(*STATUSES, name="gatewaystatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("redirect_url", sa.String(length=2000), nullable=True),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["started_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ext_order_id"),
        sa.UniqueConstraint("client_id", "idempotency_key", name="uq_gateway_orders_idempotency"),
    )
    with op.batch_alter_table("gateway_orders") as batch:
        batch.create_index("ix_gateway_orders_client_id", ["client_id"])
        batch.create_index("ix_gateway_orders_started_by_id", ["started_by_id"])
        batch.create_index("ix_gateway_orders_updated_at", ["updated_at"])
    with op.batch_alter_table("gateway_transactions") as batch:
        batch.add_column(sa.Column("order_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_gateway_transactions_order_id",
            "gateway_orders",
            ["order_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index("ix_gateway_transactions_order_id", ["order_id"])
    op.create_index(
        "uq_gateway_transactions_live",
        "gateway_transactions",
        ["invoice_id"],
        unique=True,
        postgresql_where=LIVE,
        sqlite_where=LIVE,
    )


def downgrade() -> None:
    op.drop_index("uq_gateway_transactions_live", table_name="gateway_transactions")
    with op.batch_alter_table("gateway_transactions") as batch:
        batch.drop_index("ix_gateway_transactions_order_id")
        batch.drop_constraint("fk_gateway_transactions_order_id", type_="foreignkey")
        batch.drop_column("order_id")
    with op.batch_alter_table("gateway_orders") as batch:
        batch.drop_index("ix_gateway_orders_updated_at")
        batch.drop_index("ix_gateway_orders_started_by_id")
        batch.drop_index("ix_gateway_orders_client_id")
    op.drop_table("gateway_orders")
