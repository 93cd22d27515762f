"""statutory late interest: the dated rate table, overridden rates with their reason, one note per invoice and period

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.base
from models.interest import SHIPPED_RATES, read_rates


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _refuse_duplicate_notes() -> None:
    """The unique key cannot be built over notes issued twice for one invoice and period (the
    old `documentIssue` let them through): they are accounting documents, so nothing here
    deletes one. Correct or cancel the extra notes, then migrate again."""
    duplicates = op.get_bind().execute(sa.text(
        "SELECT invoice_id, period_start, period_end, COUNT(*) FROM documents"
        " WHERE invoice_id IS NOT NULL AND period_start IS NOT NULL AND period_end IS NOT NULL"
        " GROUP BY kind, invoice_id, period_start, period_end HAVING COUNT(*) > 1"
    )).all()
    if duplicates:
        listed = ", ".join(f"invoice {row[0]} {row[1]}..{row[2]}" for row in duplicates[:20])
        raise RuntimeError(f"interest notes issued twice for the same period: {listed}")


def upgrade() -> None:
    rates = op.create_table('statutory_interest_rates',
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('annual_rate', sa.Numeric(precision=6, scale=4), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('valid_from')
    )
    with op.batch_alter_table('statutory_interest_rates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statutory_interest_rates_updated_at'), ['updated_at'], unique=False)

    # Seeded from the table shipped with the hub (models/data/statutory_interest_rates.csv,
    # each row with its source); later half-years come with `leasehub interest-rate add`.
    now = models.base.utcnow()
    op.bulk_insert(rates, [
        {
            'valid_from': rate.valid_from,
            'annual_rate': rate.annual_rate,
            'source': rate.source,
            'created_at': now,
            'updated_at': now,
        }
        for rate in read_rates(SHIPPED_RATES)
    ])

    _refuse_duplicate_notes()
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rate_reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
        batch_op.create_unique_constraint('uq_documents_invoice_period', ['kind', 'invoice_id', 'period_start', 'period_end'])


def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_constraint('uq_documents_invoice_period', type_='unique')
        batch_op.drop_column('rate_reason')

    with op.batch_alter_table('statutory_interest_rates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statutory_interest_rates_updated_at'))

    op.drop_table('statutory_interest_rates')
