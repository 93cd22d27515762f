"""VAT by what is invoiced: exempt and not-subject rates next to the percentages

Invoices and instalments keep their integer `vat_rate` (the percentage the VAT was computed
with, 0 for zw and np: the deprecated API field and the tables read it) and gain
`vat_category`, what the invoice prints ("23", "8", "5", "0", "zw", "np"), filled from the
integer for every existing row. Invoices also gain `vat_basis` (why a zw or np line carries no
VAT, printed as art. 106e ust. 1 pkt 19 of the VAT Act asks) and `tax_base` (the net the VAT is
computed on where it is not the invoice's net: a financial lease's delivery). Invoices already
issued keep what they printed: nothing here re-taxes them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CATEGORY = sa.Enum('23', '8', '5', '0', 'zw', 'np', name='vatcategory', native_enum=False, length=32)
_BASIS = sa.Enum(
    'CREDIT', 'INSURANCE', 'TAXED_AT_DELIVERY', 'NOT_A_SUPPLY',
    name='vatbasis', native_enum=False, length=32,
)


def _add_category(table: str) -> None:
    """The column, filled from the percentage (23 → "23"): every stored rate is one of
    23, 8, 5, 0, which are exactly the categories' printed values."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('vat_category', _CATEGORY, nullable=False, server_default='23')
        )
    op.execute(sa.text(f"UPDATE {table} SET vat_category = CAST(vat_rate AS VARCHAR(32))"))


def upgrade() -> None:
    _add_category('invoices')
    _add_category('instalments')
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vat_basis', _BASIS, nullable=True))
        batch_op.add_column(sa.Column('tax_base', sa.Numeric(precision=14, scale=2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_column('tax_base')
        batch_op.drop_column('vat_basis')
        batch_op.drop_column('vat_category')
    with op.batch_alter_table('instalments', schema=None) as batch_op:
        batch_op.drop_column('vat_category')
