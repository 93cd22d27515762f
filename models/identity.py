"""People, their memberships in client companies, staff roles and bearer tokens."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import Timestamped, UTCDateTime, enum_type, external_id_field, utcnow


class StaffRole(enum.StrEnum):
    """Each is a declared set of permissions and client scopes (auth/staff.py)."""

    ADMIN = "ADMIN"
    CUSTOMER_SERVICE = "CUSTOMER_SERVICE"
    TYRE_DESK = "TYRE_DESK"
    FINANCE = "FINANCE"
    AUDITOR = "AUDITOR"  # read-only


class TokenKind(enum.StrEnum):
    SESSION = "SESSION"
    API = "API"
    # A staff member reading as a client user (auth/sessions.py): read-only, short-lived, and
    # alive only while the staff session it was started from is.
    SUPPORT = "SUPPORT"


class User(Timestamped, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    external_id: str | None = external_id_field()
    email: str = Field(max_length=254, unique=True, index=True)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    phone: str | None = Field(default=None, max_length=20)
    password_hash: str | None = Field(default=None, max_length=255)
    is_active: bool = Field(default=True)
    staff_role: StaffRole | None = Field(default=None, sa_type=enum_type(StaffRole))
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    password_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    totp_secret: str | None = Field(default=None, max_length=255)  # encrypted, see auth/totp.py
    totp_enabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    totp_last_step: int | None = Field(default=None, sa_type=sa.BigInteger)  # replay guard
    # Raised in the same transaction as every change to what this user's tokens may do (the
    # account disabled, a staff role, a membership or its scopes, a token revoked): cached
    # sessions compare it on each request (auth/revocation.py). Only a server default, so bulk
    # inserts that leave it out stay on the demo's fast path.
    auth_version: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default=sa.text("0"))
    )


class Membership(Timestamped, table=True):
    """A user's rights in one client company: main account, or subaccount with chosen scopes."""

    __tablename__ = "memberships"
    __table_args__ = (sa.UniqueConstraint("user_id", "client_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    client_id: int = Field(foreign_key="clients.id", index=True, ondelete="CASCADE")
    is_main: bool = Field(default=False)
    scopes: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    is_active: bool = Field(default=True)
    created_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")


class Invitation(Timestamped, table=True):
    """How a subaccount was invited: what the inviter typed, and the invited person's consent.

    The caller is shown the typed data until the person joins, never what an existing account
    stores. An existing user (`needs_consent`) keeps an inactive membership until they accept
    through the e-mailed link, whose secret is stored only as a keyed hash.
    """

    __tablename__ = "invitations"

    id: int | None = Field(default=None, primary_key=True)
    membership_id: int = Field(foreign_key="memberships.id", unique=True, ondelete="CASCADE")
    email: str = Field(max_length=254)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    phone: str | None = Field(default=None, max_length=20)
    needs_consent: bool = Field(default=False)
    enabled: bool = Field(default=True)  # the inviter's on/off until the person accepts
    secret_hash: str | None = Field(default=None, max_length=64)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuthToken(Timestamped, table=True):
    """A login session or a named API token; only the SHA-256 of the secret is stored."""

    __tablename__ = "auth_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    kind: TokenKind = Field(sa_type=enum_type(TokenKind))
    token_hash: str = Field(max_length=64, unique=True)
    name: str | None = Field(default=None, max_length=100)
    client_id: int | None = Field(default=None, foreign_key="clients.id", ondelete="CASCADE")
    scopes: list[str] | None = Field(default=None, sa_type=sa.JSON)
    read_only: bool = Field(default=True)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # SUPPORT tokens only: the staff member, the staff session it lives on, and why.
    on_behalf_of_id: int | None = Field(default=None, foreign_key="users.id", ondelete="CASCADE")
    parent_token_id: int | None = Field(
        default=None, foreign_key="auth_tokens.id", ondelete="CASCADE"
    )
    reason: str | None = Field(default=None, max_length=500)


class CodePurpose(enum.StrEnum):
    ACTIVATION_SMS = "ACTIVATION_SMS"
    ACTIVATION_LINK = "ACTIVATION_LINK"
    FIRST_LOGIN_PIN = "FIRST_LOGIN_PIN"
    PASSWORD_RESET = "PASSWORD_RESET"  # noqa: S105 - a purpose, not a secret
    EMAIL_CHANGE = "EMAIL_CHANGE"


class OneTimeCode(Timestamped, table=True):
    """A code or link secret sent to a user; only its keyed hash is stored, and it works once."""

    __tablename__ = "one_time_codes"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    purpose: CodePurpose = Field(sa_type=enum_type(CodePurpose))
    secret_hash: str = Field(max_length=64, index=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    attempts: int = Field(default=0)
    max_attempts: int = Field(default=5)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


class RecoveryCode(Timestamped, table=True):
    """A single-use way past the second factor when the authenticator is lost."""

    __tablename__ = "recovery_codes"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    code_hash: str = Field(max_length=64)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuthEvent(SQLModel, table=True):
    """A counted attempt (failed login, reset request …) under a throttling key."""

    __tablename__ = "auth_events"
    __table_args__ = (sa.Index("ix_auth_events_key_created_at", "key", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=160)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AttemptCounter(SQLModel, table=True):
    """Attempts under one throttling key in its current window (auth/throttle.py).

    One row per key, so the cap is enforced by the database: the first attempt inserts the row,
    every next one is an UPDATE that only matches while `count` is under the cap, and parallel
    requests can never count past it. A used captcha is a row of its own, claimed once.
    """

    __tablename__ = "attempt_counters"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=160, unique=True)
    count: int = Field(default=0)
    window_ends_at: datetime = Field(sa_type=UTCDateTime, index=True)


# The audit log lives in models/audit.py (issue 15); its old name here keeps importers working.
from models.audit import AuditEvent as AuditEvent  # noqa: E402

# Single sign-on's tables (models/sso.py) register with the identity tables they point at.
from models.sso import LinkedIdentity as LinkedIdentity  # noqa: E402
