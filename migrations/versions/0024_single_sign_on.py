"""single sign-on: linked identities, sign-ins under way, sessions made through a provider

`linked_identities` knows a person at an OpenID Connect provider (provider, subject) as one
user, one each way; `sso_logins` holds each authorization request's state (hashed) until its
single completion; `sso_sessions` names the provider and subject of a session, so the
provider's back-channel logout (by the ID token's `sub` or `sid`) and an unlink (by the
link's subject) end exactly those; `sso_unlinks` remembers a person's own unlink, so e-mail
matching does not link them again; `sso_logout_tokens` holds each logout token's `jti` once.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "linked_identities",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", UTCDateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("provider", "subject"),
        sa.UniqueConstraint("provider", "user_id"),
    )
    op.create_index("ix_linked_identities_user_id", "linked_identities", ["user_id"])
    op.create_table(
        "sso_logins",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("state_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("redirect_uri", sa.String(length=500), nullable=False),
        sa.Column("contract_id", sa.String(length=200), nullable=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "pending_user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("subject", sa.String(length=255), nullable=True),
        sa.Column("oidc_sub", sa.String(length=255), nullable=True),
        sa.Column("sid", sa.String(length=255), nullable=True),
        sa.Column("otp_attempts", sa.Integer(), nullable=False),
        sa.Column("completed_at", UTCDateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_sso_logins_expires_at", "sso_logins", ["expires_at"])
    op.create_table(
        "sso_sessions",
        sa.Column(
            "token_id",
            sa.Integer(),
            sa.ForeignKey("auth_tokens.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("oidc_sub", sa.String(length=255), nullable=False),
        sa.Column("sid", sa.String(length=255), nullable=True),
    )
    op.create_index("ix_sso_sessions_provider_subject", "sso_sessions", ["provider", "subject"])
    op.create_index("ix_sso_sessions_provider_oidc_sub", "sso_sessions", ["provider", "oidc_sub"])
    op.create_index("ix_sso_sessions_provider_sid", "sso_sessions", ["provider", "sid"])
    op.create_table(
        "sso_unlinks",
        sa.Column("provider", sa.String(length=64), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "sso_logout_tokens",
        sa.Column("provider", sa.String(length=64), primary_key=True),
        sa.Column("jti", sa.String(length=255), primary_key=True),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sso_logout_tokens_expires_at", "sso_logout_tokens", ["expires_at"])


def downgrade() -> None:
    op.drop_table("sso_logout_tokens")
    op.drop_table("sso_unlinks")
    op.drop_table("sso_sessions")
    op.drop_table("sso_logins")
    op.drop_table("linked_identities")
