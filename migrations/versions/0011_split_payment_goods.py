"""split payment goods: a leased item says whether it is goods of annex 15 of the VAT Act

Split payment is owed on an invoice above 15,000 PLN only for the goods and services of annex
15 (art. 108a ust. 1a). The lessor supplies such goods only by delivering them under a financial
lease, so an item records whether it is one; items already stored are assumed not to be.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('leased_items') as batch:
        batch.add_column(
            sa.Column(
                'split_payment_goods', sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table('leased_items') as batch:
        batch.drop_column('split_payment_goods')
