"""support view: a staff member reads as a client user through a short-lived token

A SUPPORT token (a new value of the plain-string `kind`) names the staff member it reads for,
the staff session it lives on (it ends with it) and the reason given.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("auth_tokens") as batch:
        batch.add_column(sa.Column("on_behalf_of_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("parent_token_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("reason", sa.String(length=500), nullable=True))
        batch.create_foreign_key(
            "fk_auth_tokens_on_behalf_of_id_users",
            "users",
            ["on_behalf_of_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_foreign_key(
            "fk_auth_tokens_parent_token_id_auth_tokens",
            "auth_tokens",
            ["parent_token_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("auth_tokens") as batch:
        batch.drop_constraint("fk_auth_tokens_parent_token_id_auth_tokens", type_="foreignkey")
        batch.drop_constraint("fk_auth_tokens_on_behalf_of_id_users", type_="foreignkey")
        batch.drop_column("reason")
        batch.drop_column("parent_token_id")
        batch.drop_column("on_behalf_of_id")
