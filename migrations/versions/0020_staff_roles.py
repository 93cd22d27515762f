"""staff roles: OPERATOR becomes CUSTOMER_SERVICE; TYRE_DESK and FINANCE are new

Roles are declared sets of permissions (auth/staff.py); the column stays a plain string, so
only the one renamed value moves.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE users SET staff_role = 'CUSTOMER_SERVICE' WHERE staff_role = 'OPERATOR'")


def downgrade() -> None:
    op.execute(
        "UPDATE users SET staff_role = 'OPERATOR' "
        "WHERE staff_role IN ('CUSTOMER_SERVICE', 'TYRE_DESK', 'FINANCE')"
    )
