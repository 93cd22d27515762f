"""Single sign-on (OpenID Connect, AUTH-10): linked identities, sign-ins under way, and which
sessions a provider made (so its back-channel logout and an unlink end exactly those)."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, enum_type, utcnow


class SsoPurpose(enum.StrEnum):
    SIGN_IN = "SIGN_IN"
    LINK = "LINK"  # a signed-in person links the identity to their account


class LinkedIdentity(SQLModel, table=True):
    """A person at a provider (its `subject`) known as one LeaseHub user: one each way."""

    __tablename__ = "linked_identities"
    __table_args__ = (
        sa.UniqueConstraint("provider", "subject"),
        sa.UniqueConstraint("provider", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=64)
    subject: str = Field(max_length=255)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SsoLogin(SQLModel, table=True):
    """One authorization request, from `ssoStart` to its single `ssoComplete` (or `ssoLink`).

    Only the state's keyed hash is stored: the PKCE verifier and the nonce are derived from the
    state and the server's secret (auth/sso.py), so nothing here lets a reader finish it.
    `used_at` is set by the one conditional UPDATE that claims it. A sign-in that still needs
    the hub's second factor keeps the verified person (`pending_user_id`) until `completed_at`.
    """

    __tablename__ = "sso_logins"

    id: int | None = Field(default=None, primary_key=True)
    state_hash: str = Field(max_length=64, unique=True)
    provider: str = Field(max_length=64)
    purpose: SsoPurpose = Field(sa_type=enum_type(SsoPurpose))
    redirect_uri: str = Field(max_length=500)
    contract_id: str | None = Field(default=None, max_length=200)  # the deep link, as given
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    pending_user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="CASCADE")
    subject: str | None = Field(default=None, max_length=255)
    oidc_sub: str | None = Field(default=None, max_length=255)
    sid: str | None = Field(default=None, max_length=255)
    otp_attempts: int = Field(default=0)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SsoSession(SQLModel, table=True):
    """A session made through a provider, for whom: `subject` is the link's (the provider's
    configured subject claim), ended by an unlink; `oidc_sub` and `sid` are the ID token's own
    `sub` and `sid`, which the provider's back-channel logout names."""

    __tablename__ = "sso_sessions"
    __table_args__ = (
        sa.Index("ix_sso_sessions_provider_subject", "provider", "subject"),
        sa.Index("ix_sso_sessions_provider_oidc_sub", "provider", "oidc_sub"),
        sa.Index("ix_sso_sessions_provider_sid", "provider", "sid"),
    )

    token_id: int = Field(foreign_key="auth_tokens.id", primary_key=True, ondelete="CASCADE")
    provider: str = Field(max_length=64)
    subject: str = Field(max_length=255)
    oidc_sub: str = Field(max_length=255)
    sid: str | None = Field(default=None, max_length=255)


class SsoUnlink(SQLModel, table=True):
    """A person unlinked this provider themselves: their next staff sign-in is not linked again
    by e-mail behind their back; only an explicit `ssoLink` (or the lessor's) links it again."""

    __tablename__ = "sso_unlinks"

    provider: str = Field(max_length=64, primary_key=True)
    user_id: int = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SsoLogoutToken(SQLModel, table=True):
    """A back-channel logout token's `jti`, once: the primary key refuses a replay, in the
    database, whatever the number of processes. Kept until the token would have expired."""

    __tablename__ = "sso_logout_tokens"

    provider: str = Field(max_length=64, primary_key=True)
    jti: str = Field(max_length=255, primary_key=True)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
