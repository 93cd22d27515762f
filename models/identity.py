"""People, their memberships in client companies, staff roles and bearer tokens."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from models.base import Timestamped, UTCDateTime, enum_type


class StaffRole(enum.StrEnum):
    ADMIN = "ADMIN"
    OPERATOR = "OPERATOR"
    AUDITOR = "AUDITOR"


class TokenKind(enum.StrEnum):
    SESSION = "SESSION"
    API = "API"


class User(Timestamped, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    phone: str | None = Field(default=None, max_length=20)
    password_hash: str | None = Field(default=None, max_length=255)
    is_active: bool = Field(default=True)
    staff_role: StaffRole | None = Field(default=None, sa_type=enum_type(StaffRole))
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


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
